//! What each crate pulls in, read by `cargo tree` from the lock file (offline): the generated
//! crate and the sync runtime's library never build the generator, and `cargo xtask` without
//! its `db` feature (what `gen` and `check` build) never builds a database driver, an async
//! runtime, an HTTP stack or TLS.
//!
//! `syn` may appear in the first two only as a dependency of `serde_derive` (`#[derive]` of
//! serde), never through the generator's code printing. And the generator's own cold build stays
//! small: no ICU.

use std::path::Path;
use std::process::Command;

/// The generator and what only it uses.
const GENERATOR: &[&str] = &[
    "codegen",
    "codegen-macros",
    "codegen-db",
    "sea-query",
    "minijinja",
    "schemars",
    "toml",
    "toml_edit",
];

/// Database drivers, the async runtime, the HTTP stack and TLS.
const HEAVY: &[&str] = &[
    "rusqlite",
    "libsqlite3-sys",
    "postgres",
    "tokio-postgres",
    "tokio",
    "hyper",
    "axum",
    "rustls",
    "ring",
    "reqwest",
];

/// What `cargo tree --offline --prefix depth --format {p}` prints for `args`.
fn tree(args: &[&str]) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["tree", "--offline", "--prefix", "depth", "--format", "{p}"])
        .args(args)
        .current_dir(root)
        .output()
        .expect("run cargo tree");
    assert!(
        output.status.success(),
        "cargo tree {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Every `(parent, child)` edge of `cargo tree -e normal` for `args`, by package name.
fn edges(args: &[&str]) -> Vec<(String, String)> {
    let mut with_edges = vec!["--edges", "normal"];
    with_edges.extend_from_slice(args);
    let text = tree(&with_edges);
    // Each line is `<depth><name> v<version> ...`; a package's parent is the nearest line
    // above it one level up. Every package is listed with its dependencies once, so every
    // edge appears.
    let mut path: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for line in text.lines() {
        let digits = line.bytes().take_while(u8::is_ascii_digit).count();
        let depth: usize = line[..digits].parse().expect("a depth prefix");
        let name = line[digits..].split_whitespace().next().expect("a package").to_owned();
        path.truncate(depth);
        if let Some(parent) = path.last() {
            out.push((parent.clone(), name.clone()));
        }
        path.push(name);
    }
    out
}

/// The names in `forbidden` that the tree of `args` lists.
fn found(args: &[&str], forbidden: &[&str]) -> Vec<String> {
    let mut found: Vec<String> = edges(args)
        .into_iter()
        .map(|(_, child)| child)
        .filter(|name| forbidden.contains(&name.as_str()))
        .collect();
    found.sort();
    found.dedup();
    found
}

#[test]
fn generated_code_and_the_sync_runtime_library_do_not_build_the_generator() {
    for args in
        [&["--package", "generated"][..], &["--package", "sync-runtime", "--no-default-features"]]
    {
        assert_eq!(found(args, GENERATOR), Vec::<String>::new(), "cargo tree {args:?}");
        let syn_parents: Vec<String> = edges(args)
            .into_iter()
            .filter(|(_, child)| child == "syn")
            .map(|(parent, _)| parent)
            .filter(|parent| parent != "serde_derive")
            .collect();
        assert_eq!(syn_parents, Vec::<String>::new(), "syn only for serde_derive: {args:?}");
    }
}

#[test]
fn xtask_without_its_db_feature_builds_no_driver_runtime_http_or_tls() {
    assert_eq!(found(&["--package", "xtask"], HEAVY), Vec::<String>::new());
    // The feature does bring them, so the names above are spelled as cargo lists them.
    let with_db = found(&["--package", "xtask", "--features", "db"], HEAVY);
    assert!(with_db.contains(&"rusqlite".to_owned()) && with_db.contains(&"postgres".to_owned()));
}

/// `cargo xtask gen` on a fresh clone compiles xtask's tree with its proc macros and build
/// scripts. Cargo.lock keeps miette's textwrap at 0.16.2, whose line breaking needs one small
/// crate; 0.16.4 brings ICU's segmenter and a dozen crates, a third of that cold build. A
/// `cargo update` that brings it back fails here.
#[test]
fn the_generator_builds_no_icu() {
    let text = tree(&["--package", "xtask", "--edges", "normal,build"]);
    let icu: Vec<&str> = text
        .lines()
        .map(|line| line.trim_start_matches(|c: char| c.is_ascii_digit()))
        .filter(|line| line.starts_with("icu_"))
        .collect();
    assert_eq!(icu, Vec::<&str>::new(), "no ICU in the generator's build");
}

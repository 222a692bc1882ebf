//! Type-checks the generated TypeScript package with `tsc --strict`, through the usage file in
//! tools/ts-check that imports it by name (installed as a copy, as a published package is), so
//! the package must be importable and its types exactly as tight as the usage file expects; and
//! the declarations of the example's and every golden schema's package, which exercise the
//! storage overrides the example schema does not use.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn checker_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/ts-check")
}

/// Runs the checker's tsc on a project file; `Ok` or `Err` with tsc's output.
fn tsc(project: &Path) -> Result<(), String> {
    let dir = checker_dir();
    let tsc = dir.join("node_modules/.bin/tsc");
    // Missing packages must fail the test, not skip it: a skipped check proves nothing.
    assert!(
        tsc.exists() && dir.join("node_modules/drizzle-orm").exists(),
        "{} is missing: run `cargo xtask test`, or `npm ci --prefix tools/ts-check` first",
        tsc.display()
    );
    let out = Command::new(&tsc)
        .args(["--strict", "--noEmit", "--pretty", "false", "-p"])
        .arg(project)
        .current_dir(&dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", tsc.display()));
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The files of a folder, by path relative to it.
fn files_below(dir: &Path, prefix: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let relative = prefix.join(path.file_name().unwrap());
        if path.is_dir() {
            files_below(&path, &relative, out);
        } else {
            out.push((relative, fs::read(&path).unwrap()));
        }
    }
}

/// Fails unless the copy of the generated package that npm installed in `dir` (install-links in
/// its .npmrc) equals generated/ts: an older copy would test yesterday's package.
fn assert_installed_copy_is_current(dir: &Path) {
    let generated = Path::new(env!("CARGO_MANIFEST_DIR")).join("../generated/ts/src");
    let installed = dir.join("node_modules/@tunes/schema/src");
    let (mut expected, mut actual) = (Vec::new(), Vec::new());
    files_below(&generated, Path::new(""), &mut expected);
    files_below(&installed, Path::new(""), &mut actual);
    expected.sort();
    actual.sort();
    assert!(
        expected == actual,
        "{} differs from generated/ts: run `npm ci --prefix {}`",
        installed.display(),
        dir.display()
    );
}

#[test]
fn generated_package_type_checks() {
    assert_installed_copy_is_current(&checker_dir());
    if let Err(output) = tsc(&checker_dir().join("tsconfig.json")) {
        panic!(
            "tsc found errors in generated/ts or tools/ts-check/usage.ts \
             (run `cargo xtask gen` if schema.toml changed):\n{output}"
        );
    }
}

/// A folder that is removed even when the test fails.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

impl TempDir {
    /// A fresh folder inside the checker's, so `drizzle-orm` and the linked package resolve
    /// from its node_modules.
    fn new(name: &str) -> TempDir {
        let dir = TempDir(checker_dir().join(format!(".tmp-{name}-{}", std::process::id())));
        let _ = fs::remove_dir_all(&dir.0);
        fs::create_dir_all(&dir.0).unwrap();
        dir
    }
}

/// The declarations of each package, checked in full: each `.d.ts` is copied as a `.ts` file,
/// which tsc checks (it skips errors inside declaration files), while `drizzle-orm`'s own
/// declarations stay skipped.
#[test]
fn package_declarations_type_check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut schemas = vec![("example".to_owned(), root.join("../schema.toml"))];
    for entry in fs::read_dir(root.join("tests/data")).unwrap() {
        let case = entry.unwrap().path();
        if case.join("schema.toml").is_file() {
            let name = case.file_name().unwrap().to_string_lossy().into_owned();
            schemas.push((name, case.join("schema.toml")));
        }
    }
    assert!(schemas.len() > 1, "no golden schemas under {}", root.join("tests/data").display());
    for (name, path) in schemas {
        let text = fs::read_to_string(&path).unwrap();
        let schema = codegen::load_in("schema.toml", &text, path.parent().unwrap()).unwrap();
        let dir = TempDir::new(&name);
        for (path, contents) in codegen::generate(&schema) {
            let Some(path) = path.strip_prefix("ts/") else { continue };
            let path = match path.strip_suffix(".d.ts") {
                Some(stem) => format!("{stem}.ts"),
                None if path.ends_with(".js") => continue,
                None => path.to_owned(),
            };
            let target = dir.0.join(path);
            fs::create_dir_all(target.parent().unwrap()).unwrap();
            fs::write(target, contents).unwrap();
        }
        // The package's own tsconfig.json, so its settings are checked too.
        if let Err(output) = tsc(&dir.0.join("tsconfig.json")) {
            panic!("tsc found errors in the declarations of the {name} package:\n{output}");
        }
    }
}

/// The README's "A TypeScript app" example is tools/ts-example/example.ts word for word, and it
/// compiles with tsc and runs with node against the installed package and better-sqlite3.
#[test]
fn readme_example_compiles_and_runs() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/ts-example");
    let example = fs::read_to_string(dir.join("example.ts")).unwrap();
    let readme = fs::read_to_string(dir.join("../../README.md")).unwrap();
    assert!(
        readme.contains(&format!("```ts\n{example}```")),
        "README.md's \"A TypeScript app\" example differs from {}",
        dir.join("example.ts").display()
    );
    let tsc = dir.join("node_modules/.bin/tsc");
    assert!(
        tsc.exists() && dir.join("node_modules/better-sqlite3").exists(),
        "{} is missing: run `cargo xtask test`, or `npm ci --prefix tools/ts-example` first",
        tsc.display()
    );
    assert_installed_copy_is_current(&dir);
    let compiled = Command::new(&tsc)
        .args(["--pretty", "false", "-p", "tsconfig.json"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(compiled.status.success(), "tsc: {}", String::from_utf8_lossy(&compiled.stdout));
    let run = Command::new("node").arg("build/example.js").current_dir(&dir).output().unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "node: {stdout}{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(stdout, "The Silver Spear reel false\npending changes: 1\n0 false\n");
}

/// The checks above are only worth something if a type error makes them fail.
#[test]
fn a_type_error_fails_the_check() {
    let dir = TempDir::new("fail-check");
    fs::write(
        dir.0.join("tsconfig.json"),
        r#"{ "extends": "../tsconfig.json", "files": ["wrong.ts"] }"#,
    )
    .unwrap();
    fs::write(
        dir.0.join("wrong.ts"),
        "import { TBL } from \"@tunes/schema\";\nexport const genre: \"genre\" = TBL.TUNE;\n",
    )
    .unwrap();
    let output = tsc(&dir.0.join("tsconfig.json")).expect_err("tsc accepted a type error");
    assert!(output.contains("wrong.ts(2,"), "unexpected tsc output:\n{output}");
}

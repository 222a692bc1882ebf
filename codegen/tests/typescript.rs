//! Type-checks the generated TypeScript package with `tsc --strict`, through the usage file in
//! tools/ts-check that imports it by name, so the package must be importable and its types
//! exactly as tight as the usage file expects; and the package of every golden schema, which
//! exercises the storage overrides the example schema does not use.

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

#[test]
fn generated_package_type_checks() {
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

#[test]
fn golden_schema_packages_type_check() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut checked = 0;
    for entry in fs::read_dir(&data).unwrap() {
        let case = entry.unwrap().path();
        let Ok(text) = fs::read_to_string(case.join("schema.toml")) else { continue };
        let schema = codegen::load("schema.toml", &text).unwrap();
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let dir = TempDir::new(&name);
        for (path, contents) in codegen::generate(&schema) {
            if let Some(path) = path.strip_prefix("ts/") {
                let target = dir.0.join(path);
                fs::create_dir_all(target.parent().unwrap()).unwrap();
                fs::write(target, contents).unwrap();
            }
        }
        // The package's own tsconfig.json, so its settings are checked too.
        if let Err(output) = tsc(&dir.0.join("tsconfig.json")) {
            panic!("tsc found errors in the package of tests/data/{name}:\n{output}");
        }
        checked += 1;
    }
    assert!(checked > 0, "no golden schemas under {}", data.display());
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

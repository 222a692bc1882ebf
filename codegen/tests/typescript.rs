//! Type-checks the generated TypeScript package with `tsc --strict`, through the usage file in
//! tools/ts-check that imports it by name, so the package must be importable and its types
//! exactly as tight as the usage file expects.

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

/// The check above is only worth something if a type error makes it fail.
#[test]
fn a_type_error_fails_the_check() {
    // Inside the checker's folder, so the package and drizzle-orm resolve from its node_modules.
    let dir = TempDir(checker_dir().join(format!(".fail-check-{}", std::process::id())));
    fs::create_dir_all(&dir.0).unwrap();
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

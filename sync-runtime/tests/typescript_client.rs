//! The TypeScript sync client (`sync-runtime/ts`, docs/typescript-client.md): its Node test suite
//! against this `sync-server` binary on both stores, and its browser test in headless Chromium.
//! `cargo xtask test` installs the package's npm dependencies from its lock file (which builds
//! it) and Chromium when missing; the suites start their own servers, each with its own Postgres
//! database (from `TEST_DATABASE_URL`) or SQLite file.

use std::path::{Path, PathBuf};
use std::process::Command;

fn package() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("ts")
}

/// Run `npm run <script>` in the package with the server binary, and fail with its output.
fn npm_run(script: &str) {
    let dir = package();
    assert!(
        dir.join("node_modules").is_dir(),
        "{} has no node_modules: run `cargo xtask test`, or `npm ci` there",
        dir.display()
    );
    assert!(
        std::env::var("TEST_DATABASE_URL").is_ok_and(|url| !url.is_empty()),
        "TEST_DATABASE_URL is not set: run through `cargo xtask test` or set TEST_DATABASE_URL"
    );
    let output = Command::new("npm")
        .args(["run", "--silent", script])
        .current_dir(&dir)
        .env("SYNC_SERVER_BIN", env!("CARGO_BIN_EXE_sync-server"))
        .output()
        .expect("run npm (Node.js 20 or later is needed)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary: Vec<&str> = stdout.lines().filter(|l| l.starts_with("# ")).collect();
    println!("{}", summary.join("\n"));
    assert!(
        output.status.success(),
        "npm run {script} failed in {}:\n{stdout}\n{}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_node_suite_passes_against_the_server_on_both_stores() {
    npm_run("test");
}

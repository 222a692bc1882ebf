//! `check --database-url` and `import` in a build without the `db` feature: they run in
//! `xtask-db`, the same command line built with it. So `cargo xtask gen` and `check` compile the
//! generator alone, and the database drivers are built once, by the first command that needs them.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

/// Build `xtask-db` in the workspace at `root` (cargo's progress on standard error) and run it
/// with this process's arguments, standard input and outputs; its exit code is this one's.
pub fn with_db(root: &Path) -> Result<ExitCode, String> {
    let exe = build(root)?;
    let status = Command::new(&exe)
        .args(std::env::args_os().skip(1))
        .status()
        .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
    let code = status.code().and_then(|code| u8::try_from(code).ok());
    Ok(code.map_or(ExitCode::from(2), ExitCode::from))
}

/// Build `xtask-db`; the path of its executable.
///
/// Not `cargo run`: that prints the command line it runs, and with it the database URL and its
/// password. Cargo's JSON messages name the executable; its progress still goes to standard error.
fn build(root: &Path) -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["build", "--package", "xtask", "--features", "db", "--bin", "xtask-db"])
        .args(["--message-format", "json-render-diagnostics", "--manifest-path"])
        .arg(root.join("Cargo.toml"))
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo to build xtask with the db feature: {e}"))?;
    if !output.status.success() {
        return Err("cannot build xtask with the db feature (see cargo's messages above)".into());
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|message| {
            message["reason"] == "compiler-artifact" && message["target"]["name"] == "xtask-db"
        })
        .and_then(|artifact| artifact["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| "cargo built xtask with the db feature but named no xtask-db binary".into())
}

//! `check_generated_500_s`: how long `cargo check` takes on the generated Rust crate of the
//! synthetic 500-table schema, its dependencies already built (`--quick`: 50 tables).
//!
//! The crate is generated into a workspace of its own under the target directory (a fixed
//! place, so its build products are replaced, not piled up), whose manifest is this workspace's
//! with its members replaced and its paths made absolute, and whose lock file is this one's: the
//! dependencies are the very builds the workspace's own checks made. A first check of the crate
//! for one table builds what is missing, untimed; the timed check is the 500-table crate's.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::generator::timed;
use super::{median, synthetic_schema};
use crate::root::target_dir;

pub fn check_generated(root: &Path, quick: bool) -> Result<(), String> {
    let (tables, runs) = if quick { (50, 1) } else { (500, 3) };
    let dir = target_dir(root).join("xtask-bench/check-generated");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let write = |name: &str, text: &str| {
        std::fs::write(dir.join(name), text).map_err(|e| format!("cannot write {name}: {e}"))
    };
    write("Cargo.toml", &manifest(root)?)?;
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).map_err(|e| e.to_string())?;
    write("Cargo.lock", &lock)?;

    let gen_into = |tables: usize| -> Result<(), String> {
        write("schema.toml", &synthetic_schema(tables))?;
        let schema =
            crate::drift::load_schema(&dir.join("schema.toml"))?.map_err(|e| e.render())?;
        let out = dir.join("generated");
        let folder = crate::drift::Folder { dir: &out, shown: "generated", owned: true };
        crate::drift::write_all(&codegen::generate(&schema), folder).map_err(|e| e.to_string())?;
        Ok(())
    };
    gen_into(1)?;
    cargo_check(root, &dir)?;
    gen_into(tables)?;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        // A new modification time, so that every run checks the crate again.
        let lib = dir.join("generated/rust/src/lib.rs");
        let text = std::fs::read_to_string(&lib).map_err(|e| e.to_string())?;
        std::fs::write(&lib, text).map_err(|e| e.to_string())?;
        times.push(cargo_check(root, &dir)?);
    }
    println!("check_generated_tables: {tables}");
    println!("check_generated_500_s: {:.2}", median(times).as_secs_f64());
    Ok(())
}

/// `cargo check` of the scratch workspace at `dir`, offline, with the workspace's target
/// directory; its wall time. A check that waited for another build's lock on the target
/// directory is run again (up to three times), since the wait is no part of the check.
fn cargo_check(root: &Path, dir: &Path) -> Result<Duration, String> {
    let mut tries = 0;
    loop {
        let mut check = Command::new("cargo");
        check
            .args(["check", "--offline", "--manifest-path"])
            .arg(dir.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", target_dir(root))
            .current_dir(dir);
        let run = timed(check, "cargo check of the generated crate")?;
        tries += 1;
        if !run.stderr.contains("Blocking waiting for file lock") || tries == 3 {
            return Ok(run.time);
        }
    }
}

/// This workspace's manifest, its members the generated crate alone and every relative `path`
/// made absolute, so that the profile, lints and dependency versions are the same.
fn manifest(root: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(root.join("Cargo.toml")).map_err(|e| e.to_string())?;
    let start = text.find("members = [").ok_or("no `members` in Cargo.toml")?;
    let end = start + text[start..].find(']').ok_or("`members` is not closed in Cargo.toml")?;
    let root = root.to_string_lossy().replace('\\', "/");
    let text = format!("{}members = [\"generated/rust\"{}", &text[..start], &text[end..]);
    Ok(text.replace("path = \"", &format!("path = \"{root}/")))
}

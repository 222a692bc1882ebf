//! The generator's figures: `gen` in this process on the example schema and on the synthetic
//! 500-table one, the first `gen` after a big schema change against a fresh one, and the whole
//! `xtask gen` process against drizzle-kit's `generate` for both dialects, measured in turn.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{Scratch, median, synthetic_schema};
use crate::drift;

/// Median wall time of `runs` in-process `gen` runs of `schema_text` into a folder that holds
/// a copy of `before` (empty when `None`) at the start of each run.
fn time_gen(schema_text: &str, before: Option<&Path>, runs: usize) -> Result<Duration, String> {
    let scratch = Scratch::new("gen")?;
    let schema_path = scratch.write("schema.toml", schema_text)?;
    let out = scratch.path("generated");
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let _ = std::fs::remove_dir_all(&out);
        if let Some(before) = before {
            copy_dir(before, &out).map_err(|e| format!("cannot copy {}: {e}", before.display()))?;
        }
        let start = Instant::now();
        let schema = drift::load_schema(&schema_path)?.map_err(|e| e.render())?;
        let folder = drift::Folder { dir: &out, shown: "generated", owned: true };
        drift::write_all(&codegen::generate(&schema), folder).map_err(|e| e.to_string())?;
        times.push(start.elapsed());
    }
    Ok(median(times))
}

/// `gen_example_ms`, `gen_500_tables_ms` and `gen_after_big_change_over_fresh`: the first `gen`
/// of the 500-table schema into a `generated/` holding this repository's files, over a `gen`
/// into an empty folder (1.0 is as fast; the goal is at most 2).
pub fn in_process(root: &Path, quick: bool) -> Result<(), String> {
    let runs = if quick { 3 } else { 11 };
    let example = std::fs::read_to_string(root.join("schema.toml")).map_err(|e| e.to_string())?;
    let synthetic = synthetic_schema(500);
    let example_ms = time_gen(&example, None, runs)?;
    let fresh = time_gen(&synthetic, None, runs)?;
    let after_change = time_gen(&synthetic, Some(&root.join("generated")), runs)?;
    println!("gen_example_ms: {:.1}", example_ms.as_secs_f64() * 1e3);
    println!("gen_500_tables_ms: {:.1}", fresh.as_secs_f64() * 1e3);
    println!("gen_after_big_change_ms: {:.1}", after_change.as_secs_f64() * 1e3);
    println!(
        "gen_after_big_change_over_fresh: {:.2}",
        after_change.as_secs_f64() / fresh.as_secs_f64()
    );
    Ok(())
}

/// `gen_500_tables_vs_drizzle_kit`: this very `xtask` binary's `gen` of the synthetic schema into
/// an empty folder, as a whole process, against drizzle-kit's `generate` of its SQLite and its
/// Postgres migration from the Drizzle schemas that `gen` wrote (the two runs together), each
/// the median of alternating runs; drizzle-kit's time over ours. `--quick` uses 50 tables.
pub fn versus_drizzle_kit(root: &Path, quick: bool) -> Result<(), String> {
    let (tables, runs) = if quick { (50, 3) } else { (500, 7) };
    let checker = root.join("tools/ts-check");
    let drizzle_kit = checker.join("node_modules/.bin/drizzle-kit");
    if !drizzle_kit.exists() {
        return Err(format!(
            "{} has no drizzle-kit: run `npm ci` there first (`cargo xtask test` does)",
            checker.display()
        ));
    }
    let xtask = std::env::current_exe().map_err(|e| format!("cannot find this xtask: {e}"))?;
    let scratch = Scratch::new("processes")?;
    let schema = scratch.write("schema.toml", &synthetic_schema(tables))?;
    let (mut ours, mut theirs, mut peak_kib) = (Vec::new(), Vec::new(), 0);
    for run in 0..runs {
        let out = scratch.path(&format!("generated-{run}"));
        let mut gen_cmd = Command::new(&xtask);
        gen_cmd.arg("gen").arg("--schema").arg(&schema).arg("--out").arg(&out);
        let ran = timed(gen_cmd, "xtask gen")?;
        ours.push(ran.time);
        peak_kib = peak_kib.max(ran.peak_kib);
        let drizzle = out.join("ts/src/drizzle");
        let mut both = Duration::ZERO;
        for (dialect, file) in [("sqlite", "sqlite.js"), ("postgresql", "pg.js")] {
            let mut generate = Command::new(&drizzle_kit);
            generate
                .args(["generate", "--dialect", dialect, "--schema"])
                .arg(drizzle.join(file))
                .arg("--out")
                .arg(scratch.path(&format!("drizzle-kit-{run}-{dialect}")))
                // The schemas import drizzle-orm, which resolves from the checker's packages.
                .env("NODE_PATH", checker.join("node_modules"))
                .current_dir(scratch.path(""));
            both += timed(generate, "drizzle-kit generate")?.time;
        }
        theirs.push(both);
        let _ = std::fs::remove_dir_all(&out);
    }
    let (ours, theirs) = (median(ours), median(theirs));
    println!("gen_tables: {tables}");
    println!("gen_process_ms: {:.1}", ours.as_secs_f64() * 1e3);
    println!("gen_process_peak_mib: {:.1}", peak_kib as f64 / 1024.0);
    println!("drizzle_kit_generate_ms: {:.1}", theirs.as_secs_f64() * 1e3);
    println!("gen_500_tables_vs_drizzle_kit: {:.1}", theirs.as_secs_f64() / ours.as_secs_f64());
    Ok(())
}

/// What [`timed`] measured of a process.
pub(super) struct Run {
    pub time: Duration,
    /// Peak resident memory in KiB (VmHWM, read every millisecond until the process exits, so a
    /// peak in its last millisecond may be missed).
    pub peak_kib: u64,
    pub stderr: String,
}

/// Run `command` to completion, its standard output discarded; an error with its standard error
/// when it fails.
pub(super) fn timed(mut command: Command, what: &str) -> Result<Run, String> {
    let start = Instant::now();
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    // Read on a thread of its own, so that a chatty process never blocks on a full pipe.
    let mut pipe = child.stderr.take().expect("stderr is piped");
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut pipe, &mut text);
        text
    });
    let status_path = PathBuf::from(format!("/proc/{}/status", child.id()));
    let mut peak_kib = 0;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| format!("{what}: {e}"))? {
            break status;
        }
        peak_kib = peak_kib.max(vm_hwm_kib(&status_path));
        std::thread::sleep(Duration::from_millis(1));
    };
    let time = start.elapsed();
    let stderr = stderr.join().unwrap_or_default();
    if !status.success() {
        return Err(format!("{what} failed ({status}): {stderr}"));
    }
    Ok(Run { time, peak_kib, stderr })
}

/// A process's VmHWM in KiB; 0 once it is gone.
fn vm_hwm_kib(status_path: &Path) -> u64 {
    std::fs::read_to_string(status_path)
        .ok()
        .and_then(|status| {
            let line = status.lines().find_map(|line| line.strip_prefix("VmHWM:"))?;
            line.trim().trim_end_matches("kB").trim().parse().ok()
        })
        .unwrap_or(0)
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let path = entry?.path();
        let target = to.join(path.file_name().expect("an entry has a name"));
        if path.is_dir() {
            copy_dir(&path, &target)?;
        } else {
            std::fs::copy(&path, &target)?;
        }
    }
    Ok(())
}

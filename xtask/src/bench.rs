//! `cargo xtask bench`: figures printed as `name: value` lines (docs/bench.md).
//!
//! The generator's own speed ([`generator`]): `gen` (load, validate, emit, write) on the example
//! schema and on a synthetic 500-table schema, the median of several runs in one process, the
//! first `gen` after a big schema change, and the whole process against drizzle-kit; how long
//! the generated Rust crate takes to check ([`compile`]). Then the sync figures,
//! the server's and the client's, measured by `sync-bench` (in `tests/src/bin/`) against the
//! `sync-server` binary on the Postgres of `TEST_DATABASE_URL` (the local cluster when unset, as
//! for `cargo xtask test`) and on the embedded SQLite store.

mod compile;
mod generator;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A valid schema with `tables` synced tables, each with a foreign key to the previous one and
/// every logical type, for measuring the generator at scale.
pub fn synthetic_schema(tables: usize) -> String {
    let mut toml = String::from(
        "[schema]\nname = \"synthetic\"\nversion = 1\n\n[sync]\nowner = \"user_id\"\n\
         modified = \"last_modified_at\"\ndeleted = \"deleted\"\n",
    );
    for i in 0..tables {
        let _ = write!(
            toml,
            "\n[tables.t{i}]\ncomment = \"Synthetic table {i}.\"\nsync = \"owner\"\n\
             indexes = [{{ columns = [\"user_id\", \"last_modified_at desc\"] }}]\n\
             [tables.t{i}.columns]\n\
             id = {{ type = \"uuid\", primary_key = true, default = \"random\" }}\n\
             user_id = {{ type = \"uuid\" }}\n"
        );
        if i > 0 {
            let _ = writeln!(
                toml,
                "parent_id = {{ type = \"uuid\", nullable = true, references = \"t{}.id\", on_delete = \"set null\" }}",
                i - 1
            );
        }
        toml.push_str(
            "title = { type = \"text\", comment = \"A title.\" }\n\
             kind = { type = \"text\", values = [\"a\", \"b\", \"c\"], default = \"a\" }\n\
             count = { type = \"integer\", default = 0 }\n\
             total = { type = \"bigint\", nullable = true }\n\
             score = { type = \"real\", default = 0.5 }\n\
             day = { type = \"date\", nullable = true }\n\
             data = { type = \"json\", nullable = true }\n\
             deleted = { type = \"boolean\", default = false }\n\
             last_modified_at = { type = \"timestamp\", default = \"now\" }\n",
        );
    }
    toml
}

/// The middle value of `times` (the upper one of an even count); `times` is not empty.
fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// A scratch folder in the temporary directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(label: &str) -> Result<Self, String> {
        let dir = std::env::temp_dir().join(format!("xtask-bench-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        Ok(Scratch(dir))
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }

    /// Write `text` to `rel`; its path.
    fn write(&self, rel: &str, text: &str) -> Result<PathBuf, String> {
        let path = self.path(rel);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn run(root: &Path, quick: bool) -> Result<(), String> {
    generator::in_process(root, quick)?;
    generator::versus_drizzle_kit(root, quick)?;
    compile::check_generated(root, quick)?;
    sync_figures(root, quick)
}

/// Build `sync-server` and `sync-bench` in the one dev profile, then run the bench against the
/// server binary.
fn sync_figures(root: &Path, quick: bool) -> Result<(), String> {
    let database_url = crate::test_cmd::database_url()?;
    let build = Command::new("cargo")
        .args(["build", "--quiet", "-p", "sync-runtime", "--bin", "sync-server"])
        .args(["-p", "integration-tests", "--bin", "sync-bench"])
        .current_dir(root)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !build.success() {
        return Err("building sync-server and sync-bench failed".into());
    }
    let mut bench = Command::new(crate::root::debug_binary(root, "sync-bench"));
    bench.arg("--server").arg(crate::root::debug_binary(root, "sync-server"));
    if quick {
        bench.arg("--quick");
    }
    let status = bench
        .current_dir(root)
        .env("TEST_DATABASE_URL", database_url)
        .status()
        .map_err(|e| format!("cannot run sync-bench: {e}"))?;
    if !status.success() {
        return Err("sync-bench failed".into());
    }
    typescript_figures(root, quick)
}

/// The TypeScript client's figures, from its package (installed by `cargo xtask test`, or `npm ci`
/// in sync-runtime/ts).
fn typescript_figures(root: &Path, quick: bool) -> Result<(), String> {
    let dir = root.join("sync-runtime/ts");
    if !dir.join("node_modules").is_dir() {
        return Err(format!("{} has no node_modules: run `npm ci` there first", dir.display()));
    }
    // The apply in Node, then the browser's initial sync through the sync-server cargo built.
    let server = crate::root::debug_binary(root, "sync-server");
    for script in ["bench", "bench:browser"] {
        let mut bench = Command::new("npm");
        bench.args(["run", "--silent", script]).env("SYNC_SERVER_BIN", &server);
        if quick {
            bench.args(["--", "--quick"]);
        }
        let status =
            bench.current_dir(&dir).status().map_err(|e| format!("cannot run npm: {e}"))?;
        if !status.success() {
            return Err(format!("the TypeScript client's `npm run {script}` failed"));
        }
    }
    Ok(())
}

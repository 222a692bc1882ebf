//! `cargo xtask test`: make the environment the tests need, then run them all.
//!
//! Postgres: `TEST_DATABASE_URL` when set; otherwise the local cluster is started (as root,
//! through `pg_ctlcluster`) and a test role that may create databases and roles is made,
//! idempotently.
//! Each test creates and drops its own database, so tests run in parallel.
//! TypeScript: the npm packages of the checker, the README's example and the TypeScript client
//! are installed from their committed lock files (the client builds itself as it installs);
//! Chromium, for the client's browser test, is installed with apt-get when /usr/bin/chromium is
//! missing.

use std::path::Path;
use std::process::{Command, ExitCode};

/// The role and database `cargo xtask test` creates on a local cluster.
const TEST_ROLE: &str = "schema_sync_test";
const LOCAL_URL: &str =
    "postgres://schema_sync_test:schema_sync_test@127.0.0.1:5432/schema_sync_test";

pub fn run(root: &Path, args: &[String]) -> Result<ExitCode, String> {
    let database_url = database_url()?;
    npm_ci(root, &["tools/ts-check", "tools/ts-example", "sync-runtime/ts"])?;
    install_chromium()?;
    let nextest = Command::new("cargo")
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    let mut cmd = Command::new("cargo");
    if nextest {
        cmd.args(["nextest", "run", "--workspace", "--no-fail-fast"]);
    } else {
        cmd.args(["test", "--workspace", "--no-fail-fast"]);
    }
    // The tests that run sync-server as a process take the binary this workspace build makes
    // (the TypeScript tests get it from cargo; the integration tests of another package would
    // otherwise build it again, with that package's features).
    cmd.args(args)
        .current_dir(root)
        .env("TEST_DATABASE_URL", &database_url)
        .env("SYNC_SERVER_BIN", crate::root::debug_binary(root, "sync-server"));
    println!("running the tests against {}", sync_meta::database_url::redact(&database_url));
    let status = cmd.status().map_err(|e| format!("cannot run cargo: {e}"))?;
    Ok(if status.success() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// `TEST_DATABASE_URL` when set; otherwise the local cluster, started and given a test role.
pub fn database_url() -> Result<String, String> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Ok(url),
        _ => start_local_postgres(),
    }
}

fn sh(program: &str, args: &[&str]) -> Result<std::process::Output, String> {
    Command::new(program).args(args).output().map_err(|e| format!("cannot run {program}: {e}"))
}

/// Run SQL as the `postgres` superuser through the local socket.
fn psql_as_postgres(sql: &str) -> Result<String, String> {
    let out =
        sh("su", &["postgres", "-c", &format!("psql -XtAq -v ON_ERROR_STOP=1 -c \"{sql}\"")])?;
    if !out.status.success() {
        return Err(format!("psql failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn start_local_postgres() -> Result<String, String> {
    let clusters = sh("pg_lsclusters", &["--no-header"]).map_err(|e| {
        format!("{e}; install PostgreSQL (apt-get install postgresql) or set TEST_DATABASE_URL")
    })?;
    let listing = String::from_utf8_lossy(&clusters.stdout).into_owned();
    let Some(first) = listing.lines().next() else {
        return Err("no PostgreSQL cluster found; create one or set TEST_DATABASE_URL".into());
    };
    let fields: Vec<&str> = first.split_whitespace().collect();
    let (version, name, status) = (fields[0], fields[1], fields.get(3).copied().unwrap_or(""));
    if status != "online" {
        println!("starting PostgreSQL {version}/{name}");
        let out = sh("pg_ctlcluster", &[version, name, "start"])?;
        if !out.status.success() {
            return Err(format!(
                "pg_ctlcluster {version} {name} start failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    // CREATEROLE: the RLS test (tests/tests/rls_vs_sync.rs) makes a role of its own standing
    // for PostgREST's `authenticated`. A role made before it was needed is given it.
    let exists =
        psql_as_postgres(&format!("SELECT 1 FROM pg_roles WHERE rolname = '{TEST_ROLE}'"))?;
    if exists != "1" {
        psql_as_postgres(&format!(
            "CREATE ROLE {TEST_ROLE} LOGIN CREATEDB CREATEROLE PASSWORD '{TEST_ROLE}'"
        ))?;
    } else {
        psql_as_postgres(&format!("ALTER ROLE {TEST_ROLE} CREATEDB CREATEROLE"))?;
    }
    let db = psql_as_postgres(&format!("SELECT 1 FROM pg_database WHERE datname = '{TEST_ROLE}'"))?;
    if db != "1" {
        psql_as_postgres(&format!("CREATE DATABASE {TEST_ROLE} OWNER {TEST_ROLE}"))?;
    }
    Ok(LOCAL_URL.to_owned())
}

/// `npm ci` in each of `dirs`, from its committed lock file, all at once: two of them compile
/// better-sqlite3's SQLite from source, one core each.
fn npm_ci(root: &Path, dirs: &[&str]) -> Result<(), String> {
    let installs = dirs
        .iter()
        .map(|dir| {
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(root.join(dir))
                .spawn()
                .map(|child| (dir, child))
                .map_err(|e| format!("cannot run npm (Node.js 20 or later is needed): {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    for (dir, mut child) in installs {
        let status = child.wait().map_err(|e| format!("npm ci in {dir}: {e}"))?;
        if !status.success() {
            return Err(format!("npm ci failed in {dir}"));
        }
    }
    Ok(())
}

/// Debian's Chromium for the TypeScript client's browser test, when it is not installed.
fn install_chromium() -> Result<(), String> {
    if Path::new("/usr/bin/chromium").exists() {
        return Ok(());
    }
    println!("installing chromium for the browser test");
    let status = Command::new("apt-get")
        .args(["install", "-y", "-q", "chromium"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .map_err(|e| format!("cannot run apt-get to install chromium: {e}"))?;
    if !status.success() {
        return Err("apt-get install chromium failed; install it (the browser test needs /usr/bin/chromium)".into());
    }
    Ok(())
}

//! The `sync-server` binary as users run it (docs/server.md): it refuses to start without a JWT key
//! and says what to pass, exits 2 on bad configuration, and with `--insecure-dev-auth` serves the
//! embedded SQLite store, answers `/healthz` and a sync, and stops cleanly on SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};
use sync_meta::database_url::PostgresUrl;

const USER: &str = "00000000-0000-4000-8000-000000000001";

fn example_schema() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema.toml")
}

/// The binary, run in `dir`, with none of the environment variables it reads.
fn sync_server(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sync-server"));
    command
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("SUPABASE_JWT_SECRET")
        .env_remove("RUST_LOG");
    command
}

fn run(dir: &Path, args: &[&str]) -> Output {
    sync_server(dir).args(args).output().expect("run sync-server")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn without_a_key_it_refuses_to_start_and_says_what_to_pass() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(example_schema(), dir.path().join("schema.toml")).unwrap();
    let output = run(dir.path(), &[]);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    for flag in ["--jwt-secret", "SUPABASE_JWT_SECRET", "--jwks", "--insecure-dev-auth"] {
        assert!(message.contains(flag), "the message names {flag}: {message}");
    }
    assert!(!dir.path().join("sync.db").exists(), "nothing is created");
}

#[test]
fn bad_configuration_exits_2_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let schema = example_schema();
    let schema = schema.to_str().unwrap();
    let dev = ["--insecure-dev-auth", "--schema", schema];
    let secret = "a-shared-secret-of-at-least-32-bytes!";
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--insecure-dev-auth", "--schema", "missing.toml"], "missing.toml"),
        (
            vec!["--insecure-dev-auth", "--schema", schema, "--jwt-secret", secret],
            "cannot be combined",
        ),
        (vec!["--jwt-secret", "too short", "--schema", schema], "at least 32"),
        (
            [&dev[..], &["--database-url", "mysql://root:hunter2@db/app"]].concat(),
            "mysql://root:***@db/app",
        ),
        ([&dev[..], &["--cors-origin", "https://app.example/"]].concat(), "trailing slash"),
        ([&dev[..], &["--listen", "localhost"]].concat(), "--listen"),
        (
            [&dev[..], &["--database-url", "postgres://app:hunter2@127.0.0.1:1/app"]].concat(),
            "postgres://app:***@127.0.0.1:1/app",
        ),
        (
            [&dev[..], &["--database-url", "postgres://app@127.0.0.1:1/app?password=hunter2"]]
                .concat(),
            "postgres://app@127.0.0.1:1/app?password=***",
        ),
    ];
    for (args, says) in cases {
        let output = run(dir.path(), &args);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {message}");
        assert!(message.contains(says), "{args:?} should say {says:?}: {message}");
        assert!(!message.contains("hunter2"), "{args:?} leaks a password: {message}");
    }

    let invalid = dir.path().join("schema.toml");
    std::fs::write(&invalid, "[schema]\nname = \"x\"\nversion = 0\n").unwrap();
    let output = run(dir.path(), &["--insecure-dev-auth"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("is not a valid schema"), "{}", stderr(&output));
}

#[test]
fn help_documents_every_flag() {
    let output = run(Path::new("."), &["--help"]);
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in [
        "--database-url",
        "DATABASE_URL",
        "--jwt-secret",
        "SUPABASE_JWT_SECRET",
        "--jwks",
        "--audience",
        "--listen",
        "--cors-origin",
        "--insecure-dev-auth",
        "--schema",
        "--max-body-bytes",
        "--max-changes",
        "--log-format",
    ] {
        assert!(help.contains(flag), "--help documents {flag}:\n{help}");
    }
}

/// A running server: its process and its log lines as they come.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    fn start(mut command: Command) -> Running {
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start sync-server");
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Running { child, lines, seen: Vec::new() }
    }

    /// The first log line containing `text`, waiting for it.
    fn wait_for(&mut self, text: &str) -> String {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(30)) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(text) {
                        return line;
                    }
                }
                Err(_) => panic!("no log line with {text:?}; got:\n{}", self.seen.join("\n")),
            }
        }
    }

    /// SIGTERM, then the exit code and every remaining log line.
    fn terminate(&mut self) -> (Option<i32>, String) {
        let killed = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(killed.success());
        let status = self.child.wait().expect("the server exits");
        self.seen.extend(self.lines.iter());
        (status.code(), self.seen.join("\n"))
    }
}

/// A test that fails half-way leaves no server behind.
impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The `http://host:port` of the "serving POST http://.../api/sync" line.
fn base_url(line: &str) -> String {
    let start = line.find("http://").expect("the line has the address");
    let end = line[start..].find("/api/sync").expect("the line names /api/sync") + start;
    line[start..end].to_owned()
}

#[tokio::test]
async fn with_insecure_dev_auth_it_serves_the_embedded_sqlite_store() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(example_schema(), dir.path().join("schema.toml")).unwrap();
    // The defaults but the port: `sqlite:sync.db` and `schema.toml` in the working directory.
    let mut command = sync_server(dir.path());
    command.args(["--insecure-dev-auth", "--listen", "127.0.0.1:0"]);
    let mut server = Running::start(command);
    let base = base_url(&server.wait_for("serving POST"));
    let hint = server.wait_for("--database-url postgres://");
    assert!(hint.contains("generated/sql/postgres.sql"), "{hint}");

    let client = reqwest::Client::new();
    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let health: Value = serde_json::from_slice(&health.bytes().await.unwrap()).unwrap();
    assert_eq!(health["pull_horizon"]["waiting_transactions"], 0, "{health}");

    let sync = json!({ "schema_version": 3, "client_id": "8f14e45f-ceea-467f-a8f8-1b3c1d6e6c11",
                       "cursor": null, "changes": [] });
    let answer = client
        .post(format!("{base}/api/sync"))
        .bearer_auth(USER)
        .header("content-type", "application/json")
        .body(sync.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
    let line = server.wait_for("path=/api/sync");
    assert!(line.contains(USER) && line.contains("status=200"), "the request line: {line}");

    let (code, log) = server.terminate();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("SIGTERM received") && log.contains("stopped"), "{log}");
    assert!(log.contains("INSECURE DEV AUTH"), "{log}");
    assert!(dir.path().join("sync.db").is_file());
}

#[tokio::test]
async fn json_logs_are_one_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("other.db").display());
    let mut command = sync_server(dir.path());
    command.args(["--insecure-dev-auth", "--listen", "127.0.0.1:0", "--log-format", "json"]);
    command.args(["--database-url", &db, "--schema", example_schema().to_str().unwrap()]);
    let mut server = Running::start(command);
    let base = base_url(&server.wait_for("serving POST"));
    let health = reqwest::Client::new()
        .get(format!("{base}/healthz"))
        .header("x-request-id", "probe-1")
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let line = server.wait_for("probe-1");
    let (code, log) = server.terminate();
    assert_eq!(code, Some(0), "{log}");
    for line in log.lines() {
        serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
    let event: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(event["span"]["id"], "probe-1", "{event}");
    assert!(dir.path().join("other.db").is_file());
}

/// A database of its own on the server of `TEST_DATABASE_URL` with the example schema's DDL
/// applied, dropped at the end.
struct PgDatabase {
    admin: PostgresUrl,
    name: String,
}

impl PgDatabase {
    async fn new() -> PgDatabase {
        let url = std::env::var("TEST_DATABASE_URL").ok().filter(|url| !url.is_empty());
        let url = url.expect(
            "TEST_DATABASE_URL is not set: run through `cargo xtask test` or set TEST_DATABASE_URL",
        );
        let admin = PostgresUrl::parse(&url).expect("TEST_DATABASE_URL is a Postgres URL");
        let name = format!("sync_server_{}", std::process::id());
        execute(&admin, &format!("CREATE DATABASE \"{name}\"")).await;
        let ddl = Path::new(env!("CARGO_MANIFEST_DIR")).join("../generated/sql/postgres.sql");
        execute(&admin.with_database(&name), &std::fs::read_to_string(ddl).unwrap()).await;
        PgDatabase { admin, name }
    }

    /// The database's URL with its password in the user info (`user:pw@host`) or in a query
    /// parameter (`?password=pw`), and the password.
    fn urls(&self) -> ([String; 2], String) {
        let admin: tokio_postgres::Config = self.admin.driver_url().parse().unwrap();
        let user = admin.get_user().expect("TEST_DATABASE_URL names a user");
        let password = admin.get_password().expect("TEST_DATABASE_URL has a password");
        let password = String::from_utf8(password.to_vec()).unwrap();
        let host = match admin.get_hosts().first() {
            Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
            _ => "127.0.0.1".to_owned(),
        };
        let port = admin.get_ports().first().copied().unwrap_or(5432);
        let (at, name) = (format!("{host}:{port}"), &self.name);
        let urls = [
            format!("postgres://{user}:{password}@{at}/{name}"),
            format!("postgres://{user}@{at}/{name}?password={password}"),
        ];
        (urls, password)
    }
}

/// Run `sql` on `url`, with TLS as the URL says.
async fn execute(url: &PostgresUrl, sql: &str) {
    let config: tokio_postgres::Config = url.driver_url().parse().expect("a driver URL");
    let tls = pg_tls::connector(url).expect("the URL's TLS settings");
    let (client, connection) = config.connect(tls).await.expect("connect");
    let connection = tokio::spawn(connection);
    client.batch_execute(sql).await.unwrap_or_else(|e| panic!("{e}: {sql}"));
    drop(client);
    let _ = connection.await;
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime, which cannot be blocked on: a runtime of its own
        // on another thread drops the database.
        let (admin, name) = (self.admin.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
            runtime.unwrap().block_on(execute(
                &admin,
                &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
            ));
        });
        if dropped.join().is_err() {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}

/// The startup line names the Postgres database without its password, whichever way the URL
/// spells it.
#[tokio::test]
async fn the_startup_log_shows_the_postgres_url_without_its_password() {
    let database = PgDatabase::new().await;
    let (urls, password) = database.urls();
    for url in urls {
        let mut command = sync_server(Path::new("."));
        command.args(["--insecure-dev-auth", "--listen", "127.0.0.1:0", "--database-url", &url]);
        command.args(["--schema", example_schema().to_str().unwrap()]);
        let mut server = Running::start(command);
        let line = server.wait_for("serving POST");
        let shown = url.replace(&format!(":{password}@"), ":***@");
        let shown = shown.replace(&format!("password={password}"), "password=***");
        assert!(line.contains(&format!("database={shown}")), "{line}");
        let (code, log) = server.terminate();
        assert_eq!(code, Some(0), "{log}");
        for leak in [format!(":{password}@"), format!("password={password}")] {
            assert!(!log.contains(&leak), "the log shows the password ({leak}):\n{log}");
        }
    }
}

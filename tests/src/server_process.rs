//! A `sync-server` process on loopback with flags of the test's, optionally under a lower
//! descriptor limit (`ulimit -n`), and its log kept for the test to read: for what only a
//! process shows, such as running out of descriptors, or its peak memory.
//!
//! `ServerProcess::start(&url, &["--header-read-timeout", "2"], Some(256))`, then requests to
//! [`ServerProcess::url`]; dropping it kills the process.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::runtime::Runtime;

use crate::server::{SCHEMA, SECRET};
use crate::sync::{Database, Ddl, Schema, TestStore};
use crate::workspace_root;

/// How long a server has to answer `/healthz` after it was started.
const STARTUP: Duration = Duration::from_secs(60);

/// A running `sync-server`.
pub struct ServerProcess {
    child: Child,
    pub addr: SocketAddr,
    log: Arc<Mutex<String>>,
}

impl ServerProcess {
    /// Start the server on `database_url` with HS256 tokens of [`SECRET`], the example schema
    /// and `args`, under a descriptor limit of `descriptors` when given; return once it answers
    /// `/healthz`.
    pub fn start(database_url: &str, args: &[&str], descriptors: Option<u32>) -> ServerProcess {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut command = match descriptors {
            Some(limit) => {
                let mut sh = Command::new("sh");
                sh.args(["-c", "ulimit -n \"$0\" && exec \"$@\"", &limit.to_string()])
                    .arg(sync_server_binary());
                sh
            }
            None => Command::new(sync_server_binary()),
        };
        let secret = std::str::from_utf8(SECRET).expect("the secret is text");
        command
            .args(["--database-url", database_url, "--jwt-secret", secret])
            .args(["--listen", &addr.to_string()])
            .arg("--schema")
            .arg(workspace_root().join("schema.toml"))
            .args(args)
            .env_remove("DATABASE_URL")
            .env_remove("SUPABASE_JWT_SECRET")
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("start sync-server");
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("a piped stderr");
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = sink.lock().unwrap_or_else(|p| p.into_inner());
                log.push_str(&line);
                log.push('\n');
            }
        });
        let mut server = ServerProcess { child, addr, log };
        let started = Instant::now();
        while get_status(addr, "/healthz") != Some(200) {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("sync-server exited with {status}:\n{}", server.log());
            }
            assert!(started.elapsed() < STARTUP, "no /healthz answer:\n{}", server.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Everything the server wrote to standard error so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The process's peak resident memory so far, in KiB.
    pub fn peak_kib(&self) -> u64 {
        peak_kib(self.child.id()).unwrap_or_else(|e| panic!("the server's peak memory: {e}"))
    }
}

/// The peak resident memory (VmHWM of `/proc/<pid>/status`) of process `pid` so far, in KiB.
pub fn peak_kib(pid: u32) -> std::io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no VmHWM in /proc/{pid}/status")))
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The status of `GET <path>` on `addr`, over a connection of its own; `None` when there is no
/// answer.
fn get_status(addr: SocketAddr, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").ok()?;
    let mut head = [0; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

/// The `sync-server` binary the tests run: `SYNC_SERVER_BIN` when set (`cargo xtask test` sets
/// it to the binary its workspace build made, as it does for the TypeScript tests), otherwise
/// built by cargo the first time a test process asks for it (integration tests of another
/// package do not get it built; that build selects its own features, so it may compile
/// sync-runtime again).
pub fn sync_server_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        if let Some(binary) = std::env::var_os("SYNC_SERVER_BIN") {
            return PathBuf::from(binary);
        }
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "-p", "sync-runtime", "--bin", "sync-server"])
            .current_dir(workspace_root())
            .status()
            .expect("run cargo build");
        assert!(status.success(), "cargo build -p sync-runtime --bin sync-server failed");
        // This test binary is `<target>/<profile>/deps/integration-<hash>`.
        let exe = std::env::current_exe().expect("the test binary's path");
        let profile = exe.parent().and_then(Path::parent).expect("<target>/<profile>/deps");
        let binary = profile.join("sync-server");
        assert!(binary.is_file(), "{} was not built", binary.display());
        binary
    })
}

/// A fresh database of store kind `S` holding the example schema, and the `--database-url` a
/// server process reaches it by. The database is dropped with the returned [`Database`].
pub fn database<S: TestStore>(rt: &Runtime) -> (Database, String) {
    let ir = crate::example_schema();
    let ddl = Ddl::of(&ir);
    let (store, db) = S::create(rt, &Schema { meta: SCHEMA, ir }, &ddl);
    drop(store);
    let url = match &db {
        Database::Postgres(test_db) => test_db.lock().unwrap_or_else(|p| p.into_inner()).url(),
        Database::Sqlite { path, .. } => format!("sqlite:{}", path.display()),
    };
    (db, url)
}

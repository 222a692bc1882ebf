//! TypeScript devices next to Rust ones (docs/typescript-client.md): a Node process running the
//! package `sync-runtime/ts`'s test driver syncs device databases with the TypeScript client,
//! while the test reads and writes the same files through a [`TestClient`], as an app would
//! through its own connection. Requests go as JSON lines to the driver's stdin and are answered
//! out of order on its stdout, so a sync can be in flight while the test writes.
//!
//! The package's dependencies must be installed (`cargo xtask test` runs `npm ci` there); its test
//! files are compiled once per process here.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use serde_json::{Value, json};
use sync_runtime::client::{Applied, SyncReport};

use crate::client::TestClient;
use crate::server::token;

type Waiting = Arc<Mutex<HashMap<u64, Sender<Value>>>>;

/// The driver process.
pub struct TsDevices {
    child: Child,
    stdin: Mutex<ChildStdin>,
    waiting: Waiting,
    next: AtomicU64,
}

/// A request sent, its answer still to come.
pub struct InFlight(Receiver<Value>);

fn package() -> PathBuf {
    crate::workspace_root().join("sync-runtime/ts")
}

impl TsDevices {
    /// Compile the driver (once per process) and start it.
    pub fn start() -> TsDevices {
        static BUILD: Once = Once::new();
        let dir = package();
        BUILD.call_once(|| {
            assert!(
                dir.join("node_modules").is_dir(),
                "{} has no node_modules: run `cargo xtask test`, or `npm ci` there",
                dir.display()
            );
            let built = Command::new("npm")
                .args(["run", "--silent", "build:test"])
                .current_dir(&dir)
                .output()
                .expect("run npm (Node.js 20 or later is needed)");
            assert!(
                built.status.success(),
                "compiling the TypeScript test driver failed:\n{}{}",
                String::from_utf8_lossy(&built.stdout),
                String::from_utf8_lossy(&built.stderr)
            );
        });
        let mut child = Command::new("node")
            .arg("build/test/support/driver.js")
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the TypeScript test driver with node");
        let stdin = Mutex::new(child.stdin.take().expect("the driver's stdin"));
        let stdout = child.stdout.take().expect("the driver's stdout");
        let waiting: Waiting = Arc::default();
        let dispatch = Arc::clone(&waiting);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let answer: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("the driver wrote `{line}`, not JSON: {e}"));
                let id = answer["id"].as_u64().expect("an answer names its request");
                if let Some(sender) = dispatch.lock().expect("the waiting list").remove(&id) {
                    let _ = sender.send(answer);
                }
            }
        });
        TsDevices { child, stdin, waiting, next: AtomicU64::new(1) }
    }

    fn send(&self, mut request: Value) -> InFlight {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        request["id"] = json!(id);
        let (sender, receiver) = channel();
        self.waiting.lock().expect("the waiting list").insert(id, sender);
        let mut stdin = self.stdin.lock().expect("the driver's stdin");
        writeln!(stdin, "{request}").and_then(|()| stdin.flush()).expect("write to the driver");
        InFlight(receiver)
    }

    /// Start a sync of `device`'s database with the TypeScript client, through `server`.
    pub fn sync(&self, device: &TestClient) -> InFlight {
        self.send(sync_request(device))
    }

    /// Start a sync of `device`'s database as an app of another schema version would make it:
    /// the client opened (if the driver has not opened the file yet) with what the generated
    /// `sync-meta` module at `schema_module` exports (its schema, DDL and migration scripts).
    pub fn sync_as_app(&self, device: &TestClient, schema_module: &Path) -> InFlight {
        let mut request = sync_request(device);
        request["schemaModule"] = json!(schema_module);
        self.send(request)
    }

    /// Kill `device`'s TypeScript client: its database is closed under a sync in flight, which
    /// then fails; the next sync opens the file again.
    pub fn kill(&self, device: &TestClient) {
        let killed = self.send(json!({ "op": "close", "path": device.path() }));
        killed.wait().expect("the driver closes the device");
    }
}

/// A sync request for `device` with the driver's own schema.
fn sync_request(device: &TestClient) -> Value {
    let limits = device.limits();
    json!({
        "op": "sync",
        "path": device.path(),
        "server": device.server(),
        "token": token(&device.user),
        "pushBatch": limits.push_batch,
        "pageSize": limits.page_size,
    })
}

impl InFlight {
    /// The sync's report, or the client's error as text.
    pub fn wait(self) -> Result<SyncReport, String> {
        let answer = self.0.recv_timeout(Duration::from_secs(120)).expect("the driver answers");
        if answer["ok"] != json!(true) {
            return Err(answer["error"].as_str().unwrap_or("an error").to_owned());
        }
        let report = &answer["report"];
        let n = |value: &Value| value.as_u64().unwrap_or(0) as usize;
        let applied = &report["applied"];
        Ok(SyncReport {
            requests: n(&report["requests"]),
            pushed: n(&report["pushed"]),
            rejected: n(&report["rejected"]),
            applied: Applied {
                acknowledged: n(&applied["acknowledged"]),
                stored: n(&applied["stored"]),
                deleted: n(&applied["deleted"]),
                kept_local: n(&applied["keptLocal"]),
                quarantined: n(&applied["quarantined"]),
            },
            resyncs: n(&report["resyncs"]),
        })
    }
}

impl Drop for TsDevices {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! Sync clients for end-to-end tests: a [`Client`] over a database file of its own, opened with
//! the example schema's generated SQLite DDL, that the test writes to like an app and compares
//! with what the server lets its user read.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;
use sync_runtime::client::{Client, ClientConfig, SyncReport};

use sync_runtime::schema::SchemaMeta;

use crate::server::{SCHEMA, Served, token};
use crate::sync::{Ddl, Rows, Schema, Values, normal, row_key};

/// A device of `user`: a client over `device.db` in a temporary directory of its own.
pub struct TestClient {
    pub client: Arc<Client>,
    pub user: String,
    server: String,
    path: PathBuf,
    limits: Limits,
    // Removed with the client.
    _dir: Arc<tempfile::TempDir>,
}

/// How much one request of a test client pushes and pulls; the defaults are the client's.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub push_batch: usize,
    pub page_size: Option<usize>,
}

impl Default for Limits {
    fn default() -> Self {
        let config = ClientConfig::new("", "");
        Limits { push_batch: config.push_batch, page_size: config.page_size }
    }
}

impl TestClient {
    /// A new device of `user` syncing with the server at `server` (a base URL).
    pub fn open(server: &str, user: &str) -> TestClient {
        TestClient::open_with(server, user, Limits::default())
    }

    /// A new device whose requests push and pull at most `limits`, before and after restarts.
    pub fn open_with(server: &str, user: &str, limits: Limits) -> TestClient {
        let dir = Arc::new(tempfile::tempdir().expect("a temporary directory"));
        let path = dir.path().join("device.db");
        let client = open_client(&path, server, user, limits);
        let (user, server) = (user.to_owned(), server.to_owned());
        TestClient { client, user, server, path, limits, _dir: dir }
    }

    /// The same device after a restart: the client dropped and opened again on its file. Any
    /// background loop of the old client must be stopped first.
    pub fn reopen(self) -> TestClient {
        let TestClient { client, user, server, path, limits, _dir } = self;
        drop(client);
        let client = open_client(&path, &server, &user, limits);
        TestClient { client, user, server, path, limits, _dir }
    }

    /// The same device syncing with another server address (a proxy in front of the server).
    pub fn via(self, server: &str) -> TestClient {
        let TestClient { client, user, path, limits, _dir, .. } = self;
        drop(client);
        let client = open_client(&path, server, &user, limits);
        TestClient { client, user, server: server.to_owned(), path, limits, _dir }
    }

    /// Run `sql` as the app would (statements separated by `;`, in one transaction).
    pub fn execute(&self, sql: &str) {
        self.client.with_db(|conn| {
            conn.execute_batch(&format!("BEGIN; {sql}; COMMIT"))
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
        });
    }

    /// The base URL the device syncs with.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// How much one request of the device pushes and pulls.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The device's database file.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// How many local writes wait in the outbox.
    pub fn outbox_len(&self) -> i64 {
        self.client.with_db(|conn| {
            conn.query_row("SELECT count(*) FROM _sync_outbox", [], |row| row.get(0))
                .expect("count the outbox")
        })
    }

    /// Every row of every synced table this device holds, in wire form.
    pub fn rows(&self) -> Rows {
        let mut rows = Rows::new();
        for table in SCHEMA.tables.iter().filter(|t| t.is_synced() && t.targets.sqlite) {
            for row in self.client.rows(table.name).expect("read the device's rows") {
                let row = normal(row);
                rows.insert(row_key(table, &row), row);
            }
        }
        rows
    }
}

/// Sync `device` to the end, once every write committed so far can be pulled.
pub fn sync(served: &Served, device: &TestClient) -> SyncReport {
    served.settle();
    served.block_on(device.client.sync_once()).unwrap_or_else(|e| panic!("the sync fails: {e}"))
}

/// After a quiet sync of each, every device holds exactly what its user may read, and has
/// nothing to push. (A device reads the server's stamps on its own last writes with the pull
/// after the push: a Postgres pull stops before its own transaction.)
pub fn assert_converged(served: &Served, devices: &[&TestClient]) {
    for device in devices {
        assert_eq!(sync(served, device).pushed, 0, "a quiet sync");
    }
    let snapshot = served.snapshot();
    for (n, device) in devices.iter().enumerate() {
        assert_eq!(device.rows(), expected_on_device(snapshot.readable_by(&device.user)), "{n}");
        assert_eq!(device.outbox_len(), 0, "device {n} has nothing left to push");
    }
}

/// What a device holds once it has synced everything: the rows its user may read, less the
/// soft-deleted ones, which a device deletes.
pub fn expected_on_device(readable: Rows) -> Rows {
    readable
        .into_iter()
        .filter(|((table, _), row)| {
            let deleted = SCHEMA.table(table).and_then(|t| t.sync.deleted);
            !deleted.is_some_and(|d| row.get(d) == Some(&Value::Bool(true)))
        })
        .map(|(place, row)| (place, normal(row)))
        .collect()
}

fn open_client(path: &std::path::Path, server: &str, user: &str, limits: Limits) -> Arc<Client> {
    let (ddl, _) = crate::ddl(&crate::example_schema());
    let mut config = ClientConfig::new(server, token(user));
    (config.push_batch, config.page_size) = (limits.push_batch, limits.page_size);
    Arc::new(Client::open(path, SCHEMA, &ddl, config).expect("open the client's database"))
}

/// The row of `table` with key `key` in `rows`.
pub fn find<'a>(rows: &'a Rows, table: &str, key: &Values) -> Option<&'a Values> {
    rows.get(&row_key(SCHEMA.table(table).expect("a table of the schema"), key))
}

/// The example schema moved on to `version`, admitting clients from `min_client_version`, with
/// a new nullable column `tune.mode`: the next version of an app, for tests of old clients and
/// migrations.
pub fn next_example_schema(version: u32, min_client_version: u32) -> (Schema, Ddl) {
    let text = std::fs::read_to_string(crate::workspace_root().join("schema.toml"))
        .expect("read schema.toml");
    let text = text
        .replacen(
            "version = 3 ",
            &format!("version = {version}\nmin_client_version = {min_client_version} "),
            1,
        )
        .replacen(
            "incipit = { type = \"text\", nullable = true }\n",
            "incipit = { type = \"text\", nullable = true }\nmode = { type = \"text\", nullable = true }\n",
            1,
        );
    let ir = crate::load("schema.toml (next)", &text);
    assert_eq!(ir.version, version, "the edit took");
    assert!(ir.table("tune").and_then(|t| t.column("mode")).is_some(), "the edit took");
    let ddl = Ddl::of(&ir);
    let meta: &'static SchemaMeta = codegen::meta::schema_meta(&ir);
    (Schema { meta, ir }, ddl)
}

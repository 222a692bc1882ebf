//! Support for the sync conformance suite: an engine over a fresh store of either kind, devices
//! that push and pull, valid changes to the example schema, and snapshots of the database.
//!
//! Each test is one generic body `fn name<S: TestStore>()` that [`for_each_store!`] runs once
//! per store. The engine's API is async; the tests are plain `#[test]` functions that drive it
//! with [`Server::rt`], because the synchronous `postgres` client that reads snapshots cannot run
//! inside a tokio runtime.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use codegen::ir;
use serde_json::{Value, json};
use sync_runtime::engine::{Config, Engine, Refusal};
use sync_runtime::protocol::{PulledChange, SyncRequest, SyncResponse};
use sync_runtime::schema::{SchemaMeta, TableMeta};
use sync_runtime::store::Store;
pub use sync_runtime::store::Values;
use sync_runtime::store::postgres::PgStore;
use sync_runtime::store::sqlite::SqliteStore;
use tokio::runtime::Runtime;

use crate::pg::TestDb;

pub mod changes;
mod snapshot;

pub use self::changes::*;
pub use self::snapshot::Snapshot;

/// Run each generic test body once per store, as `postgres::<name>` and `sqlite::<name>`.
#[macro_export]
macro_rules! for_each_store {
    ($($test:ident),+ $(,)?) => {
        mod postgres {
            $(#[test]
            fn $test() {
                super::$test::<sync_runtime::store::postgres::PgStore>();
            })+
        }
        mod sqlite {
            $(#[test]
            fn $test() {
                super::$test::<sync_runtime::store::sqlite::SqliteStore>();
            })+
        }
    };
}

/// A store the suite runs against.
pub trait TestStore: Store + Sized {
    /// A fresh database holding `schema` (whose generated DDL is `ddl`), and the store over it.
    fn create(rt: &Runtime, schema: &Schema, ddl: &Ddl) -> (Self, Database);
}

/// The DDL of a schema: the devices' SQLite, and each store's.
#[derive(Debug, Clone)]
pub struct Ddl {
    pub sqlite: String,
    /// The embedded SQLite store's: the tables with the server's sync machinery.
    pub sqlite_server: String,
    pub postgres: String,
}

impl Ddl {
    /// The generated DDL of a schema.
    pub fn of(schema: &ir::Schema) -> Ddl {
        let mut files = codegen::generate(schema);
        let mut take =
            |path: &str| files.remove(path).unwrap_or_else(|| panic!("{path} is generated"));
        Ddl {
            sqlite: take("sql/sqlite.sql"),
            sqlite_server: take("sql/sqlite-server.sql"),
            postgres: take("sql/postgres.sql"),
        }
    }
}

/// A schema under test: the metadata the engine reads and the IR the snapshot decodes with.
#[derive(Debug)]
pub struct Schema {
    pub meta: &'static SchemaMeta,
    pub ir: ir::Schema,
}

impl TestStore for PgStore {
    fn create(rt: &Runtime, schema: &Schema, ddl: &Ddl) -> (Self, Database) {
        let mut db = TestDb::new();
        db.batch_execute(&ddl.postgres).expect("apply the Postgres DDL");
        let store = rt.block_on(PgStore::connect(&db.url(), schema.meta)).expect("connect");
        (store, Database::Postgres(Box::new(Mutex::new(db))))
    }
}

impl TestStore for SqliteStore {
    fn create(_: &Runtime, schema: &Schema, ddl: &Ddl) -> (Self, Database) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("sync.db");
        let store = SqliteStore::open(&path, schema.meta, &ddl.sqlite_server).expect("open SQLite");
        (store, Database::Sqlite { path, _dir: dir })
    }
}

/// The database under a store, reached by another path than the engine (an admin's SQL).
pub enum Database {
    Postgres(Box<Mutex<TestDb>>),
    /// The file lives in a temporary directory removed with it.
    Sqlite {
        path: PathBuf,
        _dir: tempfile::TempDir,
    },
}

impl Database {
    /// Run `sql` (statements separated by `;`) in one transaction of its own.
    pub fn execute(&self, sql: &str) {
        match self {
            Database::Postgres(db) => {
                let sql = format!("BEGIN; {sql}; COMMIT");
                lock(db).batch_execute(&sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
            Database::Sqlite { path, .. } => {
                let sql = format!("BEGIN IMMEDIATE; {sql}; COMMIT");
                sqlite(path).execute_batch(&sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
        }
    }

    /// The Postgres test database, for tests of Postgres-only behaviour.
    pub fn postgres(&self) -> MutexGuard<'_, TestDb> {
        match self {
            Database::Postgres(db) => lock(db),
            Database::Sqlite { .. } => panic!("this test needs the Postgres store"),
        }
    }

    /// Wait until every transaction that had started when this is called has ended, so that a
    /// pull serves all of them. On Postgres a pull stops at the oldest transaction still open in
    /// the whole cluster (docs/sync.md), which a concurrent test may hold for a moment. SQLite
    /// has one writer at a time, and a pull serves everything committed before it.
    pub fn settle(&self) {
        let Database::Postgres(db) = self else { return };
        let mut db = lock(db);
        let query = "SELECT pg_snapshot_xmin(s)::text::bigint, pg_snapshot_xmax(s)::text::bigint \
                     FROM pg_current_snapshot() AS s";
        let target: i64 = db.query_one(query, &[]).expect("read the snapshot").get(1);
        let deadline = Instant::now() + Duration::from_secs(60);
        while db.query_one(query, &[]).expect("read the snapshot").get::<_, i64>(0) < target {
            assert!(Instant::now() < deadline, "a transaction in the cluster stayed open for 60 s");
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

fn lock(db: &Mutex<TestDb>) -> MutexGuard<'_, TestDb> {
    db.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A connection to the SQLite file, as an admin's shell would open it.
fn sqlite(path: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).expect("open the SQLite file");
    conn.busy_timeout(Duration::from_secs(30)).expect("set a busy timeout");
    conn.pragma_update(None, "foreign_keys", "ON").expect("enable foreign keys");
    conn
}

/// An engine over a fresh store, with the database behind it.
pub struct Server<S> {
    pub rt: Runtime,
    pub engine: Arc<Engine<S>>,
    pub db: Database,
    pub schema: Schema,
}

impl<S: TestStore> Server<S> {
    /// The example schema (`schema.toml` and the committed `generated/sql`) with the default
    /// configuration.
    pub fn new() -> Self {
        Self::with_config(Config::default())
    }

    pub fn with_config(config: Config) -> Self {
        let read = |file: &str| {
            let path = crate::workspace_root().join("generated/sql").join(file);
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        };
        let ddl = Ddl {
            sqlite: read("sqlite.sql"),
            sqlite_server: read("sqlite-server.sql"),
            postgres: read("postgres.sql"),
        };
        let schema = Schema { meta: &generated::SCHEMA, ir: crate::example_schema() };
        Self::build(schema, &ddl, config)
    }

    /// Another schema, given as `schema.toml` text.
    pub fn with_schema(text: &str) -> Self {
        let ir = crate::load("schema.toml", text);
        let ddl = Ddl::of(&ir);
        let schema = Schema { meta: codegen::meta::schema_meta(&ir), ir };
        Self::build(schema, &ddl, Config::default())
    }

    fn build(schema: Schema, ddl: &Ddl, config: Config) -> Self {
        let rt = Runtime::new().expect("a tokio runtime");
        let (store, db) = S::create(&rt, &schema, ddl);
        let engine = Arc::new(Engine::new(schema.meta, store, config));
        Server { rt, engine, db, schema }
    }

    /// A request from `device` at its cursor.
    pub fn request(&self, device: &Device, changes: Vec<Value>) -> SyncRequest {
        device.request(self.schema.meta, changes, None)
    }

    /// Send `request` as `device`'s user.
    pub fn sync(&self, device: &Device, request: SyncRequest) -> Result<SyncResponse, Refusal> {
        self.rt.block_on(self.engine.sync(&device.user, request))
    }

    /// Push `changes` as `device`, leaving its cursor where it is.
    pub fn try_push(&self, device: &Device, changes: Vec<Value>) -> Result<SyncResponse, Refusal> {
        self.rt.block_on(push(&self.engine, device, changes))
    }

    /// Push `changes` as `device`; the request must be accepted (changes may still be rejected).
    pub fn push(&self, device: &Device, changes: Vec<Value>) -> SyncResponse {
        self.try_push(device, changes).unwrap_or_else(|r| panic!("the push was refused: {r}"))
    }

    /// Pull one page at `device`'s cursor and move the cursor on.
    pub fn pull_page(&self, device: &mut Device, page_size: Option<i64>) -> SyncResponse {
        self.rt
            .block_on(pull_page(&self.engine, device, page_size))
            .unwrap_or_else(|r| panic!("the pull was refused: {r}"))
    }

    /// Everything `device` has not pulled yet, page by page until `has_more` is false, once
    /// every transaction already started has ended.
    pub fn pull_all(&self, device: &mut Device) -> Vec<PulledChange> {
        self.db.settle();
        let mut all = Vec::new();
        loop {
            let page = self.pull_page(device, None);
            all.extend(page.changes);
            if !page.has_more {
                return all;
            }
        }
    }

    /// Pull everything new for `device` into `replica` (see [`apply`]); returns what came.
    pub fn catch_up(&self, device: &mut Device, replica: &mut Rows) -> Vec<PulledChange> {
        let changes = self.pull_all(device);
        apply(self.schema.meta, replica, &changes);
        changes
    }

    /// Every row of every synced table and every tombstone, as they are now.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot::read(&self.db, &self.schema)
    }

    /// Run plain SQL on the database, bypassing the engine.
    pub fn sql(&self, sql: &str) {
        self.db.execute(sql);
    }
}

impl<S: TestStore> Default for Server<S> {
    fn default() -> Self {
        Self::new()
    }
}

/// One client device of a user: its id (the device column's value) and its pull cursor.
#[derive(Debug, Clone)]
pub struct Device {
    pub user: String,
    pub client_id: String,
    pub cursor: Option<String>,
}

impl Device {
    /// Device `n` of `user`; devices with higher numbers have greater ids.
    pub fn new(user: &str, n: u32) -> Self {
        Device { user: user.to_owned(), client_id: device_id(n), cursor: None }
    }

    /// A request with `changes` from the device's cursor.
    pub fn request(
        &self,
        schema: &SchemaMeta,
        changes: Vec<Value>,
        page_size: Option<i64>,
    ) -> SyncRequest {
        let mut request = json!({
            "schema_version": schema.version, "client_id": self.client_id,
            "cursor": self.cursor, "changes": changes,
        });
        if let Some(size) = page_size {
            request["page_size"] = json!(size);
        }
        serde_json::from_value(request).expect("a well-formed request")
    }
}

/// Push `changes` as `device` without moving its cursor (the pull that comes with the push is a
/// one-change page from the start, and is dropped).
pub async fn push<S: Store>(
    engine: &Engine<S>,
    device: &Device,
    changes: Vec<Value>,
) -> Result<SyncResponse, Refusal> {
    let mut request = device.request(engine.schema(), changes, Some(1));
    request.cursor = None;
    engine.sync(&device.user, request).await
}

/// Pull one page at `device`'s cursor and move the cursor on.
pub async fn pull_page<S: Store>(
    engine: &Engine<S>,
    device: &mut Device,
    page_size: Option<i64>,
) -> Result<SyncResponse, Refusal> {
    let response =
        engine.sync(&device.user, device.request(engine.schema(), vec![], page_size)).await?;
    device.cursor = Some(response.cursor.clone());
    Ok(response)
}

/// Rows by `(table, key)`, where the key is the primary key values as a JSON array.
pub type Rows = BTreeMap<(String, String), Values>;

/// The `(table, key)` of a row or a primary key of `table`.
pub fn row_key(table: &TableMeta, values: &Values) -> (String, String) {
    let key: Vec<&Value> =
        table.primary_key.iter().map(|c| values.get(*c).unwrap_or(&Value::Null)).collect();
    (table.name.to_owned(), serde_json::to_string(&key).expect("JSON serializes"))
}

/// What a client holds after applying pulled changes in order: rows by key; a pulled deletion
/// removes the row.
pub fn apply(schema: &SchemaMeta, replica: &mut Rows, changes: &[PulledChange]) {
    for change in changes {
        match change {
            PulledChange::PulledRow(pulled) => {
                let table = schema.table(&pulled.table).expect("a pulled table exists");
                let row = normal(pulled.row.values().expect("a pulled row is an object"));
                replica.insert(row_key(table, &row), row);
            }
            PulledChange::PulledDelete(deleted) => {
                let table = schema.table(&deleted.table).expect("a pulled table exists");
                replica.remove(&row_key(table, &normal(deleted.key.clone())));
            }
        }
    }
}

/// The `(table, key)` of each pulled change, and whether it is a removal ([`PulledDelete`]
/// rather than a row, which may be a soft-deleted one).
///
/// [`PulledDelete`]: sync_runtime::protocol::PulledDelete
pub fn pulled_keys(schema: &SchemaMeta, changes: &[PulledChange]) -> Vec<((String, String), bool)> {
    let table = |name: &str| schema.table(name).expect("a pulled table exists");
    changes
        .iter()
        .map(|change| match change {
            PulledChange::PulledRow(pulled) => {
                let row = pulled.row.values().expect("a pulled row is an object");
                (row_key(table(&pulled.table), &row), false)
            }
            PulledChange::PulledDelete(deleted) => {
                (row_key(table(&deleted.table), &deleted.key), true)
            }
        })
        .collect()
}

/// A row with numbers in one form: a real with no fraction reads back as an integer from one
/// database and as a float from another, and these are different JSON values.
pub fn normal(mut row: Values) -> Values {
    for value in row.values_mut() {
        if let Some(f) = value.as_f64().filter(|f| !value.is_i64() && f.fract() == 0.0) {
            *value = json!(f as i64);
        }
    }
    row
}

/// The wire form of a point in time.
pub fn timestamp(at: DateTime<Utc>) -> String {
    sync_runtime::wire::format_timestamp(&at).expect("a time with milliseconds")
}

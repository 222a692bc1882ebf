//! The embedded SQLite store on real database files: its sync machinery, values in wire form,
//! pull pages and readability, transactions. The engine-level conformance suite runs both
//! stores through the engine and HTTP; these tests talk to the store directly.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use sync_runtime::schema::{SchemaMeta, TableMeta};
use sync_runtime::store::sqlite::SqliteStore;
use sync_runtime::store::{
    Page, PageLimit, Refused, RefusedBy, RefusedRow, Store, StoreError, Transaction, Values,
};
use tempfile::TempDir;

#[path = "sqlite_store/keys.rs"]
mod keys;
#[path = "sqlite_store/machinery.rs"]
mod machinery;
#[path = "sqlite_store/pull.rs"]
mod pull;
#[path = "sqlite_store/transactions.rs"]
mod transactions;
#[path = "sqlite_store/values.rs"]
mod values;

/// Every logical type, nullable and not.
mod all_types {
    codegen_macros::include_schema!("../codegen/tests/data/all_types/schema.toml");
}
/// Composite keys, a `via:` table and ON UPDATE CASCADE.
mod composite_keys {
    codegen_macros::include_schema!("../codegen/tests/data/composite_keys/schema.toml");
}
/// Integer timestamps and storage overrides.
mod legacy_storage {
    codegen_macros::include_schema!("../codegen/tests/data/legacy_storage/schema.toml");
}

const TUNES_DDL: &str = include_str!("../../generated/sql/sqlite-server.sql");
const ALL_TYPES_DDL: &str =
    include_str!("../../codegen/tests/data/all_types/expected/sql/sqlite-server.sql");
const COMPOSITE_DDL: &str =
    include_str!("../../codegen/tests/data/composite_keys/expected/sql/sqlite-server.sql");
const LEGACY_DDL: &str =
    include_str!("../../codegen/tests/data/legacy_storage/expected/sql/sqlite-server.sql");

const ALICE: &str = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
const BOB: &str = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";

/// A database file in a directory that lives as long as the value.
struct Db {
    _dir: TempDir,
    path: PathBuf,
}

impl Db {
    fn new() -> Db {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sync.db");
        Db { _dir: dir, path }
    }

    /// The store over the example schema.
    fn tunes(&self) -> SqliteStore {
        SqliteStore::open(&self.path, &generated::SCHEMA, TUNES_DDL).unwrap()
    }

    /// A second connection, as an admin's shell would open it.
    fn admin(&self) -> rusqlite::Connection {
        admin(&self.path)
    }
}

fn admin(path: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    conn.pragma_update(None, "foreign_keys", "ON").unwrap();
    conn
}

/// A table of a schema by name.
fn table(schema: &'static SchemaMeta, name: &str) -> &'static TableMeta {
    schema.table(name).unwrap_or_else(|| panic!("table {name}"))
}

/// A test uuid.
fn id(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012x}")
}

fn object(value: Value) -> Values {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

/// The metadata's names of the columns a row holds.
fn columns_of(table: &'static TableMeta, row: &Values) -> Vec<&'static str> {
    table.columns.iter().map(|c| c.name).filter(|name| row.contains_key(*name)).collect()
}

/// Insert rows of one shape in a transaction of their own; the keys inserted.
async fn insert(store: &SqliteStore, table: &'static TableMeta, rows: Vec<Value>) -> Vec<Values> {
    let mut tx = store.begin().await.unwrap();
    let inserted = insert_in(&mut tx, table, rows).await;
    tx.commit().await.unwrap();
    inserted
}

async fn insert_in(
    tx: &mut impl Transaction,
    table: &'static TableMeta,
    rows: Vec<Value>,
) -> Vec<Values> {
    let rows: Vec<Values> = rows.into_iter().map(object).collect();
    let columns = columns_of(table, &rows[0]);
    let written = tx.insert(table, &columns, &rows).await.unwrap();
    assert_eq!(written.refused, [], "every row is written");
    written.inserted
}

/// The rows with these keys, in a transaction of their own.
async fn rows(store: &SqliteStore, table: &'static TableMeta, keys: Vec<Value>) -> Vec<Values> {
    let keys: Vec<Values> = keys.into_iter().map(object).collect();
    let mut tx = store.begin().await.unwrap();
    let found = tx.rows(table, &keys).await.unwrap();
    tx.commit().await.unwrap();
    found
}

/// One pull page in a transaction of its own.
async fn pull_page(
    store: &SqliteStore,
    user: &str,
    cursor: Option<&str>,
    limit: usize,
) -> Result<Page, StoreError> {
    let mut tx = store.begin().await.unwrap();
    let page = tx.pull(user, cursor, PageLimit { changes: limit, bytes: usize::MAX }).await;
    tx.commit().await.unwrap();
    page
}

/// Every change after `cursor` in pages of `limit`, as JSON, and the last cursor. Checks that
/// each page is bounded and that only the last says nothing more is waiting.
async fn pull_all(
    store: &SqliteStore,
    user: &str,
    cursor: Option<String>,
    limit: usize,
) -> (Vec<Value>, String) {
    let mut cursor = cursor;
    let mut changes = Vec::new();
    for _ in 0..1000 {
        let page = pull_page(store, user, cursor.as_deref(), limit).await.unwrap();
        assert!(page.changes.len() <= limit, "page of {} for limit {limit}", page.changes.len());
        if page.has_more {
            assert_eq!(page.changes.len(), limit, "a page with more waiting is full");
        }
        changes.extend(page.changes.iter().map(change));
        cursor = Some(page.cursor);
        if !page.has_more {
            return (changes, cursor.unwrap());
        }
    }
    panic!("pull never finished");
}

/// A pulled change as its JSON.
fn change(change: &str) -> Value {
    serde_json::from_str(change).unwrap()
}

/// The JSON of a pulled deletion.
fn deleted(table: &str, key: Value) -> Value {
    json!({ "table": table, "key": key, "deleted": true })
}

/// `(table, key)` of pulled changes, for comparisons that ignore row contents.
fn keys_of(changes: &[Value], schema: &'static SchemaMeta) -> Vec<(String, Value)> {
    changes
        .iter()
        .map(|c| {
            let name = c["table"].as_str().unwrap().to_owned();
            let key = match c.get("row") {
                Some(row) => {
                    let pk = table(schema, &name).primary_key;
                    Value::Object(pk.iter().map(|k| ((*k).to_owned(), row[*k].clone())).collect())
                }
                None => c["key"].clone(),
            };
            (name, key)
        })
        .collect()
}

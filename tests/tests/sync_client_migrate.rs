//! A device's database meets a newer app (docs/drift.md, issue 6): the client runs the SQLite
//! migrations `codegen::migrate` plans on open, keeps every row and every pending local write,
//! records the new version, and syncs with a server of that version; a failing migration leaves
//! the database as it was, and a missing one is refused.

use std::path::Path;

use integration_tests::client::{TestClient, next_example_schema};
use integration_tests::server::{Options, TestServer, runtime, token};
use integration_tests::sync::*;
use serde_json::json;
use sync_runtime::client::{Client, ClientConfig, Migration};
use sync_runtime::store::sqlite::SqliteStore;

/// A device of version 3 with a synced-never profile and tune: two entries wait in its outbox.
fn old_device(url: &str) -> TestClient {
    let me = user(1);
    let device = TestClient::open(url, &me);
    device.execute(&format!(
        "INSERT INTO user_profile (id, last_modified_at) VALUES ('{me}', '{}');
         INSERT INTO tune (id, user_id, title, last_modified_at) VALUES ('{}', '{me}', 'Kept', '{}')",
        at(0),
        id(1),
        at(1)
    ));
    assert_eq!(device.outbox_len(), 2);
    device
}

fn user_version(path: &Path) -> i64 {
    let conn = rusqlite::Connection::open(path).expect("open");
    conn.query_row("PRAGMA user_version", [], |row| row.get(0)).expect("user_version")
}

#[test]
fn the_client_migrates_an_older_database_on_open_and_syncs() {
    let rt = runtime();
    let (next, ddl) = next_example_schema(4, 3);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = SqliteStore::open(&dir.path().join("server.db"), next.meta, &ddl.sqlite_server)
        .expect("a version 4 server store");
    let server = rt.block_on(TestServer::start_with(next.meta, store, Options::default()));
    let url = server.url("");

    let device = old_device(&url);
    let path = device.path().to_owned();
    let migration = codegen::migrate::plan(&integration_tests::example_schema(), &next.ir)
        .expect("a migration from 3 to 4");
    let mut config = ClientConfig::new(&url, token(&user(1)));
    config.migrations = vec![Migration::new(4, migration.sqlite)];
    let client = Client::open(&path, next.meta, &ddl.sqlite, config).expect("migrated on open");

    assert_eq!(user_version(&path), 4);
    let tune = client.rows("tune").expect("rows").pop().expect("the tune is kept");
    assert_eq!((tune["title"].clone(), tune["mode"].clone()), (json!("Kept"), json!(null)));
    let pending: i64 = client
        .with_db(|c| c.query_row("SELECT count(*) FROM _sync_outbox", [], |r| r.get(0)))
        .expect("count");
    assert_eq!(pending, 2, "pending local writes survive the migration");

    client.with_db(|c| c.execute("UPDATE tune SET mode = 'dorian'", [])).expect("a new column");
    let report = rt.block_on(client.sync_once()).expect("the migrated device syncs");
    assert_eq!(report.pushed, 2, "{report:?}");
    drop(device);
    rt.block_on(server.stop());
}

#[test]
fn a_failing_migration_leaves_the_database_as_it_was() {
    let (next, ddl) = next_example_schema(4, 3);
    let device = old_device("http://127.0.0.1:9");
    let path = device.path().to_owned();
    let migration = codegen::migrate::plan(&integration_tests::example_schema(), &next.ir)
        .expect("a migration from 3 to 4");
    // The script breaks just before it commits, after it has rebuilt and altered tables.
    let broken =
        migration.sqlite.replacen("COMMIT;", "INSERT INTO no_such_table VALUES (1);\nCOMMIT;", 1);
    assert_ne!(broken, migration.sqlite, "the script has a COMMIT to break");
    let mut config = ClientConfig::new("http://127.0.0.1:9", token(&user(1)));
    config.migrations = vec![Migration::new(4, broken)];
    let error = Client::open(&path, next.meta, &ddl.sqlite, config).err().expect("refused");
    assert!(error.to_string().contains("migration to schema version 4 failed"), "{error}");
    assert_ne!(user_version(&path), 4);

    // The old app still opens it, with its rows and outbox.
    let old = device.reopen();
    assert_eq!(old.outbox_len(), 2);
    assert_eq!(old.rows().keys().filter(|(t, _)| t == "tune").count(), 1);
    let foreign_keys: i64 = old
        .client
        .with_db(|c| c.query_row("PRAGMA foreign_keys", [], |r| r.get(0)))
        .expect("pragma");
    assert_eq!(foreign_keys, 1);

    // Without a migration that leads to its version, the new app refuses to open it: the
    // generated crate's list (what an app passes; this repository's has none to version 4).
    let mut config = ClientConfig::new("http://127.0.0.1:9", token(&user(1)));
    config.migrations = generated::SQLITE_MIGRATIONS.to_vec();
    let error = Client::open(&path, next.meta, &ddl.sqlite, config).err().expect("refused");
    assert!(error.to_string().contains("no migration leads there"), "{error}");
    drop(old);
}

#[test]
fn a_database_made_before_the_quarantine_gets_one_on_open() {
    let device = old_device("http://127.0.0.1:9");
    device.execute("DROP TABLE _sync_quarantine");
    let device = device.reopen();
    assert_eq!(device.client.quarantine().expect("the quarantine exists again"), Vec::new());
    assert_eq!(device.outbox_len(), 2, "pending local writes are kept");
}

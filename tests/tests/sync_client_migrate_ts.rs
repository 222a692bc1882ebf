//! A TypeScript device's database meets a newer app (docs/typescript-client.md, issue 13), on both
//! stores: a server of schema version 4 refuses the version 3 app with `upgrade_required`
//! (`UpgradeRequiredError`); the updated app opens the same file with version 4's generated
//! `sync-meta` module, which carries the SQLite migration `codegen::migrate` plans as
//! `sqliteMigrations` (as `cargo xtask migrate` then `gen` make it): a failing script leaves the
//! database at version 3 with its rows and outbox, and the right one migrates it on open, keeps
//! every row and pending local write, and syncs, the new column included.

use std::path::{Path, PathBuf};

use codegen::SqliteMigration;

use integration_tests::client::{TestClient, next_example_schema};
use integration_tests::server::{Options, Served};
use integration_tests::sync::*;
use integration_tests::ts_devices::TsDevices;
use serde_json::{Value, json};

integration_tests::for_each_store!(a_typescript_device_is_migrated_on_open_and_syncs);

/// Version 4's generated `sync-meta` module, written to `dir` as `name`, carrying `script` as
/// the migration to version 4.
fn app_module(next: &codegen::ir::Schema, dir: &Path, name: &str, script: &str) -> PathBuf {
    let migrations = [SqliteMigration { version: 4, sql: script.to_owned() }];
    let module = dir.join(name);
    let files = codegen::generate_with(next, &migrations);
    std::fs::write(&module, &files["ts/src/sync-meta.js"]).expect("write the module");
    module
}

fn user_version(path: &Path) -> i64 {
    let conn = rusqlite::Connection::open(path).expect("open");
    conn.query_row("PRAGMA user_version", [], |row| row.get(0)).expect("user_version")
}

fn a_typescript_device_is_migrated_on_open_and_syncs<S: TestStore>() {
    let (next, _) = next_example_schema(4, 4);
    let served = Served::start_with::<S>(next.ir.clone(), Options::default());
    let me = user(1);
    let tune = id(1);
    // A device made by the version 3 app, with a profile and a tune never synced.
    let device = TestClient::open(&served.server.url(""), &me);
    device.execute(&format!(
        "INSERT INTO user_profile (id, last_modified_at) VALUES ('{me}', '{}');
         INSERT INTO tune (id, user_id, title, last_modified_at) VALUES ('{tune}', '{me}', 'Kept', '{}')",
        at(0),
        at(1)
    ));
    let ts = TsDevices::start();

    let error = ts.sync(&device).wait().expect_err("the server needs version 4");
    assert!(error.contains("UpgradeRequiredError: the sync server needs a newer app"), "{error}");
    assert_eq!(device.outbox_len(), 2, "a refused sync loses nothing");
    ts.kill(&device);

    // The updated app: version 4's generated module, with the migration from 3 to 4.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let migration = codegen::migrate::plan(&integration_tests::example_schema(), &next.ir)
        .expect("a migration from 3 to 4");

    // The script breaks just before it commits, after it has rebuilt and altered tables.
    let broken =
        migration.sqlite.replacen("COMMIT;", "INSERT INTO no_such_table VALUES (1);\nCOMMIT;", 1);
    assert_ne!(broken, migration.sqlite, "the script has a COMMIT to break");
    let module = app_module(&next.ir, dir.path(), "broken.mjs", &broken);
    let error = ts.sync_as_app(&device, &module).wait().expect_err("refused");
    assert!(error.contains("the migration to schema version 4 failed"), "{error}");
    assert_eq!(user_version(device.path()), 3);
    assert_eq!(device.outbox_len(), 2, "pending local writes survive a failed migration");

    let module = app_module(&next.ir, dir.path(), "sync-meta.mjs", &migration.sqlite);
    let report = ts.sync_as_app(&device, &module).wait().expect("the migrated device syncs");
    assert_eq!(report.pushed, 2, "the writes made before the migration are pushed: {report:?}");
    assert_eq!(user_version(device.path()), 4);
    assert_eq!(device.outbox_len(), 0);

    // The new column is the app's to write, and travels.
    let conn = rusqlite::Connection::open(device.path()).expect("open");
    let kept: (String, Option<String>) = conn
        .query_row(&format!("SELECT title, mode FROM tune WHERE id = '{tune}'"), [], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .expect("the tune is kept");
    assert_eq!(kept, ("Kept".to_owned(), None));
    conn.execute(
        &format!(
            "UPDATE tune SET mode = 'dorian', last_modified_at = '{}' WHERE id = '{tune}'",
            at(2)
        ),
        [],
    )
    .expect("a write of the new column");
    drop(conn);
    let report = ts.sync(&device).wait().expect("the edit syncs");
    assert_eq!(report.pushed, 1, "{report:?}");
    let (changes, _) = served.pull_as(&me, &id(99), Value::Null);
    let pulled = changes
        .iter()
        .find(|c| c["table"] == json!("tune") && c["row"]["id"] == json!(tune))
        .unwrap_or_else(|| panic!("another device pulls the tune: {changes:?}"));
    assert_eq!(
        (&pulled["row"]["title"], &pulled["row"]["mode"]),
        (&json!("Kept"), &json!("dorian"))
    );
    ts.kill(&device);
    drop(device);
    served.stop();
}

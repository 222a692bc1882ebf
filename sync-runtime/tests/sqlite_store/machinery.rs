//! The server's sync machinery in a database that `SqliteStore::open` made from
//! `sqlite-server.sql`, that opening it again changes nothing, and the databases it refuses.

use super::*;

fn schema_version(conn: &rusqlite::Connection) -> i64 {
    conn.query_row("PRAGMA schema_version", [], |row| row.get(0)).unwrap()
}

fn counter(conn: &rusqlite::Connection) -> i64 {
    conn.query_row("SELECT seq FROM _sync_counter", [], |row| row.get(0)).unwrap()
}

fn names(conn: &rusqlite::Connection, sql: &str) -> Vec<String> {
    let mut statement = conn.prepare(sql).unwrap();
    statement.query_map([], |row| row.get(0)).unwrap().map(Result::unwrap).collect()
}

#[tokio::test]
async fn a_new_database_gets_the_machinery_and_a_second_open_changes_nothing() {
    let db = Db::new();
    drop(db.tunes());
    let admin = db.admin();
    let synced: Vec<&str> = generated::SCHEMA
        .tables
        .iter()
        .filter(|t| t.targets.sqlite && t.is_synced())
        .map(|t| t.name)
        .collect();
    assert!(synced.len() >= 8, "{synced:?}");
    for table in &synced {
        let columns = names(&admin, &format!("SELECT name FROM pragma_table_info('{table}')"));
        assert!(columns.iter().any(|c| c == "_sync_seq"), "{table}: {columns:?}");
        for kind in ["insert", "update", "delete", "rekey"] {
            let trigger = format!("_sync_{kind}_{table}");
            let found = names(
                &admin,
                &format!(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name = '{trigger}'"
                ),
            );
            assert_eq!(found, [trigger]);
        }
    }
    let version = schema_version(&admin);
    let objects =
        names(&admin, "SELECT name || coalesce(sql, '') FROM sqlite_master ORDER BY name");

    drop(db.tunes());
    assert_eq!(schema_version(&admin), version, "a second open changed the schema");
    assert_eq!(
        names(&admin, "SELECT name || coalesce(sql, '') FROM sqlite_master ORDER BY name"),
        objects
    );
    assert_eq!(counter(&admin), 0);
    let mode: String = admin.query_row("PRAGMA journal_mode", [], |row| row.get(0)).unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn rows_an_admin_wrote_before_the_store_opened_are_pulled_once() {
    let db = Db::new();
    let admin = db.admin();
    admin.execute_batch(TUNES_DDL).unwrap();
    admin
        .execute_batch(&format!(
            "INSERT INTO user_profile (id) VALUES ('{ALICE}'), ('{BOB}');
             INSERT INTO genre (id, name) VALUES ('irish', 'Irish'), ('scottish', 'Scottish');"
        ))
        .unwrap();
    let store = db.tunes();
    let client_machinery: i64 = admin
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name LIKE '%sync_client%' \
             OR name = '_sync_outbox'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(client_machinery, 0, "the server's DDL has none of the client's outbox machinery");
    let (changes, cursor) = pull_all(&store, ALICE, None, 1).await;
    let mut pulled = keys_of(&changes, &generated::SCHEMA);
    pulled.sort_by_key(|(table, key)| format!("{table}{key}"));
    assert_eq!(
        pulled,
        [
            ("genre".to_owned(), json!({ "id": "irish" })),
            ("genre".to_owned(), json!({ "id": "scottish" })),
            ("user_profile".to_owned(), json!({ "id": ALICE })),
        ]
    );
    // Each row got a position of its own, and the counter moved past them.
    let stamped: i64 = admin
        .query_row(
            "SELECT count(DISTINCT _sync_seq) FROM genre WHERE _sync_seq IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stamped, 2);
    assert_eq!(counter(&admin), 4);
    drop(store);
    let store = db.tunes();
    let page = pull_page(&store, ALICE, Some(&cursor), 10).await.unwrap();
    assert!(page.changes.is_empty(), "{:?}", page.changes);
}

#[tokio::test]
async fn a_device_database_is_refused() {
    let db = Db::new();
    db.admin().execute_batch(include_str!("../../../generated/sql/sqlite.sql")).unwrap();
    let Err(StoreError::Database(message)) =
        SqliteStore::open(&db.path, &generated::SCHEMA, TUNES_DDL)
    else {
        panic!("a device's database opened as the server's");
    };
    assert!(message.contains("has no _sync_seq column"), "{message}");
}

#[tokio::test]
async fn a_database_with_some_of_the_tables_is_refused() {
    let db = Db::new();
    db.admin().execute_batch("CREATE TABLE genre (id TEXT PRIMARY KEY, name TEXT)").unwrap();
    let Err(StoreError::Database(message)) =
        SqliteStore::open(&db.path, &generated::SCHEMA, TUNES_DDL)
    else {
        panic!("a partial database opened");
    };
    assert!(message.contains("has tables genre") && message.contains("user_profile"), "{message}");
}

#[tokio::test]
async fn a_table_missing_a_column_is_refused() {
    let db = Db::new();
    let ddl = TUNES_DDL.replace("  \"incipit\" TEXT,\n", "");
    assert_ne!(ddl, TUNES_DDL);
    db.admin().execute_batch(&ddl).unwrap();
    let Err(StoreError::Database(message)) =
        SqliteStore::open(&db.path, &generated::SCHEMA, TUNES_DDL)
    else {
        panic!("a database without tune.incipit opened");
    };
    assert!(message.contains("`tune` has no column `incipit`"), "{message}");
}

#[tokio::test]
async fn horizon_is_always_zero() {
    let db = Db::new();
    let store = db.tunes();
    let _tx = store.begin().await.unwrap();
    let horizon = store.horizon().await.unwrap();
    assert_eq!(horizon.waiting_transactions, 0);
    assert_eq!(horizon.oldest_transaction_age_secs, None);
}

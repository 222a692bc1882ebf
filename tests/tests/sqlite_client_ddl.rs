//! The client's sync machinery of the generated `sqlite.sql` on its own (docs/sync.md), without a
//! client: every local write of a synced table leaves one outbox entry per row whose `seq` rises
//! with each write, a delete records its time, the `applying` switch silences the triggers, and
//! writes a server would refuse are refused at once.

use integration_tests::{ddl, example_schema, sqlite};
use rusqlite::{Connection, OptionalExtension};

const USER: &str = "00000000-0000-4000-8000-000000000001";
const TUNE: &str = "00000000-0000-4000-8000-000000000002";
const REPERTOIRE: &str = "00000000-0000-4000-8000-000000000003";

/// `(seq, deleted_at)` of the outbox entry of `table` with the key `key` (JSON text).
fn entry(conn: &Connection, table: &str, key: &str) -> Option<(i64, Option<String>)> {
    conn.query_row(
        "SELECT seq, deleted_at FROM _sync_outbox WHERE table_name = ?1 AND key = ?2",
        [table, key],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
    .optional()
    .expect("read the outbox")
}

fn outbox_len(conn: &Connection) -> i64 {
    conn.query_row("SELECT count(*) FROM _sync_outbox", [], |row| row.get(0)).expect("count")
}

fn device() -> Connection {
    let conn = sqlite::open(&ddl(&example_schema()).0);
    conn.execute_batch(&format!(
        "INSERT INTO user_profile (id) VALUES ('{USER}');
         INSERT INTO tune (id, user_id, title) VALUES ('{TUNE}', '{USER}', 'The Kesh');"
    ))
    .expect("valid rows");
    conn
}

#[test]
fn local_writes_leave_one_entry_per_row_with_a_rising_seq() {
    let conn = device();
    let tune_key = format!(r#"{{"id":"{TUNE}"}}"#);
    let (first, deleted) = entry(&conn, "tune", &tune_key).expect("the insert is recorded");
    assert_eq!(deleted, None);
    assert!(entry(&conn, "user_profile", &format!(r#"{{"id":"{USER}"}}"#)).is_some());

    conn.execute_batch(
        "UPDATE tune SET title = 'The Kesh Jig'; UPDATE tune SET structure = 'AABB'",
    )
    .expect("updates");
    let (after_updates, _) = entry(&conn, "tune", &tune_key).expect("still one entry");
    assert!(after_updates > first, "each write raises the seq: {first} -> {after_updates}");
    assert_eq!(outbox_len(&conn), 2, "one entry per row, however many writes");

    // A composite key is recorded with every key column.
    conn.execute_batch(&format!(
        "INSERT INTO repertoire (id, user_id, name) VALUES ('{REPERTOIRE}', '{USER}', 'Session');
         INSERT INTO repertoire_tune (repertoire_id, tune_id) VALUES ('{REPERTOIRE}', '{TUNE}');"
    ))
    .expect("valid rows");
    let key = format!(r#"{{"repertoire_id":"{REPERTOIRE}","tune_id":"{TUNE}"}}"#);
    assert!(entry(&conn, "repertoire_tune", &key).is_some(), "composite key {key}");
}

#[test]
fn a_delete_records_when_and_a_changed_key_deletes_the_old_one() {
    let conn = device();
    let old_key = format!(r#"{{"id":"{TUNE}"}}"#);
    let new_id = "00000000-0000-4000-8000-0000000000ff";
    conn.execute_batch(&format!("UPDATE tune SET id = '{new_id}'")).expect("rekey");
    let (_, deleted_at) = entry(&conn, "tune", &old_key).expect("the old key is deleted");
    let deleted_at = deleted_at.expect("with the delete's time");
    assert!(
        sync_runtime::wire::parse_timestamp(&deleted_at).is_ok(),
        "`{deleted_at}` is a wire timestamp"
    );
    let new_key = format!(r#"{{"id":"{new_id}"}}"#);
    assert_eq!(entry(&conn, "tune", &new_key).expect("the new key is upserted").1, None);

    conn.execute_batch("DELETE FROM tune").expect("delete");
    assert!(entry(&conn, "tune", &new_key).expect("recorded").1.is_some());
    // Inserting the row again turns the entry back into an upsert.
    conn.execute_batch(&format!(
        "INSERT INTO tune (id, user_id, title) VALUES ('{new_id}', '{USER}', 'Back')"
    ))
    .expect("insert");
    assert_eq!(entry(&conn, "tune", &new_key).expect("recorded").1, None);
}

#[test]
fn applying_silences_the_triggers() {
    let conn = device();
    let before = outbox_len(&conn);
    conn.execute_batch(
        "UPDATE _sync_client SET applying = 1;
         INSERT INTO genre (id, name) VALUES ('irish', 'Irish');
         UPDATE tune SET title = 'pulled';
         DELETE FROM user_profile WHERE 0;
         UPDATE _sync_client SET applying = 0;",
    )
    .expect("a sync applies pulled rows, public ones included");
    assert_eq!(outbox_len(&conn), before, "nothing applied is recorded");
    conn.execute_batch("UPDATE tune SET title = 'local'").expect("a local write");
    let seq: i64 = conn.query_row("SELECT outbox_seq FROM _sync_client", [], |r| r.get(0)).unwrap();
    assert!(seq > before, "local writes are recorded again");
}

#[test]
fn writes_a_server_refuses_are_refused_at_once() {
    let conn = device();
    conn.execute_batch(
        "UPDATE _sync_client SET applying = 1;
         INSERT INTO genre (id, name) VALUES ('scottish', 'Scottish');
         UPDATE _sync_client SET applying = 0;",
    )
    .expect("a pulled genre");
    for sql in [
        "INSERT INTO genre (id, name) VALUES ('irish', 'Irish')",
        "UPDATE genre SET name = 'x'",
        "DELETE FROM genre",
    ] {
        let error = conn.execute_batch(sql).expect_err(sql).to_string();
        assert!(error.contains("`genre` is public"), "{sql}: {error}");
    }
}

#[test]
fn the_state_row_holds_a_device_id_and_the_schema_version() {
    let conn = device();
    let (client_id, version, cursor): (String, i64, Option<String>) = conn
        .query_row("SELECT client_id, schema_version, cursor FROM _sync_client", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .expect("one state row");
    let parsed = uuid::Uuid::parse_str(&client_id).expect("a UUID");
    assert_eq!(parsed.get_version_num(), 4, "{client_id}");
    assert_eq!(parsed.hyphenated().to_string(), client_id, "lower-case, hyphenated");
    assert_eq!(version, i64::from(example_schema().version));
    assert_eq!(cursor, None);
    let second = conn.execute("INSERT INTO _sync_client (id) VALUES (2)", []);
    assert!(second.is_err(), "the state table holds one row");
}

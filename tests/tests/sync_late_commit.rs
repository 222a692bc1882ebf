//! Conformance, late commit on Postgres (docs/sync.md): a transaction that started earlier and
//! commits later than another is never skipped by a pull, though its conflict time is older
//! than what the client already has (the seed's `last_modified_at > lastSyncAt` cursor loses
//! exactly this row).
//!
//! Transaction A is a plain SQL connection; B goes through the engine. Postgres only: SQLite has
//! one writer at a time, so no transaction can commit under another.

use integration_tests::sync::*;
use serde_json::json;
use sync_runtime::store::postgres::PgStore;

/// The titles of the tunes in `changes`.
fn titles(changes: &[sync_runtime::protocol::PulledChange]) -> Vec<String> {
    let mut titles: Vec<String> = changes
        .iter()
        .filter_map(|c| match c {
            sync_runtime::protocol::PulledChange::PulledRow(pulled) if pulled.table == "tune" => {
                Some(pulled.row.values().unwrap()["title"].as_str().unwrap().to_owned())
            }
            _ => None,
        })
        .collect();
    titles.sort();
    titles
}

/// A starts first and writes after B commits: the client gets B, then A's older row once A
/// commits.
#[test]
fn a_transaction_that_commits_late_is_pulled_once_it_commits() {
    let server = Server::<PgStore>::new();
    let me = user(1);
    let (a, mut reader) = (Device::new(&me, 1), Device::new(&me, 2));
    server.push(&a, vec![profile(&me, &at(0))]);
    server.pull_all(&mut reader);

    let mut conn = server.db.postgres().connect();
    let mut tx_a = conn.transaction().unwrap();
    // A's now(), its conflict time below, is its start.
    tx_a.batch_execute("SELECT now()").unwrap();
    let response =
        server.push(&a, vec![tune(&id(2), &me, "B", &from_now(chrono::Duration::seconds(1)))]);
    assert!(response.rejected.is_empty());
    // Other tests' transactions older than B must end before a pull can serve B; A has no
    // transaction id yet, so this does not wait for A.
    server.db.settle();
    tx_a.batch_execute(&format!(
        "INSERT INTO tune (id, user_id, title, last_modified_at) VALUES ('{}', '{me}', 'A', now())",
        id(1)
    ))
    .unwrap();

    let first = server.pull_page(&mut reader, None);
    assert_eq!(titles(&first.changes), ["B"], "A is not committed yet; B is");
    tx_a.commit().unwrap();
    let second = server.pull_all(&mut reader);
    assert_eq!(titles(&second), ["A"], "A's row came late and must still come");

    let snapshot = server.snapshot();
    let time =
        |n| snapshot.row("tune", json!({ "id": id(n) })).unwrap()["last_modified_at"].clone();
    assert!(time(1).as_str() < time(2).as_str(), "A's conflict time is older than B's");
}

/// A writes first and stays open while B commits: pulls hold B back, rather than skip A, until A
/// ends; the horizon says that something waits; then both come.
#[test]
fn an_open_writing_transaction_holds_pulls_back_until_it_ends() {
    let server = Server::<PgStore>::new();
    let me = user(1);
    let (a, mut reader) = (Device::new(&me, 1), Device::new(&me, 2));
    server.push(&a, vec![profile(&me, &at(0))]);
    server.pull_all(&mut reader);

    let mut conn = server.db.postgres().connect();
    let mut tx_a = conn.transaction().unwrap();
    tx_a.batch_execute(&format!(
        "INSERT INTO tune (id, user_id, title, last_modified_at) VALUES ('{}', '{me}', 'A', '{}')",
        id(1),
        at(1)
    ))
    .unwrap();
    let response = server.push(&a, vec![tune(&id(2), &me, "B", &at(2))]);
    assert!(response.rejected.is_empty());

    let first = server.pull_page(&mut reader, None);
    assert_eq!(titles(&first.changes), Vec::<String>::new(), "nothing may pass the open A");
    let horizon = server.rt.block_on(server.engine.horizon()).unwrap();
    assert!(horizon.waiting_transactions >= 1, "{horizon:?}");
    tx_a.commit().unwrap();
    let second = server.pull_all(&mut reader);
    assert_eq!(titles(&second), ["A", "B"]);
}

/// A rolled back transaction leaves nothing to pull, and does not hold pulls back once it ends.
#[test]
fn a_rolled_back_transaction_leaves_nothing() {
    let server = Server::<PgStore>::new();
    let me = user(1);
    let (a, mut reader) = (Device::new(&me, 1), Device::new(&me, 2));
    server.push(&a, vec![profile(&me, &at(0))]);
    server.pull_all(&mut reader);

    let mut conn = server.db.postgres().connect();
    let tx_a = {
        let mut tx = conn.transaction().unwrap();
        tx.batch_execute(&format!(
            "INSERT INTO tune (id, user_id, title, last_modified_at) VALUES ('{}', '{me}', 'A', '{}')",
            id(1),
            at(1)
        ))
        .unwrap();
        tx
    };
    server.push(&a, vec![tune(&id(2), &me, "B", &at(2))]);
    tx_a.rollback().unwrap();
    assert_eq!(titles(&server.pull_all(&mut reader)), ["B"]);
}

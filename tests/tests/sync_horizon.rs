//! The pull horizon is this database's own (docs/server.md): a transaction holding a
//! transaction id open in another database of the same cluster does not delay a pull here, while
//! one open in this database holds pulls back until it ends. Postgres only: SQLite has no
//! horizon.

use std::time::{Duration, Instant};

use integration_tests::pg::TestDb;
use integration_tests::sync::*;
use sync_runtime::protocol::PulledChange;
use sync_runtime::store::postgres::PgStore;

/// The titles of the tunes in `changes`.
fn titles(changes: &[PulledChange]) -> Vec<String> {
    changes
        .iter()
        .filter_map(|c| match c {
            PulledChange::PulledRow(pulled) if pulled.table == "tune" => {
                Some(pulled.row.values().unwrap()["title"].as_str().unwrap().to_owned())
            }
            _ => None,
        })
        .collect()
}

/// A server whose reader has pulled everything so far, and the writing device.
fn started() -> (Server<PgStore>, String, Device, Device) {
    let server = Server::<PgStore>::new();
    let me = user(1);
    let (writer, mut reader) = (Device::new(&me, 1), Device::new(&me, 2));
    server.push(&writer, vec![profile(&me, &at(0))]);
    server.pull_all(&mut reader);
    (server, me, writer, reader)
}

#[test]
fn a_transaction_open_in_another_database_does_not_hold_pulls_back() {
    let (server, me, writer, mut reader) = started();
    let other = TestDb::new();
    let mut conn = other.connect();
    let mut foreign = conn.transaction().unwrap();
    let xid: String = foreign.query_one("SELECT pg_current_xact_id()::text", &[]).unwrap().get(0);

    server.push(&writer, vec![tune(&id(1), &me, "B", &at(1))]);
    // Other tests' transactions in their own databases come and go too; none holds B back.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let page = server.pull_page(&mut reader, None);
        if titles(&page.changes) == ["B"] {
            break;
        }
        assert!(Instant::now() < deadline, "B is held back by xid {xid} of another database");
        std::thread::sleep(Duration::from_millis(20));
    }
    let still_open: String =
        foreign.query_one("SELECT pg_current_xact_id()::text", &[]).unwrap().get(0);
    assert_eq!(still_open, xid, "the other database's transaction was open all along");
    foreign.rollback().unwrap();
}

#[test]
fn a_transaction_open_in_this_database_holds_pulls_back_until_it_ends() {
    let (server, me, writer, mut reader) = started();
    let mut conn = server.db.postgres().connect();
    let mut local = conn.transaction().unwrap();
    local.batch_execute("SELECT pg_current_xact_id()").unwrap();

    server.push(&writer, vec![tune(&id(1), &me, "B", &at(1))]);
    for _ in 0..10 {
        let page = server.pull_page(&mut reader, None);
        assert_eq!(titles(&page.changes), Vec::<String>::new(), "B waits behind the open one");
        std::thread::sleep(Duration::from_millis(30));
    }
    let horizon = server.rt.block_on(server.engine.horizon()).unwrap();
    assert!(horizon.waiting_transactions >= 1, "{horizon:?}");
    local.commit().unwrap();
    assert_eq!(titles(&server.pull_all(&mut reader)), ["B"]);
}

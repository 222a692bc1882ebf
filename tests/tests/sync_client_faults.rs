//! The sync client under faults, on both stores (docs/sync.md): devices reach a real server through
//! a loopback [`Proxy`] that loses or holds answers. An edit made while a request is in flight
//! survives; a pulled row replaces a pending local edit only when it is newer by the server's
//! rule; a lost answer, a client killed before it acknowledged, or a failure before the cursor is
//! stored loses nothing and duplicates nothing; a background loop outlives a server restart; and
//! local writes that sync would refuse are refused at once.

use std::sync::Arc;
use std::time::Duration;

use integration_tests::client::{self, TestClient, find};
use integration_tests::proxy::{Fault, Proxy};
use integration_tests::server::{Options, Served, TestServer, pg_store, sqlite_store};
use integration_tests::sync::*;
use serde_json::{Value, json};
use sync_runtime::client::{ClientError, RunOptions, SyncReport};
use tokio::task::JoinHandle;

integration_tests::for_each_store!(
    an_edit_made_while_a_sync_is_in_flight_is_sent_next_time,
    a_pulled_row_never_overwrites_a_newer_pending_edit,
    an_older_pending_edit_loses_to_a_newer_pulled_row,
    equal_times_are_decided_by_device_id_as_the_server_does,
    a_lost_answer_is_retried_without_duplicate_or_regression,
    a_client_killed_before_acknowledging_loses_nothing,
    a_failure_before_the_cursor_is_stored_applies_nothing,
    a_background_loop_recovers_when_the_server_restarts,
    writes_that_sync_would_refuse_are_refused_locally,
);

/// A server of either store behind a proxy, and user 1.
struct Rig {
    served: Served,
    proxy: Proxy,
    me: String,
}

impl Rig {
    fn start<S: TestStore>() -> Rig {
        let served = Served::start::<S>(Options::default());
        let proxy = served.block_on(Proxy::start(&served.server.url("")));
        Rig { served, proxy, me: user(1) }
    }

    /// Device `n` of user 1, through the proxy, with the client id `device_id(n)`, so that ties
    /// of last write wins break the same way on every run.
    fn device(&self, n: u32) -> TestClient {
        let device = TestClient::open(&self.proxy.url(), &self.me);
        device.execute(&format!("UPDATE _sync_client SET client_id = '{}'", device_id(n)));
        device.reopen()
    }

    /// Sync `device` to the end, once every write committed so far can be pulled.
    fn sync(&self, device: &TestClient) -> SyncReport {
        client::sync(&self.served, device)
    }

    fn try_sync(&self, device: &TestClient) -> Result<SyncReport, ClientError> {
        self.served.settle();
        self.served.block_on(device.client.sync_once())
    }

    /// Start a sync of `device` in the background: the test acts while its request is in flight.
    fn spawn_sync(&self, device: &TestClient) -> JoinHandle<Result<SyncReport, ClientError>> {
        self.served.settle();
        let client = Arc::clone(&device.client);
        let runtime = self.served.block_on(async { tokio::runtime::Handle::current() });
        runtime.spawn(async move { client.sync_once().await })
    }

    fn join(&self, sync: JoinHandle<Result<SyncReport, ClientError>>) -> SyncReport {
        let result = self.served.block_on(sync).expect("the sync task ends");
        result.unwrap_or_else(|e| panic!("the sync fails: {e}"))
    }

    /// After a quiet sync of each, every device (all of user 1) holds exactly what the server
    /// lets the user read, and has nothing to push.
    fn assert_converged(&self, devices: &[&TestClient]) {
        client::assert_converged(&self.served, devices);
    }

    fn stop(self) {
        drop(self.proxy);
        self.served.stop();
    }
}

fn insert_tune(device: &TestClient, n: u32, title: &str, at: &str) {
    let user = &device.user;
    device.execute(&format!(
        "INSERT OR IGNORE INTO user_profile (id, last_modified_at) VALUES ('{user}', '{at}');
         INSERT INTO tune (id, user_id, title, last_modified_at) VALUES ('{}', '{user}', '{title}', '{at}')",
        id(n)
    ));
}

fn edit_tune(device: &TestClient, n: u32, title: &str, at: &str) {
    device.execute(&format!(
        "UPDATE tune SET title = '{title}', last_modified_at = '{at}' WHERE id = '{}'",
        id(n)
    ));
}

/// Tune `n` as the device holds it.
fn tune(device: &TestClient, n: u32) -> Option<Values> {
    let key = Values::from_iter([("id".to_owned(), json!(id(n)))]);
    find(&device.rows(), "tune", &key).cloned()
}

fn title(device: &TestClient, n: u32) -> Option<Value> {
    tune(device, n).map(|row| row["title"].clone())
}

fn server_tune(rig: &Rig, n: u32) -> Values {
    rig.served.snapshot().row("tune", json!({ "id": id(n) })).expect("the server has the tune")
}

/// The outbox as `(table, key, seq, deleted_at)` in sequence order.
fn outbox(device: &TestClient) -> Vec<(String, String, i64, Option<String>)> {
    device.client.with_db(|conn| {
        let sql = "SELECT table_name, key, seq, deleted_at FROM _sync_outbox ORDER BY seq";
        let mut statement = conn.prepare(sql).expect("read the outbox");
        let entries = statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)));
        entries.and_then(Iterator::collect).expect("read the outbox")
    })
}

fn an_edit_made_while_a_sync_is_in_flight_is_sent_next_time<S: TestStore>() {
    let rig = Rig::start::<S>();
    let (a, b) = (rig.device(1), rig.device(2));
    insert_tune(&a, 1, "first", &at(1));
    let mut hold = rig.proxy.hold_next();
    let sync = rig.spawn_sync(&a);
    rig.served.block_on(hold.answered());
    edit_tune(&a, 1, "edited in flight", &at(2));
    hold.deliver();
    let report = rig.join(sync);
    assert_eq!(report.pushed, 2, "the profile and the tune as they were when read");
    assert_eq!(title(&a, 1), Some(json!("edited in flight")));
    assert_eq!(outbox(&a).len(), 1, "the edited tune waits, the profile was acknowledged");
    assert_eq!(server_tune(&rig, 1)["title"], "first");

    let report = rig.sync(&a);
    assert_eq!(report.pushed, 1);
    assert_eq!(server_tune(&rig, 1)["title"], "edited in flight");
    rig.sync(&b);
    assert_eq!(title(&b, 1), Some(json!("edited in flight")));
    rig.assert_converged(&[&a, &b]);
    rig.stop();
}

/// A and B hold tune 1; B's edit at `b_at` reaches the server; then A edits at `a_at` while its
/// own sync (pushing nothing) is in flight and pulls B's edit. Returns A's report.
fn edit_in_flight_against_a_pulled_edit(
    rig: &Rig,
    a: &TestClient,
    b: &TestClient,
    (a_at, b_at): (i64, i64),
) -> SyncReport {
    edit_tune(b, 1, &format!("B at {b_at}"), &at(b_at));
    rig.sync(b);
    let mut hold = rig.proxy.hold_next();
    let sync = rig.spawn_sync(a);
    rig.served.block_on(hold.answered());
    edit_tune(a, 1, &format!("A at {a_at}"), &at(a_at));
    hold.deliver();
    rig.join(sync)
}

fn a_pulled_row_never_overwrites_a_newer_pending_edit<S: TestStore>() {
    let rig = Rig::start::<S>();
    let (a, b) = (rig.device(1), rig.device(2));
    insert_tune(&a, 1, "first", &at(1));
    rig.sync(&a);
    rig.sync(&b);
    let report = edit_in_flight_against_a_pulled_edit(&rig, &a, &b, (5, 3));
    assert_eq!(report.applied.kept_local, 1, "B's older row was not applied");
    assert_eq!(title(&a, 1), Some(json!("A at 5")));
    assert_eq!(outbox(&a).len(), 1, "A's edit is still to be sent");
    assert_eq!(server_tune(&rig, 1)["title"], "B at 3");

    rig.sync(&a);
    assert_eq!(server_tune(&rig, 1)["title"], "A at 5");
    rig.sync(&b);
    rig.assert_converged(&[&a, &b]);
    rig.stop();
}

fn an_older_pending_edit_loses_to_a_newer_pulled_row<S: TestStore>() {
    let rig = Rig::start::<S>();
    let (a, b) = (rig.device(1), rig.device(2));
    insert_tune(&a, 1, "first", &at(1));
    rig.sync(&a);
    rig.sync(&b);
    let report = edit_in_flight_against_a_pulled_edit(&rig, &a, &b, (3, 5));
    assert_eq!(report.applied.kept_local, 0);
    assert_eq!(title(&a, 1), Some(json!("B at 5")), "the newer pulled row replaced A's edit");
    assert_eq!(outbox(&a), vec![], "and A's outbox entry for it is gone");

    let before = rig.served.snapshot();
    let report = rig.sync(&a);
    assert_eq!(report.pushed, 0, "A's losing edit is never sent");
    assert_eq!(rig.served.snapshot(), before);
    rig.sync(&b);
    rig.assert_converged(&[&a, &b]);
    rig.stop();
}

fn equal_times_are_decided_by_device_id_as_the_server_does<S: TestStore>() {
    let rig = Rig::start::<S>();
    // Device 2's id is the greater: it wins a tie, on the server and on each device.
    let (a, b) = (rig.device(1), rig.device(2));
    insert_tune(&a, 1, "first", &at(1));
    rig.sync(&a);
    rig.sync(&b);
    let report = edit_in_flight_against_a_pulled_edit(&rig, &a, &b, (3, 3));
    assert_eq!(report.applied.kept_local, 0, "B's row wins the tie on A");
    assert_eq!(title(&a, 1), Some(json!("B at 3")));
    assert_eq!(outbox(&a), vec![]);

    // The other way round: B's pending edit at A's time stays, and the server takes it.
    let report = edit_in_flight_against_a_pulled_edit(&rig, &b, &a, (4, 4));
    assert_eq!(report.applied.kept_local, 1, "B's edit wins the tie on B");
    assert_eq!(title(&b, 1), Some(json!("A at 4")));
    assert_eq!(server_tune(&rig, 1)["title"], "B at 4");
    rig.sync(&b);
    assert_eq!(server_tune(&rig, 1)["title"], "A at 4", "the server breaks the tie alike");
    rig.sync(&a);
    rig.assert_converged(&[&a, &b]);
    rig.stop();
}

fn a_lost_answer_is_retried_without_duplicate_or_regression<S: TestStore>() {
    let rig = Rig::start::<S>();
    let (a, b) = (rig.device(1), rig.device(2));
    insert_tune(&a, 1, "one", &at(1));
    insert_tune(&a, 2, "two", &at(1));
    a.execute(&format!(
        "INSERT INTO note (id, user_id, tune_id, body, last_modified_at) \
         VALUES ('{}', '{}', '{}', 'a note', '{}')",
        id(10),
        rig.me,
        id(1),
        at(1)
    ));
    rig.proxy.set_fault(Fault::Cut);
    let lost = rig.try_sync(&a).expect_err("the answer is lost");
    assert!(matches!(lost, ClientError::Http { .. }), "{lost}");
    rig.proxy.set_fault(Fault::Pass);
    let committed = rig.served.snapshot();
    assert!(committed.row("note", json!({ "id": id(10) })).is_some(), "the server committed");
    assert_eq!(outbox(&a).len(), 4, "nothing was acknowledged");

    let report = rig.sync(&a);
    assert_eq!((report.pushed, report.rejected), (4, 0), "the resend is accepted");
    assert_eq!(rig.served.snapshot(), committed, "and writes nothing: no duplicate, no bump");
    assert_eq!(outbox(&a), vec![]);

    // A's edit reaches the server but A never hears; B edits after it; A's resend must not
    // bring A's older edit back.
    edit_tune(&a, 1, "A at 2", &at(2));
    rig.proxy.set_fault(Fault::Cut);
    rig.try_sync(&a).expect_err("the answer is lost");
    rig.proxy.set_fault(Fault::Pass);
    rig.sync(&b);
    edit_tune(&b, 1, "B at 3", &at(3));
    rig.sync(&b);
    let before = rig.served.snapshot();
    let report = rig.sync(&a);
    assert_eq!((report.pushed, report.rejected), (1, 1), "A's resend is stale");
    assert_eq!(rig.served.snapshot(), before, "the server kept B's edit");
    assert_eq!(title(&a, 1), Some(json!("B at 3")));
    let tunes = before.rows.keys().filter(|(table, _)| table == "tune").count();
    assert_eq!(tunes, 2);
    rig.sync(&b);
    rig.assert_converged(&[&a, &b]);
    rig.stop();
}

fn a_client_killed_before_acknowledging_loses_nothing<S: TestStore>() {
    let rig = Rig::start::<S>();
    let (a, b) = (rig.device(1), rig.device(2));
    // Killed after the answer was lost.
    insert_tune(&a, 1, "one", &at(1));
    rig.proxy.set_fault(Fault::Cut);
    rig.try_sync(&a).expect_err("the answer is lost");
    rig.proxy.set_fault(Fault::Pass);
    let a = a.reopen();
    assert_eq!(outbox(&a).len(), 2, "the profile and the tune are still to be sent");
    rig.sync(&a);
    assert_eq!(outbox(&a), vec![]);

    // Killed while the answer is on its way: the sync is dropped mid-request.
    edit_tune(&a, 1, "A at 2", &at(2));
    insert_tune(&a, 2, "two", &at(2));
    let pending = outbox(&a);
    let mut hold = rig.proxy.hold_next();
    let sync = rig.spawn_sync(&a);
    rig.served.block_on(hold.answered());
    sync.abort();
    assert!(rig.served.block_on(sync).expect_err("killed").is_cancelled());
    hold.cut();
    let a = a.reopen();
    assert_eq!(outbox(&a), pending, "every entry survived the kill");
    assert_eq!(title(&a, 1), Some(json!("A at 2")));
    let committed = rig.served.snapshot();
    assert_eq!(server_tune(&rig, 1)["title"], "A at 2");
    rig.sync(&a);
    assert_eq!(rig.served.snapshot(), committed, "the resend wrote nothing");
    rig.sync(&b);
    rig.assert_converged(&[&a, &b]);
    rig.stop();
}

fn a_failure_before_the_cursor_is_stored_applies_nothing<S: TestStore>() {
    let rig = Rig::start::<S>();
    let (a, b) = (rig.device(1), rig.device(2));
    for n in 1..=3 {
        insert_tune(&a, n, "first", &at(1));
    }
    rig.sync(&a);
    rig.sync(&b);
    edit_tune(&b, 1, "B at 2", &at(2));
    edit_tune(&a, 2, "A at 3", &at(3));
    insert_tune(&a, 4, "four", &at(3));
    rig.sync(&a);

    let cursor = |device: &TestClient| -> Option<String> {
        device.client.with_db(|conn| {
            conn.query_row("SELECT cursor FROM _sync_client", [], |r| r.get(0)).expect("cursor")
        })
    };
    let (rows, pending, at_cursor) = (b.rows(), outbox(&b), cursor(&b));
    // The client's last statement of an apply stores the cursor: make it fail, as a crash there
    // would, inside the transaction that applied the page.
    b.client.with_db(|conn| {
        conn.execute_batch(
            "CREATE TEMP TRIGGER crash_at_cursor BEFORE UPDATE OF cursor ON main._sync_client
             BEGIN SELECT RAISE(ABORT, 'crashed before storing the cursor'); END",
        )
        .expect("install the failing trigger")
    });
    let failed = rig.try_sync(&b).expect_err("the apply fails");
    assert!(failed.to_string().contains("crashed before storing the cursor"), "{failed}");
    assert_eq!(server_tune(&rig, 1)["title"], "B at 2", "the push itself was committed");
    assert_eq!(b.rows(), rows, "nothing of the page was applied");
    assert_eq!(outbox(&b), pending, "no entry was acknowledged");
    assert_eq!(cursor(&b), at_cursor);
    // The triggers are not left silenced: a write after the failure is recorded.
    edit_tune(&b, 3, "B at 4", &at(4));
    assert_eq!(outbox(&b).len(), 2);

    // A restart (which also drops the temporary trigger) finds the same state, and syncs.
    let b = b.reopen();
    assert_eq!(cursor(&b), at_cursor);
    assert_eq!(outbox(&b).len(), 2);
    rig.sync(&b);
    rig.sync(&a);
    assert_eq!(server_tune(&rig, 3)["title"], "B at 4");
    rig.assert_converged(&[&a, &b]);
    rig.stop();
}

fn a_background_loop_recovers_when_the_server_restarts<S: TestStore>() {
    let mut rig = Rig::start::<S>();
    let (a, b) = (rig.device(1), rig.device(2));
    let options = RunOptions {
        debounce: Duration::from_millis(20),
        backoff_min: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        pokes: true,
    };
    let handle = rig.served.block_on(async { a.client.start(options) });
    let status = handle.status();
    let status = || status.borrow().clone();
    eventually("A's loop syncs and listens", || status().syncs >= 1 && status().listening);
    insert_tune(&a, 1, "before the restart", &at(1));
    a.client.signal();
    eventually("A's loop pushes tune 1", || a.outbox_len() == 0);

    // The server answers A's next sync and is gone before the answer arrives.
    let mut hold = rig.proxy.hold_next();
    insert_tune(&a, 2, "in flight at the restart", &at(2));
    a.client.signal();
    let answered = async { tokio::time::timeout(Duration::from_secs(20), hold.answered()).await };
    rig.served.block_on(answered).expect("A's loop syncs tune 2 within 20 s");
    let old_url = rig.served.server.url("");
    let restarted = serve_the_same_database(&rig.served);
    let old = std::mem::replace(&mut rig.served.server, restarted);
    rig.served.block_on(old.stop());
    hold.cut();
    let failures = status().failures;
    eventually("A's loop fails again while the server is down", || {
        status().failures >= failures + 2
    });
    insert_tune(&a, 3, "while the server is down", &at(3));
    a.client.signal();
    assert!(a.outbox_len() >= 2, "tunes 2 and 3 wait");

    rig.proxy.set_upstream(&rig.served.server.url(""));
    assert_ne!(rig.served.server.url(""), old_url);
    eventually("A's loop pushes everything to the restarted server", || {
        a.outbox_len() == 0 && status().failures == 0
    });
    eventually("A listens to the restarted server", || status().listening);
    rig.served.block_on(handle.stop());
    for n in 1..=3 {
        assert!(server_tune(&rig, n)["title"].is_string(), "tune {n} reached the server");
    }
    rig.sync(&a);
    rig.sync(&b);
    rig.assert_converged(&[&a, &b]);
    rig.stop();
}

/// A second server over the database of `served`'s store, as a restarted process would be.
fn serve_the_same_database(served: &Served) -> TestServer {
    match served.database() {
        Database::Postgres(_) => {
            let url = served.database().postgres().url();
            served.block_on(async {
                TestServer::start(pg_store(&url).await, Options::default()).await
            })
        }
        Database::Sqlite { path, .. } => {
            let store = sqlite_store(path.parent().expect("the store's directory"));
            served.block_on(TestServer::start(store, Options::default()))
        }
    }
}

/// Wait up to 20 s for `done`.
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "{what}: not within 20 s");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn writes_that_sync_would_refuse_are_refused_locally<S: TestStore>() {
    let rig = Rig::start::<S>();
    rig.served.database().execute("INSERT INTO genre (id, name) VALUES ('irish', 'Irish')");
    let a = rig.device(1);
    insert_tune(&a, 1, "tagged", &at(1));
    a.execute(&format!(
        "INSERT INTO tag (id, user_id, tune_id, label, last_modified_at) \
         VALUES ('{}', '{}', '{}', 'session', '{}')",
        id(20),
        rig.me,
        id(1),
        at(1)
    ));
    rig.sync(&a);
    assert_eq!(a.rows().keys().filter(|(t, _)| t == "genre").count(), 1, "A pulled the genre");

    let (rows, pending) = (a.rows(), outbox(&a));
    let refused = |sql: &str, message: &str| {
        let error = a.client.with_db(|conn| conn.execute_batch(sql));
        let error = error.expect_err(sql).to_string();
        assert!(error.contains(message), "{sql}: {error}");
        assert_eq!(a.rows(), rows, "{sql} changed nothing");
        assert_eq!(outbox(&a), pending, "{sql} recorded nothing");
    };
    let public = "`genre` is public: clients read it and never write it";
    refused("INSERT INTO genre (id, name) VALUES ('jazz', 'Jazz')", public);
    refused("UPDATE genre SET name = 'Trad' WHERE id = 'irish'", public);
    refused("DELETE FROM genre WHERE id = 'irish'", public);

    // What sync can carry still goes through.
    a.execute(&format!(
        "UPDATE tag SET label = 'practice', last_modified_at = '{}' WHERE id = '{}'",
        at(2),
        id(20)
    ));
    assert_eq!(outbox(&a).len(), 1);
    rig.sync(&a);
    let tag = rig.served.snapshot().row("tag", json!({ "id": id(20) })).expect("the tag");
    assert_eq!(tag["label"], "practice");
    rig.assert_converged(&[&a]);
    rig.stop();
}

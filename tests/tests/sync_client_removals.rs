//! Rows removed on the server by another path than sync (an admin's SQL, and the foreign key
//! cascades it sets off), seen from the sync client, on both stores (docs/sync.md): the
//! removal reaches every device and wins over a pending local edit.
//!
//! Not here yet: a device that wrote a child under a row the server removed meanwhile. The
//! engine answers that push with a foreign key 409 for the whole request, at every sync, so the
//! device's outbox is stuck; it needs the engine to reject that one change instead (commit
//! f1457b8 has the test that shows it).

use std::sync::Arc;

use integration_tests::client::{TestClient, assert_converged, sync};
use integration_tests::proxy::Proxy;
use integration_tests::server::{Options, Served};
use integration_tests::sync::*;

integration_tests::for_each_store!(a_row_removed_on_the_server_is_removed_on_every_device);

/// Tunes 1 and 2 with a note each (notes 11 and 12), as device `a` writes them.
fn tunes_with_notes(a: &TestClient) {
    let (me, at1) = (&a.user, at(1));
    let mut sql =
        format!("INSERT INTO user_profile (id, last_modified_at) VALUES ('{me}', '{at1}')");
    for n in [1, 2] {
        sql += &format!(
            "; INSERT INTO tune (id, user_id, title, last_modified_at) \
               VALUES ('{}', '{me}', 'tune {n}', '{at1}')
             ; INSERT INTO note (id, user_id, tune_id, body, last_modified_at) \
               VALUES ('{}', '{me}', '{}', 'note {n}', '{at1}')",
            id(n),
            id(10 + n),
            id(n)
        );
    }
    a.execute(&sql);
}

fn has(device: &TestClient, table: &str, n: u32) -> bool {
    device.rows().iter().any(|((t, _), row)| t == table && row["id"] == id(n))
}

fn a_row_removed_on_the_server_is_removed_on_every_device<S: TestStore>() {
    let served = Served::start::<S>(Options::default());
    let proxy = served.block_on(Proxy::start(&served.server.url("")));
    let me = user(1);
    let (a, b) = (TestClient::open(&proxy.url(), &me), TestClient::open(&proxy.url(), &me));
    tunes_with_notes(&a);
    sync(&served, &a);
    sync(&served, &b);

    // The admin removes tune 1 (its note goes with it) while B edits that note in flight.
    served.database().execute(&format!("DELETE FROM tune WHERE id = '{}'", id(1)));
    served.settle();
    let mut hold = proxy.hold_next();
    let client = Arc::clone(&b.client);
    let runtime = served.block_on(async { tokio::runtime::Handle::current() });
    let in_flight = runtime.spawn(async move { client.sync_once().await });
    served.block_on(hold.answered());
    b.execute(&format!(
        "UPDATE note SET body = 'edited in flight', last_modified_at = '{}' WHERE id = '{}'",
        at(2),
        id(11)
    ));
    hold.deliver();
    served.block_on(in_flight).expect("the sync ends").expect("the sync succeeds");
    assert!(!has(&b, "tune", 1) && !has(&b, "note", 11), "B applied the removals");
    assert_eq!(b.outbox_len(), 0, "the removal won over B's pending edit");
    assert!(has(&b, "tune", 2) && has(&b, "note", 12));

    sync(&served, &a);
    assert!(!has(&a, "tune", 1) && !has(&a, "note", 11), "A applied the removals");
    assert_converged(&served, &[&a, &b]);
    drop(proxy);
    served.stop();
}

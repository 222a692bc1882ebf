//! Unique keys of synced tables, seen from the sync client, on both stores (docs/sync.md): a
//! device may take a name its user freed with a (soft) delete, or one another device took
//! offline at the same time; either way it goes on syncing, the losing change waits in its
//! quarantine with the constraint's name, and every device ends where the server is.

use std::sync::Arc;

use integration_tests::client::{TestClient, assert_converged, sync};
use integration_tests::proxy::Proxy;
use integration_tests::server::{Options, Served};
use integration_tests::sync::*;
use serde_json::json;
use sync_runtime::client::QuarantinedOp;
use sync_runtime::protocol::{ConstraintKind, RejectReason};

integration_tests::for_each_store!(
    a_name_freed_by_a_delete_can_be_taken_again,
    two_devices_taking_one_name_offline_both_go_on_syncing,
    a_pulled_row_taking_a_name_of_a_write_in_flight_quarantines_the_write,
);

/// Two devices of user 1, both holding the user's profile.
fn two_devices(served: &Served) -> (TestClient, TestClient) {
    let (me, url) = (user(1), served.server.url(""));
    let (a, b) = (TestClient::open(&url, &me), TestClient::open(&url, &me));
    a.execute(&format!(
        "INSERT INTO user_profile (id, last_modified_at) VALUES ('{me}', '{}')",
        at(1)
    ));
    sync(served, &a);
    sync(served, &b);
    (a, b)
}

fn repertoire(device: &TestClient, n: u32, name: &str, at: &str) -> String {
    format!(
        "INSERT INTO repertoire (id, user_id, name, last_modified_at) \
         VALUES ('{}', '{}', '{name}', '{at}')",
        id(n),
        device.user
    )
}

fn a_name_freed_by_a_delete_can_be_taken_again<S: TestStore>() {
    let served = Served::start::<S>(Options::default());
    let (a, b) = two_devices(&served);
    a.execute(&repertoire(&a, 1, "session", &at(2)));
    sync(&served, &a);
    a.execute(&format!("DELETE FROM repertoire WHERE id = '{}'", id(1)));
    a.execute(&repertoire(&a, 2, "session", &at(3)));
    let report = sync(&served, &a);
    assert_eq!(report.rejected, 0, "{report:?}");
    let taken = served.snapshot().row("repertoire", json!({ "id": id(2) })).expect("the new one");
    assert_eq!(taken["name"], "session");
    sync(&served, &b);
    assert_converged(&served, &[&a, &b]);
    assert_eq!(a.client.quarantined_count().unwrap(), 0);
    served.stop();
}

fn two_devices_taking_one_name_offline_both_go_on_syncing<S: TestStore>() {
    let served = Served::start::<S>(Options::default());
    let (a, b) = two_devices(&served);
    a.execute(&repertoire(&a, 1, "session", &at(2)));
    b.execute(&repertoire(&b, 2, "session", &at(2)));
    b.execute(&format!(
        "INSERT INTO tune (id, user_id, title, last_modified_at) VALUES ('{}', '{}', 'also B', '{}')",
        id(3),
        b.user,
        at(2)
    ));
    sync(&served, &a);
    let report = sync(&served, &b);
    assert_eq!((report.rejected, report.applied.quarantined), (1, 1), "{report:?}");
    let tune = served.snapshot().row("tune", json!({ "id": id(3) }));
    assert!(tune.is_some(), "B's other write reached the server");
    assert_eq!(b.outbox_len(), 0, "nothing of B's is stuck");

    // A won the name; B keeps its version in the quarantine with the constraint's name.
    let quarantine = b.client.quarantine().expect("read the quarantine");
    let [kept] = quarantine.as_slice() else { panic!("one quarantined change: {quarantine:?}") };
    assert_eq!((kept.table.as_str(), kept.op), ("repertoire", QuarantinedOp::Upsert));
    assert_eq!((kept.reason, kept.kind), (RejectReason::Constraint, Some(ConstraintKind::Unique)));
    assert_eq!(kept.constraint.as_deref(), Some("repertoire_user_id_name_key"));
    assert_eq!(kept.local_row.as_ref().map(|r| r["name"].clone()), Some(json!("session")));
    assert_eq!(kept.server_row, None, "the server has no row at B's key");
    assert!(!kept.message.is_empty());
    assert_eq!(a.client.quarantined_count().unwrap(), 0);
    sync(&served, &a);
    assert_converged(&served, &[&a, &b]);

    // The user renames B's list and retries it: both lists exist, the quarantine is empty.
    let rename = json!({ "name": "session (B)" }).as_object().cloned().unwrap();
    b.client.retry(kept.id, Some(rename)).expect("retry");
    assert_eq!(sync(&served, &b).rejected, 0);
    assert_eq!(b.client.quarantined_count().unwrap(), 0);
    let renamed = served.snapshot().row("repertoire", json!({ "id": id(2) })).expect("B's list");
    assert_eq!(renamed["name"], "session (B)");
    sync(&served, &a);
    assert_converged(&served, &[&a, &b]);
    served.stop();
}

/// B names a list while its sync is in flight, as A's list of that name reaches the server: the
/// pulled row cannot be stored beside B's pending one, which the server would refuse anyway, so
/// B's goes to the quarantine and the sync ends well.
fn a_pulled_row_taking_a_name_of_a_write_in_flight_quarantines_the_write<S: TestStore>() {
    let served = Served::start::<S>(Options::default());
    let proxy = served.block_on(Proxy::start(&served.server.url("")));
    let me = user(1);
    let (a, b) = (TestClient::open(&proxy.url(), &me), TestClient::open(&proxy.url(), &me));
    a.execute(&format!(
        "INSERT INTO user_profile (id, last_modified_at) VALUES ('{me}', '{}')",
        at(1)
    ));
    sync(&served, &a);
    sync(&served, &b);
    a.execute(&repertoire(&a, 1, "session", &at(2)));
    sync(&served, &a);

    let mut hold = proxy.hold_next();
    let client = Arc::clone(&b.client);
    let runtime = served.block_on(async { tokio::runtime::Handle::current() });
    let in_flight = runtime.spawn(async move { client.sync_once().await });
    served.block_on(hold.answered());
    b.execute(&repertoire(&b, 2, "session", &at(3)));
    hold.deliver();
    let report = served.block_on(in_flight).expect("the sync ends").expect("the sync succeeds");
    assert_eq!(report.applied.quarantined, 1, "{report:?}");
    let quarantine = b.client.quarantine().expect("read the quarantine");
    let [kept] = quarantine.as_slice() else { panic!("one quarantined change: {quarantine:?}") };
    assert_eq!(kept.key, json!({ "id": id(2) }).as_object().cloned().unwrap());
    assert_eq!(kept.kind, Some(ConstraintKind::Unique));
    assert_eq!(kept.constraint.as_deref(), Some("repertoire_user_id_name_key"));
    assert_eq!(kept.local_row.as_ref().map(|r| r["name"].clone()), Some(json!("session")));
    assert_eq!(b.outbox_len(), 0, "the quarantined write left the outbox");
    assert_converged(&served, &[&a, &b]);
    drop(proxy);
    served.stop();
}

//! Unique constraints of synced tables, seen from the sync client, on both stores (DESIGN 5.5:
//! devices always converge). A device may take a name its user freed, or one another device took
//! offline at the same time; either way it must go on syncing and end where the server is.
//!
//! Both FAIL today, a design question: the soft-deleted row still holds its name on the server,
//! and a pushed row that breaks a unique constraint fails the whole request with 409, so the
//! device retries the same push for ever and nothing else it writes reaches the server.

use integration_tests::client::{TestClient, expected_on_device};
use integration_tests::server::{Options, Served};
use integration_tests::sync::*;
use sync_runtime::client::SyncReport;

integration_tests::for_each_store!(
    a_name_freed_by_a_delete_can_be_taken_again,
    two_devices_taking_one_name_offline_both_go_on_syncing,
);

fn sync(served: &Served, device: &TestClient) -> SyncReport {
    served.settle();
    served.block_on(device.client.sync_once()).unwrap_or_else(|e| panic!("the sync fails: {e}"))
}

/// After a quiet sync of each, every device holds exactly what its user may read.
fn assert_converged(served: &Served, devices: &[&TestClient]) {
    for device in devices {
        assert_eq!(sync(served, device).pushed, 0, "a quiet sync");
    }
    let snapshot = served.snapshot();
    for (n, device) in devices.iter().enumerate() {
        assert_eq!(device.rows(), expected_on_device(snapshot.readable_by(&device.user)), "{n}");
        assert_eq!(device.outbox_len(), 0, "device {n} has nothing left to push");
    }
}

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
    sync(&served, &a);
    sync(&served, &b);
    assert_converged(&served, &[&a, &b]);
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
    sync(&served, &b);
    let tune = served.snapshot().row("tune", serde_json::json!({ "id": id(3) }));
    assert!(tune.is_some(), "B's other write reached the server");
    sync(&served, &a);
    assert_converged(&served, &[&a, &b]);
    served.stop();
}

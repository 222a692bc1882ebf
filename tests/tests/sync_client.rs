//! The sync client against a real server on loopback, on both stores (docs/sync.md): two devices of
//! one user converge through the server, deletes travel, pulled rows are never recorded as local
//! writes, and a device converges to exactly what the server lets its user read.

use std::time::{Duration, Instant};

use integration_tests::client::{TestClient, expected_on_device, sync};
use integration_tests::server::{Options, Served};
use integration_tests::sync::*;
use sync_runtime::client::RunOptions;

integration_tests::for_each_store!(
    a_create_on_one_device_reaches_the_other,
    concurrent_offline_edits_end_with_one_winner_everywhere,
    a_delete_on_one_device_disappears_on_the_other,
    applying_pulled_rows_never_enqueues_them,
    a_poke_makes_the_other_device_sync_within_the_debounce,
);

/// Every device of `user` holds exactly what the server lets the user read.
fn assert_converged(served: &Served, user: &str, devices: &[&TestClient]) {
    let expected = expected_on_device(served.snapshot().readable_by(user));
    for (n, device) in devices.iter().enumerate() {
        assert_eq!(device.rows(), expected, "device {n} of {user}");
    }
}

fn insert_tune(device: &TestClient, id: &str, title: &str, at: &str) {
    let user = &device.user;
    device.execute(&format!(
        "INSERT OR IGNORE INTO user_profile (id, last_modified_at) VALUES ('{user}', '{at}');
         INSERT INTO tune (id, user_id, title, last_modified_at) VALUES ('{id}', '{user}', '{title}', '{at}')"
    ));
}

fn a_create_on_one_device_reaches_the_other<S: TestStore>() {
    let served = Served::start::<S>(Options::default());
    let me = user(1);
    let url = served.server.url("");
    let (a, b) = (TestClient::open(&url, &me), TestClient::open(&url, &me));
    insert_tune(&a, &id(1), "The Kesh", &at(1));
    assert_eq!(a.outbox_len(), 2, "the profile and the tune wait to be pushed");
    sync(&served, &a);
    assert_eq!(a.outbox_len(), 0, "the server acknowledged both");
    sync(&served, &b);
    let tune = b.rows().into_iter().find(|((t, _), _)| t == "tune").expect("B has the tune").1;
    assert_eq!(tune["title"], "The Kesh");
    assert_eq!(tune["device_id"], a.client.client_id(), "the server stamped A's id");
    sync(&served, &a);
    assert_converged(&served, &me, &[&a, &b]);
    served.stop();
}

fn concurrent_offline_edits_end_with_one_winner_everywhere<S: TestStore>() {
    let served = Served::start::<S>(Options::default());
    let me = user(1);
    let url = served.server.url("");
    let (a, b) = (TestClient::open(&url, &me), TestClient::open(&url, &me));
    insert_tune(&a, &id(1), "first", &at(1));
    sync(&served, &a);
    sync(&served, &b);
    // Both edit offline; B's edit is the later one, whatever order they sync in.
    a.execute(&format!("UPDATE tune SET title = 'from A', last_modified_at = '{}'", at(3)));
    b.execute(&format!("UPDATE tune SET title = 'from B', last_modified_at = '{}'", at(5)));
    sync(&served, &b);
    sync(&served, &a);
    sync(&served, &b);
    let server_row = served.snapshot().row("tune", serde_json::json!({ "id": id(1) })).unwrap();
    assert_eq!(server_row["title"], "from B");
    assert_converged(&served, &me, &[&a, &b]);
    served.stop();
}

fn a_delete_on_one_device_disappears_on_the_other<S: TestStore>() {
    let served = Served::start::<S>(Options::default());
    let me = user(1);
    let url = served.server.url("");
    let (a, b) = (TestClient::open(&url, &me), TestClient::open(&url, &me));
    insert_tune(&a, &id(1), "kept", &at(1));
    insert_tune(&a, &id(2), "deleted by SQL", &at(1));
    insert_tune(&a, &id(3), "soft-deleted", &at(1));
    sync(&served, &a);
    sync(&served, &b);
    assert_eq!(b.rows().keys().filter(|(t, _)| t == "tune").count(), 3);

    a.execute(&format!("DELETE FROM tune WHERE id = '{}'", id(2)));
    a.execute(&format!(
        "UPDATE tune SET deleted = 1, last_modified_at = '{}' WHERE id = '{}'",
        at(2),
        id(3)
    ));
    sync(&served, &a);
    sync(&served, &b);
    let tunes: Vec<_> = b.rows().into_iter().filter(|((t, _), _)| t == "tune").collect();
    assert_eq!(tunes.len(), 1, "{tunes:?}");
    assert_eq!(tunes[0].1["title"], "kept");
    let snapshot = served.snapshot();
    for n in [2, 3] {
        let row = snapshot.row("tune", serde_json::json!({ "id": id(n) })).expect("kept soft");
        assert_eq!(row["deleted"], true, "the server soft-deletes tune {n}");
    }
    sync(&served, &a);
    assert_converged(&served, &me, &[&a, &b]);
    served.stop();
}

fn applying_pulled_rows_never_enqueues_them<S: TestStore>() {
    let served = Served::start::<S>(Options::default());
    let me = user(1);
    let url = served.server.url("");
    let (a, b) = (TestClient::open(&url, &me), TestClient::open(&url, &me));
    for n in 1..=20 {
        insert_tune(&a, &id(n), &format!("tune {n}"), &at(i64::from(n)));
    }
    sync(&served, &a);
    sync(&served, &b);
    assert_eq!(b.rows().keys().filter(|(t, _)| t == "tune").count(), 20);
    assert_eq!(b.outbox_len(), 0, "pulled rows are not local writes");
    served.settle();
    let report = served.block_on(b.client.sync_once()).expect("sync");
    assert_eq!(report.pushed, 0, "nothing to push after a pull");
    served.stop();
}

fn a_poke_makes_the_other_device_sync_within_the_debounce<S: TestStore>() {
    let served = Served::start::<S>(Options::default());
    let me = user(1);
    let url = served.server.url("");
    let (a, b) = (TestClient::open(&url, &me), TestClient::open(&url, &me));
    let options = RunOptions::default();
    let handle = served.block_on(async { b.client.start(options) });
    let mut status = handle.status();
    served.block_on(async {
        tokio::time::timeout(
            Duration::from_secs(10),
            status.wait_for(|s| s.listening && s.syncs >= 1),
        )
        .await
        .expect("B listens and has synced once within 10 s")
        .expect("the loop runs");
    });

    served.settle();
    insert_tune(&a, &id(1), "poked", &at(1));
    served.block_on(a.client.sync_once()).expect("A pushes");
    let pushed = Instant::now();
    let deadline = options.debounce + Duration::from_secs(1);
    let has_tune = || b.rows().keys().any(|(t, _)| t == "tune");
    while !has_tune() {
        assert!(pushed.elapsed() < deadline, "B did not sync within {deadline:?} of A's push");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        pushed.elapsed() >= options.debounce / 2,
        "B synced before the debounce: {:?}",
        pushed.elapsed()
    );
    served.block_on(handle.stop());
    served.stop();
}

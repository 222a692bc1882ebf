//! Rows that change hands, seen from the sync client through the HTTP endpoint, on both stores
//! (docs/sync.md): when an admin gives a user's tune and repertoire (with its entries) to another
//! user, or makes a public tune private, every device ends with exactly what its user may read.

use integration_tests::client::{TestClient, assert_converged, sync};
use integration_tests::server::{Options, Served};
use integration_tests::sync::*;

integration_tests::for_each_store!(rows_that_change_hands_leave_and_reach_the_right_devices);

fn has(device: &TestClient, table: &str, column: &str, n: u32) -> bool {
    device.rows().iter().any(|((t, _), row)| t == table && row[column] == id(n))
}

fn rows_that_change_hands_leave_and_reach_the_right_devices<S: TestStore>() {
    let served = Served::start::<S>(Options::default());
    let url = served.server.url("");
    let (a, b) = (user(1), user(2));
    let (a1, a2, b1) =
        (TestClient::open(&url, &a), TestClient::open(&url, &a), TestClient::open(&url, &b));
    let t = at(1);
    // A public tune 1 (an admin's), user A's private tune 2, and A's repertoire 3 holding both.
    let [public, mine, session] = [1, 2, 3].map(id);
    served.database().execute(&format!(
        "INSERT INTO tune (id, title, last_modified_at) VALUES ('{public}', 'public', '{t}')"
    ));
    sync(&served, &a1);
    a1.execute(&format!(
        "INSERT INTO user_profile (id, last_modified_at) VALUES ('{a}', '{t}');
         INSERT INTO tune (id, user_id, title, last_modified_at) VALUES ('{mine}', '{a}', 'mine', '{t}');
         INSERT INTO repertoire (id, user_id, name, last_modified_at) VALUES ('{session}', '{a}', 'Session', '{t}');
         INSERT INTO repertoire_tune (repertoire_id, tune_id, last_modified_at) VALUES ('{session}', '{public}', '{t}');
         INSERT INTO repertoire_tune (repertoire_id, tune_id, last_modified_at) VALUES ('{session}', '{mine}', '{t}')"
    ));
    b1.execute(&format!("INSERT INTO user_profile (id, last_modified_at) VALUES ('{b}', '{t}')"));
    for device in [&a1, &a2, &b1] {
        sync(&served, device);
    }
    assert_converged(&served, &[&a1, &a2, &b1]);
    assert!(has(&a2, "repertoire_tune", "tune_id", 2) && !has(&b1, "tune", "id", 2));

    // The admin gives A's tune and repertoire to B: the repertoire's entries go with it.
    served.database().execute(&format!(
        "UPDATE tune SET user_id = '{b}' WHERE id = '{mine}';
         UPDATE repertoire SET user_id = '{b}' WHERE id = '{session}'"
    ));
    assert_converged(&served, &[&a1, &a2, &b1]);
    for device in [&a1, &a2] {
        assert!(!has(device, "tune", "id", 2) && !has(device, "repertoire", "id", 3));
        assert!(!has(device, "repertoire_tune", "repertoire_id", 3));
    }
    assert!(has(&b1, "tune", "id", 2) && has(&b1, "repertoire", "id", 3));
    assert!(has(&b1, "repertoire_tune", "tune_id", 1) && has(&b1, "repertoire_tune", "tune_id", 2));

    // The public tune becomes A's: it leaves B's device and stays on A's.
    served.database().execute(&format!("UPDATE tune SET user_id = '{a}' WHERE id = '{public}'"));
    assert_converged(&served, &[&a1, &a2, &b1]);
    assert!(has(&a1, "tune", "id", 1) && has(&a2, "tune", "id", 1) && !has(&b1, "tune", "id", 1));
    served.stop();
}

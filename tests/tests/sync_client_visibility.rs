//! Rows that change hands, seen from the sync client through the HTTP endpoint, on both stores
//! (docs/sync.md): when an admin gives a user's tune and repertoire (with its entries) to another
//! user, or makes a public tune private, every device ends with exactly what its user may read;
//! and a device that edited such rows offline keeps syncing: those edits alone are refused as
//! `forbidden` and go to its quarantine.

use serde_json::json;
use sync_runtime::client::QuarantinedOp;
use sync_runtime::protocol::RejectReason;

use integration_tests::client::{TestClient, assert_converged, sync};
use integration_tests::server::{Options, Served};
use integration_tests::sync::*;

integration_tests::for_each_store!(
    rows_that_change_hands_leave_and_reach_the_right_devices,
    a_device_that_edited_rows_that_changed_hands_keeps_syncing,
);

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

fn a_device_that_edited_rows_that_changed_hands_keeps_syncing<S: TestStore>() {
    let served = Served::start::<S>(Options::default());
    let url = served.server.url("");
    let (a, b) = (user(1), user(2));
    let (a1, b1) = (TestClient::open(&url, &a), TestClient::open(&url, &b));
    let t = at(1);
    // A's tunes 1, 2 and 4, and A's repertoire 3 holding tune 4.
    let [given, public, session, kept] = [1, 2, 3, 4].map(id);
    a1.execute(&format!(
        "INSERT INTO user_profile (id, last_modified_at) VALUES ('{a}', '{t}');
         INSERT INTO tune (id, user_id, title, last_modified_at) VALUES
           ('{given}', '{a}', 'given', '{t}'), ('{public}', '{a}', 'public', '{t}'),
           ('{kept}', '{a}', 'kept', '{t}');
         INSERT INTO repertoire (id, user_id, name, last_modified_at) VALUES ('{session}', '{a}', 'Session', '{t}');
         INSERT INTO repertoire_tune (repertoire_id, tune_id, last_modified_at) VALUES ('{session}', '{kept}', '{t}')"
    ));
    b1.execute(&format!("INSERT INTO user_profile (id, last_modified_at) VALUES ('{b}', '{t}')"));
    sync(&served, &a1);
    sync(&served, &b1);

    // Offline, A edits tunes 1, 2 and 4 and takes tune 4 out of the repertoire; meanwhile an
    // admin gives tune 1 and the repertoire to B and makes tune 2 public.
    let t2 = at(2);
    a1.execute(&format!(
        "UPDATE tune SET title = 'edited offline', last_modified_at = '{t2}';
         DELETE FROM repertoire_tune WHERE repertoire_id = '{session}'"
    ));
    served.database().execute(&format!(
        "UPDATE tune SET user_id = '{b}' WHERE id = '{given}';
         UPDATE tune SET user_id = NULL WHERE id = '{public}';
         UPDATE repertoire SET user_id = '{b}' WHERE id = '{session}'"
    ));

    // The three changes of rows A may no longer write are rejected alone; the edit of tune 4
    // lands, and A's outbox empties.
    let report = sync(&served, &a1);
    assert_eq!((report.rejected, report.applied.quarantined), (3, 3), "{report:?}");
    assert_eq!(a1.outbox_len(), 0, "nothing of A's is stuck");
    let title = |n: &str| {
        served.snapshot().row("tune", json!({ "id": n })).expect("a tune")["title"].clone()
    };
    assert_eq!(
        [title(&given), title(&public), title(&kept)],
        ["given", "public", "edited offline"].map(|t| json!(t))
    );

    // What A typed is in the quarantine; the device took the server's rows: the public tune as
    // the server has it, and none of what is B's now.
    let quarantine = a1.client.quarantine().expect("read the quarantine");
    assert_eq!(quarantine.len(), 3, "{quarantine:?}");
    for kept in &quarantine {
        assert_eq!(kept.reason, RejectReason::Forbidden, "{kept:?}");
        let (op, column, server_row) = match kept.key.get("id").and_then(|v| v.as_str()) {
            Some(n) if n == given => (QuarantinedOp::Upsert, "user_id", false),
            Some(n) if n == public => (QuarantinedOp::Upsert, "user_id", true),
            _ => (QuarantinedOp::Delete, "repertoire_id", false),
        };
        assert_eq!(kept.op, op, "{kept:?}");
        assert_eq!(kept.column.as_deref(), Some(column), "{kept:?}");
        assert_eq!(kept.server_row.is_some(), server_row, "{kept:?}");
        if op == QuarantinedOp::Upsert {
            assert_eq!(kept.local_row.as_ref().expect("A's row")["title"], "edited offline");
        }
    }
    let rows = a1.rows();
    let on_a = |table: &str, n: &str| {
        rows.iter().find(|((t, _), row)| t == table && row["id"] == n).map(|(_, row)| row.clone())
    };
    assert!(on_a("tune", &given).is_none() && on_a("repertoire", &session).is_none());
    assert_eq!(on_a("tune", &public).expect("the public tune")["title"], "public");

    sync(&served, &b1);
    assert_converged(&served, &[&a1, &b1]);
    assert_eq!(a1.client.quarantined_count().unwrap(), 3, "the quarantine stays for the app");
    served.stop();
}

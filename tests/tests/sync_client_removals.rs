//! Rows removed on the server by another path than sync (an admin's SQL, and the foreign key
//! cascades it sets off), seen from the sync client, on both stores (docs/sync.md): the
//! removal reaches every device and wins over a pending local edit, and a device that wrote
//! under a removed row meanwhile keeps syncing: that one change goes to its quarantine.

use std::sync::Arc;

use sync_runtime::client::QuarantinedOp;
use sync_runtime::protocol::{ConstraintKind, RejectReason};

use integration_tests::client::{TestClient, assert_converged, sync};
use integration_tests::proxy::Proxy;
use integration_tests::server::{Options, Served};
use integration_tests::sync::*;

integration_tests::for_each_store!(
    a_row_removed_on_the_server_is_removed_on_every_device,
    a_device_that_wrote_under_a_row_removed_on_the_server_still_syncs,
);

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

fn a_device_that_wrote_under_a_row_removed_on_the_server_still_syncs<S: TestStore>() {
    let served = Served::start::<S>(Options::default());
    let me = user(1);
    let url = served.server.url("");
    let (a, b) = (TestClient::open(&url, &me), TestClient::open(&url, &me));
    tunes_with_notes(&a);
    sync(&served, &a);
    sync(&served, &b);

    // B, offline, adds a note to tune 1 and renames tune 2; meanwhile the admin removes tune 1.
    b.execute(&format!(
        "INSERT INTO note (id, user_id, tune_id, body, last_modified_at) \
         VALUES ('{}', '{me}', '{}', 'written offline', '{at2}');
         UPDATE tune SET title = 'renamed offline', last_modified_at = '{at2}' WHERE id = '{}'",
        id(13),
        id(1),
        id(2),
        at2 = at(2)
    ));
    served.database().execute(&format!("DELETE FROM tune WHERE id = '{}'", id(1)));
    // The server refuses the note alone; the rename lands and B's outbox empties.
    let report = sync(&served, &b);
    assert_eq!((report.rejected, report.applied.quarantined), (1, 1), "{report:?}");
    let tune = served.snapshot().row("tune", serde_json::json!({ "id": id(2) })).expect("tune 2");
    assert_eq!(tune["title"], "renamed offline");
    assert_eq!(b.outbox_len(), 0, "nothing of B's is stuck");
    assert!(!has(&b, "note", 13), "B's note left its tables with the tune");

    // What the user wrote is kept in the quarantine, with the server's verdict.
    let quarantine = b.client.quarantine().expect("read the quarantine");
    let [kept] = quarantine.as_slice() else { panic!("one quarantined change: {quarantine:?}") };
    assert_eq!((kept.table.as_str(), kept.op), ("note", QuarantinedOp::Upsert));
    assert_eq!(kept.key, serde_json::json!({ "id": id(13) }).as_object().cloned().unwrap());
    assert_eq!(kept.reason, RejectReason::Constraint);
    assert_eq!(kept.kind, Some(ConstraintKind::ForeignKey));
    assert_eq!(kept.constraint.as_deref(), Some("note_tune_id_fkey"));
    assert_eq!(kept.server_row, None);
    let local_row = kept.local_row.as_ref().expect("the note as B wrote it");
    assert_eq!(local_row["body"], "written offline");

    // The user moves the note to tune 2 and retries: it lands, and the quarantine empties.
    let edit = serde_json::json!({ "tune_id": id(2) }).as_object().cloned().unwrap();
    b.client.retry(kept.id, Some(edit)).expect("retry the note");
    assert_eq!(sync(&served, &b).rejected, 0);
    assert_eq!(b.client.quarantined_count().unwrap(), 0);
    let note = served.snapshot().row("note", serde_json::json!({ "id": id(13) })).expect("note");
    assert_eq!(
        (&note["tune_id"], &note["body"]),
        (&serde_json::json!(id(2)), &"written offline".into())
    );

    sync(&served, &a);
    assert_converged(&served, &[&a, &b]);
    served.stop();
}

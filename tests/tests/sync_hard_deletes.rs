//! Hard deletes through sync (`deletes = "hard"`, docs/sync.md), on both stores: a client's
//! delete of a `tag` removes the row on the server, and the tombstone machinery carries the
//! deletion to the user's other devices; last write wins still holds (an older delete is
//! `stale`, a delete of a missing row does nothing). A table that does not opt in still refuses
//! client deletes (`sync_deletes`).

use integration_tests::client::{TestClient, assert_converged, find, sync};
use integration_tests::server::{Options, Served};
use integration_tests::sync::*;
use serde_json::json;
use sync_runtime::protocol::RejectReason;

integration_tests::for_each_store!(
    a_tag_deleted_on_one_device_is_gone_on_the_server_and_the_other_device,
    an_older_hard_delete_is_refused_as_stale,
    a_hard_delete_of_a_missing_row_does_nothing,
);

fn a_tag_deleted_on_one_device_is_gone_on_the_server_and_the_other_device<S: TestStore>() {
    let served = Served::start::<S>(Options::default());
    let (me, url) = (user(1), served.server.url(""));
    let (a, b) = (TestClient::open(&url, &me), TestClient::open(&url, &me));
    a.execute(&format!(
        "INSERT INTO user_profile (id, last_modified_at) VALUES ('{me}', '{}');
         INSERT INTO tune (id, user_id, title, last_modified_at) VALUES ('{}', '{me}', 'The Kesh', '{}');
         INSERT INTO tag (id, user_id, tune_id, label, last_modified_at) VALUES ('{}', '{me}', '{}', 'session', '{}')",
        at(1),
        id(1),
        at(1),
        id(2),
        id(1),
        at(1)
    ));
    sync(&served, &a);
    sync(&served, &b);
    let tag_key = json!({ "id": id(2) });
    assert!(served.snapshot().row("tag", tag_key.clone()).is_some(), "the tag reached the server");
    assert!(find(&b.rows(), "tag", tag_key.as_object().unwrap()).is_some(), "and device B");

    // The device's own outbox trigger records the delete; the client pushes it.
    a.execute(&format!("DELETE FROM tag WHERE id = '{}'", id(2)));
    assert_eq!(a.outbox_len(), 1, "the delete is pending");
    sync(&served, &a);
    assert_eq!(served.snapshot().row("tag", tag_key.clone()), None, "the row is gone");
    sync(&served, &b);
    assert_eq!(find(&b.rows(), "tag", tag_key.as_object().unwrap()), None, "B deleted it");
    assert_converged(&served, &[&a, &b]);
    served.stop();
}

fn an_older_hard_delete_is_refused_as_stale<S: TestStore>() {
    let server = Server::<S>::new();
    let me = user(1);
    let (a, b) = (Device::new(&me, 1), Device::new(&me, 2));
    server.push(
        &a,
        vec![
            profile(&me, &at(0)),
            tune(&id(1), &me, "The Kesh", &at(0)),
            tag(&id(2), &me, &id(1), "edited later", &at(5)),
        ],
    );
    let before = server.snapshot();
    let response = server.push(&b, vec![delete("tag", json!({ "id": id(2) }), &at(4))]);
    let [rejected] = response.rejected.as_slice() else { panic!("{:?}", response.rejected) };
    assert_eq!(rejected.reason, RejectReason::Stale);
    let server_row = rejected.server_row.as_ref().map(|r| normal(r.values().unwrap()));
    assert_eq!(server_row, before.row("tag", json!({ "id": id(2) })));
    assert_eq!(server.snapshot(), before, "the tag stays");

    // A later delete wins, and the row is removed, with a tombstone for pulls.
    let response = server.push(&b, vec![delete("tag", json!({ "id": id(2) }), &at(6))]);
    assert!(response.rejected.is_empty(), "{:?}", response.rejected);
    assert_eq!(server.snapshot().row("tag", json!({ "id": id(2) })), None);
}

fn a_hard_delete_of_a_missing_row_does_nothing<S: TestStore>() {
    let server = Server::<S>::new();
    let me = user(1);
    let a = Device::new(&me, 1);
    server.push(&a, vec![profile(&me, &at(0))]);
    let before = server.snapshot();
    let response = server.push(&a, vec![delete("tag", json!({ "id": id(9) }), &at(1))]);
    assert!(response.rejected.is_empty(), "{:?}", response.rejected);
    assert_eq!(server.snapshot(), before);
}

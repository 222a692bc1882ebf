//! Conformance, last write wins (docs/sync.md), on both stores: the newer change wins, an older
//! one is rejected with the server's row, an equal resend changes nothing, ties on the conflict
//! time break by device id whatever the order of arrival, a clock beyond the allowed skew is
//! refused, and the server keeps `version` and `device` whatever the client sent.

use std::time::Duration;

use integration_tests::sync::*;
use serde_json::{Value, json};
use sync_runtime::engine::Config;
use sync_runtime::protocol::{RejectReason, SyncResponse};

integration_tests::for_each_store!(
    the_newer_change_wins,
    an_older_change_is_rejected_with_the_server_row,
    an_equal_resend_is_a_no_op,
    ties_break_by_device_whatever_the_order,
    a_clock_beyond_the_allowed_skew_is_refused,
    the_server_sets_version_and_device,
);

/// The one rejection of `response`: table, key, reason and the server's row.
fn rejection(response: &SyncResponse) -> (String, Value, RejectReason, Option<Values>) {
    let [rejected] = response.rejected.as_slice() else {
        panic!("expected one rejection, got {:?}", response.rejected);
    };
    let row = rejected.server_row.as_ref().map(|r| normal(r.values().expect("an object")));
    (rejected.table.clone(), Value::from(rejected.key.clone()), rejected.reason, row)
}

fn the_newer_change_wins<S: TestStore>() {
    let server = Server::<S>::new();
    let me = user(1);
    let (a, b) = (Device::new(&me, 1), Device::new(&me, 2));
    server.push(&a, vec![profile(&me, &at(0)), tune(&id(1), &me, "first", &at(1))]);
    let response = server.push(&b, vec![tune(&id(1), &me, "second", &at(2))]);
    assert!(response.rejected.is_empty(), "{:?}", response.rejected);

    let row = server.snapshot().row("tune", json!({ "id": id(1) })).expect("the tune");
    assert_eq!(row["title"], "second");
    assert_eq!(row["last_modified_at"], json!(at(2)));
    // Another device pulls the newer row, exactly as stored.
    let (mut c, mut replica) = (Device::new(&me, 3), Rows::new());
    server.catch_up(&mut c, &mut replica);
    assert_eq!(replica, server.snapshot().readable_by(&me));
    assert_eq!(replica.values().find(|r| r.get("title").is_some()).unwrap()["title"], "second");
}

fn an_older_change_is_rejected_with_the_server_row<S: TestStore>() {
    let server = Server::<S>::new();
    let me = user(1);
    let (a, b) = (Device::new(&me, 1), Device::new(&me, 2));
    server.push(&a, vec![profile(&me, &at(0)), tune(&id(1), &me, "current", &at(5))]);
    let before = server.snapshot();

    let response = server.push(&b, vec![tune(&id(1), &me, "older", &at(4))]);
    let (table, key, reason, server_row) = rejection(&response);
    assert_eq!(
        (table.as_str(), key, reason),
        ("tune", json!({ "id": id(1) }), RejectReason::Stale)
    );
    assert_eq!(server_row, before.row("tune", json!({ "id": id(1) })));
    assert_eq!(server.snapshot(), before, "a stale change wrote something");
}

fn an_equal_resend_is_a_no_op<S: TestStore>() {
    let server = Server::<S>::new();
    let me = user(1);
    let (a, mut b) = (Device::new(&me, 1), Device::new(&me, 2));
    let changes = vec![profile(&me, &at(0)), tune(&id(1), &me, "The Kesh", &at(1))];
    server.push(&a, changes.clone());
    let mut replica = Rows::new();
    server.catch_up(&mut b, &mut replica);
    let before = server.snapshot();

    // The acknowledgement was lost and the client sends the same changes again.
    let response = server.push(&a, changes);
    assert!(response.rejected.is_empty(), "{:?}", response.rejected);
    assert_eq!(server.snapshot(), before, "a resend wrote something (a version bump?)");
    assert_eq!(before.row("tune", json!({ "id": id(1) })).unwrap()["sync_version"], 1);
    assert!(server.pull_all(&mut b).is_empty(), "a resend left something new to pull");

    // The same time and device with other values is no resend: the row already there stays.
    let response = server.push(&a, vec![tune(&id(1), &me, "Other", &at(1))]);
    assert_eq!(rejection(&response).2, RejectReason::Stale);
    assert_eq!(server.snapshot(), before);
}

fn ties_break_by_device_whatever_the_order<S: TestStore>() {
    let server = Server::<S>::new();
    let me = user(1);
    let (low, high) = (Device::new(&me, 1), Device::new(&me, 2));
    server.push(&low, vec![profile(&me, &at(0))]);
    // Several runs, each on rows of its own, in both orders of arrival.
    for run in 0..5 {
        let (ab, ba) = (id(100 + run), id(200 + run));
        let time = at(10 + i64::from(run));
        server.push(&low, vec![tune(&ab, &me, "from low", &time)]);
        let response = server.push(&high, vec![tune(&ab, &me, "from high", &time)]);
        assert!(response.rejected.is_empty(), "{:?}", response.rejected);

        server.push(&high, vec![tune(&ba, &me, "from high", &time)]);
        let response = server.push(&low, vec![tune(&ba, &me, "from low", &time)]);
        let (_, key, reason, server_row) = rejection(&response);
        assert_eq!((key, reason), (json!({ "id": ba }), RejectReason::Stale));
        assert_eq!(server_row.unwrap()["title"], "from high");

        let snapshot = server.snapshot();
        for key in [&ab, &ba] {
            let row = snapshot.row("tune", json!({ "id": key })).unwrap();
            assert_eq!(
                (&row["title"], &row["device_id"]),
                (&json!("from high"), &json!(high.client_id))
            );
        }
    }
}

fn a_clock_beyond_the_allowed_skew_is_refused<S: TestStore>() {
    let config = Config { max_clock_skew: Duration::from_secs(60), ..Config::default() };
    let server = Server::<S>::with_config(config);
    let me = user(1);
    let a = Device::new(&me, 1);
    server.push(&a, vec![profile(&me, &at(0)), tune(&id(1), &me, "now", &at(1))]);
    let before = server.snapshot();
    let future = from_now(chrono::Duration::hours(1));

    // A new row, an update and a delete, each an hour ahead of the server's clock.
    let response = server.push(&a, vec![tune(&id(2), &me, "future", &future)]);
    assert_eq!(
        rejection(&response),
        ("tune".into(), json!({ "id": id(2) }), RejectReason::ClockSkew, None)
    );
    for change in
        [tune(&id(1), &me, "future", &future), delete("tune", json!({ "id": id(1) }), &future)]
    {
        let response = server.push(&a, vec![change]);
        let (_, _, reason, server_row) = rejection(&response);
        assert_eq!(reason, RejectReason::ClockSkew);
        assert_eq!(server_row, before.row("tune", json!({ "id": id(1) })));
    }
    assert_eq!(server.snapshot(), before, "a skewed change wrote something");

    // Within the allowed skew is fine.
    let response =
        server.push(&a, vec![tune(&id(3), &me, "soon", &from_now(chrono::Duration::seconds(20)))]);
    assert!(response.rejected.is_empty(), "{:?}", response.rejected);
}

fn the_server_sets_version_and_device<S: TestStore>() {
    let server = Server::<S>::new();
    let me = user(1);
    let (a, b) = (Device::new(&me, 1), Device::new(&me, 2));
    let forged = |title: &str, time: &str, version: i64| {
        let mut change = tune(&id(1), &me, title, time);
        change["row"]["sync_version"] = json!(version);
        change["row"]["device_id"] = json!("forged");
        change
    };
    server.push(&a, vec![profile(&me, &at(0)), forged("first", &at(1), 99)]);
    let row = server.snapshot().row("tune", json!({ "id": id(1) })).unwrap();
    assert_eq!((&row["sync_version"], &row["device_id"]), (&json!(1), &json!(a.client_id)));

    server.push(&b, vec![forged("second", &at(2), 1)]);
    server.push(&a, vec![forged("third", &at(3), 1)]);
    let row = server.snapshot().row("tune", json!({ "id": id(1) })).unwrap();
    assert_eq!((&row["sync_version"], &row["device_id"]), (&json!(3), &json!(a.client_id)));

    // What a device pulls carries the server's bookkeeping.
    let (mut c, mut replica) = (Device::new(&me, 3), Rows::new());
    server.catch_up(&mut c, &mut replica);
    assert_eq!(replica, server.snapshot().readable_by(&me));
}

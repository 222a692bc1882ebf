//! A unique key among live rows (`live_only`, docs/format.md), through the HTTP endpoint on both
//! stores: `repertoire (user_id, name)` is a partial unique index, so a name freed by a soft
//! delete can be taken again, while two live rows still cannot share one.

use integration_tests::server::{Options, Served, request, token};
use integration_tests::sync::*;
use serde_json::{Value, json};

integration_tests::for_each_store!(
    a_name_freed_by_a_soft_delete_can_be_taken_again,
    two_live_rows_still_cannot_share_a_name,
);

/// `POST /api/sync` as `user` pushing `changes`; the answer must be 200, with nothing rejected.
fn push_ok(served: &Served, user: &str, changes: Value) {
    let bearer = format!("Bearer {}", token(user));
    let answer = served.post(Some(&bearer), request(None, changes).to_string());
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["rejected"], json!([]), "{}", answer.body);
}

fn a_name_freed_by_a_soft_delete_can_be_taken_again<S: TestStore>() {
    let served = Served::start::<S>(Options::default());
    let me = user(1);
    push_ok(
        &served,
        &me,
        json!([profile(&me, &at(0)), repertoire(&id(1), &me, "Session", &at(1))]),
    );
    push_ok(&served, &me, json!([delete("repertoire", json!({ "id": id(1) }), &at(2))]));
    push_ok(&served, &me, json!([repertoire(&id(2), &me, "Session", &at(3))]));

    let snapshot = served.snapshot();
    let row = |n: u32| snapshot.row("repertoire", json!({ "id": id(n) })).expect("on the server");
    let (freed, taken) = (row(1), row(2));
    assert_eq!((&freed["name"], &freed["deleted"]), (&json!("Session"), &json!(true)));
    assert_eq!((&taken["name"], &taken["deleted"]), (&json!("Session"), &json!(false)));
    // Another user's name never collided: the key is per user.
    let them = user(2);
    push_ok(
        &served,
        &them,
        json!([profile(&them, &at(0)), repertoire(&id(3), &them, "Session", &at(1))]),
    );
    served.stop();
}

fn two_live_rows_still_cannot_share_a_name<S: TestStore>() {
    let served = Served::start::<S>(Options::default());
    let me = user(1);
    push_ok(
        &served,
        &me,
        json!([profile(&me, &at(0)), repertoire(&id(1), &me, "Session", &at(1))]),
    );
    let before = served.snapshot();
    let bearer = format!("Bearer {}", token(&me));
    let changes = json!([repertoire(&id(2), &me, "Session", &at(2))]);
    let answer = served.post(Some(&bearer), request(None, changes).to_string());
    // Refused as a whole (409) or as this one change (rejected): either way nothing is written.
    let refused = answer.status == 409 || answer.body["rejected"] != json!([]);
    assert!(refused, "{} {}", answer.status, answer.body);
    served.assert_unchanged(&before, "a second live `Session`");
    served.stop();
}

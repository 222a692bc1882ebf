//! Per-change verdicts (issue 12, docs/sync.md), on both stores through the HTTP endpoint: a
//! change the database refuses is rejected alone, worded alike by both stores from the schema's
//! names, and every other change of the request is written; a value too large to index is
//! refused up front with its column; a reference to a row the user may not read is refused
//! exactly as one to a row that does not exist; a `sub` that spells a UUID otherwise than the
//! databases do is refused before anything is read.

use integration_tests::server::{Answer, Options, Served, request, token};
use integration_tests::sync::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sync_runtime::engine::INDEXED_BYTES;

integration_tests::for_each_store!(
    a_mixed_batch_writes_the_valid_changes_and_rejects_each_bad_one,
    a_value_too_large_to_index_is_rejected_naming_its_column,
    references_to_rows_the_user_may_not_read_are_rejected_as_if_missing,
    a_sub_spelling_a_uuid_otherwise_is_refused_and_pulls_nothing,
);

const DEVICE: &str = "00000000-0000-4000-9000-000000000001";
const TUNE: u32 = 1;

/// A server whose user 1 has a profile, tune 1 and the tag `fast` on it.
fn seeded<S: TestStore>() -> Served {
    let served = Served::start::<S>(Options::default());
    let me = user(1);
    served.push_as(
        &me,
        DEVICE,
        vec![
            profile(&me, &at(0)),
            tune(&id(TUNE), &me, "The Silver Spear", &at(0)),
            tag(&id(2), &me, &id(TUNE), "fast", &at(0)),
        ],
    );
    served
}

/// The `rejected` list of an answer that must be 200.
fn rejected(answer: &Answer) -> Vec<Value> {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.body["rejected"].as_array().expect("a list of rejections").clone()
}

fn practice(n: u32, user: &str, quality: i64) -> Value {
    upsert(
        "practice_record",
        json!({ "id": id(n), "user_id": user, "tune_id": id(TUNE), "practiced": at(0),
                "quality": quality, "last_modified_at": at(10) }),
    )
}

fn a_mixed_batch_writes_the_valid_changes_and_rejects_each_bad_one<S: TestStore>() {
    let served = seeded::<S>();
    let me = user(1);
    let changes = vec![
        tune(&id(10), &me, "Valid before", &at(10)),
        note(&id(11), &me, &id(999), "on a tune that does not exist", &at(10)),
        tag(&id(12), &me, &id(TUNE), "fast", &at(10)),
        tune(&id(13), &me, "   ", &at(10)),
        practice(14, &me, 9),
        note(&id(15), &me, &id(TUNE), "valid after", &at(10)),
        practice(16, &me, 4),
        tag(&id(17), &me, &id(TUNE), "slow", &at(10)),
    ];
    let answer = served.sync_as(&me, DEVICE, &Value::Null, changes);
    let expected = json!([
        {
            "table": "tune", "key": { "id": id(13) }, "reason": "constraint",
            "message": "this change of `tune` breaks check `tune_title_not_blank`",
            "constraint": "tune_title_not_blank", "kind": "check", "server_row": null,
        },
        {
            "table": "practice_record", "key": { "id": id(14) }, "reason": "constraint",
            "message": "this change of `practice_record` breaks check `practice_record_quality_range`",
            "constraint": "practice_record_quality_range", "kind": "check", "server_row": null,
        },
        {
            "table": "note", "key": { "id": id(11) }, "reason": "constraint",
            "message": "this change of `note` refers through foreign key `note_tune_id_fkey` \
                        (tune_id) to a row of `tune` that does not exist or that you may not read",
            "constraint": "note_tune_id_fkey", "kind": "foreign_key", "column": "tune_id",
            "server_row": null,
        },
        {
            "table": "tag", "key": { "id": id(12) }, "reason": "constraint",
            "message": "this change of `tag` gives unique key `tag_user_tune_label_key` \
                        (user_id, tune_id, label) values that another row already has",
            "constraint": "tag_user_tune_label_key", "kind": "unique", "server_row": null,
        },
    ]);
    assert_eq!(Value::from(rejected(&answer)), expected, "the same words on both stores");
    let snapshot = served.snapshot();
    for (table, n) in [("tune", 10), ("note", 15), ("practice_record", 16), ("tag", 17)] {
        assert!(snapshot.row(table, json!({ "id": id(n) })).is_some(), "{table} {n} is written");
    }
    for (table, n) in [("note", 11), ("tag", 12), ("tune", 13), ("practice_record", 14)] {
        assert!(snapshot.row(table, json!({ "id": id(n) })).is_none(), "{table} {n} is not");
    }
    // The device keeps syncing: the same request again rejects the same changes, writes none.
    let again = vec![note(&id(11), &me, &id(999), "still missing", &at(20))];
    assert_eq!(rejected(&served.sync_as(&me, DEVICE, &Value::Null, again)).len(), 1);
    served.stop();
}

fn a_value_too_large_to_index_is_rejected_naming_its_column<S: TestStore>() {
    let served = seeded::<S>();
    let me = user(1);
    // Multi-byte characters: the limit is on bytes of UTF-8, not characters.
    let title = "é".repeat(INDEXED_BYTES / 2 + 1);
    let long_body = "x".repeat(20 * INDEXED_BYTES);
    let changes = vec![
        tune(&id(20), &me, &title, &at(10)),
        tune(&id(21), &me, &"é".repeat(INDEXED_BYTES / 2), &at(10)),
        note(&id(22), &me, &id(TUNE), &long_body, &at(10)),
    ];
    let answer = served.sync_as(&me, DEVICE, &Value::Null, changes);
    let expected = json!([{
        "table": "tune", "key": { "id": id(20) }, "reason": "too_large",
        "message": format!(
            "this change of `tune` puts {} bytes in column `title`, which is indexed: an indexed \
             column holds at most {INDEXED_BYTES} bytes",
            INDEXED_BYTES + 2
        ),
        "column": "title", "server_row": null,
    }]);
    assert_eq!(Value::from(rejected(&answer)), expected);
    let snapshot = served.snapshot();
    assert!(snapshot.row("tune", json!({ "id": id(21) })).is_some(), "at the limit: written");
    assert!(snapshot.row("note", json!({ "id": id(22) })).is_some(), "not indexed: written");
    // An update too large keeps the row, which comes back as the server's.
    let edit = tune(&id(TUNE), &me, &title, &at(30));
    let rejected = rejected(&served.sync_as(&me, DEVICE, &Value::Null, vec![edit]));
    assert_eq!(rejected[0]["reason"], "too_large");
    assert_eq!(rejected[0]["server_row"]["title"], "The Silver Spear");
    served.stop();
}

fn references_to_rows_the_user_may_not_read_are_rejected_as_if_missing<S: TestStore>() {
    let served = seeded::<S>();
    let (alice, bob) = (user(1), user(2));
    let bobs_list = id(40);
    served.push_as(
        &bob,
        DEVICE,
        vec![profile(&bob, &at(0)), repertoire(&bobs_list, &bob, "Bob's", &at(0))],
    );
    // Alice's tune is private; 999 is no tune at all. Bob's rows under either are refused alike.
    let under = |tune: &str, n: u32| {
        vec![
            note(&id(n), &bob, tune, "mine", &at(10)),
            repertoire_tune(&bobs_list, tune, &at(10)),
            upsert(
                "practice_record",
                json!({ "id": id(n + 1), "user_id": bob, "tune_id": tune, "practiced": at(0),
                        "quality": 3, "last_modified_at": at(10) }),
            ),
        ]
    };
    let private = rejected(&served.sync_as(&bob, DEVICE, &Value::Null, under(&id(TUNE), 50)));
    let missing = rejected(&served.sync_as(&bob, DEVICE, &Value::Null, under(&id(999), 50)));
    assert_eq!(private.len(), 3, "{private:#?}");
    // The entry's key holds the tune it names; all else is byte for byte the same.
    let keyless = |rejected: &[Value]| -> String {
        let mut rejected = rejected.to_vec();
        rejected.iter_mut().for_each(|r| drop(r.as_object_mut().map(|r| r.remove("key"))));
        serde_json::to_string(&rejected).expect("JSON")
    };
    assert_eq!(keyless(&private), keyless(&missing), "the same answer");
    assert_eq!((&private[1]["key"], &private[2]["key"]), (&missing[1]["key"], &missing[2]["key"]));
    assert_eq!(private[0]["constraint"], "repertoire_tune_tune_id_fkey");
    let snapshot = served.snapshot();
    assert!(snapshot.row("note", json!({ "id": id(50) })).is_none());
    let entry = json!({ "repertoire_id": bobs_list, "tune_id": id(TUNE) });
    assert!(snapshot.row("repertoire_tune", entry).is_none());
    // A public tune is everyone's to refer to; Alice's own rows under her tune are fine.
    served.database().execute(&format!(
        "INSERT INTO tune (id, title, last_modified_at) VALUES ('{}', 'Public', '{}')",
        id(60),
        at(0)
    ));
    served.push_as(&bob, DEVICE, vec![note(&id(61), &bob, &id(60), "on a public tune", &at(10))]);
    served.push_as(&alice, DEVICE, vec![note(&id(62), &alice, &id(TUNE), "mine", &at(10))]);
    served.stop();
}

fn a_sub_spelling_a_uuid_otherwise_is_refused_and_pulls_nothing<S: TestStore>() {
    let served = seeded::<S>();
    let me = user(1);
    let hyphenless = me.replace('-', "");
    let spellings = [
        format!("urn:uuid:{me}"),
        hyphenless.clone(),
        format!("{{{me}}}"),
        // User 1's id has no letters to spell in upper case; another user's has.
        user(0xab).to_uppercase(),
        format!(" {me}"),
        "not-a-uuid".to_owned(),
    ];
    for sub in spellings {
        let body = request(None, json!([]));
        let answer = served.post(Some(&format!("Bearer {}", token(&sub))), body.to_string());
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{sub}: {}", answer.body);
        assert_eq!(answer.body["error"]["code"], "invalid_claim", "{sub}: {}", answer.body);
        assert!(answer.body.get("changes").is_none(), "{sub}: nothing pulled");
        let message = answer.body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("lower-case with hyphens"), "{sub}: {message}");
    }
    // The canonical spelling syncs.
    let (changes, _) = served.pull_as(&me, DEVICE, Value::Null);
    assert_eq!(changes.len(), 3);
    served.stop();
}

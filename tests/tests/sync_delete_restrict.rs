//! A hard delete that a foreign key refuses (issue 12, item 1), on both stores through the HTTP
//! endpoint: a `tag` that rows of another table still refer to through `ON DELETE RESTRICT` or
//! `NO ACTION` is not deleted; the delete alone is rejected as `constraint`, named by the
//! foreign key as the schema names it, with the server's row, in the same words on both stores;
//! the rest of the push lands; and a device quarantines the refused delete and converges. A key
//! further down a cascade (a tag's links go with it, a pin keeps its link) is named as well.

use integration_tests::server::{Answer, Options, Served, token};
use integration_tests::sync::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sync_runtime::client::{Client, ClientConfig, QuarantinedOp};
use sync_runtime::protocol::{ConstraintKind, RejectReason};

integration_tests::for_each_store!(
    a_delete_a_foreign_key_refuses_is_rejected_alone_and_the_rest_lands,
    a_device_quarantines_a_refused_delete_and_converges,
    a_key_down_a_cascade_is_named,
);

const DEVICE: &str = "00000000-0000-4000-9000-000000000001";

/// The example schema with two tables that refer to `tag` and keep their tag from being
/// deleted: `tag_use` by `ON DELETE RESTRICT`, `tag_pin` by `NO ACTION`; and a cascade: a
/// `tag_link` goes with its tag, and a `tag_link_pin` keeps its link (`RESTRICT`).
fn schema() -> codegen::ir::Schema {
    let mut text = std::fs::read_to_string(integration_tests::workspace_root().join("schema.toml"))
        .expect("read schema.toml");
    let tables = [
        ("tag_use", "tag_id", "tag.id", "restrict"),
        ("tag_pin", "tag_id", "tag.id", "no action"),
        ("tag_link", "tag_id", "tag.id", "cascade"),
        ("tag_link_pin", "link_id", "tag_link.id", "restrict"),
    ];
    for (table, column, references, action) in tables {
        text.push_str(&format!(
            r#"
[tables.{table}]
sync = "owner"
deleted = false
deletes = "hard"

[tables.{table}.columns]
id = {{ type = "uuid", primary_key = true, default = "random" }}
user_id = {{ type = "uuid", references = "user_profile.id", on_delete = "cascade" }}
{column} = {{ type = "uuid", references = "{references}", on_delete = "{action}" }}
sync_version = {{ type = "integer", default = 1 }}
device_id = {{ type = "text", nullable = true }}
last_modified_at = {{ type = "timestamp", default = "now" }}
"#
        ));
    }
    integration_tests::load("schema.toml (tags in use)", &text)
}

/// A row of `table` (`tag_use` or `tag_pin`) referring to tag `tag`.
fn using(table: &str, id: &str, user: &str, tag: &str, at: &str) -> Value {
    upsert(table, json!({ "id": id, "user_id": user, "tag_id": tag, "last_modified_at": at }))
}

fn rejected(answer: &Answer) -> Vec<Value> {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.body["rejected"].as_array().expect("a list of rejections").clone()
}

fn a_delete_a_foreign_key_refuses_is_rejected_alone_and_the_rest_lands<S: TestStore>() {
    let served = Served::start_with::<S>(schema(), Options::default());
    let me = user(1);
    served.push_as(
        &me,
        DEVICE,
        vec![
            profile(&me, &at(0)),
            tune(&id(1), &me, "The Kesh", &at(0)),
            tag(&id(2), &me, &id(1), "restricted", &at(0)),
            tag(&id(3), &me, &id(1), "no action", &at(0)),
            tag(&id(4), &me, &id(1), "free", &at(0)),
            using("tag_use", &id(5), &me, &id(2), &at(0)),
            using("tag_pin", &id(6), &me, &id(3), &at(0)),
        ],
    );
    let before = served.snapshot();
    let changes = vec![
        delete("tag", json!({ "id": id(2) }), &at(10)),
        delete("tag", json!({ "id": id(3) }), &at(10)),
        delete("tag", json!({ "id": id(4) }), &at(10)),
        tune(&id(7), &me, "Written beside", &at(10)),
    ];
    let mut refused = rejected(&served.sync_as(&me, DEVICE, &Value::Null, changes));
    let server_rows: Vec<Option<Values>> = refused
        .iter_mut()
        .map(|r| r.as_object_mut().and_then(|r| r.remove("server_row")))
        .map(|row| row.and_then(|row| row.as_object().cloned()).map(normal))
        .collect();
    let expected = json!([
        {
            "table": "tag", "key": { "id": id(2) }, "reason": "constraint",
            "message": "this change of `tag` deletes a row that rows of `tag_use` still refer to \
                        through foreign key `tag_use_tag_id_fkey` (tag_id), which does not let \
                        it go",
            "constraint": "tag_use_tag_id_fkey", "kind": "foreign_key",
        },
        {
            "table": "tag", "key": { "id": id(3) }, "reason": "constraint",
            "message": "this change of `tag` deletes a row that rows of `tag_pin` still refer to \
                        through foreign key `tag_pin_tag_id_fkey` (tag_id), which does not let \
                        it go",
            "constraint": "tag_pin_tag_id_fkey", "kind": "foreign_key",
        },
    ]);
    assert_eq!(Value::from(refused), expected, "the same words on both stores");
    let tag_row = |n| before.row("tag", json!({ "id": id(n) }));
    assert_eq!(server_rows, vec![tag_row(2), tag_row(3)], "with the server's rows");

    let after = served.snapshot();
    for n in [2, 3] {
        assert_eq!(after.row("tag", json!({ "id": id(n) })), tag_row(n), "tag {n} stays as it was");
    }
    assert_eq!(after.row("tag", json!({ "id": id(4) })), None, "the free tag is deleted");
    assert!(after.row("tune", json!({ "id": id(7) })).is_some(), "the tune is written");
    served.stop();
}

/// A device of `user` with the schema of [`schema`], syncing with `served`.
fn device(served: &Served, dir: &tempfile::TempDir, name: &str, user: &str) -> Client {
    let ir = schema();
    let ddl = Ddl::of(&ir);
    let config = ClientConfig::new(served.server.url(""), token(user));
    let meta = codegen::meta::schema_meta(&ir);
    Client::open(&dir.path().join(name), meta, &ddl.sqlite, config).expect("open a device")
}

fn sync_device(served: &Served, device: &Client) -> sync_runtime::client::SyncReport {
    served.settle();
    served.block_on(device.sync_once()).unwrap_or_else(|e| panic!("the sync fails: {e}"))
}

fn execute(device: &Client, sql: &str) {
    device.with_db(|conn| {
        conn.execute_batch(&format!("BEGIN; {sql}; COMMIT"))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    });
}

fn a_device_quarantines_a_refused_delete_and_converges<S: TestStore>() {
    let served = Served::start_with::<S>(schema(), Options::default());
    let me = user(1);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (a, b) = (device(&served, &dir, "a.db", &me), device(&served, &dir, "b.db", &me));
    execute(
        &a,
        &format!(
            "INSERT INTO user_profile (id, last_modified_at) VALUES ('{me}', '{t}');
             INSERT INTO tune (id, user_id, title, last_modified_at) VALUES ('{}', '{me}', 'The Kesh', '{t}');
             INSERT INTO tag (id, user_id, tune_id, label, last_modified_at) VALUES ('{}', '{me}', '{}', 'session', '{t}')",
            id(1),
            id(2),
            id(1),
            t = at(1),
        ),
    );
    sync_device(&served, &a);
    sync_device(&served, &b);
    // B puts the tag to use; A, which has not heard of it, deletes the tag and renames the tune.
    execute(
        &b,
        &format!(
            "INSERT INTO tag_use (id, user_id, tag_id, last_modified_at) VALUES ('{}', '{me}', '{}', '{}')",
            id(3),
            id(2),
            at(2)
        ),
    );
    sync_device(&served, &b);
    execute(
        &a,
        &format!(
            "DELETE FROM tag WHERE id = '{}'; UPDATE tune SET title = 'Renamed', last_modified_at = '{}'",
            id(2),
            at(3)
        ),
    );
    let report = sync_device(&served, &a);
    assert_eq!(
        (report.pushed, report.rejected, report.applied.quarantined),
        (2, 1, 1),
        "{report:?}"
    );

    let snapshot = served.snapshot();
    assert!(snapshot.row("tag", json!({ "id": id(2) })).is_some(), "the tag stays on the server");
    let tune = snapshot.row("tune", json!({ "id": id(1) })).expect("the tune");
    assert_eq!(tune["title"], json!("Renamed"), "the rest of the push lands");

    let [kept] = a.quarantine().expect("the quarantine").try_into().expect("one entry");
    assert_eq!((kept.table.as_str(), kept.op), ("tag", QuarantinedOp::Delete));
    assert_eq!(
        (kept.reason, kept.kind),
        (RejectReason::Constraint, Some(ConstraintKind::ForeignKey))
    );
    assert_eq!(kept.constraint.as_deref(), Some("tag_use_tag_id_fkey"));
    assert!(kept.server_row.is_some(), "the server's row, which the user may read");

    // Both devices end with what the user may read, and nothing left to push.
    for device in [&a, &b] {
        assert_eq!(sync_device(&served, device).pushed, 0, "a quiet sync");
        let outbox: i64 = device
            .with_db(|c| c.query_row("SELECT count(*) FROM _sync_outbox", [], |r| r.get(0)))
            .expect("count the outbox");
        assert_eq!(outbox, 0, "nothing left to push");
        for (table, n) in [("tag", 2), ("tag_use", 3)] {
            let rows = device.rows(table).expect("the device's rows");
            assert_eq!(rows.len(), 1, "{table} {n} is on the device: {rows:?}");
            assert_eq!(rows[0]["id"], json!(id(n)));
        }
        let tunes = device.rows("tune").expect("the device's tunes");
        assert_eq!(tunes[0]["title"], json!("Renamed"));
    }
    drop((a, b));
    served.stop();
}

fn a_key_down_a_cascade_is_named<S: TestStore>() {
    let served = Served::start_with::<S>(schema(), Options::default());
    let me = user(1);
    let link = |n: u32, tag: u32| {
        let row =
            json!({ "id": id(n), "user_id": me, "tag_id": id(tag), "last_modified_at": at(0) });
        upsert("tag_link", row)
    };
    let pin = json!({ "id": id(7), "user_id": me, "link_id": id(5), "last_modified_at": at(0) });
    served.push_as(
        &me,
        DEVICE,
        vec![
            profile(&me, &at(0)),
            tune(&id(1), &me, "The Kesh", &at(0)),
            tag(&id(2), &me, &id(1), "pinned link", &at(0)),
            tag(&id(3), &me, &id(1), "free link", &at(0)),
            link(5, 2),
            link(6, 3),
            upsert("tag_link_pin", pin),
        ],
    );
    let changes = vec![
        delete("tag", json!({ "id": id(2) }), &at(10)),
        delete("tag", json!({ "id": id(3) }), &at(10)),
    ];
    let mut refused = rejected(&served.sync_as(&me, DEVICE, &Value::Null, changes));
    for rejection in &mut refused {
        let server_row = rejection.as_object_mut().and_then(|r| r.remove("server_row"));
        assert!(server_row.is_some_and(|row| row.is_object()), "with the server's tag");
    }
    let expected = json!([{
        "table": "tag", "key": { "id": id(2) }, "reason": "constraint",
        "message": "this change of `tag` deletes a row whose delete cascades to rows of \
                    `tag_link` that rows of `tag_link_pin` still refer to through foreign key \
                    `tag_link_pin_link_id_fkey` (link_id), which does not let them go",
        "constraint": "tag_link_pin_link_id_fkey", "kind": "foreign_key",
    }]);
    assert_eq!(Value::from(refused), expected, "the same words on both stores");

    let after = served.snapshot();
    assert!(after.row("tag", json!({ "id": id(2) })).is_some(), "the pinned link's tag stays");
    assert!(after.row("tag_link", json!({ "id": id(5) })).is_some(), "and its link");
    assert_eq!(after.row("tag", json!({ "id": id(3) })), None, "the other tag is deleted");
    assert_eq!(after.row("tag_link", json!({ "id": id(6) })), None, "with its link");
    served.stop();
}

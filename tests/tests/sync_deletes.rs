//! Conformance, deletes (docs/sync.md), on both stores: a client delete is a soft delete that the
//! user's other devices pull; an older delete loses to a later edit; a table without a deleted
//! column that does not opt in to hard deletes refuses deletes (`sync_hard_deletes` has those); a row removed by plain SQL on the server, with its cascade, reaches
//! its owner's devices as a deletion and nobody else's; so does the old key of a row whose
//! primary key an admin changes. On Postgres, TRUNCATE of a synced table is refused.

use std::collections::BTreeSet;

use integration_tests::sync::*;
use serde_json::json;
use sync_runtime::protocol::{ErrorCode, RejectReason};

integration_tests::for_each_store!(
    a_delete_leaves_a_soft_deleted_row_that_other_devices_pull,
    an_older_delete_loses_to_a_later_edit,
    a_delete_of_a_row_the_server_never_had_does_nothing,
    a_table_without_a_deleted_column_refuses_deletes,
    rows_removed_by_sql_and_their_cascade_reach_the_owner_as_deletions,
    public_rows_removed_by_sql_reach_everyone,
    unowned_rows_of_an_owner_table_removed_by_sql_reach_nobody,
    a_key_changed_by_sql_reaches_clients_as_a_removal_and_a_new_row,
);

fn a_delete_leaves_a_soft_deleted_row_that_other_devices_pull<S: TestStore>() {
    let server = Server::<S>::new();
    let me = user(1);
    let (a, mut b) = (Device::new(&me, 1), Device::new(&me, 2));
    server.push(&a, vec![profile(&me, &at(0)), tune(&id(1), &me, "The Kesh", &at(1))]);
    let mut replica = Rows::new();
    server.catch_up(&mut b, &mut replica);

    let response = server.push(&a, vec![delete("tune", json!({ "id": id(1) }), &at(2))]);
    assert!(response.rejected.is_empty(), "{:?}", response.rejected);
    let row = server.snapshot().row("tune", json!({ "id": id(1) })).expect("still there");
    assert_eq!(row["deleted"], true);
    assert_eq!(row["title"], "The Kesh");
    assert_eq!(row["last_modified_at"], json!(at(2)), "the delete's time is the conflict time");
    assert_eq!((&row["sync_version"], &row["device_id"]), (&json!(2), &json!(a.client_id)));

    // The other device gets the row with its deleted flag set: a row, not a removal.
    let pulled = server.catch_up(&mut b, &mut replica);
    let tune_key = ("tune".to_owned(), format!("[\"{}\"]", id(1)));
    assert_eq!(pulled_keys(server.schema.meta, &pulled), vec![(tune_key.clone(), false)]);
    assert_eq!(replica[&tune_key]["deleted"], true);
    assert_eq!(replica, server.snapshot().readable_by(&me));
}

fn an_older_delete_loses_to_a_later_edit<S: TestStore>() {
    let server = Server::<S>::new();
    let me = user(1);
    let (a, b) = (Device::new(&me, 1), Device::new(&me, 2));
    server.push(&a, vec![profile(&me, &at(0)), tune(&id(1), &me, "edited", &at(5))]);
    let before = server.snapshot();

    let response = server.push(&b, vec![delete("tune", json!({ "id": id(1) }), &at(4))]);
    let [rejected] = response.rejected.as_slice() else { panic!("{:?}", response.rejected) };
    assert_eq!(rejected.reason, RejectReason::Stale);
    let server_row = rejected.server_row.as_ref().map(|r| normal(r.values().unwrap()));
    assert_eq!(server_row, before.row("tune", json!({ "id": id(1) })));
    assert_eq!(server.snapshot(), before);
}

fn a_delete_of_a_row_the_server_never_had_does_nothing<S: TestStore>() {
    let server = Server::<S>::new();
    let me = user(1);
    let a = Device::new(&me, 1);
    server.push(&a, vec![profile(&me, &at(0))]);
    let before = server.snapshot();
    let response = server.push(&a, vec![delete("note", json!({ "id": id(9) }), &at(1))]);
    assert!(response.rejected.is_empty(), "{:?}", response.rejected);
    assert_eq!(server.snapshot(), before);
}

/// The example schema without `deletes = "hard"` on `tag`, which has no deleted column.
fn tags_without_hard_deletes() -> String {
    let text = std::fs::read_to_string(integration_tests::workspace_root().join("schema.toml"))
        .expect("read schema.toml");
    let opt_in = text.lines().find(|l| l.starts_with("deletes = \"hard\"")).expect("tag opts in");
    text.replacen(opt_in, "", 1)
}

fn a_table_without_a_deleted_column_refuses_deletes<S: TestStore>() {
    let server = Server::<S>::with_schema(&tags_without_hard_deletes());
    let me = user(1);
    let a = Device::new(&me, 1);
    server.push(
        &a,
        vec![
            profile(&me, &at(0)),
            tune(&id(1), &me, "The Kesh", &at(0)),
            tag(&id(2), &me, &id(1), "favourite", &at(0)),
        ],
    );
    let before = server.snapshot();
    // With a valid change in the same request: the whole request writes nothing.
    let refusal = server
        .try_push(
            &a,
            vec![
                note(&id(3), &me, &id(1), "fine", &at(1)),
                delete("tag", json!({ "id": id(2) }), &at(1)),
            ],
        )
        .expect_err("a delete of a tag");
    assert_eq!(refusal.code(), ErrorCode::DeleteNotSupported);
    assert_eq!(refusal.location().and_then(|at| at.table.as_deref()), Some("tag"));
    assert_eq!(server.snapshot(), before);
}

fn rows_removed_by_sql_and_their_cascade_reach_the_owner_as_deletions<S: TestStore>() {
    let server = Server::<S>::new();
    let (me, them) = (user(1), user(2));
    let (mut mine, mut theirs) = (Device::new(&me, 1), Device::new(&them, 2));
    let [t1, t2, r1, r2, n1, t3] = [1, 2, 3, 4, 5, 6].map(id);
    server.push(
        &mine,
        vec![
            profile(&me, &at(0)),
            tune(&t1, &me, "one", &at(0)),
            tune(&t2, &me, "two", &at(0)),
            repertoire(&r1, &me, "Session", &at(0)),
            repertoire(&r2, &me, "Concert", &at(0)),
            repertoire_tune(&r1, &t1, &at(0)),
            repertoire_tune(&r2, &t2, &at(0)),
            note(&n1, &me, &t1, "lift on the B part", &at(0)),
        ],
    );
    server.push(&theirs, vec![profile(&them, &at(0)), tune(&t3, &them, "three", &at(0))]);
    let (mut my_replica, mut their_replica) = (Rows::new(), Rows::new());
    server.catch_up(&mut mine, &mut my_replica);
    server.catch_up(&mut theirs, &mut their_replica);

    // An admin removes a tune (its repertoire entry and note go by cascade) and a repertoire
    // (its entries, owned through it, go by cascade).
    server.sql(&format!(
        "DELETE FROM tune WHERE id = '{t1}'; DELETE FROM repertoire WHERE id = '{r2}'"
    ));

    let pulled = server.catch_up(&mut mine, &mut my_replica);
    let removed: BTreeSet<(String, String)> = pulled_keys(server.schema.meta, &pulled)
        .into_iter()
        .map(|(key, removal)| {
            assert!(removal, "only removals were expected, got {key:?} as a row");
            key
        })
        .collect();
    let key =
        |table: &str, values: &[&str]| (table.to_owned(), serde_json::to_string(values).unwrap());
    let expected = BTreeSet::from([
        key("tune", &[&t1]),
        key("note", &[&n1]),
        key("repertoire_tune", &[&r1, &t1]),
        key("repertoire", &[&r2]),
        key("repertoire_tune", &[&r2, &t2]),
    ]);
    assert_eq!(removed, expected);
    assert_eq!(my_replica, server.snapshot().readable_by(&me));

    // The other user saw none of these rows, and hears nothing of their removal.
    assert_eq!(server.pull_all(&mut theirs).len(), 0);
    assert_eq!(their_replica, server.snapshot().readable_by(&them));
}

fn public_rows_removed_by_sql_reach_everyone<S: TestStore>() {
    let server = Server::<S>::new();
    let (me, them) = (user(1), user(2));
    let (mut mine, mut theirs) = (Device::new(&me, 1), Device::new(&them, 2));
    let (public, private) = (id(1), id(2));
    server.sql(&format!(
        "INSERT INTO genre (id, name, last_modified_at) VALUES ('irish', 'Irish', '{t}'); \
         INSERT INTO tune (id, title, last_modified_at) VALUES ('{public}', 'Public', '{t}')",
        t = at(0)
    ));
    let mut my_tune = tune(&private, &me, "mine", &at(0));
    my_tune["row"]["genre_id"] = json!("irish");
    server.push(&mine, vec![profile(&me, &at(0)), my_tune]);
    server.push(&theirs, vec![profile(&them, &at(0))]);
    let (mut my_replica, mut their_replica) = (Rows::new(), Rows::new());
    server.catch_up(&mut mine, &mut my_replica);
    server.catch_up(&mut theirs, &mut their_replica);

    // Removing the genre sets my tune's genre to NULL (ON DELETE SET NULL): an update by
    // another path, which reaches me as a row.
    server.sql(&format!(
        "DELETE FROM tune WHERE id = '{public}'; DELETE FROM genre WHERE id = 'irish'"
    ));
    let key =
        |table: &str, value: &str| (table.to_owned(), serde_json::to_string(&[value]).unwrap());
    let removed = BTreeSet::from([(key("tune", &public), true), (key("genre", "irish"), true)]);
    let mut expected = removed.clone();
    expected.insert((key("tune", &private), false));
    let pulled = server.catch_up(&mut mine, &mut my_replica);
    assert_eq!(
        pulled_keys(server.schema.meta, &pulled).into_iter().collect::<BTreeSet<_>>(),
        expected
    );
    assert_eq!(my_replica[&key("tune", &private)]["genre_id"], serde_json::Value::Null);
    let pulled = server.catch_up(&mut theirs, &mut their_replica);
    assert_eq!(
        pulled_keys(server.schema.meta, &pulled).into_iter().collect::<BTreeSet<_>>(),
        removed
    );
    assert_eq!(my_replica, server.snapshot().readable_by(&me));
    assert_eq!(their_replica, server.snapshot().readable_by(&them));
}

/// An `owner` table whose owner column may be NULL: such a row is nobody's to read.
const NULLABLE_OWNER: &str = r#"
[schema]
name = "memos"
version = 1

[sync]
owner = "user_id"
modified = "last_modified_at"
deleted = "deleted"

[tables.memo]
sync = "owner"

[tables.memo.columns]
id = { type = "uuid", primary_key = true }
user_id = { type = "uuid", nullable = true }
deleted = { type = "boolean", default = false }
last_modified_at = { type = "timestamp" }
"#;

fn unowned_rows_of_an_owner_table_removed_by_sql_reach_nobody<S: TestStore>() {
    let server = Server::<S>::with_schema(NULLABLE_OWNER);
    let mut someone = Device::new(&user(1), 1);
    server.sql(&format!(
        "INSERT INTO memo (id, user_id, last_modified_at) VALUES ('{}', NULL, '{}')",
        id(1),
        at(0)
    ));
    assert!(server.pull_all(&mut someone).is_empty(), "an unowned row was served");
    server.sql(&format!("DELETE FROM memo WHERE id = '{}'", id(1)));
    assert!(server.pull_all(&mut someone).is_empty(), "an unowned row's removal was served");
}

fn a_key_changed_by_sql_reaches_clients_as_a_removal_and_a_new_row<S: TestStore>() {
    let server = Server::<S>::new();
    let me = user(1);
    let mut mine = Device::new(&me, 1);
    let (old, new) = (id(1), id(2));
    server.push(&mine, vec![profile(&me, &at(0)), tune(&old, &me, "one", &at(0))]);
    let mut replica = Rows::new();
    server.catch_up(&mut mine, &mut replica);

    server.sql(&format!("UPDATE tune SET id = '{new}' WHERE id = '{old}'"));

    server.catch_up(&mut mine, &mut replica);
    assert_eq!(
        replica,
        server.snapshot().readable_by(&me),
        "the old key is gone, the new one is there"
    );
}

#[test]
fn truncate_of_a_synced_table_is_refused_on_postgres() {
    let server = Server::<sync_runtime::store::postgres::PgStore>::new();
    let me = user(1);
    let device = Device::new(&me, 1);
    server.push(&device, vec![profile(&me, &at(0)), tune(&id(1), &me, "one", &at(0))]);
    let before = server.snapshot();
    let error = server.db.postgres().batch_execute("TRUNCATE tune CASCADE").unwrap_err();
    let message = error.as_db_error().map(|e| e.message().to_owned()).unwrap_or_default();
    assert!(message.contains("TRUNCATE of synced table"), "{message}");
    assert_eq!(server.snapshot(), before, "nothing was removed");
}

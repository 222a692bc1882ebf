//! Conformance, tenancy (docs/sync.md), on both stores: a second user tries every way into the
//! first user's rows. A request that claims another owner or writes a public table is refused
//! with 403 and writes nothing, not even the valid changes that came with it; a change of a row
//! that is not the user's (any longer) is rejected alone as `forbidden`, with the server's row
//! only when the user may read it, and the rest of the request is written; each read finds
//! nothing it may not see.

use integration_tests::sync::*;
use serde_json::{Value, json};
use sync_runtime::protocol::{ConstraintKind, ErrorCode, RejectReason};

integration_tests::for_each_store!(
    a_spoofed_owner_is_refused,
    another_users_row_cannot_be_updated_or_deleted,
    a_via_child_cannot_be_put_under_another_users_parent,
    a_via_child_cannot_be_moved_across_users,
    public_rows_are_read_only,
    a_user_pulls_only_what_they_may_read,
    a_subject_not_spelled_as_rows_hold_ids_is_refused,
);

/// Two users with rows of every kind, and the public catalog written by SQL.
struct World<S> {
    server: Server<S>,
    /// The victim, user 1.
    a: Device,
    /// The intruder, user 2.
    b: Device,
    /// The time of the intruder's next valid change: each must be newer than the last to be
    /// written at all.
    clock: std::cell::Cell<i64>,
}

// Row ids: the victim's tune, repertoire and note; the intruder's tune and repertoire; a public
// tune and a genre.
const TA: u32 = 1;
const RA: u32 = 2;
const NA: u32 = 3;
const TB: u32 = 11;
const RB: u32 = 12;
const TP: u32 = 21;
const GENRE: &str = "irish";

fn world<S: TestStore>() -> World<S> {
    let server = Server::<S>::new();
    let (a, b) = (Device::new(&user(1), 1), Device::new(&user(2), 2));
    let (me, them) = (&a.user, &b.user);
    server.push(
        &a,
        vec![
            profile(me, &at(0)),
            tune(&id(TA), me, "Private reel", &at(0)),
            repertoire(&id(RA), me, "Mine", &at(0)),
            repertoire_tune(&id(RA), &id(TA), &at(0)),
            note(&id(NA), me, &id(TA), "secret", &at(0)),
        ],
    );
    server.push(
        &b,
        vec![
            profile(them, &at(0)),
            tune(&id(TB), them, "Intruder's jig", &at(0)),
            repertoire(&id(RB), them, "Theirs", &at(0)),
            repertoire_tune(&id(RB), &id(TB), &at(0)),
        ],
    );
    server.sql(&format!(
        "INSERT INTO genre (id, name, last_modified_at) VALUES ('{GENRE}', 'Irish', '{t}'); \
         INSERT INTO tune (id, title, genre_id, last_modified_at) VALUES ('{tp}', 'Public reel', '{GENRE}', '{t}')",
        t = at(0),
        tp = id(TP),
    ));
    World { server, a, b, clock: std::cell::Cell::new(100) }
}

impl<S: TestStore> World<S> {
    /// A valid change of the intruder's own, newer than any before it.
    fn valid(&self) -> Value {
        let time = self.clock.get() + 1;
        self.clock.set(time);
        profile(&self.b.user, &at(time))
    }

    /// Send `change` as the intruder, after a valid change of their own in the same request
    /// (to a table written before any other, so it was applied when the refusal came), and
    /// check that the request is refused with 403 and wrote nothing.
    fn refused(&self, change: Value) {
        let before = self.server.snapshot();
        let valid = self.valid();
        match self.server.try_push(&self.b, vec![valid, change.clone()]) {
            Ok(response) => panic!("{change} was accepted: {response:?}"),
            Err(refusal) => assert_eq!(refusal.code(), ErrorCode::Forbidden, "{change}: {refusal}"),
        }
        assert_eq!(self.server.snapshot(), before, "the refused request {change} wrote something");
    }

    /// Send `change` as the intruder, after a valid change of their own in the same request,
    /// and check that it alone is rejected as `forbidden`, carrying the server's row only when
    /// the intruder may read it (`readable`), and that only the valid change was written.
    fn forbidden(&self, change: Value, readable: bool) {
        let before = self.server.snapshot();
        let valid = self.valid();
        let response = self.server.push(&self.b, vec![valid, change.clone()]);
        let [rejected] = response.rejected.as_slice() else {
            panic!("{change}: one rejection: {response:?}")
        };
        assert_eq!(rejected.reason, RejectReason::Forbidden, "{change}: {rejected:?}");
        assert_eq!(rejected.server_row.is_some(), readable, "{change}: {rejected:?}");
        assert!(!rejected.message.contains(&self.a.user), "{change} names the owner: {rejected:?}");
        let after = self.server.snapshot();
        let written: Vec<&(String, String)> =
            after.rows.keys().filter(|k| before.rows.get(*k) != after.rows.get(*k)).collect();
        let profile = ("user_profile".to_owned(), json!([self.b.user]).to_string());
        assert_eq!(written, [&profile], "{change}: only the valid change is written");
    }

    /// Send `change` as the intruder and check that it alone is rejected as a reference to a
    /// parent that does not exist or that the intruder may not read, and that nothing was
    /// written: the same answer whichever it is, so it tells nothing of the victim's rows.
    fn rejected_as_missing_parent(&self, change: Value, constraint: &str) {
        let before = self.server.snapshot();
        let response = self.server.push(&self.b, vec![change.clone()]);
        let [rejected] = response.rejected.as_slice() else {
            panic!("{change}: one rejection: {response:?}")
        };
        assert_eq!(rejected.kind, Some(ConstraintKind::ForeignKey), "{change}: {rejected:?}");
        assert_eq!(rejected.constraint.as_deref(), Some(constraint), "{change}");
        assert_eq!(rejected.server_row.as_ref().map(|_| ()), None, "{change}");
        assert_eq!(self.server.snapshot(), before, "the rejected {change} wrote something");
    }
}

fn a_spoofed_owner_is_refused<S: TestStore>() {
    let w = world::<S>();
    let victim = &w.a.user;
    w.refused(tune(&id(30), victim, "planted", &at(1)));
    w.refused(note(&id(31), victim, &id(TB), "planted", &at(1)));
    w.refused(profile(victim, &at(1)));
}

fn another_users_row_cannot_be_updated_or_deleted<S: TestStore>() {
    let w = world::<S>();
    let me = &w.b.user;
    // Claiming the row as one's own does not make it so: the row in the database decides. A
    // device can send such a change honestly (it edited a row an admin gave away since), so it
    // is rejected alone, and tells nothing of the row.
    w.forbidden(tune(&id(TA), me, "stolen", &at(1)), false);
    w.forbidden(note(&id(NA), me, &id(TA), "stolen", &at(1)), false);
    w.forbidden(repertoire(&id(RA), me, "stolen", &at(1)), false);
    w.forbidden(delete("tune", json!({ "id": id(TA) }), &at(1)), false);
    w.forbidden(delete("note", json!({ "id": id(NA) }), &at(1)), false);
}

fn a_via_child_cannot_be_put_under_another_users_parent<S: TestStore>() {
    let w = world::<S>();
    // A new child under the victim's repertoire, even of the intruder's own tune, is rejected
    // alone, exactly as one under a parent that does not exist.
    let fkey = "repertoire_tune_repertoire_id_fkey";
    w.rejected_as_missing_parent(repertoire_tune(&id(RA), &id(TB), &at(1)), fkey);
    w.rejected_as_missing_parent(repertoire_tune(&id(99), &id(TB), &at(1)), fkey);
    // An update and a delete of the victim's child.
    w.forbidden(repertoire_tune(&id(RA), &id(TA), &at(1)), false);
    w.forbidden(
        delete("repertoire_tune", json!({ "repertoire_id": id(RA), "tune_id": id(TA) }), &at(1)),
        false,
    );
}

/// A `via:` table whose parent column is not part of its key, so a child can move between
/// parents (in the example schema the parent is part of `repertoire_tune`'s key).
const MOVES: &str = r#"
[schema]
name = "moves"
version = 1

[sync]
owner = "user_id"
modified = "last_modified_at"
deleted = "deleted"

[tables.folder]
sync = "owner"

[tables.folder.columns]
id = { type = "uuid", primary_key = true }
user_id = { type = "uuid" }
deleted = { type = "boolean", default = false }
last_modified_at = { type = "timestamp" }

[tables.item]
sync = "via:folder_id"

[tables.item.columns]
id = { type = "uuid", primary_key = true }
folder_id = { type = "uuid", references = "folder.id", on_delete = "cascade" }
body = { type = "text" }
deleted = { type = "boolean", default = false }
last_modified_at = { type = "timestamp" }
"#;

fn a_via_child_cannot_be_moved_across_users<S: TestStore>() {
    let server = Server::<S>::with_schema(MOVES);
    let (a, b) = (Device::new(&user(1), 1), Device::new(&user(2), 2));
    let folder = |n: u32, owner: &str| {
        upsert("folder", json!({ "id": id(n), "user_id": owner, "last_modified_at": at(0) }))
    };
    let item = |n: u32, folder: u32, time: i64| {
        upsert(
            "item",
            json!({ "id": id(n), "folder_id": id(folder), "body": "x", "last_modified_at": at(time) }),
        )
    };
    server.push(&a, vec![folder(1, &a.user), item(10, 1, 0)]);
    server.push(&b, vec![folder(2, &b.user), folder(3, &b.user), item(20, 2, 0)]);
    // Moving one's own item between one's own folders is fine.
    let response = server.push(&b, vec![item(20, 3, 1)]);
    assert!(response.rejected.is_empty(), "{:?}", response.rejected);

    let before = server.snapshot();
    // B's own item under A's folder: that change is rejected as a reference to a folder B may
    // not read, and B keeps its row as the server has it.
    let response = server.push(&b, vec![item(20, 1, 2)]);
    let [rejected] = response.rejected.as_slice() else { panic!("one rejection: {response:?}") };
    assert_eq!(rejected.constraint.as_deref(), Some("item_folder_id_fkey"), "{rejected:?}");
    let kept = serde_json::to_value(&rejected.server_row).expect("a row");
    assert_eq!(kept["folder_id"], json!(id(3)), "B's item stays in its folder: {rejected:?}");
    // A's item, moved under B's folder: an update of another user's row, rejected alone and
    // without the row, which B may not read.
    let response = server.push(&b, vec![item(10, 2, 2)]);
    let [rejected] = response.rejected.as_slice() else { panic!("one rejection: {response:?}") };
    assert_eq!(rejected.reason, RejectReason::Forbidden, "{rejected:?}");
    assert_eq!(rejected.column.as_deref(), Some("folder_id"), "{rejected:?}");
    assert!(rejected.server_row.is_none(), "{rejected:?}");
    assert_eq!(server.snapshot(), before, "the rejected moves wrote something");
}

fn public_rows_are_read_only<S: TestStore>() {
    let w = world::<S>();
    let me = &w.b.user;
    let genre = json!({ "id": GENRE, "name": "Mine", "last_modified_at": at(1) });
    w.refused(upsert("genre", genre));
    w.refused(upsert("genre", json!({ "id": "new", "name": "New", "last_modified_at": at(1) })));
    w.refused(delete("genre", json!({ "id": GENRE }), &at(1)));
    // A public tune can neither be taken over nor deleted (rejected alone, with the public row,
    // which the user may read: a device may have edited it before an admin made it public),
    // nor written as public (no device writes a row without its owner: refused whole).
    w.forbidden(tune(&id(TP), me, "taken over", &at(1)), true);
    w.forbidden(delete("tune", json!({ "id": id(TP) }), &at(1)), true);
    let mut public = tune(&id(TP), me, "edited", &at(1));
    public["row"]["user_id"] = Value::Null;
    w.refused(public);
}

fn a_user_pulls_only_what_they_may_read<S: TestStore>() {
    let mut w = world::<S>();
    let snapshot = w.server.snapshot();
    let (mut mine, mut theirs) = (Rows::new(), Rows::new());
    w.server.catch_up(&mut w.a, &mut mine);
    w.server.catch_up(&mut w.b, &mut theirs);
    assert_eq!(mine, snapshot.readable_by(&w.a.user));
    assert_eq!(theirs, snapshot.readable_by(&w.b.user));

    let tables_and_ids = |rows: &Rows| -> Vec<(String, String)> { rows.keys().cloned().collect() };
    let key =
        |table: &str, values: &[&str]| (table.to_owned(), serde_json::to_string(values).unwrap());
    let [ta, ra, na, tb, rb, tp] = [TA, RA, NA, TB, RB, TP].map(id);
    let (a, b) = (w.a.user.as_str(), w.b.user.as_str());
    let public = [key("genre", &[GENRE]), key("tune", &[&tp])];
    let victims = [
        key("user_profile", &[a]),
        key("tune", &[&ta]),
        key("repertoire", &[&ra]),
        key("repertoire_tune", &[&ra, &ta]),
        key("note", &[&na]),
    ];
    let intruders = [
        key("user_profile", &[b]),
        key("tune", &[&tb]),
        key("repertoire", &[&rb]),
        key("repertoire_tune", &[&rb, &tb]),
    ];
    let sorted = |parts: &[&[(String, String)]]| {
        let mut all: Vec<(String, String)> = parts.concat();
        all.sort();
        all
    };
    assert_eq!(tables_and_ids(&mine), sorted(&[&public, &victims]));
    assert_eq!(tables_and_ids(&theirs), sorted(&[&public, &intruders]));
}

fn a_subject_not_spelled_as_rows_hold_ids_is_refused<S: TestStore>() {
    let w = world::<S>();
    // Owner columns are UUIDs: another spelling of a user's id, or no UUID at all, is refused
    // before anything is read or written, never compared equal to the canonical one.
    let respelled = [w.a.user.replace('-', ""), format!("{{{}}}", w.a.user), "auth0|12345".into()];
    for sub in respelled {
        let device = Device::new(&sub, 5);
        let refused = w.server.try_push(&device, vec![]).expect_err("refused");
        assert_eq!(refused.code(), ErrorCode::InvalidClaim, "{sub}: {refused}");
    }
    let response = w.server.push(&Device::new(&w.a.user, 5), vec![]);
    assert!(response.rejected.is_empty());
}

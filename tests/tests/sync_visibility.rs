//! Conformance, rows that change hands (docs/sync.md), on both stores: when an admin's SQL changes
//! who may read a row without deleting it (gives a private row to another user, makes a public
//! row private, moves a `via:` row under another user's parent, gives a parent with its children
//! away), the users who lose it get a deletion and the user who gains it gets the row, children
//! included; a row that comes back is served again; and within one transaction the tombstone
//! never makes a reader of the new version drop it.

use std::collections::BTreeSet;

use integration_tests::sync::*;
use serde_json::json;
use sync_runtime::protocol::PulledChange;

integration_tests::for_each_store!(
    a_private_row_given_to_another_user_moves_between_their_devices,
    a_public_row_made_private_leaves_everyone_but_its_new_owner,
    a_via_row_moved_under_another_users_parent_moves_with_it,
    a_parent_given_to_another_user_takes_its_children,
    a_row_that_comes_back_is_served_again,
    a_row_given_away_and_back_in_one_transaction_stays,
    a_parent_given_away_and_removed_in_one_transaction_reaches_its_last_owner,
    a_chain_of_via_tables_moves_whole,
);

/// `(table, key as a JSON array)`, as [`pulled_keys`] gives them.
fn key(table: &str, values: &[&str]) -> (String, String) {
    (table.to_owned(), serde_json::to_string(values).unwrap())
}

/// What a pull brought, as a set of `(key, removal)`.
fn pulled(
    server: &Server<impl TestStore>,
    changes: &[PulledChange],
) -> BTreeSet<((String, String), bool)> {
    pulled_keys(server.schema.meta, changes).into_iter().collect()
}

/// Users 1, 2 and 3 with a profile each, and a device each that has pulled everything.
fn three_users<S: TestStore>(server: &Server<S>) -> [(String, Device, Rows); 3] {
    [1, 2, 3].map(|n| {
        let me = user(n);
        let mut device = Device::new(&me, n);
        server.push(&device, vec![profile(&me, &at(0))]);
        let mut replica = Rows::new();
        server.catch_up(&mut device, &mut replica);
        (me, device, replica)
    })
}

/// Every device holds what its user may read.
fn assert_replicas<S: TestStore>(server: &Server<S>, users: &mut [(String, Device, Rows)]) {
    let snapshot = server.snapshot();
    for (me, device, replica) in users.iter_mut() {
        server.catch_up(device, replica);
        assert_eq!(*replica, snapshot.readable_by(me), "the device of {me}");
    }
}

/// Run `sql` as an admin, in one transaction.
fn admin<S: TestStore>(server: &Server<S>, sql: &str) {
    server.sql(sql);
}

fn a_private_row_given_to_another_user_moves_between_their_devices<S: TestStore>() {
    let server = Server::<S>::new();
    let [(a, mut a_dev, mut a_rows), (b, mut b_dev, mut b_rows), _] = three_users(&server);
    let t = id(1);
    server.push(&a_dev, vec![tune(&t, &a, "The Kesh", &at(1))]);
    server.catch_up(&mut a_dev, &mut a_rows);
    assert!(a_rows.contains_key(&key("tune", &[&t])));

    admin(&server, &format!("UPDATE tune SET user_id = '{b}' WHERE id = '{t}'"));

    let to_a = server.catch_up(&mut a_dev, &mut a_rows);
    assert_eq!(pulled(&server, &to_a), BTreeSet::from([(key("tune", &[&t]), true)]));
    let to_b = server.catch_up(&mut b_dev, &mut b_rows);
    assert_eq!(pulled(&server, &to_b), BTreeSet::from([(key("tune", &[&t]), false)]));
    assert_eq!(b_rows[&key("tune", &[&t])]["user_id"], json!(b));
    let snapshot = server.snapshot();
    assert_eq!(a_rows, snapshot.readable_by(&a));
    assert_eq!(b_rows, snapshot.readable_by(&b));
}

fn a_public_row_made_private_leaves_everyone_but_its_new_owner<S: TestStore>() {
    let server = Server::<S>::new();
    let mut users = three_users(&server);
    let t = id(1);
    admin(
        &server,
        &format!(
            "INSERT INTO tune (id, title, last_modified_at) VALUES ('{t}', 'Public', '{}')",
            at(1)
        ),
    );
    assert_replicas(&server, &mut users);
    assert!(users.iter().all(|(_, _, rows)| rows.contains_key(&key("tune", &[&t]))));

    let a = users[0].0.clone();
    admin(&server, &format!("UPDATE tune SET user_id = '{a}' WHERE id = '{t}'"));

    for (n, (_, device, replica)) in users.iter_mut().enumerate() {
        let changes = server.catch_up(device, replica);
        // The new owner gets the row and no removal of it, even with the tombstone in the same
        // transaction; everyone else gets the removal.
        let expected = BTreeSet::from([(key("tune", &[&t]), n != 0)]);
        assert_eq!(pulled(&server, &changes), expected, "user {}", n + 1);
    }
    assert_replicas(&server, &mut users);
    assert!(users[0].2.contains_key(&key("tune", &[&t])));
    assert!(!users[1].2.contains_key(&key("tune", &[&t])));

    // Made public again, it reaches everyone again.
    admin(&server, &format!("UPDATE tune SET user_id = NULL WHERE id = '{t}'"));
    assert_replicas(&server, &mut users);
    assert!(users.iter().all(|(_, _, rows)| rows.contains_key(&key("tune", &[&t]))));
}

/// A public tune (1), and repertoires 2 of user `a` and 3 of user `b`, with tune 1 in
/// repertoire 2.
fn repertoires<S: TestStore>(server: &Server<S>, a: &Device, b: &Device) -> [String; 3] {
    let [t, r_a, r_b] = [1, 2, 3].map(id);
    admin(
        server,
        &format!(
            "INSERT INTO tune (id, title, last_modified_at) VALUES ('{t}', 'Public', '{}')",
            at(1)
        ),
    );
    server.push(
        a,
        vec![repertoire(&r_a, &a.user, "Session", &at(1)), repertoire_tune(&r_a, &t, &at(1))],
    );
    server.push(b, vec![repertoire(&r_b, &b.user, "Concert", &at(1))]);
    [t, r_a, r_b]
}

fn a_via_row_moved_under_another_users_parent_moves_with_it<S: TestStore>() {
    let server = Server::<S>::new();
    let mut users = three_users(&server);
    let [t, r_a, r_b] = repertoires(&server, &users[0].1, &users[1].1);
    assert_replicas(&server, &mut users);
    assert!(users[0].2.contains_key(&key("repertoire_tune", &[&r_a, &t])));

    admin(
        &server,
        &format!(
            "UPDATE repertoire_tune SET repertoire_id = '{r_b}' WHERE repertoire_id = '{r_a}'"
        ),
    );

    let (_, device, replica) = &mut users[0];
    let changes = server.catch_up(device, replica);
    assert_eq!(
        pulled(&server, &changes),
        BTreeSet::from([(key("repertoire_tune", &[&r_a, &t]), true)])
    );
    let (_, device, replica) = &mut users[1];
    let changes = server.catch_up(device, replica);
    assert_eq!(
        pulled(&server, &changes),
        BTreeSet::from([(key("repertoire_tune", &[&r_b, &t]), false)])
    );
    assert_replicas(&server, &mut users);
}

fn a_parent_given_to_another_user_takes_its_children<S: TestStore>() {
    let server = Server::<S>::new();
    let mut users = three_users(&server);
    let [t, r_a, _] = repertoires(&server, &users[0].1, &users[1].1);
    let t2 = id(4);
    admin(
        &server,
        &format!(
            "INSERT INTO tune (id, title, last_modified_at) VALUES ('{t2}', 'Another', '{}')",
            at(1)
        ),
    );
    server.push(&users[0].1, vec![repertoire_tune(&r_a, &t2, &at(1))]);
    assert_replicas(&server, &mut users);
    let b = users[1].0.clone();

    admin(&server, &format!("UPDATE repertoire SET user_id = '{b}' WHERE id = '{r_a}'"));

    let moved = [
        key("repertoire", &[&r_a]),
        key("repertoire_tune", &[&r_a, &t]),
        key("repertoire_tune", &[&r_a, &t2]),
    ];
    let (_, device, replica) = &mut users[0];
    let changes = server.catch_up(device, replica);
    assert_eq!(pulled(&server, &changes), moved.iter().map(|k| (k.clone(), true)).collect());
    // The new owner pulls one change a page: the children come although they were written long
    // before its cursor.
    let (_, device, replica) = &mut users[1];
    let mut changes = Vec::new();
    loop {
        let page = server.pull_page(device, Some(1));
        changes.extend(page.changes);
        if !page.has_more {
            break;
        }
    }
    apply(server.schema.meta, replica, &changes);
    assert_eq!(pulled(&server, &changes), moved.iter().map(|k| (k.clone(), false)).collect());
    assert_replicas(&server, &mut users);
    assert!(users[2].2.keys().all(|(table, _)| table != "repertoire_tune"));
}

fn a_row_that_comes_back_is_served_again<S: TestStore>() {
    let server = Server::<S>::new();
    let mut users = three_users(&server);
    let [t, r_a, _] = repertoires(&server, &users[0].1, &users[1].1);
    assert_replicas(&server, &mut users);
    let (a, b) = (users[0].0.clone(), users[1].0.clone());
    let (mine, entry) = (id(9), key("repertoire_tune", &[&r_a, &t]));
    server.push(&users[0].1, vec![tune(&mine, &a, "mine", &at(2))]);
    assert_replicas(&server, &mut users);

    admin(
        &server,
        &format!(
            "UPDATE tune SET user_id = '{b}' WHERE id = '{mine}'; \
             UPDATE repertoire SET user_id = '{b}' WHERE id = '{r_a}'"
        ),
    );
    assert_replicas(&server, &mut users);
    assert!(!users[0].2.contains_key(&key("tune", &[&mine])) && !users[0].2.contains_key(&entry));
    assert!(users[1].2.contains_key(&key("tune", &[&mine])) && users[1].2.contains_key(&entry));

    admin(
        &server,
        &format!(
            "UPDATE tune SET user_id = '{a}' WHERE id = '{mine}'; \
             UPDATE repertoire SET user_id = '{a}' WHERE id = '{r_a}'"
        ),
    );
    assert_replicas(&server, &mut users);
    assert!(users[0].2.contains_key(&key("tune", &[&mine])) && users[0].2.contains_key(&entry));
    assert!(!users[1].2.contains_key(&key("tune", &[&mine])) && !users[1].2.contains_key(&entry));
}

fn a_row_given_away_and_back_in_one_transaction_stays<S: TestStore>() {
    let server = Server::<S>::new();
    let mut users = three_users(&server);
    let [t, r_a, _] = repertoires(&server, &users[0].1, &users[1].1);
    assert_replicas(&server, &mut users);
    let (a, b) = (users[0].0.clone(), users[1].0.clone());

    admin(
        &server,
        &format!(
            "UPDATE repertoire SET user_id = '{b}' WHERE id = '{r_a}'; \
             UPDATE repertoire SET user_id = '{a}' WHERE id = '{r_a}'"
        ),
    );
    // The first owner hears of the removal, and then gets the rows back after it.
    let (_, device, replica) = &mut users[0];
    server.catch_up(device, replica);
    assert!(replica.contains_key(&key("repertoire", &[&r_a])));
    assert!(replica.contains_key(&key("repertoire_tune", &[&r_a, &t])));
    assert_replicas(&server, &mut users);
}

fn a_parent_given_away_and_removed_in_one_transaction_reaches_its_last_owner<S: TestStore>() {
    let server = Server::<S>::new();
    let mut users = three_users(&server);
    let [t, r_a, _] = repertoires(&server, &users[0].1, &users[1].1);
    let b = users[1].0.clone();
    // User 2 holds the repertoire and its entry before the removal.
    admin(&server, &format!("UPDATE repertoire SET user_id = '{b}' WHERE id = '{r_a}'"));
    assert_replicas(&server, &mut users);
    assert!(users[1].2.contains_key(&key("repertoire_tune", &[&r_a, &t])));
    let c = users[2].0.clone();

    // Given to user 3, back to user 2 and removed (its entry by cascade) in one transaction: the
    // entry's removal is recorded for user 2, whose it was when it went, not for user 3, whose
    // move the tombstones of that transaction also hold.
    admin(
        &server,
        &format!(
            "UPDATE repertoire SET user_id = '{c}' WHERE id = '{r_a}'; \
             UPDATE repertoire SET user_id = '{b}' WHERE id = '{r_a}'; \
             DELETE FROM repertoire WHERE id = '{r_a}'"
        ),
    );
    assert_replicas(&server, &mut users);
    assert!(!users[1].2.contains_key(&key("repertoire_tune", &[&r_a, &t])));
}

/// Books, public or private, with chapters and pages owned through them.
const CHAIN: &str = r#"
[schema]
name = "books"
version = 1

[sync]
owner = "user_id"
modified = "at"
deleted = "deleted"

[tables.book]
sync = "owner_or_public"
[tables.book.columns]
id = { type = "uuid", primary_key = true }
user_id = { type = "uuid", nullable = true }
at = { type = "timestamp" }
deleted = { type = "boolean", default = false }

[tables.chapter]
sync = "via:book_id"
[tables.chapter.columns]
id = { type = "uuid", primary_key = true }
book_id = { type = "uuid", references = "book.id" }
at = { type = "timestamp" }
deleted = { type = "boolean", default = false }

[tables.page]
sync = "via:chapter_id"
[tables.page.columns]
id = { type = "uuid", primary_key = true }
chapter_id = { type = "uuid", references = "chapter.id" }
at = { type = "timestamp" }
deleted = { type = "boolean", default = false }
"#;

fn a_chain_of_via_tables_moves_whole<S: TestStore>() {
    let server = Server::<S>::with_schema(CHAIN);
    let (a, b) = (user(1), user(2));
    let mut users: Vec<(String, Device, Rows)> =
        [(&a, 1), (&b, 2)].map(|(u, n)| (u.clone(), Device::new(u, n), Rows::new())).into();
    let [book, chapter, page] = [1, 2, 3].map(id);
    let t = at(0);
    admin(
        &server,
        &format!(
            "INSERT INTO book (id, user_id, at) VALUES ('{book}', NULL, '{t}'); \
             INSERT INTO chapter (id, book_id, at) VALUES ('{chapter}', '{book}', '{t}'); \
             INSERT INTO page (id, chapter_id, at) VALUES ('{page}', '{chapter}', '{t}')"
        ),
    );
    let everything =
        BTreeSet::from([key("book", &[&book]), key("chapter", &[&chapter]), key("page", &[&page])]);
    let held = |rows: &Rows| rows.keys().cloned().collect::<BTreeSet<_>>();
    assert_replicas(&server, &mut users);
    assert!(users.iter().all(|(_, _, rows)| held(rows) == everything));

    // Public to private: the other user loses the book, its chapter and the chapter's page.
    admin(&server, &format!("UPDATE book SET user_id = '{a}' WHERE id = '{book}'"));
    assert_replicas(&server, &mut users);
    assert_eq!(held(&users[0].2), everything);
    assert_eq!(held(&users[1].2), BTreeSet::new());

    // Given to the other user: all of it moves.
    admin(&server, &format!("UPDATE book SET user_id = '{b}' WHERE id = '{book}'"));
    assert_replicas(&server, &mut users);
    assert_eq!(held(&users[0].2), BTreeSet::new());
    assert_eq!(held(&users[1].2), everything);

    // A chapter moved under a public book takes its page to everyone.
    let other = id(4);
    admin(
        &server,
        &format!(
            "INSERT INTO book (id, user_id, at) VALUES ('{other}', NULL, '{t}'); \
             UPDATE chapter SET book_id = '{other}' WHERE id = '{chapter}'"
        ),
    );
    assert_replicas(&server, &mut users);
    let moved = BTreeSet::from([
        key("book", &[&other]),
        key("chapter", &[&chapter]),
        key("page", &[&page]),
    ]);
    assert_eq!(held(&users[0].2), moved);
}

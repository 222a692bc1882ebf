//! Pull: commit order across tables and tombstones, paging, readability per scope, deletions by
//! plain SQL and their cascades.

use super::*;

fn t(name: &str) -> &'static TableMeta {
    table(&generated::SCHEMA, name)
}

fn profile(user: &str) -> Value {
    json!({ "id": user })
}

fn tune(n: u32, owner: Option<&str>) -> Value {
    json!({ "id": id(n), "user_id": owner, "title": format!("tune {n}") })
}

fn repertoire(n: u32, owner: &str) -> Value {
    json!({ "id": id(n), "user_id": owner, "name": format!("list {n}") })
}

fn entry(repertoire: u32, tune: u32) -> Value {
    json!({ "repertoire_id": id(repertoire), "tune_id": id(tune) })
}

fn note(n: u32, owner: &str, tune: u32) -> Value {
    json!({ "id": id(n), "user_id": owner, "tune_id": id(tune), "body": "b" })
}

fn key(n: u32) -> Value {
    json!({ "id": id(n) })
}

#[tokio::test]
async fn pages_follow_commit_order_across_tables_and_tombstones() {
    let db = Db::new();
    let store = db.tunes();
    let mut tx = store.begin().await.unwrap();
    insert_in(&mut tx, t("user_profile"), vec![profile(ALICE)]).await;
    insert_in(&mut tx, t("genre"), vec![json!({ "id": "irish", "name": "Irish" })]).await;
    insert_in(&mut tx, t("tune"), vec![tune(1, Some(ALICE)), tune(2, Some(ALICE))]).await;
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    insert_in(&mut tx, t("repertoire"), vec![repertoire(3, ALICE)]).await;
    insert_in(&mut tx, t("repertoire_tune"), vec![entry(3, 1)]).await;
    insert_in(&mut tx, t("note"), vec![note(4, ALICE, 2)]).await;
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let renamed = object(json!({ "id": id(1), "title": "renamed" }));
    tx.update(t("tune"), &["id", "title"], &[renamed]).await.unwrap();
    tx.commit().await.unwrap();
    let admin = db.admin();
    admin.execute("DELETE FROM note WHERE id = ?1", [id(4)]).unwrap();
    admin.execute("UPDATE genre SET name = 'Irish trad' WHERE id = 'irish'", []).unwrap();

    let expected = vec![
        ("user_profile".to_owned(), json!({ "id": ALICE })),
        ("tune".to_owned(), key(2)),
        ("repertoire".to_owned(), key(3)),
        ("repertoire_tune".to_owned(), json!({ "repertoire_id": id(3), "tune_id": id(1) })),
        ("tune".to_owned(), key(1)),
        ("note".to_owned(), key(4)),
        ("genre".to_owned(), json!({ "id": "irish" })),
    ];
    let (all, end) = pull_all(&store, ALICE, None, 100).await;
    assert_eq!(keys_of(&all, &generated::SCHEMA), expected);
    assert_eq!(all[4]["row"]["title"], "renamed");
    assert_eq!(all[5], deleted("note", key(4)));
    assert_eq!(all[6]["row"]["name"], "Irish trad");
    for limit in 1..=8 {
        let (paged, paged_end) = pull_all(&store, ALICE, None, limit).await;
        assert_eq!(paged, all, "limit {limit}");
        assert_eq!(paged_end, end, "limit {limit}");
    }
    let page = pull_page(&store, ALICE, Some(&end), 10).await.unwrap();
    assert!(page.changes.is_empty() && !page.has_more);
    assert_eq!(page.cursor, end);

    // Another user sees the public genre and nothing of Alice's, deletion included.
    let (bob, _) = pull_all(&store, BOB, None, 2).await;
    assert_eq!(keys_of(&bob, &generated::SCHEMA), [("genre".to_owned(), json!({ "id": "irish" }))]);

    // Writes after a cursor come after it, in order.
    insert(&store, t("tune"), vec![tune(5, Some(ALICE))]).await;
    admin.execute("DELETE FROM tune WHERE id = ?1", [id(2)]).unwrap();
    let (next, _) = pull_all(&store, ALICE, Some(end), 1).await;
    assert_eq!(
        keys_of(&next, &generated::SCHEMA),
        [("tune".to_owned(), key(5)), ("tune".to_owned(), key(2))]
    );
    assert_eq!(next[1], deleted("tune", key(2)));
}

#[tokio::test]
async fn each_scope_serves_only_what_the_user_may_read() {
    let db = Db::new();
    let store = db.tunes();
    insert(&store, t("user_profile"), vec![profile(ALICE), profile(BOB)]).await;
    insert(&store, t("genre"), vec![json!({ "id": "irish", "name": "Irish" })]).await;
    insert(&store, t("tune"), vec![tune(1, Some(ALICE)), tune(2, Some(BOB)), tune(3, None)]).await;
    insert(&store, t("repertoire"), vec![repertoire(11, ALICE), repertoire(12, BOB)]).await;
    // Bob's repertoire holds Alice's tune and the public one: they are Bob's entries.
    insert(&store, t("repertoire_tune"), vec![entry(11, 1), entry(12, 1), entry(12, 3)]).await;
    insert(&store, t("note"), vec![note(21, ALICE, 3), note(22, BOB, 3)]).await;

    let mut alice = keys_of(&pull_all(&store, ALICE, None, 3).await.0, &generated::SCHEMA);
    alice.sort_by_key(|(table, key)| format!("{table}{key}"));
    let mut expected = vec![
        ("user_profile".to_owned(), json!({ "id": ALICE })),
        ("genre".to_owned(), json!({ "id": "irish" })),
        ("tune".to_owned(), key(1)),
        ("tune".to_owned(), key(3)),
        ("repertoire".to_owned(), key(11)),
        ("repertoire_tune".to_owned(), json!({ "repertoire_id": id(11), "tune_id": id(1) })),
        ("note".to_owned(), key(21)),
    ];
    expected.sort_by_key(|(table, key)| format!("{table}{key}"));
    assert_eq!(alice, expected);

    let bob = keys_of(&pull_all(&store, BOB, None, 100).await.0, &generated::SCHEMA);
    assert!(bob.contains(&(
        "repertoire_tune".to_owned(),
        json!({ "repertoire_id": id(12), "tune_id": id(1) })
    )));
    assert!(!bob.contains(&("tune".to_owned(), key(1))), "Alice's private tune");
    assert!(bob.contains(&("tune".to_owned(), key(3))), "the public tune");

    // A user with no rows sees the public ones only.
    let nobody = keys_of(&pull_all(&store, &id(999), None, 100).await.0, &generated::SCHEMA);
    assert_eq!(
        nobody,
        [("genre".to_owned(), json!({ "id": "irish" })), ("tune".to_owned(), key(3))]
    );
}

/// Alice has a tune, a repertoire holding it and a note on it; Bob's repertoire holds Alice's
/// tune too. Returns each user's cursor after pulling everything.
async fn alice_and_bob(db: &Db, store: &SqliteStore) -> (String, String) {
    insert(store, t("user_profile"), vec![profile(ALICE), profile(BOB)]).await;
    insert(store, t("tune"), vec![tune(1, Some(ALICE)), tune(2, Some(BOB))]).await;
    insert(store, t("repertoire"), vec![repertoire(11, ALICE), repertoire(12, BOB)]).await;
    insert(store, t("repertoire_tune"), vec![entry(11, 1), entry(12, 1), entry(12, 2)]).await;
    insert(store, t("note"), vec![note(21, ALICE, 1)]).await;
    let tombstones: i64 =
        db.admin().query_row("SELECT count(*) FROM _sync_tombstone", [], |r| r.get(0)).unwrap();
    assert_eq!(tombstones, 0);
    (pull_all(store, ALICE, None, 100).await.1, pull_all(store, BOB, None, 100).await.1)
}

#[tokio::test]
async fn a_cascade_deletes_via_children_as_their_parents_owner() {
    let db = Db::new();
    let store = db.tunes();
    let (alice, bob) = alice_and_bob(&db, &store).await;
    // SQLite deletes the repertoire before the cascade deletes its entry: the entry's owner
    // comes from the repertoire's tombstone.
    db.admin().execute("DELETE FROM repertoire WHERE id = ?1", [id(11)]).unwrap();
    let (changes, _) = pull_all(&store, ALICE, Some(alice), 1).await;
    assert_eq!(
        changes,
        [
            deleted("repertoire", key(11)),
            deleted("repertoire_tune", json!({ "repertoire_id": id(11), "tune_id": id(1) })),
        ]
    );
    let (changes, _) = pull_all(&store, BOB, Some(bob), 1).await;
    assert_eq!(changes, [] as [Value; 0]);
    let owners: Vec<Option<String>> = {
        let admin = db.admin();
        let mut statement =
            admin.prepare("SELECT owner FROM _sync_tombstone ORDER BY _sync_seq").unwrap();
        statement.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    assert_eq!(owners, [Some(ALICE.to_owned()), Some(ALICE.to_owned())]);
}

#[tokio::test]
async fn rows_deleted_by_plain_sql_and_their_cascade_reach_their_owners_only() {
    let db = Db::new();
    let store = db.tunes();
    let (alice, bob) = alice_and_bob(&db, &store).await;
    db.admin().execute("DELETE FROM user_profile WHERE id = ?1", [ALICE]).unwrap();

    let (changes, _) = pull_all(&store, ALICE, Some(alice), 2).await;
    let mut got = keys_of(&changes, &generated::SCHEMA);
    assert!(changes.iter().all(|c| c["deleted"] == true), "{changes:?}");
    assert_eq!(got[0], ("user_profile".to_owned(), json!({ "id": ALICE })), "the parent first");
    got.sort_by_key(|(table, key)| format!("{table}{key}"));
    let mut expected = vec![
        ("user_profile".to_owned(), json!({ "id": ALICE })),
        ("tune".to_owned(), key(1)),
        ("repertoire".to_owned(), key(11)),
        ("repertoire_tune".to_owned(), json!({ "repertoire_id": id(11), "tune_id": id(1) })),
        ("note".to_owned(), key(21)),
    ];
    expected.sort_by_key(|(table, key)| format!("{table}{key}"));
    assert_eq!(got, expected);

    // Bob's entry of Alice's tune went with the tune; it was Bob's, and only Bob hears of it.
    let (changes, _) = pull_all(&store, BOB, Some(bob), 2).await;
    assert_eq!(
        changes,
        [deleted("repertoire_tune", json!({ "repertoire_id": id(12), "tune_id": id(1) }))]
    );
}

#[tokio::test]
async fn a_changed_primary_key_arrives_as_a_deletion_then_the_row() {
    let db = Db::new();
    let store = db.tunes();
    insert(&store, t("genre"), vec![json!({ "id": "irish", "name": "Irish" })]).await;
    let (_, cursor) = pull_all(&store, ALICE, None, 10).await;
    db.admin().execute("UPDATE genre SET id = 'trad' WHERE id = 'irish'", []).unwrap();
    let (changes, _) = pull_all(&store, BOB, Some(cursor), 1).await;
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert_eq!(changes[0], deleted("genre", json!({ "id": "irish" })));
    assert_eq!(changes[1]["row"]["id"], "trad");
}

#[tokio::test]
async fn a_cursor_this_store_did_not_make_is_refused() {
    let db = Db::new();
    let store = db.tunes();
    insert(&store, t("genre"), vec![json!({ "id": "irish", "name": "Irish" })]).await;
    for cursor in ["", "garbage", "1", "s", "s-1", "s2"] {
        let error = pull_page(&store, ALICE, Some(cursor), 10).await.unwrap_err();
        assert!(matches!(&error, StoreError::BadCursor(c) if c == cursor), "{cursor}: {error:?}");
    }
    assert!(pull_page(&store, ALICE, Some("s1"), 10).await.unwrap().changes.is_empty());
}

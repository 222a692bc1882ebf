//! Transactions: own writes wait for the next pull, a dropped transaction leaves nothing, and
//! transactions take turns.

use super::*;

fn genre() -> &'static TableMeta {
    table(&generated::SCHEMA, "genre")
}

#[tokio::test]
async fn own_writes_are_served_by_the_next_pull_not_this_one() {
    let db = Db::new();
    let store = db.tunes();
    insert(&store, genre(), vec![json!({ "id": "irish", "name": "Irish" })]).await;

    let mut tx = store.begin().await.unwrap();
    insert_in(&mut tx, genre(), vec![json!({ "id": "breton", "name": "Breton" })]).await;
    let update = object(json!({ "id": "irish", "name": "Irish trad" }));
    tx.update(genre(), &["id", "name"], &[update]).await.unwrap();
    let page = tx.pull(ALICE, None, PageLimit { changes: 10, bytes: usize::MAX }).await.unwrap();
    tx.commit().await.unwrap();
    // The row updated here is served in its new version by the next pull, not in its old one
    // by this pull.
    assert!(page.changes.is_empty(), "{:?}", page.changes);
    assert!(!page.has_more);

    let (next, _) = pull_all(&store, ALICE, Some(page.cursor), 10).await;
    let keys = keys_of(&next, &generated::SCHEMA);
    assert_eq!(
        keys,
        [
            ("genre".to_owned(), json!({ "id": "breton" })),
            ("genre".to_owned(), json!({ "id": "irish" }))
        ]
    );
    assert_eq!(next[1]["row"]["name"], "Irish trad");
}

#[tokio::test]
async fn a_dropped_transaction_rolls_back() {
    let db = Db::new();
    let store = db.tunes();
    let mut tx = store.begin().await.unwrap();
    insert_in(&mut tx, genre(), vec![json!({ "id": "irish", "name": "Irish" })]).await;
    assert_eq!(tx.rows(genre(), &[object(json!({ "id": "irish" }))]).await.unwrap().len(), 1);
    drop(tx);

    assert!(rows(&store, genre(), vec![json!({ "id": "irish" })]).await.is_empty());
    let page = pull_page(&store, ALICE, None, 10).await.unwrap();
    assert!(page.changes.is_empty());
    assert_eq!(page.cursor, "s0~0", "the counter went back too (no prune yet)");
    // A refused row leaves the transaction usable, and dropping it still rolls back.
    let mut tx = store.begin().await.unwrap();
    insert_in(&mut tx, genre(), vec![json!({ "id": "scottish", "name": "Scottish" })]).await;
    let row = object(json!({ "id": "x", "name": null }));
    assert_eq!(tx.insert(genre(), &["id", "name"], &[row]).await.unwrap().refused.len(), 1);
    drop(tx);
    assert!(rows(&store, genre(), vec![json!({ "id": "scottish" })]).await.is_empty());
    assert_eq!(insert(&store, genre(), vec![json!({ "id": "irish", "name": "I" })]).await.len(), 1);
}

#[tokio::test]
async fn transactions_take_turns_and_other_connections_wait_for_the_lock() {
    let db = Db::new();
    let store = std::sync::Arc::new(db.tunes());
    let tx = store.begin().await.unwrap();
    let waiting = {
        let store = store.clone();
        tokio::spawn(async move {
            let mut tx = store.begin().await.unwrap();
            insert_in(&mut tx, genre(), vec![json!({ "id": "second", "name": "2" })]).await;
            tx.commit().await.unwrap();
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!waiting.is_finished(), "a second transaction began while the first was open");

    // The write lock is held from begin: another connection cannot write meanwhile.
    let admin = db.admin();
    admin.busy_timeout(Duration::from_millis(50)).unwrap();
    let error =
        admin.execute("INSERT INTO genre (id, name) VALUES ('admin', 'A')", []).unwrap_err();
    assert_eq!(error.sqlite_error_code(), Some(rusqlite::ErrorCode::DatabaseBusy), "{error}");
    drop(tx);
    waiting.await.unwrap();
    assert_eq!(rows(&store, genre(), vec![json!({ "id": "second" })]).await.len(), 1);
}

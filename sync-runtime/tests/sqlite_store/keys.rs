//! Composite keys, key changes cascading to children, and a `via:` chain of two levels.

use std::path::Path;

use codegen::meta::LoadedSchema;

use super::*;

fn orders(db: &Db) -> SqliteStore {
    SqliteStore::open(&db.path, &composite_keys::SCHEMA, COMPOSITE_DDL).unwrap()
}

fn t(name: &str) -> &'static TableMeta {
    table(&composite_keys::SCHEMA, name)
}

fn line(owner: &str, number: i64, position: i64) -> Value {
    json!({ "owner_id": owner, "number": number, "position": position, "sku": format!("sku{position}") })
}

/// Sorted `(table, key)` of changes.
fn sorted(changes: &[Value], schema: &'static SchemaMeta) -> Vec<(String, Value)> {
    let mut keys = keys_of(changes, schema);
    keys.sort_by_key(|(table, key)| format!("{table}{key}"));
    keys
}

#[tokio::test]
async fn composite_keys_follow_a_key_change_and_a_cascade() {
    let db = Db::new();
    let store = orders(&db);
    insert(&store, t("account"), vec![json!({ "id": ALICE }), json!({ "id": BOB })]).await;
    let baskets =
        vec![json!({ "owner_id": ALICE, "number": 1 }), json!({ "owner_id": BOB, "number": 1 })];
    insert(&store, t("basket"), baskets).await;
    let lines = vec![line(ALICE, 1, 1), line(ALICE, 1, 2), line(BOB, 1, 1)];
    insert(&store, t("basket_line"), lines).await;
    let (alice, alice_all) = {
        let (changes, cursor) = pull_all(&store, ALICE, None, 2).await;
        (cursor, changes)
    };
    assert_eq!(alice_all.len(), 4, "{alice_all:?}");
    let (_, bob) = pull_all(&store, BOB, None, 100).await;

    // ON UPDATE CASCADE renumbers the lines with their basket: every old key is deleted.
    let admin = db.admin();
    admin.execute("UPDATE basket SET number = 2 WHERE owner_id = ?1", [ALICE]).unwrap();
    let (changes, alice) = pull_all(&store, ALICE, Some(alice), 1).await;
    let basket_key = |n: i64| json!({ "owner_id": ALICE, "number": n });
    let line_key = |n: i64, p: i64| json!({ "owner_id": ALICE, "number": n, "position": p });
    let mut expected = vec![
        ("basket".to_owned(), basket_key(1)),
        ("basket".to_owned(), basket_key(2)),
        ("basket_line".to_owned(), line_key(1, 1)),
        ("basket_line".to_owned(), line_key(1, 2)),
        ("basket_line".to_owned(), line_key(2, 1)),
        ("basket_line".to_owned(), line_key(2, 2)),
    ];
    expected.sort_by_key(|(table, key)| format!("{table}{key}"));
    assert_eq!(sorted(&changes, &composite_keys::SCHEMA), expected);
    let deletions: Vec<&Value> = changes.iter().filter(|c| c["deleted"] == true).collect();
    assert_eq!(deletions.len(), 3);
    assert!(deletions.iter().all(|c| c["key"]["number"] == 1), "{deletions:?}");

    admin.execute("DELETE FROM account WHERE id = ?1", [ALICE]).unwrap();
    let (changes, _) = pull_all(&store, ALICE, Some(alice), 1).await;
    let mut expected = vec![
        ("account".to_owned(), json!({ "id": ALICE })),
        ("basket".to_owned(), basket_key(2)),
        ("basket_line".to_owned(), line_key(2, 1)),
        ("basket_line".to_owned(), line_key(2, 2)),
    ];
    expected.sort_by_key(|(table, key)| format!("{table}{key}"));
    assert_eq!(sorted(&changes, &composite_keys::SCHEMA), expected);
    assert!(changes.iter().all(|c| c["deleted"] == true));

    let (changes, _) = pull_all(&store, BOB, Some(bob), 1).await;
    assert_eq!(changes, [] as [Value; 0]);
}

#[tokio::test]
async fn a_via_chain_is_followed_to_its_owner_at_every_level() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sqlite_store/via_chain.toml");
    let schema = LoadedSchema::read(&path).unwrap();
    let db = Db::new();
    let store = SqliteStore::open(&db.path, schema.meta, &schema.sqlite_server_ddl).unwrap();
    let t = |name| table(schema.meta, name);
    let folders =
        vec![json!({ "id": id(1), "user_id": ALICE }), json!({ "id": id(2), "user_id": BOB })];
    insert(&store, t("folder"), folders).await;
    let docs = vec![
        json!({ "id": id(11), "folder_id": id(1) }),
        json!({ "id": id(12), "folder_id": id(2) }),
    ];
    insert(&store, t("doc"), docs).await;
    let pages = vec![
        json!({ "id": id(21), "doc_id": id(11) }),
        json!({ "id": id(22), "doc_id": id(12) }),
        json!({ "id": id(23), "doc_id": id(12) }),
    ];
    insert(&store, t("page"), pages).await;

    let (changes, alice) = pull_all(&store, ALICE, None, 1).await;
    let names = ["folder", "doc", "page"].map(str::to_owned);
    assert_eq!(
        keys_of(&changes, schema.meta),
        [
            (names[0].clone(), json!({ "id": id(1) })),
            (names[1].clone(), json!({ "id": id(11) })),
            (names[2].clone(), json!({ "id": id(21) })),
        ]
    );
    let (changes, bob) = pull_all(&store, BOB, None, 1).await;
    assert_eq!(changes.len(), 4, "{changes:?}");

    // A page deleted alone finds its owner through its live document and folder; a folder's
    // cascade through the tombstones of the rows deleted before it.
    let admin = db.admin();
    admin.execute("DELETE FROM page WHERE id = ?1", [id(22)]).unwrap();
    admin.execute("DELETE FROM folder WHERE id = ?1", [id(1)]).unwrap();
    let (changes, _) = pull_all(&store, ALICE, Some(alice), 1).await;
    assert_eq!(
        changes,
        [
            deleted("folder", json!({ "id": id(1) })),
            deleted("doc", json!({ "id": id(11) })),
            deleted("page", json!({ "id": id(21) })),
        ]
    );
    let (changes, _) = pull_all(&store, BOB, Some(bob), 1).await;
    assert_eq!(changes, [deleted("page", json!({ "id": id(22) }))]);
}

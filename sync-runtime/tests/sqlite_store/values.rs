//! Values in and out of the store in wire form, whatever the storage; writes the database
//! refuses.

use super::*;

fn all_types(db: &Db) -> SqliteStore {
    SqliteStore::open(&db.path, &all_types::SCHEMA, ALL_TYPES_DDL).unwrap()
}

fn sample() -> &'static TableMeta {
    table(&all_types::SCHEMA, "sample")
}

/// A row of every type with values unlike the defaults, `real` a whole float.
fn full_row(n: u32) -> Value {
    json!({
        "id": id(n), "user_id": ALICE, "a_text": "naïve \"quoted\"", "a_uuid": id(99),
        "an_integer": 2147483647, "a_bigint": -9007199254740991_i64, "a_real": 2.0,
        "a_boolean": false, "a_timestamp": "2026-11-24T10:00:00.123Z", "a_date": "2026-02-28",
        "a_json": { "nested": [1, 2.5, null, true], "s": "x" }, "an_enum": "one",
        "maybe_text": "t", "maybe_uuid": id(7), "maybe_integer": -1, "maybe_bigint": 1_i64 << 40,
        "maybe_real": -0.25, "maybe_boolean": true, "maybe_timestamp": "1970-01-01T00:00:00.000Z",
        "maybe_date": "0001-01-01", "maybe_json": "just a string", "maybe_enum": "y",
        "deleted": false, "modified_at": "2026-11-24T10:00:00.000Z"
    })
}

#[tokio::test]
async fn every_logical_type_round_trips_in_wire_form() {
    let db = Db::new();
    let store = all_types(&db);
    let row = full_row(1);
    let inserted = insert(&store, sample(), vec![row.clone()]).await;
    assert_eq!(inserted, [object(json!({ "id": id(1) }))]);
    let found = rows(&store, sample(), vec![json!({ "id": id(1) })]).await;
    assert_eq!(Value::Object(found[0].clone()), row);
    assert!(found[0]["a_real"].is_f64(), "2.0 stays a float");

    // The same row through pull.
    let page = pull_page(&store, ALICE, None, 10).await.unwrap();
    assert_eq!(page.changes.len(), 1);
    assert_eq!(change(&page.changes[0]), json!({ "table": "sample", "row": row }));

    // Update every column but the key: nulls, and other values of each type.
    let mut updated = object(json!({
        "id": id(1), "user_id": BOB, "a_text": "", "a_uuid": id(98), "an_integer": -2147483648,
        "a_bigint": 0, "a_real": 1e-300, "a_boolean": true,
        "a_timestamp": "9999-12-31T23:59:59.999Z", "a_date": "2000-02-29", "a_json": [],
        "an_enum": "two", "deleted": true, "modified_at": "2026-11-24T10:00:01.000Z"
    }));
    for column in sample().columns.iter().filter(|c| c.nullable) {
        updated.insert(column.name.to_owned(), Value::Null);
    }
    let mut tx = store.begin().await.unwrap();
    let columns = columns_of(sample(), &updated);
    assert_eq!(columns.len(), sample().columns.len());
    tx.update(sample(), &columns, std::slice::from_ref(&updated)).await.unwrap();
    tx.commit().await.unwrap();
    let found = rows(&store, sample(), vec![json!({ "id": id(1) })]).await;
    assert_eq!(found, [updated]);
}

#[tokio::test]
async fn columns_left_out_take_their_defaults_in_wire_form() {
    let db = Db::new();
    let store = all_types(&db);
    insert(&store, sample(), vec![json!({ "id": id(2), "user_id": ALICE })]).await;
    let found = rows(&store, sample(), vec![json!({ "id": id(2) })]).await;
    let row = &found[0];
    assert_eq!(row["a_text"], "it's");
    assert_eq!(row["an_integer"], -2147483648);
    assert_eq!(row["a_bigint"], 9007199254740991_i64);
    assert_eq!(row["a_real"], 1.5);
    assert_eq!(row["a_boolean"], true);
    assert_eq!(row["a_timestamp"], "1999-12-31T23:59:59.999Z");
    assert_eq!(row["a_date"], "2000-02-29");
    assert_eq!(row["a_json"], json!([1, "two", { "three": 3 }]));
    assert_eq!(row["maybe_json"], Value::Null);
    let modified = row["modified_at"].as_str().unwrap();
    assert_eq!(
        sync_runtime::wire::parse_timestamp(modified)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        modified
    );
}

#[tokio::test]
async fn integer_timestamps_are_epoch_milliseconds_in_storage_and_strings_on_the_wire() {
    let db = Db::new();
    let store = SqliteStore::open(&db.path, &legacy_storage::SCHEMA, LEGACY_DDL).unwrap();
    let event = table(&legacy_storage::SCHEMA, "event");
    let row = json!({
        "id": id(1), "user_ref": ALICE, "type": "start", "interval": 3, "current": false,
        "score": 0.5, "payload": { "kind": "x" }, "happened": "2026-11-24T10:00:00.123Z",
        "changed": "2026-11-24T11:00:00.000+01:00", "removed": false, "sync_version": 7,
        "device_id": null, "mood": null
    });
    insert(&store, event, vec![row.clone()]).await;
    let (happened, changed, current): (i64, i64, i64) = db
        .admin()
        .query_row("SELECT happened, changed, \"current\" FROM event", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(happened, 1_795_514_400_123);
    assert_eq!(changed, 1_795_514_400_000, "the offset is converted to UTC");
    assert_eq!(current, 0);

    let mut expected = object(row);
    expected["changed"] = json!("2026-11-24T10:00:00.000Z");
    let found = rows(&store, event, vec![json!({ "id": id(1) })]).await;
    assert_eq!(found, [expected.clone()]);
    let page = pull_page(&store, ALICE, None, 10).await.unwrap();
    assert_eq!(change(&page.changes[0]), json!({ "table": "event", "row": expected }));

    // The storage's own default, epoch milliseconds, comes out as a wire timestamp.
    insert(&store, event, vec![json!({ "id": id(2), "user_ref": ALICE, "type": "stop" })]).await;
    let found = rows(&store, event, vec![json!({ "id": id(2) })]).await;
    assert_eq!(found[0]["happened"], "2020-01-01T00:00:00.000Z");
    assert_eq!(found[0]["current"], true);
    assert_eq!(found[0]["payload"], json!({ "kind": "none" }));
}

#[tokio::test]
async fn inserting_an_existing_key_skips_the_row() {
    let db = Db::new();
    let store = db.tunes();
    let genre = table(&generated::SCHEMA, "genre");
    let first = json!({ "id": "irish", "name": "Irish" });
    assert_eq!(insert(&store, genre, vec![first.clone()]).await.len(), 1);
    let inserted = insert(
        &store,
        genre,
        vec![
            json!({ "id": "irish", "name": "Other" }),
            json!({ "id": "breton", "name": "Breton" }),
        ],
    )
    .await;
    assert_eq!(inserted, [object(json!({ "id": "breton" }))]);
    let found =
        rows(&store, genre, vec![json!({ "id": "irish" }), json!({ "id": "nowhere" })]).await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["name"], "Irish");
}

/// Why the database refused one row inserted into `table` of the example schema.
async fn refused(store: &SqliteStore, table_name: &str, row: Value) -> Refused {
    let table = table(&generated::SCHEMA, table_name);
    let row = object(row);
    let mut tx = store.begin().await.unwrap();
    let written = tx.insert(table, &columns_of(table, &row), &[row]).await.unwrap();
    assert!(written.inserted.is_empty(), "{written:?}");
    let [RefusedRow { index: 0, why }] = &written.refused[..] else { panic!("{written:?}") };
    why.clone()
}

#[tokio::test]
async fn refused_rows_say_what_refused_them_as_far_as_sqlite_does() {
    let db = Db::new();
    let store = db.tunes();
    let profiles = table(&generated::SCHEMA, "user_profile");
    insert(&store, profiles, vec![json!({ "id": ALICE, "email": "a@example.com" })]).await;

    let why = refused(&store, "tune", json!({ "id": id(1), "user_id": BOB, "title": "x" })).await;
    assert_eq!((why.by, why.constraint, why.columns), (RefusedBy::ForeignKey, None, vec![]));
    assert!(why.detail.contains("FOREIGN KEY") && why.detail.contains(&id(1)), "{}", why.detail);

    let why = refused(&store, "tune", json!({ "id": id(1), "user_id": ALICE, "title": " " })).await;
    assert_eq!(
        (why.by, why.constraint.as_deref()),
        (RefusedBy::Check, Some("tune_title_not_blank"))
    );

    let row = json!({ "id": id(1), "user_id": ALICE, "title": "x", "type": "march" });
    let why = refused(&store, "tune", row).await;
    assert_eq!((why.by, why.constraint.as_deref()), (RefusedBy::Check, Some("tune_type_check")));

    let why = refused(&store, "user_profile", json!({ "id": BOB, "email": "a@example.com" })).await;
    assert_eq!((why.by, why.columns), (RefusedBy::Unique, vec!["email".to_owned()]));

    let why = refused(&store, "genre", json!({ "id": "x", "name": null })).await;
    assert_eq!((why.by, why.columns), (RefusedBy::NotNull, vec!["name".to_owned()]));
}

#[tokio::test]
async fn rows_of_the_example_schema_round_trip() {
    let db = Db::new();
    let store = db.tunes();
    let t = |name| table(&generated::SCHEMA, name);
    insert(&store, t("user_profile"), vec![json!({ "id": ALICE })]).await;
    insert(&store, t("tune"), vec![json!({ "id": id(1), "user_id": null, "title": "The Kesh" })])
        .await;
    let record = json!({
        "id": id(2), "user_id": ALICE, "tune_id": id(1), "practiced": "2026-11-24T10:00:00.500Z",
        "quality": 4, "easiness": 2.0, "interval": 6, "repetitions": 2,
        "elapsed_ms": 9007199254740991_i64, "due": null, "deleted": false, "sync_version": 3,
        "device_id": "phone", "last_modified_at": "2026-11-24T10:00:01.000Z"
    });
    insert(&store, t("practice_record"), vec![record.clone()]).await;
    let found = rows(&store, t("practice_record"), vec![json!({ "id": id(2) })]).await;
    assert_eq!(found, [object(record)]);
    let profile = rows(&store, t("user_profile"), vec![json!({ "id": ALICE })]).await;
    assert_eq!(profile[0]["settings"], json!({}));
    assert_eq!(profile[0]["deleted"], false);
}

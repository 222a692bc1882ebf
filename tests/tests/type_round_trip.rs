//! Every logical type, in every storage variant, written through each store and read back:
//! the wire value that comes out equals the one that went in (docs/types.md), including
//! edge values; and each type's constraints reject what is not a value of the type.
//!
//! Here through SQL; [`endpoint`] pushes and pulls the same values through a real sync server
//! over each store.

use codegen::ir::{Column, Schema, TimestampStorage};
use integration_tests::pg::{self, TestDb};
use integration_tests::{ddl, load, sqlite};
use postgres::error::SqlState;
use serde_json::{Value, json};

/// One nullable column per logical type and storage override.
const COLUMNS: &str = r#"
a_text = { type = "text", nullable = true }
a_uuid = { type = "uuid", nullable = true }
an_integer = { type = "integer", nullable = true }
a_bigint = { type = "bigint", nullable = true }
a_real = { type = "real", nullable = true }
a_float4 = { type = "real", postgres_type = "real", nullable = true }
a_boolean = { type = "boolean", nullable = true }
an_int_boolean = { type = "boolean", storage = "integer", nullable = true }
a_timestamp = { type = "timestamp", nullable = true }
a_plain_timestamp = { type = "timestamp", postgres_type = "timestamp", nullable = true }
a_timestamptz = { type = "timestamp", postgres_type = "timestamptz", nullable = true }
a_date = { type = "date", nullable = true }
a_json = { type = "json", nullable = true }
a_text_json = { type = "json", storage = "text", nullable = true }
an_enum = { type = "text", values = ["reel", "jig", "it's"], nullable = true }
"#;

/// [`COLUMNS`] in table `sample`, in a schema whose SQLite timestamps are stored as `storage`
/// ("text" or "integer").
fn schema(storage: &str) -> Schema {
    load(
        "round_trip.toml",
        &format!(
            r#"
[schema]
name = "round_trip"
version = 1
timestamp_storage = "{storage}"

[tables.sample.columns]
id = {{ type = "integer", primary_key = true }}
{COLUMNS}"#
        ),
    )
}

/// [`schema`] with `sample` synced: owned by the user in `owner`, ordered by `modified_at`,
/// with the server's bookkeeping in `version` and `device`.
fn synced_schema(storage: &str) -> Schema {
    load(
        "round_trip.toml",
        &format!(
            r#"
[schema]
name = "round_trip"
version = 1
timestamp_storage = "{storage}"

[sync]
owner = "owner"
modified = "modified_at"
version = "version"
device = "device"

[tables.sample]
sync = "owner"

[tables.sample.columns]
id = {{ type = "integer", primary_key = true }}
owner = {{ type = "uuid" }}
modified_at = {{ type = "timestamp" }}
version = {{ type = "integer", default = 1 }}
device = {{ type = "text", nullable = true }}
{COLUMNS}"#
        ),
    )
}

const MAX_SAFE: i64 = (1 << 53) - 1;

/// The values each column must carry unchanged (NULL is added for every column). NaN and the
/// infinities are left out because JSON, the wire format, cannot carry them; JSON `null` is
/// left out because on the wire it is the same as SQL NULL.
fn values(col: &Column) -> Vec<Value> {
    let timestamps = json!([
        "1970-01-01T00:00:00.000Z",
        "9999-12-31T23:59:59.999Z",
        "0001-01-01T00:00:00.000Z",
        "1969-12-31T23:59:59.999Z",
        "2000-02-29T12:34:56.789Z",
        "2026-11-24T10:00:00.001Z"
    ]);
    let list = match col.name.as_str() {
        "a_text" => {
            json!(["", "it's", "naïve ☕ 日本", "line\nbreak", "back\\slash", "  padded  "])
        }
        "a_uuid" => json!([
            "00000000-0000-0000-0000-000000000000",
            "ffffffff-ffff-4fff-bfff-ffffffffffff",
            "0f8fad5b-d9cb-469f-a165-70867728950e"
        ]),
        "an_integer" => json!([i32::MIN, -1, 0, i32::MAX]),
        "a_bigint" => json!([-MAX_SAFE, 0, i64::from(i32::MAX) + 1, MAX_SAFE]),
        "a_real" => json!([
            0.0,
            1.5,
            -2.25,
            0.1,
            1.0 / 3.0,
            f64::MAX,
            -f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            1e300
        ]),
        "a_float4" => json!([
            0.0,
            1.5,
            -2.25,
            f64::from(f32::MAX),
            f64::from(f32::MIN_POSITIVE),
            f64::from(0.1f32)
        ]),
        "a_boolean" | "an_int_boolean" => json!([true, false]),
        "a_timestamp" | "a_plain_timestamp" | "a_timestamptz" => timestamps,
        "a_date" => json!(["1970-01-01", "0001-01-01", "2000-02-29", "9999-12-31"]),
        "a_json" | "a_text_json" => json!([
            {},
            [],
            {"a": 1, "b": [true, false, null], "c": {"d": "é\"\\"}},
            [1, "two", {"three": 3}],
            1.5,
            -7,
            MAX_SAFE,
            "a string"
        ]),
        "an_enum" => json!(["reel", "jig", "it's"]),
        other => panic!("no values for column {other}"),
    };
    let mut list = list.as_array().expect("a list").clone();
    list.push(Value::Null);
    list
}

#[path = "type_round_trip/endpoint.rs"]
mod endpoint;

fn sample_columns(schema: &Schema) -> impl Iterator<Item = &Column> {
    schema.tables[0].columns.iter().filter(|c| c.name != "id")
}

#[test]
fn sqlite_round_trip() {
    for storage in [TimestampStorage::Text, TimestampStorage::Integer] {
        let schema = schema(if storage == TimestampStorage::Text { "text" } else { "integer" });
        let conn = sqlite::open(&ddl(&schema).0);
        let mut id = 0;
        for col in sample_columns(&schema) {
            for value in values(col) {
                id += 1;
                conn.execute(
                    &format!("INSERT INTO sample (id, \"{}\") VALUES (?1, ?2)", col.name),
                    rusqlite::params![id, sqlite::encode(col, storage, &value)],
                )
                .unwrap_or_else(|e| panic!("{storage:?}: {} = {value}: {e}", col.name));
                let back = conn
                    .query_row(
                        &format!("SELECT \"{}\" FROM sample WHERE id = ?1", col.name),
                        [id],
                        |r| Ok(sqlite::decode(col, storage, r.get_ref(0)?)),
                    )
                    .unwrap();
                assert_eq!(back, value, "{storage:?}: column {}", col.name);
            }
        }
    }
}

#[test]
fn postgres_round_trip() {
    let schema = schema("text");
    let mut db = TestDb::new();
    db.batch_execute(&ddl(&schema).1).expect("apply the DDL");
    let mut id = 0i32;
    for col in sample_columns(&schema) {
        for value in values(col) {
            id += 1;
            let insert = format!(
                "INSERT INTO sample (id, \"{}\") VALUES ($1, {})",
                col.name,
                pg::placeholder(col, 2)
            );
            let param = pg::param(col, &value);
            db.execute(&insert, &[&id, param.as_ref()])
                .unwrap_or_else(|e| panic!("{} = {value}: {e}", col.name));
            let select = format!("SELECT {} FROM sample WHERE id = $1", pg::read_expr(col));
            let row = db.query_one(&select, &[&id]).unwrap();
            assert_eq!(pg::decode(col, &row, 0), value, "column {}", col.name);
        }
    }
}

#[test]
fn sqlite_rejects_what_is_not_a_value_of_the_type() {
    let timestamps = [
        ("text", "'2024-01-01 10:00:00'", "sample_a_timestamp_check"),
        ("integer", "'2024-01-01T10:00:00.000Z'", "cannot store TEXT value in INTEGER column"),
    ];
    for (storage, bad_timestamp, timestamp_error) in timestamps {
        let conn = sqlite::open(&ddl(&schema(storage)).0);
        let cases = [
            ("a_boolean", "2", "sample_a_boolean_check"),
            ("an_int_boolean", "-1", "sample_an_int_boolean_check"),
            ("a_json", "'{bad'", "sample_a_json_check"),
            ("a_text_json", "'[1,'", "sample_a_text_json_check"),
            ("an_enum", "'polka'", "sample_an_enum_check"),
            ("a_date", "'2024-02-30'", "sample_a_date_check"),
            ("a_date", "'2024-1-5'", "sample_a_date_check"),
            ("a_timestamp", bad_timestamp, timestamp_error),
            ("an_integer", "1.5", "cannot store REAL value in INTEGER column"),
            ("an_integer", "2147483648", "sample_an_integer_check"),
            ("a_bigint", "9007199254740992", "sample_a_bigint_check"),
            ("a_uuid", "'00000000-0000-4000-8000-00000000000A'", "sample_a_uuid_check"),
            ("a_uuid", "'not-a-uuid'", "sample_a_uuid_check"),
            ("a_real", "'x'", "cannot store TEXT value in REAL column"),
        ];
        for (i, (column, value, needle)) in cases.into_iter().enumerate() {
            let sql = format!("INSERT INTO sample (id, \"{column}\") VALUES ({i}, {value})");
            let err = conn.execute_batch(&sql).expect_err(&format!("{storage}: {sql} must fail"));
            assert!(err.to_string().contains(needle), "{storage}: {sql} failed with {err}");
        }
    }
}

#[test]
fn postgres_rejects_what_is_not_a_value_of_the_type() {
    let mut db = TestDb::new();
    db.batch_execute(&ddl(&schema("text")).1).expect("apply the DDL");
    let cases = [
        ("an_enum", "'polka'", SqlState::CHECK_VIOLATION, Some("sample_an_enum_check")),
        ("an_int_boolean", "2", SqlState::CHECK_VIOLATION, Some("sample_an_int_boolean_check")),
        ("a_json", "'{bad'", SqlState::INVALID_TEXT_REPRESENTATION, None),
        ("a_date", "'2024-02-30'", SqlState::DATETIME_FIELD_OVERFLOW, None),
        ("a_uuid", "'not-a-uuid'", SqlState::INVALID_TEXT_REPRESENTATION, None),
        ("an_integer", "2147483648", SqlState::NUMERIC_VALUE_OUT_OF_RANGE, None),
    ];
    for (i, (column, value, code, constraint)) in cases.into_iter().enumerate() {
        let sql = format!("INSERT INTO sample (id, \"{column}\") VALUES ({i}, {value})");
        let err = db.batch_execute(&sql).expect_err(&format!("{sql} must fail"));
        let db_err = err.as_db_error().unwrap_or_else(|| panic!("{sql}: {err}"));
        assert_eq!((db_err.code(), db_err.constraint()), (&code, constraint), "{sql}: {db_err}");
    }
}

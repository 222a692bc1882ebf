//! Tests of the written document: it reads like the example schema.

use super::*;
use crate::import::introspect::{Index, Key};

fn column(name: &str, ty: &str, not_null: bool) -> Column {
    Column {
        name: name.into(),
        ty: ty.into(),
        enum_values: None,
        not_null,
        default: None,
        identity: None,
        generated: None,
        comment: None,
    }
}

fn index(name: &str, column: &str) -> Index {
    Index {
        name: name.into(),
        unique: false,
        plain: true,
        columns: vec![(column.into(), false)],
        predicate: None,
        definition: format!("CREATE INDEX {name} ON t USING btree ({column})"),
    }
}

#[test]
fn the_document_reads_like_the_example_schema() {
    let mut kind = column("kind", "text", true);
    kind.default = Some("'a \"b\"'::text".into());
    kind.comment = Some("What it is.".into());
    let table = Table {
        name: "t".into(),
        comment: Some("A table.".into()),
        columns: vec![
            column("id", "uuid", true),
            kind,
            column("price", "numeric(10,2)", false),
            column("at", "timestamp with time zone", false),
        ],
        primary_key: Some(Key { name: "t_pkey".into(), columns: vec!["id".into()] }),
        indexes: vec![index("t_kind_idx", "kind"), index("t_at_idx", "at")],
        ..Table::default()
    };
    let on_devices = BTreeSet::from(["t".to_owned()]);
    let written = write(
        "Line one.\nLine two.",
        "shop",
        &[table],
        &BTreeMap::new(),
        &BTreeMap::new(),
        &on_devices,
    );
    let expected = r#"# Line one.
# Line two.
[schema]
name = "shop"
version = 1

[tables.t]
comment = "A table."
indexes = [
  { columns = ["kind"] },
  { columns = ["at"] },
]
# not imported: column price numeric(10,2)

[tables.t.columns]
id = { type = "uuid", primary_key = true }
kind = { type = "text", default = 'a "b"', comment = "What it is." }
at = { type = "timestamp", postgres_type = "timestamptz", nullable = true }
"#;
    assert_eq!(written.text, expected);
    let start = expected.find("[tables.t]").unwrap();
    assert_eq!(written.sections, [("t".to_owned(), start..expected.len())]);
    let messages: Vec<&str> = written.notes.iter().map(|n| n.message.as_str()).collect();
    assert_eq!(messages, ["numeric(10,2) has no logical type in schema.toml; left out"]);
}

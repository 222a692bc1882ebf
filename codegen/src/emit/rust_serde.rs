//! The serde impls of the generated row structs and enums, as source text: a few lines per
//! table that hand the fields to the shared code of `sync_meta::row` (a column's wire form is
//! decided there, from the table's metadata), instead of a `#[derive(Serialize, Deserialize)]`
//! per table, which was most of the time `cargo check` took on a generated crate of many tables.

use std::fmt::Write as _;

use sync_meta::schema::LogicalType;

use crate::emit::rust::{enum_path, ident};
use crate::ir::{Column, Table};

const SERIALIZE: &str = "fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> \
                         ::std::result::Result<S::Ok, S::Error>";
const DESERIALIZE: &str = "fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> \
                           ::std::result::Result<Self, D::Error>";
const TABLE: &str = "<Self as ::sync_meta::schema::SyncRow>::TABLE";

/// `Serialize` and `Deserialize` for the row struct `row` of `table`, through
/// `sync_meta::row::{serialize, deserialize}`.
pub(super) fn row_impls(out: &mut String, table: &Table, row: &str) {
    let _ = writeln!(out, "impl ::serde::Serialize for {row} {{\n    {SERIALIZE} {{");
    let _ = writeln!(out, "        ::sync_meta::row::serialize(serializer, {TABLE}, &[");
    for column in &table.columns {
        let field = format!("self.{}", ident(&column.name));
        let value = match (&column.values, column.nullable) {
            (Some(_), false) => format!("Some({field}.as_str())"),
            (Some(_), true) => format!("{field}.map({}::as_str)", enum_path(table, column)),
            (None, false) => format!("Some(&{field})"),
            (None, true) => format!("{field}.as_ref()"),
        };
        let _ = writeln!(out, "            ::sync_meta::row::Field::{}({value}),", variant(column));
    }
    out.push_str("        ])\n    }\n}\n\n");
    let _ = writeln!(out, "impl<'de> ::serde::Deserialize<'de> for {row} {{\n    {DESERIALIZE} {{");
    let _ = writeln!(
        out,
        "        let mut row = ::sync_meta::row::deserialize(deserializer, {TABLE})?;"
    );
    out.push_str("        ::std::result::Result::Ok(Self {\n");
    for (index, column) in table.columns.iter().enumerate() {
        let getter = getter(column);
        let opt = if column.nullable { "_opt" } else { "" };
        let take = format!("row.{getter}{opt}({index})?");
        let value = match (&column.values, column.nullable) {
            (Some(_), false) => format!("{}::ALL[{take}]", enum_path(table, column)),
            (Some(_), true) => format!("{take}.map(|i| {}::ALL[i])", enum_path(table, column)),
            (None, _) => take,
        };
        let _ = writeln!(out, "            {}: {value},", ident(&column.name));
    }
    out.push_str("        })\n    }\n}\n");
}

/// `Serialize` and `Deserialize` for the enum `name` of a `values` column, inside the table's
/// module: the value as a string.
pub(super) fn enum_impls(out: &mut String, name: &str, values: &[String]) {
    let quoted: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
    let _ = write!(
        out,
        "\n    impl ::serde::Serialize for {name} {{\n        {SERIALIZE} {{\n            \
         serializer.serialize_str(self.as_str())\n        }}\n    }}\n\n    \
         impl<'de> ::serde::Deserialize<'de> for {name} {{\n        {DESERIALIZE} {{\n            \
         ::sync_meta::row::variant(deserializer, &[{}]).map(|i| Self::ALL[i])\n        }}\n    }}\n",
        quoted.join(", ")
    );
}

/// The `sync_meta::row::Field` variant of a column.
fn variant(column: &Column) -> &'static str {
    if column.values.is_some() {
        return "Variant";
    }
    match column.ty {
        LogicalType::Text => "Text",
        LogicalType::Uuid => "Uuid",
        LogicalType::Integer => "Integer",
        LogicalType::Bigint => "Bigint",
        LogicalType::Real => "Real",
        LogicalType::Boolean => "Boolean",
        LogicalType::Timestamp => "Timestamp",
        LogicalType::Date => "Date",
        LogicalType::Json => "Json",
    }
}

/// The `sync_meta::row::Values` getter of a column (`_opt` added for a nullable one).
fn getter(column: &Column) -> &'static str {
    if column.values.is_some() { "variant" } else { column.ty.as_str() }
}

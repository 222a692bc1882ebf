//! Checks a hand-written row struct against a table of the schema, for `#[derive(SyncRow)]`.
//!
//! The check runs over plain values (field names and a simplified description of each field's
//! type), so it is tested here without a proc-macro. The Rust type a column expects is read off
//! the tokens the Rust emitter generates, so the derive and the generated crate agree by
//! construction.
//!
//! A macro cannot resolve names, so types are compared by path: a written path matches when one
//! of the written and expected paths is a suffix of the other (`Uuid`, `uuid::Uuid` and
//! `::uuid::Uuid` all match `::uuid::Uuid`; `db::tune::Type` matches `tune::Type`). A type
//! alias is not followed and is reported as a mismatch.

use std::fmt;

use crate::diag::line_col;
use crate::emit::rust::{shown_type, value_type, wire_helper};
use crate::ir::{Column, LogicalType, Schema, Table};
use crate::types;

/// A Rust type as written in a struct, reduced to what the check compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RustType {
    /// A path such as `Option<uuid::Uuid>`: its segments (without a leading `::`) and the
    /// generic type arguments of its last segment.
    Path { segments: Vec<String>, args: Vec<RustType> },
    /// Anything else (a reference, a tuple, an array), as written.
    Other(String),
}

impl RustType {
    pub fn from_syn(ty: &syn::Type) -> Self {
        match ty {
            // A type passed through `macro_rules!` arrives wrapped in an invisible group.
            syn::Type::Group(g) => Self::from_syn(&g.elem),
            syn::Type::Paren(p) => Self::from_syn(&p.elem),
            syn::Type::Path(p) if p.qself.is_none() => {
                let segments = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
                let args = match p.path.segments.last().map(|s| &s.arguments) {
                    Some(syn::PathArguments::AngleBracketed(a)) => a
                        .args
                        .iter()
                        .map(|arg| match arg {
                            syn::GenericArgument::Type(t) => Self::from_syn(t),
                            other => {
                                Self::Other(quote::ToTokens::to_token_stream(other).to_string())
                            }
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                RustType::Path { segments, args }
            }
            other => Self::Other(quote::ToTokens::to_token_stream(other).to_string()),
        }
    }

    /// The inner type of an `Option<T>`, if this is one.
    fn option_inner(&self) -> Option<&RustType> {
        match self {
            RustType::Path { segments, args } if args.len() == 1 => {
                suffix_match(segments, &["std", "option", "Option"]).then(|| &args[0])
            }
            _ => None,
        }
    }

    fn matches(&self, expected: &RustType) -> bool {
        match (self, expected) {
            (
                RustType::Path { segments, args },
                RustType::Path { segments: want, args: want_args },
            ) => {
                let want: Vec<&str> = want.iter().map(String::as_str).collect();
                suffix_match(segments, &want)
                    && args.len() == want_args.len()
                    && args.iter().zip(want_args).all(|(a, w)| a.matches(w))
            }
            _ => false,
        }
    }
}

impl fmt::Display for RustType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RustType::Path { segments, args } => {
                f.write_str(&segments.join("::"))?;
                if !args.is_empty() {
                    let args: Vec<String> = args.iter().map(ToString::to_string).collect();
                    write!(f, "<{}>", args.join(", "))?;
                }
                Ok(())
            }
            RustType::Other(text) => f.write_str(text),
        }
    }
}

/// Whether one path is a suffix of the other, taking `core::` and `alloc::` for `std::`.
fn suffix_match(written: &[String], expected: &[&str]) -> bool {
    let norm = |s: &str| if s == "core" || s == "alloc" { "std" } else { s }.to_owned();
    let written: Vec<String> = written.iter().map(|s| norm(s)).collect();
    let expected: Vec<String> = expected.iter().map(|s| norm(s)).collect();
    !written.is_empty() && (written.ends_with(&expected) || expected.ends_with(&written))
}

/// One field of a hand-written row struct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The Rust field name, for messages.
    pub name: String,
    /// The column it maps to: the field name, or its `rename`.
    pub column: String,
    pub ty: RustType,
    /// The path of its `#[serde(with = "...")]`, if any.
    pub with: Option<String>,
}

/// Where a mismatch belongs in the struct, so the macro can put the error there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    /// The table name given to the derive.
    Table,
    /// The struct as a whole (a column without a field).
    Struct,
    /// The name of the field with this index.
    FieldName(usize),
    /// The type of the field with this index.
    FieldType(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub at: At,
    pub message: String,
}

/// Checks `fields` against table `table` of `schema`, which was loaded from `text` under the
/// name `file`; messages point at the column in that file. Returns the table when every field
/// matches a column and every column has a field.
pub fn check_struct<'s>(
    schema: &'s Schema,
    file: &str,
    text: &str,
    table: &str,
    fields: &[Field],
) -> Result<&'s Table, Vec<Mismatch>> {
    let at = |span: &crate::ir::Span| {
        let (line, col) = line_col(text, span.start);
        format!("{file}:{line}:{col}")
    };
    let Some(t) = schema.table(table) else {
        let names: Vec<&str> = schema.tables.iter().map(|t| t.name.as_str()).collect();
        let message =
            format!("table `{table}` is not in {file}; its tables are: {}", names.join(", "));
        return Err(vec![Mismatch { at: At::Table, message }]);
    };
    let mut mismatches = Vec::new();
    for (i, field) in fields.iter().enumerate() {
        let earlier = fields[..i].iter().find(|f| f.column == field.column);
        if let Some(earlier) = earlier {
            let message = format!(
                "field `{}` maps to column `{}`, as field `{}` already does",
                field.name, field.column, earlier.name
            );
            mismatches.push(Mismatch { at: At::FieldName(i), message });
            continue;
        }
        let Some(column) = t.column(&field.column) else {
            let columns: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
            let message = format!(
                "field `{}` has no column `{}` in table `{table}` ({}); its columns are: {}",
                field.name,
                field.column,
                at(&t.span),
                columns.join(", ")
            );
            mismatches.push(Mismatch { at: At::FieldName(i), message });
            continue;
        };
        let problem = check_type(t, column, &field.ty, &at(&column.span))
            .or_else(|| check_wire_helper(t, column, field.with.as_deref(), &at(&column.span)));
        if let Some(message) = problem {
            mismatches.push(Mismatch { at: At::FieldType(i), message });
        }
    }
    for column in t.columns.iter().filter(|c| !fields.iter().any(|f| f.column == c.name)) {
        let message = format!(
            "missing field for column `{table}.{}`, a {} `{}` ({})",
            column.name,
            if column.nullable { "nullable" } else { "NOT NULL" },
            describe(column),
            at(&column.span)
        );
        mismatches.push(Mismatch { at: At::Struct, message });
    }
    if mismatches.is_empty() { Ok(t) } else { Err(mismatches) }
}

/// Why `written` cannot hold the values of `column`, if it cannot.
fn check_type(table: &Table, column: &Column, written: &RustType, at: &str) -> Option<String> {
    let expected = expected_types(table, column);
    let shown = expected_names(table, column);
    let name = format!("{}.{}", table.name, column.name);
    let ty = describe(column);
    match (written.option_inner(), column.nullable) {
        (None, true) => Some(format!(
            "column `{name}` is a nullable `{ty}` ({at}), so this field must be `Option<{shown}>`, not `{written}`"
        )),
        (Some(_), false) => Some(format!(
            "column `{name}` is a NOT NULL `{ty}` ({at}), so this field must be `{shown}`, not `{written}`"
        )),
        (inner, _) => {
            let value = inner.unwrap_or(written);
            (!expected.iter().any(|e| value.matches(e))).then(|| {
                format!(
                    "column `{name}` is `{ty}` ({at}), whose Rust type is `{shown}`, not `{value}`"
                )
            })
        }
    }
}

/// Timestamps, dates and bigints have a wire form of their own (milliseconds and `Z`,
/// `YYYY-MM-DD`, the safe integer range); without the `sync_meta::wire` helper the generated
/// structs use, serde would write chrono's or i64's default form and the row would drift.
fn check_wire_helper(
    table: &Table,
    column: &Column,
    with: Option<&str>,
    at: &str,
) -> Option<String> {
    let helper = wire_helper(column)?;
    let written: Vec<String> =
        with.unwrap_or_default().trim_start_matches("::").split("::").map(str::to_owned).collect();
    let ok = with.is_some()
        && written.last() == Some(&helper)
        && suffix_match(&written, &["sync_meta", "wire", &helper]);
    let default = if column.nullable { ", default" } else { "" };
    (!ok).then(|| {
        format!(
            "column `{}.{}` is a {} `{}` ({at}), whose wire form needs \
             `#[serde(with = \"sync_meta::wire::{helper}\"{default})]` on this field",
            table.name,
            column.name,
            if column.nullable { "nullable" } else { "NOT NULL" },
            describe(column),
        )
    })
}

/// The Rust types a column's values may have (without `Option`): the generated crate's type,
/// and also a text column's (`String`) for an enum column.
fn expected_types(table: &Table, column: &Column) -> Vec<RustType> {
    let generated: syn::Type =
        syn::parse_str(&value_type(table, column)).expect("the Rust emitter generates valid types");
    let mut expected = vec![RustType::from_syn(&generated)];
    if column.values.is_some() {
        let text: syn::Type = syn::parse_str(types::entry(LogicalType::Text).rust)
            .expect("the type table's Rust types are valid");
        expected.push(RustType::from_syn(&text));
    }
    expected
}

fn expected_names(table: &Table, column: &Column) -> String {
    let generated = shown_type(table, column);
    if column.values.is_some() { format!("{generated}` or `String") } else { generated }
}

/// The column's logical type as `schema.toml` spells it, with its values for an enum.
fn describe(column: &Column) -> String {
    match &column.values {
        Some(values) => format!("{} in [{}]", column.ty.as_str(), values.join(", ")),
        None => column.ty.as_str().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "schema.toml";
    const TEXT: &str = r#"[schema]
name = "t"
version = 1

[tables.tune]
[tables.tune.columns]
id = { type = "uuid", primary_key = true }
title = { type = "text" }
type = { type = "text", values = ["reel", "jig"] }
composed = { type = "date", nullable = true }
at = { type = "timestamp" }
"#;

    fn ty(text: &str) -> RustType {
        RustType::from_syn(&syn::parse_str(text).unwrap())
    }

    fn field(name: &str, text: &str) -> Field {
        Field { name: name.into(), column: name.into(), ty: ty(text), with: None }
    }

    fn with(field: Field, path: &str) -> Field {
        Field { with: Some(path.into()), ..field }
    }

    fn matching() -> Vec<Field> {
        vec![
            field("id", "uuid::Uuid"),
            field("title", "String"),
            field("type", "tune::Type"),
            with(field("composed", "Option<chrono::NaiveDate>"), "sync_meta::wire::date_opt"),
            with(field("at", "DateTime<Utc>"), "::sync_meta::wire::timestamp"),
        ]
    }

    #[test]
    fn timestamps_and_dates_need_their_wire_helper() {
        let mut fields = matching();
        fields[4].with = None;
        let error = only(&fields);
        assert_eq!(error.at, At::FieldType(4));
        assert_eq!(
            error.message,
            "column `tune.at` is a NOT NULL `timestamp` (schema.toml:11:1), whose wire form needs \
             `#[serde(with = \"sync_meta::wire::timestamp\")]` on this field"
        );
        // The helper of another type, or of the non-Option form, is as wrong as none.
        fields[4].with = Some("sync_meta::wire::date".into());
        assert_eq!(only(&fields).at, At::FieldType(4));
        let mut fields = matching();
        fields[3].with = Some("sync_meta::wire::date".into());
        assert!(only(&fields).message.contains("wire::date_opt\", default)"));
        // A path brought into scope with `use` is accepted.
        fields[3].with = Some("wire::date_opt".into());
        assert_eq!(check(&fields).unwrap(), "tune");
    }

    fn check(fields: &[Field]) -> Result<String, Vec<Mismatch>> {
        let schema = crate::load(FILE, TEXT).expect("valid");
        check_struct(&schema, FILE, TEXT, "tune", fields).map(|t| t.name.clone())
    }

    fn only(fields: &[Field]) -> Mismatch {
        let mut errors = check(fields).expect_err("a mismatch");
        assert_eq!(errors.len(), 1, "{errors:?}");
        errors.remove(0)
    }

    #[test]
    fn a_matching_struct_passes_in_any_spelling_of_the_types() {
        assert_eq!(check(&matching()).unwrap(), "tune");
        let mut fields = matching();
        fields[0].ty = ty("::uuid::Uuid");
        fields[1].ty = ty("std::string::String");
        fields[2].ty = ty("String");
        fields[3].ty = ty("core::option::Option<NaiveDate>");
        fields[4].ty = ty("::chrono::DateTime<::chrono::Utc>");
        assert_eq!(check(&fields).unwrap(), "tune");
        fields[2].ty = ty("my_crate::tune::Type");
        assert_eq!(check(&fields).unwrap(), "tune");
    }

    #[test]
    fn renamed_fields_map_to_their_column() {
        let mut fields = matching();
        fields[1] =
            Field { name: "name".into(), column: "title".into(), ty: ty("String"), with: None };
        assert_eq!(check(&fields).unwrap(), "tune");
    }

    #[test]
    fn an_unknown_table_lists_the_tables() {
        let schema = crate::load(FILE, TEXT).unwrap();
        let errors = check_struct(&schema, FILE, TEXT, "tunes", &matching()).unwrap_err();
        assert_eq!(errors[0].at, At::Table);
        assert_eq!(errors[0].message, "table `tunes` is not in schema.toml; its tables are: tune");
    }

    #[test]
    fn a_missing_field_points_at_its_column() {
        let mut fields = matching();
        fields.remove(1);
        let error = only(&fields);
        assert_eq!(error.at, At::Struct);
        assert_eq!(
            error.message,
            "missing field for column `tune.title`, a NOT NULL `text` (schema.toml:8:1)"
        );
    }

    #[test]
    fn an_extra_field_lists_the_columns() {
        let mut fields = matching();
        fields.push(field("tempo", "i32"));
        let error = only(&fields);
        assert_eq!(error.at, At::FieldName(5));
        assert_eq!(
            error.message,
            "field `tempo` has no column `tempo` in table `tune` (schema.toml:5:9); \
             its columns are: id, title, type, composed, at"
        );
    }

    #[test]
    fn a_wrong_type_names_the_expected_one() {
        let mut fields = matching();
        fields[4].ty = ty("String");
        fields[2].ty = ty("u8");
        let errors = check(&fields).unwrap_err();
        let messages: Vec<(At, &str)> = errors.iter().map(|e| (e.at, e.message.as_str())).collect();
        assert_eq!(
            messages,
            [
                (
                    At::FieldType(2),
                    "column `tune.type` is `text in [reel, jig]` (schema.toml:9:1), whose Rust \
                     type is `tune::Type` or `String`, not `u8`"
                ),
                (
                    At::FieldType(4),
                    "column `tune.at` is `timestamp` (schema.toml:11:1), whose Rust type is \
                     `chrono::DateTime<chrono::Utc>`, not `String`"
                ),
            ]
        );
    }

    #[test]
    fn nullability_must_agree() {
        let mut fields = matching();
        fields[1].ty = ty("Option<String>");
        let error = only(&fields);
        assert_eq!(error.at, At::FieldType(1));
        assert_eq!(
            error.message,
            "column `tune.title` is a NOT NULL `text` (schema.toml:8:1), so this field must be \
             `String`, not `Option<String>`"
        );
        let mut fields = matching();
        fields[3].ty = ty("chrono::NaiveDate");
        assert_eq!(
            only(&fields).message,
            "column `tune.composed` is a nullable `date` (schema.toml:10:1), so this field must \
             be `Option<chrono::NaiveDate>`, not `chrono::NaiveDate`"
        );
        fields[3].ty = ty("Option<i64>");
        assert!(only(&fields).message.contains("whose Rust type is `chrono::NaiveDate`"));
    }

    #[test]
    fn two_fields_cannot_map_to_one_column() {
        let mut fields = matching();
        fields.push(Field {
            name: "name".into(),
            column: "title".into(),
            ty: ty("String"),
            with: None,
        });
        let error = only(&fields);
        assert_eq!(error.at, At::FieldName(5));
        assert_eq!(
            error.message,
            "field `name` maps to column `title`, as field `title` already does"
        );
    }

    #[test]
    fn types_other_than_paths_never_match() {
        let mut fields = matching();
        fields[1].ty = ty("&'static str");
        assert!(only(&fields).message.ends_with("not `& 'static str`"));
        assert_eq!(ty("Vec<(u8, u8)>").to_string(), "Vec<(u8 , u8)>");
    }
}

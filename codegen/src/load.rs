//! Reading `schema.toml`: TOML syntax, then the raw serde types piece by piece, so that one bad
//! column or table does not hide the problems in the others. The raw types keep the positions
//! validation reports at, so validation never comes back here.

use std::path::Path;

use serde::Deserialize;
use serde::de::IntoDeserializer;
use toml::Spanned;
use toml::de::{DeString, DeTable, DeValue};

use crate::diag::{Problem, SchemaError, edit_distance};
use crate::ir::{Schema, Span};
use crate::raw;
use crate::validate;

/// How loading reads an `[extra_sql]` file, by its path as written: its text, or why not.
pub type ReadExtra<'a> = &'a dyn Fn(&str) -> Result<String, String>;

/// Parse and validate a schema read from text alone. `file` is the name used in diagnostics
/// (usually `schema.toml`). Text has no folder to read `[extra_sql]` files from, so a schema that
/// names any is refused here: load it with [`load_in`].
pub fn load(file: &str, text: &str) -> Result<Schema, SchemaError> {
    load_with(file, text, &|_| {
        Err("the schema was loaded without its folder, so its extra_sql files cannot be read"
            .into())
    })
}

/// [`load`] a schema whose `[extra_sql]` paths are relative to `dir`, the folder of `schema.toml`.
pub fn load_in(file: &str, text: &str, dir: &Path) -> Result<Schema, SchemaError> {
    load_with(file, text, &|path| {
        std::fs::read_to_string(dir.join(path)).map_err(|e| e.to_string())
    })
}

/// [`load`], reading each `[extra_sql]` file through `read` (its text, or why it cannot be read).
pub fn load_with(file: &str, text: &str, read: ReadExtra<'_>) -> Result<Schema, SchemaError> {
    let fail =
        |problems| SchemaError { file: file.to_owned(), source_text: text.to_owned(), problems };
    let (tree, syntax_errors) = DeTable::parse_recoverable(text);
    if !syntax_errors.is_empty() {
        let problems = syntax_errors
            .iter()
            .map(|e| {
                let span = e.span().unwrap_or(0..0);
                Problem::new("schema::syntax", span, format!("invalid TOML: {}", e.message()))
                    .label("TOML syntax error")
            })
            .collect();
        return Err(fail(problems));
    }
    let mut problems = Vec::new();
    let doc = read_document(&tree, &mut problems);
    let schema = doc.and_then(|doc| validate::validate(&doc, read, &mut problems));
    match schema {
        Some(schema) if problems.is_empty() => Ok(schema),
        _ => Err(fail(problems)),
    }
}

/// Deserialize one piece of the tree, turning a serde error into a problem at its position.
fn read<T: for<'de> Deserialize<'de>>(
    value: &Spanned<DeValue<'_>>,
    what: &str,
    problems: &mut Vec<Problem>,
) -> Option<T> {
    match T::deserialize(value.clone().into_deserializer()) {
        Ok(v) => Some(v),
        Err(e) => {
            let span = e.span().unwrap_or_else(|| value.span());
            if let Some(problem) = as_unknown_key(e.message(), span.clone(), what) {
                problems.push(problem);
                return None;
            }
            problems.push(
                Problem::new("schema::invalid_value", span, format!("{what}: {}", e.message()))
                    .label("not valid here"),
            );
            None
        }
    }
}

/// [`read`], keeping where the value is written.
fn read_spanned<T: for<'de> Deserialize<'de>>(
    value: &Spanned<DeValue<'_>>,
    what: &str,
    problems: &mut Vec<Problem>,
) -> Option<Spanned<T>> {
    read(value, what, problems).map(|v| Spanned::new(value.span(), v))
}

/// A table key as the raw types keep it: its text, and where it is written.
fn spanned_key(key: &Spanned<DeString<'_>>) -> Spanned<String> {
    Spanned::new(key.span(), key.get_ref().to_string())
}

fn read_document(
    tree: &Spanned<DeTable<'_>>,
    problems: &mut Vec<Problem>,
) -> Option<raw::Document> {
    let mut schema = None;
    let mut sync = raw::SyncDefaults::default();
    let mut tables = indexmap::IndexMap::new();
    let mut evolution = raw::Evolution::default();
    let mut postgres = raw::PostgresSettings::default();
    let mut extra_sql = raw::ExtraSql::default();
    let mut scopes = Vec::new();
    let mut ok = true;
    for (key, value) in tree.get_ref().iter() {
        match key.get_ref().as_ref() {
            "schema" => schema = read_spanned(value, "in [schema]", problems),
            "sync" => match read(value, "in [sync]", problems) {
                Some(s) => sync = s,
                None => ok = false,
            },
            "tables" => ok &= read_tables(value, &mut tables, &mut scopes, problems),
            "evolution" => match read(value, "in [evolution]", problems) {
                Some(e) => evolution = e,
                None => ok = false,
            },
            "postgres" => match read(value, "in [postgres]", problems) {
                Some(p) => postgres = p,
                None => ok = false,
            },
            "extra_sql" => match read(value, "in [extra_sql]", problems) {
                Some(e) => extra_sql = e,
                None => ok = false,
            },
            other => {
                let known = ["schema", "sync", "tables", "evolution", "postgres", "extra_sql"];
                problems.push(unknown_key(key.span(), other, &known));
                ok = false;
            }
        }
    }
    let Some(schema) = schema else {
        if !tree.get_ref().contains_key("schema") {
            problems.push(
                Problem::new("schema::missing_section", 0..0, "the [schema] section is missing")
                    .help("start the file with [schema] name = \"app\" and version = 1"),
            );
        }
        return None;
    };
    if !ok {
        // Validation does not run on a document with unreadable parts, so what needs nothing
        // but a value is checked here: all mistakes are still reported at once.
        for (table, written) in &scopes {
            problems.extend(validate::unknown_scope(table, written));
        }
        return None;
    }
    Some(raw::Document { schema, sync, tables, evolution, postgres, extra_sql })
}

/// Read every table into `tables`, and each table's `sync` value (when it is a string) into
/// `scopes`, even from a table that cannot be read. False when something could not be read.
fn read_tables(
    value: &Spanned<DeValue<'_>>,
    tables: &mut indexmap::IndexMap<Spanned<String>, Spanned<raw::Table>>,
    scopes: &mut Vec<(String, Spanned<String>)>,
    problems: &mut Vec<Problem>,
) -> bool {
    let DeValue::Table(entries) = value.get_ref() else {
        problems.push(Problem::new(
            "schema::invalid_value",
            value.span(),
            "`tables` must be a table",
        ));
        return false;
    };
    let mut ok = true;
    for (name, table) in entries.iter() {
        let name_str = name.get_ref().to_string();
        let DeValue::Table(fields) = table.get_ref() else {
            problems.push(Problem::new(
                "schema::invalid_value",
                table.span(),
                format!("table `{name_str}` must be a TOML table"),
            ));
            ok = false;
            continue;
        };
        if let Some(sync) = fields.get("sync")
            && let DeValue::String(scope) = sync.get_ref()
        {
            scopes.push((name_str.clone(), Spanned::new(sync.span(), scope.to_string())));
        }
        // Columns are read one by one below, so take them out of the table's own fields.
        let mut without_columns = fields.clone();
        let columns = without_columns.remove("columns");
        let meta = Spanned::new(table.span(), DeValue::Table(without_columns));
        // A mistake in the table's own keys must not hide those in its columns.
        let mut raw_table =
            read_spanned::<raw::Table>(&meta, &format!("in table `{name_str}`"), problems);
        ok &= raw_table.is_some();
        if let Some(columns) = columns {
            let DeValue::Table(cols) = columns.get_ref() else {
                problems.push(Problem::new(
                    "schema::invalid_value",
                    columns.span(),
                    format!("`columns` of table `{name_str}` must be a table"),
                ));
                ok = false;
                continue;
            };
            for (col, spec) in cols.iter() {
                let what = format!("in column `{name_str}.{}`", col.get_ref());
                match (read::<raw::Column>(spec, &what, problems), &mut raw_table) {
                    (Some(c), Some(table)) => {
                        table.get_mut().columns.insert(spanned_key(col), c);
                    }
                    (Some(_), None) => {}
                    (None, _) => ok = false,
                }
            }
        }
        if let Some(raw_table) = raw_table {
            tables.insert(spanned_key(name), raw_table);
        }
    }
    ok
}

/// serde's "unknown field `x`, expected one of `a`, `b`" as an unknown-key problem with a
/// suggestion.
fn as_unknown_key(message: &str, span: Span, what: &str) -> Option<Problem> {
    let rest = message.strip_prefix("unknown field `")?;
    let (key, rest) = rest.split_once('`')?;
    let known: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
    let problem = unknown_key(span, key, &known);
    Some(Problem { message: format!("{what}: {}", problem.message), ..problem })
}

/// An unknown key, with the closest known key as a suggestion.
fn unknown_key(span: Span, key: &str, known: &[&str]) -> Problem {
    let problem = Problem::new("schema::unknown_key", span, format!("unknown key `{key}`"))
        .label("not part of the format");
    match known.iter().find(|k| edit_distance(k, key) <= 2) {
        Some(k) => problem.help(format!("did you mean `{k}`?")),
        None => problem.help(format!("expected one of: {}", known.join(", "))),
    }
}

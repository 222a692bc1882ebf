//! Column-level changes of a table that is in both versions: columns added or dropped, types,
//! storage, nullability, defaults and enum values.

use super::{About, Findings, Place, Rule};
use crate::ir::{Column, DefaultValue, Storage, Table};

pub(super) fn compare(old: &Table, new: &Table, findings: &mut Findings) {
    let synced = old.is_synced() || new.is_synced();
    for column in &new.columns {
        let about = About { table: Some(&new.name), column: Some(&column.name), synced };
        let Some(before) = old.column(&column.name) else {
            let name = format!("{}.{}", new.name, column.name);
            let (rule, message) = if column.nullable {
                (Rule::AddNullableColumn, format!("column `{name}` is added, nullable"))
            } else if let Some(default) = &column.default {
                let default = shown_default(Some(default));
                let message = format!("column `{name}` is added, NOT NULL with default {default}");
                (Rule::AddColumnWithDefault, message)
            } else {
                let message = format!(
                    "column `{name}` is added, NOT NULL without a default: existing rows have no \
                     value and older clients do not send one"
                );
                (Rule::AddRequiredColumn, message)
            };
            findings.push(rule, about, Place::New(column.span.clone()), message);
            continue;
        };
        compare_column(&new.name, before, column, about, findings);
    }
    for column in old.columns.iter().filter(|c| new.column(&c.name).is_none()) {
        let about = About { table: Some(&new.name), column: Some(&column.name), synced };
        let place = Place::Removed { old: column.span.clone(), anchor: Some(new.span.clone()) };
        let message = format!("column `{}.{}` is dropped", new.name, column.name);
        findings.push(Rule::DropColumn, about, place, message);
    }
}

fn compare_column(
    table: &str,
    old: &Column,
    new: &Column,
    about: About<'_>,
    findings: &mut Findings,
) {
    let name = format!("{table}.{}", new.name);
    let mut push = |rule: Rule, message: String| {
        findings.push(rule, about.clone(), Place::New(new.span.clone()), message);
    };
    if old.ty != new.ty {
        push(
            Rule::ChangeColumnType,
            format!(
                "column `{name}` changes type from `{}` to `{}`",
                old.ty.as_str(),
                new.ty.as_str()
            ),
        );
    }
    if old.storage != new.storage {
        push(
            Rule::ChangeColumnStorage,
            format!(
                "the storage of column `{name}` changes from {} to {}",
                shown_storage(old.storage),
                shown_storage(new.storage)
            ),
        );
    }
    match (old.nullable, new.nullable) {
        (true, false) => push(
            Rule::NullableToNotNull,
            format!(
                "column `{name}` becomes NOT NULL: existing rows and older clients may hold NULL"
            ),
        ),
        (false, true) => push(
            Rule::NotNullToNullable,
            format!("column `{name}` becomes nullable: older clients' types say it is never NULL"),
        ),
        _ => {}
    }
    if old.default != new.default {
        push(
            Rule::ChangeDefault,
            format!(
                "the default of column `{name}` changes from {} to {}",
                shown_default(old.default.as_ref()),
                shown_default(new.default.as_ref())
            ),
        );
    }
    // Values only compare within one type; a type change is reported above.
    if old.ty != new.ty {
        return;
    }
    match (&old.values, &new.values) {
        (Some(before), Some(after)) => {
            let added: Vec<&String> = after.iter().filter(|v| !before.contains(v)).collect();
            let removed: Vec<&String> = before.iter().filter(|v| !after.contains(v)).collect();
            if !added.is_empty() {
                push(
                    Rule::AddEnumValue,
                    format!(
                        "column `{name}` gains {}: older clients do not know {}",
                        listed(&added),
                        if added.len() == 1 { "it" } else { "them" }
                    ),
                );
            }
            if !removed.is_empty() {
                push(
                    Rule::RemoveEnumValue,
                    format!(
                        "column `{name}` loses {}: existing rows and older clients may hold {}",
                        listed(&removed),
                        if removed.len() == 1 { "it" } else { "them" }
                    ),
                );
            }
        }
        (Some(before), None) => push(
            Rule::AddEnumValue,
            format!(
                "column `{name}` no longer restricts its values to {}: older clients may \
                 receive a value they do not know",
                listed(&before.iter().collect::<Vec<_>>())
            ),
        ),
        (None, Some(after)) => push(
            Rule::RemoveEnumValue,
            format!(
                "column `{name}` is restricted to {}: existing rows and older clients may hold \
                 other values",
                listed(&after.iter().collect::<Vec<_>>())
            ),
        ),
        (None, None) => {}
    }
}

/// `value `a`` or `values `a`, `b``.
fn listed(values: &[&String]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
    format!("value{} {}", if values.len() == 1 { "" } else { "s" }, quoted.join(", "))
}

fn shown_default(default: Option<&DefaultValue>) -> String {
    let Some(default) = default else { return "none".to_owned() };
    match default {
        DefaultValue::Random => "`random`".to_owned(),
        DefaultValue::Now => "`now`".to_owned(),
        DefaultValue::Integer(i) => format!("`{i}`"),
        DefaultValue::Real(r) => format!("`{r}`"),
        DefaultValue::Boolean(b) => format!("`{b}`"),
        DefaultValue::Json(json) => format!("`{json}`"),
        DefaultValue::Text(s) | DefaultValue::Timestamp(s) | DefaultValue::Date(s) => {
            format!("`{s:?}`")
        }
    }
}

fn shown_storage(storage: Storage) -> String {
    let mut parts = Vec::new();
    if let Some(pg) = storage.postgres {
        parts.push(format!("`postgres_type = {}`", pg.as_str()));
    }
    if let Some(stored) = storage.stored_as {
        parts.push(format!("`storage = {}`", stored.as_str()));
    }
    if parts.is_empty() { "the default mapping".to_owned() } else { parts.join(" and ") }
}

//! One column: its type, storage override, allowed values and default.

use toml::Spanned;

use crate::diag::Problem;
use crate::ir::{self, DefaultValue, LogicalType, Storage, derived};
use crate::raw;
use crate::types;

use super::names::{self, Kind};

/// The largest integer a JavaScript number holds exactly; `bigint` values beyond it are refused
/// everywhere (docs/types.md, "Decisions").
pub use sync_meta::wire::MAX_SAFE_INTEGER;

/// One column of `table`; `name` is where the column's name is written.
pub(crate) fn column(
    table: &str,
    name: &Spanned<String>,
    raw: &raw::Column,
    problems: &mut Vec<Problem>,
) -> ir::Column {
    let (span, name) = (name.span(), name.get_ref().as_str());
    names::check_ident(Kind::Column, name, span.clone(), problems);
    let ty = *raw.ty.get_ref();

    if let Some(spanned) = &raw.values {
        let (values, at) = (spanned.get_ref(), spanned.span());
        if ty != LogicalType::Text {
            problems.push(
                Problem::new(
                    "schema::values_on_non_text",
                    at.clone(),
                    format!(
                        "column `{table}.{name}` has `values` but is of type `{}`",
                        ty.as_str()
                    ),
                )
                .help("only `text` columns can be enums"),
            );
        }
        if values.is_empty() {
            problems.push(
                Problem::new(
                    "schema::empty_values",
                    at.clone(),
                    format!("column `{table}.{name}` has an empty `values` list"),
                )
                .label("no value would be allowed")
                .help("list the allowed values, or remove `values`"),
            );
        }
        for (i, v) in values.iter().enumerate() {
            if values[..i].contains(v) {
                problems.push(Problem::new(
                    "schema::duplicate_name",
                    at.clone(),
                    format!("column `{table}.{name}` lists the value `{v}` twice"),
                ));
            }
        }
    }

    let storage = storage(table, name, ty, raw, problems);
    let default = raw.default.as_ref().and_then(|written| {
        let parsed = default_value(ty, written.get_ref());
        match (&parsed, raw.values.as_ref().map(Spanned::get_ref)) {
            (None, _) => problems.push(
                Problem::new(
                    "schema::default_type",
                    written.span(),
                    format!("default of `{table}.{name}` is not a valid `{}`", ty.as_str()),
                )
                .label(format!("expected {}", types::entry(ty).default_hint))
                .help(format!("write {}", types::entry(ty).default_hint)),
            ),
            (Some(DefaultValue::Text(d)), Some(values))
                if !values.is_empty() && !values.contains(d) =>
            {
                problems.push(
                    Problem::new(
                        "schema::default_not_in_values",
                        written.span(),
                        format!("default `{d}` of `{table}.{name}` is not one of its `values`"),
                    )
                    .label("not an allowed value")
                    .help(format!("allowed: {}", values.join(", "))),
                );
            }
            _ => {}
        }
        parsed
    });
    let check_name = raw
        .check_name
        .as_ref()
        .map_or_else(|| derived::check(table, name), |n| n.get_ref().clone());

    let postgres_check = postgres_check(table, name, raw, problems);
    let column = ir::Column {
        name: name.to_owned(),
        ty,
        nullable: *raw.nullable.get_ref(),
        default,
        comment: super::comment(raw.comment.as_deref()),
        renamed_from: raw.renamed_from.as_ref().map(|n| n.get_ref().clone()),
        values: raw.values.as_ref().map(|v| v.get_ref().clone()),
        storage,
        check_name,
        postgres_check,
        span,
    };
    if let Some(written) = &raw.postgres_check
        && !column.generates_postgres_check()
    {
        problems.push(
            Problem::new(
                "schema::postgres_check_without_check",
                written.span(),
                format!("`{table}.{name}` has no generated CHECK in Postgres to replace"),
            )
            .help("`postgres_check` replaces the CHECK of `values` or of a boolean with `storage = \"integer\"`; use the table's `checks` for any other"),
        );
    }
    column
}

/// A legacy column's own CHECK in Postgres: an expression (one, without `;` or comments) or
/// `false` for none.
fn postgres_check(
    table: &str,
    name: &str,
    raw: &raw::Column,
    problems: &mut Vec<Problem>,
) -> ir::PostgresCheck {
    let Some(written) = &raw.postgres_check else { return ir::PostgresCheck::Generated };
    match written.get_ref() {
        raw::CheckSetting::Off(false) => ir::PostgresCheck::Omitted,
        raw::CheckSetting::Expr(expr)
            if !expr.trim().is_empty() && !["--", "/*", ";"].iter().any(|t| expr.contains(t)) =>
        {
            ir::PostgresCheck::Verbatim(expr.clone())
        }
        _ => {
            problems.push(
                Problem::new(
                    "schema::invalid_value",
                    written.span(),
                    format!("`postgres_check` of `{table}.{name}` must be one SQL expression or `false`"),
                )
                .help("write the legacy constraint's expression without comments or `;`, or `false` for none"),
            );
            ir::PostgresCheck::Generated
        }
    }
}

/// Storage overrides are limited to choices that keep every value intact.
fn storage(
    table: &str,
    name: &str,
    ty: LogicalType,
    raw: &raw::Column,
    problems: &mut Vec<Problem>,
) -> Storage {
    let entry = types::entry(ty);
    if let Some(written) = &raw.postgres_type
        && !entry.postgres_overrides.iter().any(|(o, _)| o == written.get_ref())
    {
        problems.push(
            Problem::new(
                "schema::incompatible_storage",
                written.span(),
                format!("`postgres_type` does not fit `{table}.{name}` of type `{}`", ty.as_str()),
            )
            .help(
                "`timestamp` and `timestamptz` apply to timestamp columns, `real` to real columns",
            ),
        );
    }
    if let Some(written) = &raw.storage
        && !entry.stored_as.is_some_and(|s| s.stored_as == *written.get_ref())
    {
        problems.push(
            Problem::new(
                "schema::incompatible_storage",
                written.span(),
                format!("`storage` does not fit `{table}.{name}` of type `{}`", ty.as_str()),
            )
            .help("`storage = \"integer\"` applies to booleans, `storage = \"text\"` to json"),
        );
    }
    Storage {
        postgres: raw.postgres_type.as_ref().map(|p| *p.get_ref()),
        stored_as: raw.storage.as_ref().map(|s| *s.get_ref()),
    }
}

/// The default as the column's type, or `None` when it does not fit.
fn default_value(ty: LogicalType, value: &toml::Value) -> Option<DefaultValue> {
    use toml::Value as V;
    match (ty, value) {
        (LogicalType::Text, V::String(s)) => Some(DefaultValue::Text(s.clone())),
        (LogicalType::Uuid, V::String(s)) if s == "random" => Some(DefaultValue::Random),
        (LogicalType::Uuid, V::String(s)) => is_uuid(s).then(|| DefaultValue::Text(s.clone())),
        (LogicalType::Integer, V::Integer(i)) => {
            i32::try_from(*i).ok().map(|i| DefaultValue::Integer(i.into()))
        }
        (LogicalType::Bigint, V::Integer(i)) => {
            (i.abs() <= MAX_SAFE_INTEGER).then_some(DefaultValue::Integer(*i))
        }
        (LogicalType::Real, V::Float(f)) if f.is_finite() => Some(DefaultValue::Real(*f)),
        (LogicalType::Real, V::Integer(i)) => Some(DefaultValue::Real(*i as f64)),
        (LogicalType::Boolean, V::Boolean(b)) => Some(DefaultValue::Boolean(*b)),
        (LogicalType::Timestamp | LogicalType::Date, V::String(s)) if s == "now" => {
            Some(DefaultValue::Now)
        }
        (LogicalType::Timestamp, V::String(s)) => timestamp(&s.parse().ok()?),
        (LogicalType::Timestamp, V::Datetime(d)) => timestamp(d),
        (LogicalType::Date, V::String(s)) => date(&s.parse().ok()?),
        (LogicalType::Date, V::Datetime(d)) => date(d),
        (LogicalType::Json, V::String(s)) => {
            let json: serde_json::Value = serde_json::from_str(s).ok()?;
            Some(DefaultValue::Json(json.to_string()))
        }
        (LogicalType::Json, V::Array(_) | V::Table(_)) => {
            let json = serde_json::to_value(value).ok()?;
            Some(DefaultValue::Json(json.to_string()))
        }
        _ => None,
    }
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_digit() || ('a'..='f').contains(&c),
        })
}

/// A UTC timestamp at millisecond precision, in the one canonical text form.
fn timestamp(d: &toml::value::Datetime) -> Option<DefaultValue> {
    let (date, time) = (d.date?, d.time?);
    if d.offset != Some(toml::value::Offset::Z) || time.nanosecond.unwrap_or(0) % 1_000_000 != 0 {
        return None;
    }
    Some(DefaultValue::Timestamp(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        date.year,
        date.month,
        date.day,
        time.hour,
        time.minute,
        time.second.unwrap_or(0),
        time.nanosecond.unwrap_or(0) / 1_000_000
    )))
}

fn date(d: &toml::value::Datetime) -> Option<DefaultValue> {
    match (d.date, d.time, d.offset) {
        (Some(date), None, None) => Some(DefaultValue::Date(date.to_string())),
        _ => None,
    }
}

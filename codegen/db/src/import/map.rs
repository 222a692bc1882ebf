//! Postgres types, defaults and checks as `schema.toml` says them, chosen so that the DDL
//! generated from the result prints back exactly as the original in the catalog.

use codegen::types;
use sync_meta::schema::{LogicalType, PostgresType};
use toml_edit::Value;

use super::introspect::{Check, Column};

/// A column's logical type and the storage override that reproduces its Postgres type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Type {
    pub logical: LogicalType,
    pub postgres_type: Option<PostgresType>,
    /// An enum type's labels, as `values` on a text column.
    pub values: Option<Vec<String>>,
}

/// How a Postgres type maps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapped {
    /// The generated DDL declares the very same type.
    Exact(Type),
    /// The closest logical type; the note says what is lost.
    Approximate(Type, String),
    /// No logical type fits; the reason.
    Unmapped(String),
}

fn plain(logical: LogicalType) -> Type {
    Type { logical, postgres_type: None, values: None }
}

fn with_storage(logical: LogicalType, postgres_type: PostgresType) -> Type {
    Type { logical, postgres_type: Some(postgres_type), values: None }
}

/// The logical type of a column, by its type as `format_type` prints it: the type table read
/// backwards, so that the generated DDL declares the very same type.
pub fn column_type(column: &Column) -> Mapped {
    match types::from_postgres(&column.ty) {
        Some((logical, postgres_type)) => {
            Mapped::Exact(Type { logical, postgres_type, values: None })
        }
        None => approximate(column),
    }
}

fn approximate(column: &Column) -> Mapped {
    let ty = column.ty.as_str();
    if let Some(values) = &column.enum_values {
        let note = format!("enum type {ty} imported as text with its values (a CHECK)");
        return Mapped::Approximate(
            Type { logical: LogicalType::Text, postgres_type: None, values: Some(values.clone()) },
            note,
        );
    }
    let lost = |what: &str| format!("{ty} imported as {what}");
    let (closest, note) = if ty.starts_with("character varying") || ty.starts_with("character(") {
        (plain(LogicalType::Text), lost("text, without its length limit"))
    } else if ty == "smallint" {
        (plain(LogicalType::Integer), lost("integer"))
    } else if ty == "json" {
        (plain(LogicalType::Json), lost("json stored as jsonb"))
    } else if ty.starts_with("timestamp(") && ty.ends_with("with time zone") {
        let closest = with_storage(LogicalType::Timestamp, PostgresType::Timestamptz);
        (closest, lost("timestamptz (microseconds)"))
    } else if ty.starts_with("timestamp(") {
        let closest = with_storage(LogicalType::Timestamp, PostgresType::Timestamp);
        (closest, lost("timestamp (microseconds)"))
    } else {
        return Mapped::Unmapped(format!("{ty} has no logical type in schema.toml"));
    };
    Mapped::Approximate(closest, note)
}

/// A column default as a TOML value for the column's logical type, or `None` when the format
/// cannot say it (a sequence, a function other than `now()` and `gen_random_uuid()`).
pub fn default(logical: &str, sql: &str) -> Option<Value> {
    let sql = sql.trim();
    match (logical, sql) {
        ("timestamp" | "date", "now()" | "CURRENT_TIMESTAMP" | "CURRENT_DATE") => {
            return Some("now".into());
        }
        ("uuid", "gen_random_uuid()") => return Some("random".into()),
        ("boolean", "true") => return Some(true.into()),
        ("boolean", "false") => return Some(false.into()),
        _ => {}
    }
    let (literal, cast) = match string_literal(sql) {
        Some((literal, rest)) => (Some(literal), rest.strip_prefix("::")),
        None => (None, None),
    };
    match logical {
        "text" | "uuid" | "json" if cast.is_some() => Some(literal?.into()),
        "date" if cast == Some("date") => Some(literal?.into()),
        "timestamp" if cast.is_some_and(|c| c.starts_with("timestamp")) => {
            Some(rfc3339(&literal?)?.into())
        }
        "integer" | "bigint" => {
            let number = literal.unwrap_or_else(|| sql.to_owned());
            number.parse::<i64>().ok().map(Value::from)
        }
        "real" => {
            // A float, also when integral: TOML prints 3 as `3.0`, which stays a real.
            let number = literal.unwrap_or_else(|| sql.to_owned());
            let value: f64 = number.parse().ok()?;
            value.is_finite().then(|| value.into())
        }
        _ => None,
    }
}

/// `'it''s'::text` -> (`it's`, `::text`).
fn string_literal(sql: &str) -> Option<(String, &str)> {
    let rest = sql.strip_prefix('\'')?;
    let mut value = String::new();
    let mut chars = rest.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\'' {
            value.push(c);
            continue;
        }
        if rest[i + 1..].starts_with('\'') {
            value.push('\'');
            chars.next();
            continue;
        }
        return Some((value, &rest[i + 1..]));
    }
    None
}

/// `2026-01-02 03:04:05.678+00` (how Postgres prints a timestamp in UTC) as
/// `2026-01-02T03:04:05.678Z`; `None` for more than millisecond precision, which the format
/// cannot keep.
fn rfc3339(printed: &str) -> Option<String> {
    let printed = printed.strip_suffix("+00").unwrap_or(printed);
    let (date, time) = printed.split_once(' ')?;
    let (seconds, fraction) = time.split_once('.').unwrap_or((time, ""));
    if date.len() != 10 || seconds.len() != 8 || fraction.len() > 3 {
        return None;
    }
    Some(format!("{date}T{seconds}.{fraction:0<3}Z"))
}

/// The labels of a check that only lists a text column's allowed values, as Postgres prints
/// `CHECK (col IN ('a', 'b'))`: `CHECK ((col = ANY (ARRAY['a'::text, 'b'::text])))`.
pub fn enum_values(check: &Check) -> Option<(String, Vec<String>)> {
    let [column] = check.columns.as_slice() else { return None };
    let inner = check.definition.strip_prefix("CHECK ((")?.strip_suffix("))")?;
    let unquoted = column.trim_matches('"');
    let list = [format!("{unquoted} = ANY (ARRAY["), format!("\"{unquoted}\" = ANY (ARRAY[")]
        .iter()
        .find_map(|prefix| inner.strip_prefix(prefix.as_str()))?
        .strip_suffix("])")?;
    let mut values = Vec::new();
    let mut rest = list;
    loop {
        let (value, after) = string_literal(rest)?;
        values.push(value);
        let after = after.strip_prefix("::text")?;
        match after.strip_prefix(", ") {
            Some(next) => rest = next,
            None if after.is_empty() => return Some((column.clone(), values)),
            None => return None,
        }
    }
}

/// The expression of a check as the format takes it: inside `CHECK (...)`.
pub fn check_expr(check: &Check) -> Option<String> {
    let expr = check.definition.strip_prefix("CHECK (")?;
    let expr = expr.strip_suffix(" NOT VALID").unwrap_or(expr);
    Some(expr.strip_suffix(')')?.to_owned())
}

/// A foreign key action as the format spells it; `None` for the default, NO ACTION.
pub fn action(code: &str) -> Option<&'static str> {
    match code {
        "c" => Some("cascade"),
        "n" => Some("set null"),
        "d" => Some("set default"),
        "r" => Some("restrict"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_as_postgres_prints_them() {
        let default = |logical, sql| super::default(logical, sql).map(|v| v.to_string());
        assert_eq!(default("text", "'it''s'::text").as_deref(), Some("\"it's\""));
        assert_eq!(default("json", "'{\"a\": 1}'::jsonb").as_deref(), Some("'{\"a\": 1}'"));
        assert_eq!(default("integer", "'-1'::integer").as_deref(), Some("-1"));
        assert_eq!(default("integer", "21").as_deref(), Some("21"));
        assert_eq!(default("real", "2.5").as_deref(), Some("2.5"));
        assert_eq!(default("real", "3").as_deref(), Some("3.0"));
        assert_eq!(default("real", "'-0.5'::double precision").as_deref(), Some("-0.5"));
        assert_eq!(default("boolean", "false").as_deref(), Some("false"));
        assert_eq!(default("timestamp", "now()").as_deref(), Some("\"now\""));
        assert_eq!(default("date", "CURRENT_DATE").as_deref(), Some("\"now\""));
        assert_eq!(default("uuid", "gen_random_uuid()").as_deref(), Some("\"random\""));
        assert_eq!(default("date", "'2026-01-02'::date").as_deref(), Some("\"2026-01-02\""));
        assert_eq!(
            default("timestamp", "'2026-01-02 03:04:05.6+00'::timestamp with time zone").as_deref(),
            Some("\"2026-01-02T03:04:05.600Z\"")
        );
        assert_eq!(default("bigint", "nextval('t_id_seq'::regclass)"), None);
        assert_eq!(default("uuid", "uuid_generate_v4()"), None);
    }

    #[test]
    fn an_in_list_check_is_an_enum() {
        let check = Check {
            name: "t_kind_check".into(),
            columns: vec!["kind".into()],
            definition: "CHECK ((kind = ANY (ARRAY['a'::text, 'b''c'::text])))".into(),
            validated: true,
        };
        assert_eq!(enum_values(&check), Some(("kind".into(), vec!["a".into(), "b'c".into()])));
        let other = Check { definition: "CHECK ((length(kind) > 0))".into(), ..check };
        assert_eq!(enum_values(&other), None);
        assert_eq!(check_expr(&other).as_deref(), Some("(length(kind) > 0)"));
    }
}

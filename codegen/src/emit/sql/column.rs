//! One column in one dialect: its stored type, the conditions of its CHECK, its default.
//!
//! The types and the checks a type needs come from the type table (`crate::types`, shown in
//! docs/types.md); the SQL text that comes out of here is handed to sea-query as custom types
//! and expressions, so every dialect difference about columns lives in this file.

use crate::ir::{
    Column, DefaultValue, LogicalType, PostgresCheck, StoredAs, Table, TimestampStorage,
};
use crate::types::{self, TypeCheck};

use super::Dialect;
use crate::MAX_SAFE_INTEGER;

/// The SQLite GLOB a text timestamp must match: RFC 3339 in UTC with milliseconds, the one
/// canonical form, so that text comparison orders timestamps correctly.
const TIMESTAMP_GLOB: &str =
    "[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9].[0-9][0-9][0-9]Z";

/// The SQLite GLOB a uuid must match: lower-case hex in the 8-4-4-4-12 form, the wire's one
/// spelling, so that two stores never hold the same id in two spellings.
const UUID_GLOB: &str = "[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-\
[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-\
[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]";

/// The `strftime` format of that canonical form (`%f` is seconds with milliseconds).
pub(super) const TIMESTAMP_FORMAT: &str = "%Y-%m-%dT%H:%M:%fZ";

/// A lower-case version 4 UUID from `randomblob`: SQLite has no UUID function, and the version
/// nibble and the variant bits (one of 8, 9, a, b) must be set like `gen_random_uuid()` does.
pub(super) const SQLITE_RANDOM_UUID: &str = "lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) \
     || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' \
     || substr('89ab', 1 + (random() & 3), 1) || substr(lower(hex(randomblob(2))), 2) || '-' \
     || lower(hex(randomblob(6)))";

/// The column's type as the dialect spells it (the type table's).
pub(crate) fn sql_type(col: &Column, dialect: Dialect, ts: TimestampStorage) -> &'static str {
    match dialect {
        Dialect::Sqlite => types::sqlite_type(col.ty, ts),
        Dialect::Postgres => types::postgres_type(col.ty, col.storage).ddl,
    }
}

/// The expression of the column's one named CHECK, or `None` when the dialect's type already
/// enforces everything. Every condition is NULL (so the CHECK passes) or true for a NULL
/// value, so nullable columns need no special case.
pub(crate) fn check_expr(col: &Column, dialect: Dialect, ts: TimestampStorage) -> Option<String> {
    check_expr_on(col, dialect, ts, &ident(&col.name))
}

/// [`check_expr`] with the column written as `name`, such as a Drizzle schema's placeholder.
pub(crate) fn check_expr_on(
    col: &Column,
    dialect: Dialect,
    ts: TimestampStorage,
    name: &str,
) -> Option<String> {
    // A legacy table's own constraint replaces the generated one in Postgres.
    match (&col.postgres_check, dialect) {
        (PostgresCheck::Omitted, Dialect::Postgres) => return None,
        (PostgresCheck::Verbatim(expr), Dialect::Postgres) => return Some(expr.clone()),
        _ => {}
    }
    let mut conditions = Vec::new();
    if let Some(values) = &col.values {
        let list: Vec<String> = values.iter().map(|v| literal(v)).collect();
        conditions.push(format!("{name} IN ({})", list.join(", ")));
    }
    let type_check = match dialect {
        Dialect::Sqlite => types::sqlite_check(col.ty, ts),
        Dialect::Postgres => types::postgres_check(col.ty, col.storage),
    };
    if let Some(check) = type_check {
        conditions.extend(type_conditions(check, name));
    }
    (!conditions.is_empty()).then(|| conditions.join(" AND "))
}

/// The SQL of a type's CHECK on the column `name` (an identifier).
fn type_conditions(check: TypeCheck, name: &str) -> Vec<String> {
    match check {
        TypeCheck::ZeroOrOne => vec![format!("{name} IN (0, 1)")],
        TypeCheck::Json => vec![format!("json_valid({name})")],
        TypeCheck::Uuid => vec![format!("{name} GLOB '{UUID_GLOB}'")],
        // SQLite's INTEGER is 64-bit; hold `integer` to 32 bits like Postgres, and `bigint`
        // to what a JavaScript number represents exactly (docs/types.md).
        TypeCheck::Int32 => vec![format!("{name} BETWEEN {} AND {}", i32::MIN, i32::MAX)],
        TypeCheck::SafeInteger => {
            vec![format!("{name} BETWEEN -{MAX_SAFE_INTEGER} AND {MAX_SAFE_INTEGER}")]
        }
        // `date()` normalises, so only a well-formed, existing date equals its own date.
        TypeCheck::Date => vec![format!("{name} IS date({name})")],
        // The GLOB fixes the shape; the round trip through `strftime` rejects dates and
        // times that do not exist (month 13, February 30th, hour 24).
        TypeCheck::Timestamp => vec![
            format!("{name} GLOB '{TIMESTAMP_GLOB}'"),
            format!("{name} IS strftime('{TIMESTAMP_FORMAT}', {name})"),
        ],
    }
}

/// A column default in the dialect's SQL.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum DefaultSql {
    /// A literal (or a literal with a cast), written as is.
    Literal(String),
    /// A function call or other expression; SQLite needs these in parentheses.
    Expression(String),
}

pub(crate) fn default_sql(
    col: &Column,
    dialect: Dialect,
    ts: TimestampStorage,
) -> Option<DefaultSql> {
    let pg = dialect == Dialect::Postgres;
    let lit = DefaultSql::Literal;
    let sql = match col.default.as_ref()? {
        DefaultValue::Random if pg => DefaultSql::Expression("gen_random_uuid()".into()),
        DefaultValue::Random => DefaultSql::Expression(SQLITE_RANDOM_UUID.into()),
        DefaultValue::Now => now(col, dialect, ts),
        DefaultValue::Text(s) | DefaultValue::Date(s) => lit(literal(s)),
        DefaultValue::Integer(i) => lit(i.to_string()),
        // Debug formatting keeps a fraction (`3.0`), so the literal is a real in both dialects.
        DefaultValue::Real(f) => lit(format!("{f:?}")),
        DefaultValue::Boolean(b) => lit(boolean(col, dialect, *b).into()),
        DefaultValue::Timestamp(s) if !pg && ts == TimestampStorage::Integer => {
            lit(epoch_millis(s).to_string())
        }
        DefaultValue::Timestamp(s) => lit(literal(s)),
        DefaultValue::Json(s) if pg && col.storage.stored_as != Some(StoredAs::Text) => {
            lit(format!("{}::jsonb", literal(s)))
        }
        DefaultValue::Json(s) => lit(literal(s)),
    };
    Some(sql)
}

/// A boolean as the column stores it: `0`/`1` in SQLite and in integer storage, else
/// `false`/`true`.
fn boolean(col: &Column, dialect: Dialect, value: bool) -> &'static str {
    let as_integer = dialect == Dialect::Sqlite || col.storage.stored_as == Some(StoredAs::Integer);
    match (as_integer, value) {
        (true, true) => "1",
        (true, false) => "0",
        (false, true) => "true",
        (false, false) => "false",
    }
}

/// The predicate of a live-only unique key's partial index: the table's soft-delete flag is
/// not set (`"deleted" = false`, or `= 0` where booleans are integers).
pub(crate) fn live_predicate(table: &Table, dialect: Dialect) -> String {
    let deleted = table
        .sync
        .deleted
        .as_deref()
        .and_then(|d| table.column(d))
        .expect("validation gives a table with a live-only key a soft-delete column");
    format!("{} = {}", ident(&deleted.name), boolean(deleted, dialect, false))
}

fn now(col: &Column, dialect: Dialect, ts: TimestampStorage) -> DefaultSql {
    if col.ty == LogicalType::Date {
        // `CURRENT_DATE` is a keyword in both dialects, not an expression.
        return DefaultSql::Literal("CURRENT_DATE".into());
    }
    DefaultSql::Expression(
        match (dialect, ts, col.storage.postgres) {
            // Plain `now()` also for a legacy `timestamp` without time zone: that is what
            // existing databases declare (so generated DDL matches them), and it stores UTC
            // wall-clock time because the server runs with TimeZone UTC (Supabase's default;
            // the sync runtime sets it in every transaction).
            (Dialect::Postgres, _, _) => "now()",
            (Dialect::Sqlite, TimestampStorage::Text, _) => {
                return DefaultSql::Expression(format!("strftime('{TIMESTAMP_FORMAT}', 'now')"));
            }
            // `unixepoch('subsec')` is a float of seconds; rounding, not truncating, recovers the
            // exact millisecond that SQLite's clock holds.
            (Dialect::Sqlite, TimestampStorage::Integer, _) => {
                "CAST(round(unixepoch('subsec') * 1000) AS INTEGER)"
            }
        }
        .into(),
    )
}

/// A double-quoted identifier.
pub(crate) fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A single-quoted SQL string literal; both dialects (Postgres with its default
/// `standard_conforming_strings`) escape only the quote, by doubling it.
pub(crate) fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// Milliseconds since the Unix epoch of a timestamp in the IR's canonical form
/// (`YYYY-MM-DDTHH:MM:SS.mmmZ`, guaranteed by validation).
fn epoch_millis(canonical: &str) -> i64 {
    let num = |range: std::ops::Range<usize>| -> i64 {
        canonical[range].parse().expect("validation normalises timestamps")
    };
    let days = days_from_civil(num(0..4), num(5..7), num(8..10));
    let seconds = days * 86_400 + num(11..13) * 3_600 + num(14..16) * 60 + num(17..19);
    seconds * 1_000 + num(20..23)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_millis_of_edge_timestamps() {
        assert_eq!(epoch_millis("1970-01-01T00:00:00.000Z"), 0);
        assert_eq!(epoch_millis("1969-12-31T23:59:59.999Z"), -1);
        assert_eq!(epoch_millis("2000-02-29T12:00:00.001Z"), 951_825_600_001);
        assert_eq!(epoch_millis("9999-12-31T23:59:59.999Z"), 253_402_300_799_999);
    }

    #[test]
    fn literals_double_quotes() {
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
    }
}

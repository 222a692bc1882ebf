//! Check expressions and index predicates read from Postgres, made portable where Postgres's
//! printing is the only obstacle, and tried on SQLite for the tables that go there.
//!
//! Postgres prints `trim(x)` as `TRIM(BOTH FROM x)`, `x IN ('a', 'b')` as
//! `x = ANY (ARRAY['a'::text, 'b'::text])` and `-1` as `'-1'::integer`, which SQLite refuses. Both are written back in the
//! portable form, which Postgres reads as the very same expression (so the catalog round trip
//! is exact); anything else that SQLite refuses is reported, not rewritten.

use codegen::ir::Schema;
use rusqlite::Connection;

use super::write::Note;

/// `expr` with Postgres's printed forms of `trim` and `IN` lists in their portable spelling.
pub fn rewrite(expr: &str) -> String {
    let mut out = expr.to_owned();
    for (printed, portable) in [
        ("TRIM(BOTH FROM ", "trim("),
        ("TRIM(LEADING FROM ", "ltrim("),
        ("TRIM(TRAILING FROM ", "rtrim("),
    ] {
        out = out.replace(printed, portable);
    }
    numbers(&in_lists(&out))
}

/// `'-1'::integer` (how Postgres prints a negative constant) -> `-1`.
fn numbers(expr: &str) -> String {
    const CASTS: [&str; 5] = ["::integer", "::bigint", "::numeric", "::double precision", "::real"];
    let mut out = String::new();
    let mut rest = expr;
    while let Some(start) = rest.find('\'') {
        let Some(len) = rest[start + 1..].find('\'') else { break };
        let inner = &rest[start + 1..start + 1 + len];
        let after = &rest[start + len + 2..];
        let cast = CASTS.iter().find(|c| after.starts_with(**c));
        match cast {
            Some(cast) if !inner.is_empty() && inner.parse::<f64>().is_ok() => {
                out.push_str(&rest[..start]);
                out.push_str(inner);
                rest = &after[cast.len()..];
            }
            _ => {
                out.push_str(&rest[..start + len + 2]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `x = ANY (ARRAY['a'::text, 'b'::text])` -> `x IN ('a', 'b')`, for lists of plain literals.
fn in_lists(expr: &str) -> String {
    const ANY: &str = " = ANY (ARRAY[";
    let mut out = String::new();
    let mut rest = expr;
    while let Some(at) = rest.find(ANY) {
        let after = &rest[at + ANY.len()..];
        let Some(end) = after.find("])") else { break };
        let items: Option<Vec<String>> = split_items(&after[..end])
            .into_iter()
            .map(|item| {
                let item = item.strip_suffix("::text").unwrap_or(item);
                let literal = item.starts_with('\'') && item.ends_with('\'') && item.len() > 1;
                let number = !item.is_empty() && item.parse::<f64>().is_ok();
                (literal || number).then(|| item.to_owned())
            })
            .collect();
        match items {
            Some(items) => {
                out.push_str(&rest[..at]);
                out.push_str(&format!(" IN ({})", items.join(", ")));
            }
            None => out.push_str(&rest[..at + ANY.len() + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// The items of an array literal's list, split at commas outside quotes.
fn split_items(list: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in list.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            ',' if !quoted => {
                items.push(list[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(list[start..].trim());
    items
}

/// Try every check and index predicate of the tables that go to SQLite on an in-memory SQLite
/// database, with a row of NULLs inserted (SQLite looks functions up only then); one note per
/// expression SQLite refuses.
pub fn sqlite_notes(schema: &Schema) -> Vec<Note> {
    let Ok(conn) = Connection::open_in_memory() else { return Vec::new() };
    let mut notes = Vec::new();
    for table in schema.tables.iter().filter(|t| t.targets.sqlite) {
        let columns: Vec<String> =
            table.columns.iter().map(|c| format!("\"{}\"", c.name)).collect();
        let columns = columns.join(", ");
        let mut probe = |what: String, create: String| {
            let sql =
                format!("DROP TABLE IF EXISTS probe; {create}; INSERT INTO probe DEFAULT VALUES");
            match conn.execute_batch(&sql) {
                // A row of NULLs may well break a rule; that is not a portability problem.
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::ConstraintViolation => {}
                Err(
                    rusqlite::Error::SqliteFailure(_, Some(e))
                    | rusqlite::Error::SqlInputError { msg: e, .. },
                ) => notes.push(Note {
                    table: table.name.clone(),
                    column: None,
                    message: format!(
                        "{what} is Postgres SQL that SQLite refuses ({e}); the table goes to \
                         devices too, so rewrite it portably or give the table \
                         `targets = [\"postgres\"]`"
                    ),
                }),
                Err(_) | Ok(()) => {}
            }
        };
        for check in &table.checks {
            let create = format!("CREATE TABLE probe ({columns}, CHECK ({}))", check.expr);
            probe(format!("check {}", check.name), create);
        }
        for index in &table.indexes {
            if let Some(predicate) = &index.predicate {
                let first = &table.columns[0].name;
                let create = format!(
                    "CREATE TABLE probe ({columns}); \
                     CREATE INDEX probe_idx ON probe (\"{first}\") WHERE {predicate}"
                );
                probe(format!("the predicate of index {}", index.name), create);
            }
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_forms_become_portable() {
        assert_eq!(rewrite("(length(TRIM(BOTH FROM title)) > 0)"), "(length(trim(title)) > 0)");
        assert_eq!(
            rewrite("((kind = ANY (ARRAY['a'::text, 'b, c'::text])) OR (n = ANY (ARRAY[1, 2])))"),
            "((kind IN ('a', 'b, c')) OR (n IN (1, 2)))"
        );
        assert_eq!(
            rewrite("((p >= '-1'::integer) AND (q = 'x'::text))"),
            "((p >= -1) AND (q = 'x'::text))"
        );
        let call = "(x = ANY (ARRAY[f(y)]))";
        assert_eq!(rewrite(call), call);
    }
}

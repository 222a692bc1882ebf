//! Rows that change hands without being deleted (docs/sync.md, "Rows that change hands"): what the
//! `_sync_move` triggers of both servers share.
//!
//! Who reads a row follows from one column: the owner column of an `owner` or `owner_or_public`
//! table, the parent reference of a `via:` table. When an update changes it (an admin's SQL gives
//! a tune to another user, makes a public tune private, moves a repertoire entry under another
//! user's repertoire) the users who could read the row and cannot any more get a tombstone of its
//! key, although the row stays; and every row owned through it, down its `via:` chains, moves
//! with it: each gets the same tombstone and a new cursor stamp, so that the new owner's pull,
//! whose cursor is long past where those rows were last written, serves them.

use crate::ir::{Schema, SyncScope, Table};

use super::super::column::ident;
use super::via_ref_column;

/// The column whose change can change who reads a row of `table`: its owner column, or the
/// parent reference of a `via:` table; `None` for a table whose rows everyone reads.
pub(in crate::emit::sql) fn scope_column(table: &Table) -> Option<&str> {
    match &table.scope {
        SyncScope::Via { column, .. } => Some(column),
        SyncScope::Owner | SyncScope::OwnerOrPublic => table.sync.owner.as_deref(),
        SyncScope::Public | SyncScope::None => None,
    }
}

/// Whether a row of `table` whose owner (at the end of its `via:` chain) is NULL is public: the
/// chain ends at an `owner_or_public` table. In an `owner` table such a row is nobody's.
pub(in crate::emit::sql) fn public_when_unowned<'a>(
    schema: &'a Schema,
    mut table: &'a Table,
) -> bool {
    // Validation refuses `via:` cycles, so the chain ends; the bound is for the type checker.
    for _ in 0..=schema.tables.len() {
        match &table.scope {
            SyncScope::OwnerOrPublic | SyncScope::Public => return true,
            SyncScope::Owner | SyncScope::None => return false,
            SyncScope::Via { parent_table, .. } => {
                table = schema.table(parent_table).expect("validation resolves via parents");
            }
        }
    }
    false
}

/// A table owned through another, and which of its rows are owned through one row there.
pub(in crate::emit::sql) struct Descendant<'a> {
    pub table: &'a Table,
    /// A condition on alias `d` of `table` that holds for the rows owned through the moving row.
    pub condition: String,
}

/// Every table owned through `table`, directly or down a chain of `via:` tables, parents before
/// their children, each with the condition that picks the rows owned through the row whose
/// columns are `row` followed by a quoted column name (`($1).` in a Postgres function, `NEW.` in
/// an SQLite trigger).
pub(in crate::emit::sql) fn descendants<'a>(
    schema: &'a Schema,
    table: &Table,
    row: &str,
) -> Vec<Descendant<'a>> {
    let mut out = Vec::new();
    walk(schema, table, &Rows::Moving(row), 1, &mut out);
    out
}

/// The rows of a parent table that children are picked under.
enum Rows<'r> {
    /// The moving row itself.
    Moving(&'r str),
    /// The rows of a table (as `alias`) for which `condition` holds.
    Picked { table: String, alias: String, condition: String },
}

impl Rows<'_> {
    /// An SQL predicate that follows a child's reference and holds when it names one of these
    /// rows by their column `referenced`.
    fn picked_by(&self, referenced: &str) -> String {
        match self {
            Rows::Moving(row) => format!("= {row}{}", ident(referenced)),
            Rows::Picked { table, alias, condition } => format!(
                "IN (SELECT {alias}.{} FROM {table} AS {alias} WHERE {condition})",
                ident(referenced)
            ),
        }
    }
}

fn walk<'a>(
    schema: &'a Schema,
    parent: &Table,
    rows: &Rows<'_>,
    depth: usize,
    out: &mut Vec<Descendant<'a>>,
) {
    for child in &schema.tables {
        let SyncScope::Via { column, parent_table } = &child.scope else { continue };
        if *parent_table != parent.name {
            continue;
        }
        let picked = rows.picked_by(via_ref_column(child, column));
        out.push(Descendant { table: child, condition: format!("d.{} {picked}", ident(column)) });
        let alias = format!("m{depth}");
        let condition = format!("{alias}.{} {picked}", ident(column));
        let rows = Rows::Picked { table: ident(&child.name), alias, condition };
        walk(schema, child, &rows, depth + 1, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHAIN: &str = r#"
[schema]
name = "chain"
version = 1

[sync]
owner = "user_id"
modified = "at"
deleted = "deleted"

[tables.book]
sync = "owner_or_public"
[tables.book.columns]
id = { type = "uuid", primary_key = true }
user_id = { type = "uuid", nullable = true }
at = { type = "timestamp" }
deleted = { type = "boolean", default = false }

[tables.chapter]
sync = "via:book_id"
[tables.chapter.columns]
id = { type = "uuid", primary_key = true }
book_id = { type = "uuid", references = "book.id" }
at = { type = "timestamp" }
deleted = { type = "boolean", default = false }

[tables.page]
sync = "via:chapter_id"
[tables.page.columns]
id = { type = "uuid", primary_key = true }
chapter_id = { type = "uuid", references = "chapter.id" }
at = { type = "timestamp" }
deleted = { type = "boolean", default = false }
"#;

    #[test]
    fn descendants_follow_via_chains_to_the_end() {
        let schema = crate::load::load("schema.toml", CHAIN).expect("a valid schema");
        let book = schema.table("book").unwrap();
        let found: Vec<(String, String)> = descendants(&schema, book, "NEW.")
            .into_iter()
            .map(|d| (d.table.name.clone(), d.condition))
            .collect();
        assert_eq!(
            found,
            [
                ("chapter".to_owned(), r#"d."book_id" = NEW."id""#.to_owned()),
                (
                    "page".to_owned(),
                    r#"d."chapter_id" IN (SELECT m1."id" FROM "chapter" AS m1 WHERE m1."book_id" = NEW."id")"#
                        .to_owned()
                ),
            ]
        );
        assert!(descendants(&schema, schema.table("page").unwrap(), "NEW.").is_empty());
        assert!(public_when_unowned(&schema, schema.table("page").unwrap()));
        assert_eq!(scope_column(schema.table("page").unwrap()), Some("chapter_id"));
    }
}

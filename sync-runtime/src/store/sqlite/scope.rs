//! Who may read a row (see docs/sync.md), as SQL over the metadata: the filter pull uses. (The
//! owner a deleted row's tombstone records is the generated delete trigger's business.)

use super::ident;
use crate::schema::{SchemaMeta, Scope, TableMeta};
use crate::store::StoreError;

/// An SQL condition that holds when user `?3` may read row `alias` of `table`. A `via:` table
/// follows its foreign key to the parent row, recursively, until a table that has an owner
/// column or is public.
pub(super) fn readable(
    schema: &SchemaMeta,
    table: &TableMeta,
    alias: &str,
    depth: usize,
) -> Result<String, StoreError> {
    match table.scope {
        Scope::Owner => Ok(format!("{alias}.{} = ?3", ident(owner_column(table)?))),
        Scope::OwnerOrPublic => {
            let owner = format!("{alias}.{}", ident(owner_column(table)?));
            Ok(format!("({owner} = ?3 OR {owner} IS NULL)"))
        }
        Scope::Public => Ok("1".to_owned()),
        Scope::Via { column, parent_table } => {
            let (parent, key) = parent_of(schema, table, parent_table, depth)?;
            let p = format!("p{depth}");
            let parent_readable = readable(schema, parent, &p, depth + 1)?;
            Ok(format!(
                "EXISTS (SELECT 1 FROM {} AS {p} WHERE {p}.{} = {alias}.{} AND {parent_readable})",
                ident(parent.name),
                ident(key),
                ident(column),
            ))
        }
        Scope::None => Err(unsynced(table)),
    }
}

/// [`readable`] as alternatives, any of which lets the user read a row. Pull reads each
/// through its own index in cursor order and merges them: one condition with OR would make
/// SQLite sort every match after the cursor to find the first few.
pub(super) fn readable_branches(
    schema: &SchemaMeta,
    table: &TableMeta,
    alias: &str,
) -> Result<Vec<String>, StoreError> {
    match table.scope {
        Scope::OwnerOrPublic => {
            let owner = format!("{alias}.{}", ident(owner_column(table)?));
            Ok(vec![format!("{owner} = ?3"), format!("{owner} IS NULL")])
        }
        _ => Ok(vec![readable(schema, table, alias, 1)?]),
    }
}

/// The owner column of an `owner` or `owner_or_public` table.
fn owner_column(table: &TableMeta) -> Result<&'static str, StoreError> {
    table.sync.owner.ok_or_else(|| {
        StoreError::Database(format!(
            "table `{}` is scoped by owner but its metadata names no owner column",
            table.name
        ))
    })
}

/// The parent table of a `via:` table and its single primary key column.
fn parent_of(
    schema: &SchemaMeta,
    table: &TableMeta,
    parent_table: &str,
    depth: usize,
) -> Result<(&'static TableMeta, &'static str), StoreError> {
    // Validation refuses reference cycles; the bound keeps a hand-written metadata cycle from
    // recursing forever.
    if depth > schema.tables.len() {
        return Err(StoreError::Database(format!(
            "the via: chain of table `{}` loops",
            table.name
        )));
    }
    let parent = schema.table(parent_table).ok_or_else(|| {
        StoreError::Database(format!(
            "table `{}` is owned via `{parent_table}`, which the schema does not have",
            table.name
        ))
    })?;
    match parent.primary_key {
        [key] => Ok((parent, key)),
        _ => Err(StoreError::Database(format!(
            "table `{}` is owned via `{parent_table}`, whose primary key is not one column",
            table.name
        ))),
    }
}

fn unsynced(table: &TableMeta) -> StoreError {
    StoreError::Database(format!(
        "table `{}` is not synced, so no synced table can be owned through it",
        table.name
    ))
}

//! Sync scopes inferred where the columns make them obvious, by the conventions the example
//! schema and most Supabase projects follow:
//!
//! - a NOT NULL timestamp clock named `last_modified_at`, `modified_at` or `updated_at`, and an
//!   owner column `user_id` or `owner_id` (uuid or text): `owner`, or `owner_or_public` when the
//!   owner is nullable;
//! - a clock and no owner, but a NOT NULL foreign key column to the primary key of a table with
//!   an owner: `via:<column>` (a key column preferred);
//! - anything else is not synced.
//!
//! A `deleted`/`is_deleted` boolean, a `sync_version` integer and a `device_id` become the
//! bookkeeping columns when present.

use std::collections::BTreeMap;

use super::introspect::Table;

const CLOCKS: &[&str] = &["last_modified_at", "modified_at", "updated_at"];
const OWNERS: &[&str] = &["user_id", "owner_id"];

/// A table's inferred scope and the columns that serve it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// `owner`, `owner_or_public` or `via:<column>`.
    pub sync: String,
    pub owner: Option<String>,
    pub modified: String,
    pub deleted: Option<String>,
    pub version: Option<String>,
    pub device: Option<String>,
}

/// The scopes of the tables that look synced, by table name. `logical` gives a column's
/// logical type (`None` for one that is not imported).
pub fn infer(
    tables: &[Table],
    logical: impl Fn(&str, &str) -> Option<&'static str>,
) -> BTreeMap<String, Scope> {
    let mut scopes = BTreeMap::new();
    let pick = |table: &Table, names: &[&str], types: &[&str], not_null: bool| {
        names
            .iter()
            .filter_map(|n| table.column(n))
            .find(|c| {
                logical(&table.name, &c.name).is_some_and(|t| types.contains(&t))
                    && (c.not_null || !not_null)
            })
            .map(|c| c.name.clone())
    };
    let bookkeeping =
        |table: &Table, sync: String, owner: Option<String>, modified: String| Scope {
            sync,
            owner,
            modified,
            deleted: pick(table, &["deleted", "is_deleted"], &["boolean"], true),
            version: pick(table, &["sync_version"], &["integer", "bigint"], true),
            device: pick(table, &["device_id"], &["text", "uuid"], false),
        };
    let clocks: BTreeMap<&str, String> = tables
        .iter()
        .filter_map(|t| Some((t.name.as_str(), pick(t, CLOCKS, &["timestamp"], true)?)))
        .collect();
    for table in tables {
        let Some(clock) = clocks.get(table.name.as_str()) else { continue };
        let Some(owner) = pick(table, OWNERS, &["uuid", "text"], false) else { continue };
        let nullable = table.column(&owner).is_some_and(|c| !c.not_null);
        let sync = if nullable { "owner_or_public" } else { "owner" }.to_owned();
        scopes.insert(table.name.clone(), bookkeeping(table, sync, Some(owner), clock.clone()));
    }
    // A child of an owned table is owned through it; a grandchild through the child, so this
    // repeats until nothing changes.
    loop {
        let mut added = false;
        for table in tables {
            if scopes.contains_key(&table.name) {
                continue;
            }
            let Some(clock) = clocks.get(table.name.as_str()) else { continue };
            let key = table.primary_key.as_ref().map_or(&[][..], |k| k.columns.as_slice());
            let mut parents: Vec<&String> = table
                .foreign_keys
                .iter()
                .filter(|fk| {
                    fk.local && fk.columns.len() == 1 && scopes.contains_key(&fk.ref_table)
                })
                .filter(|fk| {
                    let parent = tables.iter().find(|t| t.name == fk.ref_table);
                    parent
                        .and_then(|p| p.primary_key.as_ref())
                        .is_some_and(|k| k.columns == fk.ref_columns)
                })
                .filter(|fk| table.column(&fk.columns[0]).is_some_and(|c| c.not_null))
                .map(|fk| &fk.columns[0])
                .collect();
            parents.sort_by_key(|c| !key.contains(c));
            if let Some(column) = parents.first() {
                let scope = bookkeeping(table, format!("via:{column}"), None, clock.clone());
                scopes.insert(table.name.clone(), scope);
                added = true;
            }
        }
        if !added {
            return scopes;
        }
    }
}

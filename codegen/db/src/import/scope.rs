//! Sync scopes inferred the way a person reading the schema would, each with what it was
//! inferred from (docs/drift.md, "Adopting it on an existing database"):
//!
//! - the user table is `--user-table`, else `auth.users` when the schema references it, else
//!   the table that most owner-like columns (named `user_id` or `owner_id`, or compared with
//!   the user's id by a policy) reference; a profile table is one whose primary key references
//!   the user table;
//! - a table's owner is, in this order of evidence, the column its policies compare with the
//!   user's id, its primary key when that references the user table (the profile row, `owner =
//!   "id"`), the column that references the user table or a profile table, a column named
//!   `user_id` or `owner_id`; with a clock (a NOT NULL timestamp `last_modified_at`,
//!   `modified_at` or `updated_at`) it makes `owner`, or `owner_or_public` when nullable;
//! - a clock, no owner and a NOT NULL foreign key to the primary key of a table with an owner
//!   make `via:<column>` (a column the policies read preferred, then a key column), chained
//!   as far as the keys go;
//! - a table with no owner and no owned parent that a synced table references, or whose only
//!   policies let everyone read (`FOR SELECT USING (true)`), is a `public` catalog, with its
//!   clock when it has one;
//! - anything else is not synced, and the reason is said.
//!
//! A `deleted`/`is_deleted` boolean, a `sync_version` integer and a `device_id` become the
//! bookkeeping columns when present.

mod owner;
mod policy;

use std::collections::BTreeMap;

use super::introspect::Table;
use owner::Owner;

const CLOCKS: &[&str] = &["last_modified_at", "modified_at", "updated_at"];
const NO_CLOCK: &str =
    "no clock (a NOT NULL timestamp last_modified_at, modified_at or updated_at)";

/// A table's inferred scope, the columns that serve it, and what it was inferred from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// `owner`, `owner_or_public`, `public` or `via:<column>`.
    pub sync: String,
    pub owner: Option<String>,
    /// The clock; a `public` table may have none.
    pub modified: Option<String>,
    pub deleted: Option<String>,
    pub version: Option<String>,
    pub device: Option<String>,
    pub because: String,
}

/// The scopes of the tables that look synced, and why each other table is not synced.
#[derive(Debug, Clone, Default)]
pub struct Inferred {
    pub scopes: BTreeMap<String, Scope>,
    pub unsynced: BTreeMap<String, String>,
    /// The user table and how it was found.
    pub users: Option<(String, String)>,
}

/// Infer the scopes of `tables`. `logical` gives a column's logical type (`None` for one that
/// is not imported); `user_table` is the user table when the command line names it.
pub fn infer(
    tables: &[Table],
    logical: impl Fn(&str, &str) -> Option<&'static str>,
    user_table: Option<&str>,
) -> Inferred {
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
    let scope = |table: &Table, sync: String, owner: Option<String>, because: String| Scope {
        sync,
        owner,
        modified: pick(table, CLOCKS, &["timestamp"], true),
        deleted: pick(table, &["deleted", "is_deleted"], &["boolean"], true),
        version: pick(table, &["sync_version"], &["integer", "bigint"], true),
        device: pick(table, &["device_id"], &["text", "uuid"], false),
        because,
    };
    let has_clock = |table: &Table| pick(table, CLOCKS, &["timestamp"], true).is_some();
    let owners = owner::Owners::new(tables, &logical, user_table);
    let mut out = Inferred { users: owners.users.clone(), ..Inferred::default() };
    // Tables that are someone's, synced or not: never a public catalog.
    let mut private: BTreeMap<&str, String> = BTreeMap::new();
    for table in tables {
        match owners.owner(table) {
            Owner::Found { column, because } if has_clock(table) => {
                let nullable = table.column(&column).is_some_and(|c| !c.not_null);
                let sync = if nullable { "owner_or_public" } else { "owner" }.to_owned();
                let scope = scope(table, sync, Some(column), because);
                out.scopes.insert(table.name.clone(), scope);
            }
            Owner::Found { column, because } => {
                let why = format!("owner {column} ({because}), but {NO_CLOCK}");
                private.insert(&table.name, why);
            }
            Owner::Ambiguous(why) => {
                private.insert(&table.name, why);
            }
            Owner::None => {}
        }
    }
    via_chains(tables, &mut out.scopes, &mut private, has_clock, scope);
    // Policies that restrict rows to the user through no column the import could follow.
    for table in tables.iter().filter(|t| policy::mentions_user(t)) {
        if !out.scopes.contains_key(&table.name) && !private.contains_key(table.name.as_str()) {
            let why = "its policies compare the user's id with no owner column or via: parent";
            private.insert(&table.name, why.to_owned());
        }
    }
    catalogs(tables, &mut out.scopes, &private, scope);
    for table in tables.iter().filter(|t| !out.scopes.contains_key(&t.name)) {
        let why = private.remove(table.name.as_str()).unwrap_or_else(|| {
            "no owner column, no NOT NULL foreign key to a synced table, no synced table \
             references it, and no policy lets everyone read it"
                .to_owned()
        });
        out.unsynced.insert(table.name.clone(), why);
    }
    out
}

/// A child of an owned table is owned through it; a grandchild through the child, so this
/// repeats until nothing changes. A table that could be but has no clock is said in `private`.
fn via_chains<'t>(
    tables: &'t [Table],
    scopes: &mut BTreeMap<String, Scope>,
    private: &mut BTreeMap<&'t str, String>,
    has_clock: impl Fn(&Table) -> bool,
    scope: impl Fn(&Table, String, Option<String>, String) -> Scope,
) {
    loop {
        let mut added = false;
        for table in tables {
            if scopes.contains_key(&table.name) || private.contains_key(table.name.as_str()) {
                continue;
            }
            let key = table.primary_key.as_ref().map_or(&[][..], |k| k.columns.as_slice());
            let mut parents: Vec<(&String, &String, Vec<String>)> = table
                .foreign_keys
                .iter()
                .filter(|fk| {
                    fk.local
                        && fk.columns.len() == 1
                        && scopes.get(&fk.ref_table).is_some_and(|s| s.sync != "public")
                })
                .filter(|fk| {
                    let parent = tables.iter().find(|t| t.name == fk.ref_table);
                    parent
                        .and_then(|p| p.primary_key.as_ref())
                        .is_some_and(|k| k.columns == fk.ref_columns)
                })
                .map(|fk| (&fk.columns[0], &fk.ref_table, policy::reading(table, &fk.columns[0])))
                .collect();
            let Some((column, parent, _)) = parents.first() else { continue };
            if !has_clock(table) {
                let why = format!("its {column} references synced {parent}, but {NO_CLOCK}");
                private.insert(&table.name, why);
                continue;
            }
            let not_null = |c: &String| table.column(c).is_some_and(|c| c.not_null);
            if !parents.iter().any(|(c, _, _)| not_null(c)) {
                let why = format!(
                    "its {column} references synced {parent}, but may be NULL (a via: parent \
                     is NOT NULL)"
                );
                private.insert(&table.name, why);
                continue;
            }
            parents.retain(|(c, _, _)| not_null(c));
            parents.sort_by_key(|(c, _, read)| (read.is_empty(), !key.contains(c)));
            let (column, parent, read) = &parents[0];
            let mut because =
                format!("{column} references {parent}, synced {}", scopes[*parent].sync);
            if !read.is_empty() {
                because += &format!("; policy {} reads {column}", read.join(", "));
            }
            let scope = scope(table, format!("via:{column}"), None, because);
            scopes.insert(table.name.clone(), scope);
            added = true;
        }
        if !added {
            return;
        }
    }
}

/// Tables that belong to no one and that everyone may read: the ones whose policies say so,
/// then every table a synced one references, as far as the references go.
fn catalogs(
    tables: &[Table],
    scopes: &mut BTreeMap<String, Scope>,
    private: &BTreeMap<&str, String>,
    scope: impl Fn(&Table, String, Option<String>, String) -> Scope,
) {
    let free = |t: &Table, scopes: &BTreeMap<String, Scope>| {
        !scopes.contains_key(&t.name) && !private.contains_key(t.name.as_str())
    };
    for table in tables {
        if let Some(policy) = policy::read_only_for_all(table).filter(|_| free(table, scopes)) {
            let because = format!(
                "no owner; policy {policy} lets everyone read every row (USING (true)) and no \
                 policy writes"
            );
            scopes.insert(table.name.clone(), scope(table, "public".into(), None, because));
        }
    }
    loop {
        let mut found: Option<(&Table, String)> = None;
        'tables: for table in tables.iter().filter(|t| scopes.contains_key(&t.name)) {
            for fk in table.foreign_keys.iter().filter(|fk| fk.local) {
                let Some(target) = tables.iter().find(|t| t.name == fk.ref_table) else { continue };
                if free(target, scopes) {
                    let because = format!(
                        "no owner; {}.{} references it and {} is synced {}",
                        table.name,
                        fk.columns.join(", "),
                        table.name,
                        scopes[&table.name].sync
                    );
                    found = Some((target, because));
                    break 'tables;
                }
            }
        }
        let Some((table, because)) = found else { return };
        scopes.insert(table.name.clone(), scope(table, "public".into(), None, because));
    }
}

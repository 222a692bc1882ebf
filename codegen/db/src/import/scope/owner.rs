//! Whose a row is: the user table of the schema, its profile tables, and each table's owner
//! column with the evidence for it (see `scope` for the order of evidence).

use std::collections::BTreeMap;

use super::policy;
use crate::import::introspect::{ForeignKey, Table};

/// Columns named like an owner, used when nothing better says it.
const OWNERS: &[&str] = &["user_id", "owner_id"];

/// Supabase's user table, outside the imported schema.
const AUTH_USERS: &str = "auth.users";

/// A table's owner, as far as the evidence goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    Found {
        column: String,
        because: String,
    },
    /// Several columns are as likely as each other: why none was chosen.
    Ambiguous(String),
    None,
}

/// The user table, the profile tables (whose primary key references it) and what types the
/// columns have.
pub struct Owners<'a, L> {
    logical: &'a L,
    /// The user table and how it was found.
    pub users: Option<(String, String)>,
    profiles: Vec<&'a str>,
}

/// One column that could own a table's rows, and its evidence.
#[derive(Default)]
struct Candidate {
    /// Policies that compare it with the user's id.
    policies: Vec<String>,
    /// It is the primary key, and references the user table (or is the user table's).
    key: bool,
    /// What it references: the user table or a profile table.
    references: Option<String>,
    named: bool,
}

impl Candidate {
    fn rank(&self) -> (bool, bool, bool, bool) {
        (!self.policies.is_empty(), self.key, self.references.is_some(), self.named)
    }

    fn because(&self, table: &Table, column: &str, users: &str) -> String {
        let mut parts = Vec::new();
        let policies = self.policies.join(", ");
        match self.policies.len() {
            0 => {}
            1 => parts.push(format!("policy {policies} compares {column} with the user's id")),
            _ => parts.push(format!("policies {policies} compare {column} with the user's id")),
        }
        match (&self.references, self.key) {
            (Some(target), true) => parts
                .push(format!("the primary key {column} references {target}: one row per user")),
            (None, true) => {
                parts.push(format!("{} is the user table: its row is the user", table.name))
            }
            (Some(target), false) if target == users => {
                parts.push(format!("{column} references {target}, the user table"))
            }
            (Some(target), false) => {
                parts.push(format!("{column} references {target}, a profile of the user table"))
            }
            (None, false) => {}
        }
        if self.named && parts.is_empty() {
            parts.push(format!("named {column}"));
        }
        parts.join("; ")
    }
}

impl<'a, L: Fn(&str, &str) -> Option<&'static str>> Owners<'a, L> {
    pub fn new(tables: &'a [Table], logical: &'a L, user_table: Option<&str>) -> Self {
        let users = match user_table {
            Some(table) => Some((table.to_owned(), "--user-table".to_owned())),
            None => find_users(tables),
        };
        let is_users = |name: &str| users.as_ref().is_some_and(|(u, _)| u == name);
        let profiles = tables
            .iter()
            .filter(|t| {
                let key = t.primary_key.as_ref().filter(|k| k.columns.len() == 1);
                key.is_some_and(|k| {
                    t.foreign_keys
                        .iter()
                        .any(|fk| fk.columns == k.columns && is_users(&fk.ref_table))
                })
            })
            .map(|t| t.name.as_str())
            .collect();
        Owners { logical, users, profiles }
    }

    fn is_users(&self, table: &str) -> bool {
        self.users.as_ref().is_some_and(|(users, _)| users == table)
    }

    /// Whether `fk` is one column referencing the user table or a profile table's key.
    fn references_user(&self, table: &Table, fk: &ForeignKey) -> bool {
        fk.columns.len() == 1
            && fk.ref_table != table.name
            && (self.is_users(&fk.ref_table) || self.profiles.contains(&fk.ref_table.as_str()))
    }

    /// The owner of `table`'s rows.
    pub fn owner(&self, table: &Table) -> Owner {
        let mut candidates: BTreeMap<String, Candidate> = BTreeMap::new();
        for p in &table.policies {
            for column in policy::user_columns(table, p) {
                candidates.entry(column).or_default().policies.push(p.name.clone());
            }
        }
        if self.is_users(&table.name)
            && let Some(key) = table.primary_key.as_ref().filter(|k| k.columns.len() == 1)
        {
            candidates.entry(key.columns[0].clone()).or_default().key = true;
        }
        let key = table.primary_key.as_ref().map_or(&[][..], |k| k.columns.as_slice());
        for fk in table.foreign_keys.iter().filter(|fk| self.references_user(table, fk)) {
            let candidate = candidates.entry(fk.columns[0].clone()).or_default();
            candidate.references = Some(fk.ref_table.clone());
            candidate.key |= key == fk.columns.as_slice();
        }
        for name in OWNERS.iter().filter(|n| table.column(n).is_some()) {
            candidates.entry((*name).to_owned()).or_default().named = true;
        }
        candidates.retain(|column, _| {
            (self.logical)(&table.name, column).is_some_and(|t| t == "uuid" || t == "text")
        });
        let Some(best) = candidates.values().map(Candidate::rank).max() else {
            return Owner::None;
        };
        let top: Vec<(&String, &Candidate)> =
            candidates.iter().filter(|(_, c)| c.rank() == best).collect();
        let users = self.users.as_ref().map_or("", |(u, _)| u.as_str());
        match top.as_slice() {
            [(column, candidate)] => Owner::Found {
                column: (*column).clone(),
                because: candidate.because(table, column, users),
            },
            several => {
                let why: Vec<String> =
                    several.iter().map(|(col, c)| c.because(table, col, users)).collect();
                let names: Vec<&str> = several.iter().map(|(col, _)| col.as_str()).collect();
                Owner::Ambiguous(format!(
                    "{} could each own its rows ({}); say which with sync and owner",
                    names.join(" and "),
                    why.join("; ")
                ))
            }
        }
    }
}

/// `auth.users` when the schema references it; else the table that the most owner-like
/// columns reference (named like an owner, or compared with the user's id by a policy).
fn find_users(tables: &[Table]) -> Option<(String, String)> {
    let auth =
        tables.iter().flat_map(|t| &t.foreign_keys).filter(|fk| fk.ref_table == AUTH_USERS).count();
    if auth > 0 {
        return Some((AUTH_USERS.to_owned(), format!("{auth} foreign key(s) reference it")));
    }
    let mut votes: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for table in tables {
        let compared: Vec<String> =
            table.policies.iter().flat_map(|p| policy::user_columns(table, p)).collect();
        for fk in table.foreign_keys.iter().filter(|fk| fk.local && fk.columns.len() == 1) {
            let column = &fk.columns[0];
            if OWNERS.contains(&column.as_str()) || compared.contains(column) {
                votes.entry(&fk.ref_table).or_default().push(format!("{}.{column}", table.name));
            }
        }
    }
    let most = votes.values().map(Vec::len).max()?;
    let mut top = votes.into_iter().filter(|(_, v)| v.len() == most);
    let (table, columns) = top.next()?;
    if top.next().is_some() {
        return None;
    }
    Some((table.to_owned(), format!("the owner-like columns {} reference it", columns.join(", "))))
}

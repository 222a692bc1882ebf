//! Who may write a row (docs/sync.md): its owner column, or for a `via:` table the owner its
//! parent chain ends at. The server decides, from the rows as they are in the database.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

use super::refusal::{Located, Refusal, place_of};
use super::validate::{Change, Op};
use crate::schema::{SchemaMeta, Scope, TableMeta};
use crate::store::{StoreError, Transaction, Values};

pub(crate) use crate::store::key_text;

/// Whose a row is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Owner {
    User(String),
    /// Nobody's: readable by all, writable by none.
    Public,
    /// The row (or a parent it names) does not exist.
    Missing,
}

/// Refuse the request unless `user` may make every one of `changes` to `table`, whose current
/// rows (by [`key_text`]) are `current`.
pub(crate) async fn authorize<T: Transaction>(
    tx: &mut T,
    schema: &'static SchemaMeta,
    user: &str,
    table: &'static TableMeta,
    changes: &[&Change],
    current: &HashMap<String, Values>,
) -> Result<(), Refusal> {
    let row_of = |change: &Change| current.get(&change.key_text);
    match table.scope {
        Scope::Owner | Scope::OwnerOrPublic => {
            let owner = table.sync.owner.expect("owner scopes have an owner column");
            for change in changes {
                if let Some(row) = row_of(change) {
                    check(table, change, owner_of(row.get(owner)), user, "the row", None)?;
                }
            }
            Ok(())
        }
        Scope::Via { column, parent_table } => {
            let parent = schema.table(parent_table).expect("via parents are tables of the schema");
            let parent_column = parent.primary_key[0];
            // The parent the change names, and the parent the row has now: both must be the user's.
            // A named parent that does not exist or that the user may not read is the reference
            // check's to reject, for that change alone and alike (references.rs); here it only
            // must not be a row the user may read but not write under (a public one).
            let parents_of = |change: &Change| {
                let named = match &change.op {
                    Op::Upsert(row) => row.get(column),
                    Op::Delete => None,
                };
                let now = row_of(change).and_then(|r| r.get(column));
                let named = named.filter(|named| Some(*named) != now).map(|v| (v, true));
                let now = now.map(|v| (v, false));
                [named, now].into_iter().flatten().map(|(v, n)| (v.clone(), n)).collect::<Vec<_>>()
            };
            let keys: Vec<Values> = changes
                .iter()
                .flat_map(|c| parents_of(c))
                .map(|(v, _)| Values::from_iter([(parent_column.to_owned(), v)]))
                .collect();
            let owners =
                owners(tx, schema, parent, keys, Lock::Write).await.map_err(Refusal::from)?;
            for change in changes {
                for (value, named) in parents_of(change) {
                    let key = Values::from_iter([(parent_column.to_owned(), value)]);
                    let owner =
                        owners.get(&key_text(parent, &key)).cloned().unwrap_or(Owner::Missing);
                    if named && matches!(&owner, Owner::Missing | Owner::User(_)) {
                        continue;
                    }
                    let what =
                        format!("its parent row in table `{}` ({})", parent.name, Value::from(key));
                    check(table, change, owner, user, &what, Some(column))?;
                }
            }
            Ok(())
        }
        Scope::Public | Scope::None => unreachable!("validation refuses writes to these tables"),
    }
}

/// The owner a row's owner column names, as it is spelled: the user id the token's subject was
/// checked to be (see `Engine::user`) matches it only when spelled alike.
fn owner_of(value: Option<&Value>) -> Owner {
    match value {
        Some(Value::String(s)) => Owner::User(s.clone()),
        _ => Owner::Public,
    }
}

/// Refuse `change` unless `user` is the owner of `what` (the row, or its parent through
/// `column`).
fn check(
    table: &TableMeta,
    change: &Change,
    owner: Owner,
    user: &str,
    what: &str,
    column: Option<&str>,
) -> Result<(), Refusal> {
    let place = place_of(table.name, Some(&change.key));
    let refuse = |why: &str| {
        let at = Located::table(table.name, format!("{place}: {what} {why}")).key(&change.key);
        Err(Refusal::forbidden(Located { column: column.map(str::to_owned), ..at }))
    };
    match owner {
        Owner::User(owner) if owner == user => Ok(()),
        Owner::User(_) => refuse("belongs to another user"),
        Owner::Public => refuse("is public, and public rows are read-only"),
        Owner::Missing => refuse("does not exist"),
    }
}

type OwnersFuture<'a> =
    Pin<Box<dyn Future<Output = Result<HashMap<String, Owner>, StoreError>> + Send + 'a>>;

/// How [`owners`] locks the rows it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lock {
    /// Against every write ([`Transaction::rows`]): the rows a write depends on.
    Write,
    /// Against deletion only ([`Transaction::referenced`]): rows a change refers to.
    Reference,
}

/// The owner of each row of `table` with these keys, by [`key_text`], following `via:` parents.
pub(super) fn owners<'a, T: Transaction>(
    tx: &'a mut T,
    schema: &'static SchemaMeta,
    table: &'static TableMeta,
    keys: Vec<Values>,
    lock: Lock,
) -> OwnersFuture<'a> {
    Box::pin(async move {
        let rows = match lock {
            Lock::Write => tx.rows(table, &keys).await?,
            Lock::Reference => tx.referenced(table, &keys).await?,
        };
        let mut out = HashMap::with_capacity(rows.len());
        match table.scope {
            Scope::Owner | Scope::OwnerOrPublic => {
                let owner = table.sync.owner.expect("owner scopes have an owner column");
                for row in &rows {
                    out.insert(key_text(table, row), owner_of(row.get(owner)));
                }
            }
            Scope::Via { column, parent_table } => {
                let parent = schema.table(parent_table).expect("via parents are tables");
                let parent_column = parent.primary_key[0];
                let parent_key = |row: &Values| {
                    Values::from_iter([(
                        parent_column.to_owned(),
                        row.get(column).cloned().unwrap_or(Value::Null),
                    )])
                };
                let keys = rows.iter().map(parent_key).collect();
                let parents = owners(tx, schema, parent, keys, lock).await?;
                for row in &rows {
                    let owner = parents.get(&key_text(parent, &parent_key(row))).cloned();
                    out.insert(key_text(table, row), owner.unwrap_or(Owner::Missing));
                }
            }
            Scope::Public | Scope::None => {
                for row in &rows {
                    out.insert(key_text(table, row), Owner::Public);
                }
            }
        }
        Ok(out)
    })
}

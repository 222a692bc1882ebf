//! Who may write a row (docs/sync.md): its owner column, or for a `via:` table the owner its
//! parent chain ends at. The server decides, from the rows as they are in the database.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

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

/// A change of a row the user may not write: the row (or the parent it is owned through) is
/// another user's or public now, though the device may have written it when it was the user's.
/// Such a change is rejected alone (reason `forbidden`), so the device keeps syncing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Forbidden {
    /// Whether the user may read the server's row as it is now (a public row): the rejection
    /// then carries it, else `null`, as for any row the user cannot read.
    pub readable: bool,
}

/// The changes of `table`, by key text, that `user` may not make, given its current rows (by
/// [`key_text`]) `current`. A pushed row's owner column was checked to be the user's by
/// validation; here the rows as they are in the database decide.
pub(crate) async fn authorize<T: Transaction>(
    tx: &mut T,
    schema: &'static SchemaMeta,
    user: &str,
    table: &'static TableMeta,
    changes: &[&Change],
    current: &HashMap<String, Values>,
) -> Result<HashMap<String, Forbidden>, StoreError> {
    let row_of = |change: &Change| current.get(&change.key_text);
    let mut forbidden = HashMap::new();
    match table.scope {
        Scope::Owner | Scope::OwnerOrPublic => {
            let owner = table.sync.owner.expect("owner scopes have an owner column");
            for change in changes {
                if let Some(row) = row_of(change) {
                    let owner = owner_of(row.get(owner));
                    if owner != Owner::User(user.to_owned()) {
                        let readable = readable(schema, table, &owner, user);
                        forbidden.insert(change.key_text.clone(), Forbidden { readable });
                    }
                }
            }
        }
        Scope::Via { column, parent_table } => {
            let parent = schema.table(parent_table).expect("via parents are tables of the schema");
            let parent_column = parent.primary_key[0];
            let parent_key =
                |value: &Value| Values::from_iter([(parent_column.to_owned(), value.clone())]);
            // The parent the change names, and the parent the row has now: both must be the user's.
            // A named parent that does not exist or that the user may not read is the reference
            // check's to reject, for that change alone and alike (references.rs); here it only
            // must not be a row the user may read but not write under (a public one).
            let named_of = |change: &Change| match &change.op {
                Op::Upsert(row) => row.get(column).cloned(),
                Op::Delete => None,
            };
            let now_of = |change: &Change| row_of(change).and_then(|r| r.get(column)).cloned();
            let keys: Vec<Values> = changes
                .iter()
                .flat_map(|c| [named_of(c), now_of(c)])
                .flatten()
                .map(|value| parent_key(&value))
                .collect();
            let owners = owners(tx, schema, parent, keys, Lock::Write).await?;
            let owner_of = |value: &Value| {
                owners.get(&key_text(parent, &parent_key(value))).cloned().unwrap_or(Owner::Missing)
            };
            let mine = |owner: &Owner| *owner == Owner::User(user.to_owned());
            for change in changes {
                // A new row that names no parent would get a NULL one (or a column default
                // nobody checked): nobody's row, which no user may write (a NULL named parent
                // is refused by validation).
                let new_without_parent = matches!(change.op, Op::Upsert(_))
                    && row_of(change).is_none()
                    && named_of(change).is_none();
                if new_without_parent {
                    forbidden.insert(change.key_text.clone(), Forbidden { readable: false });
                    continue;
                }
                let now = now_of(change).map(|value| owner_of(&value));
                let named = named_of(change).map(|value| owner_of(&value));
                let named_ok = named.is_none_or(|o| matches!(o, Owner::Missing | Owner::User(_)));
                if now.as_ref().is_none_or(mine) && named_ok {
                    continue;
                }
                let readable = now.is_some_and(|owner| readable(schema, parent, &owner, user));
                forbidden.insert(change.key_text.clone(), Forbidden { readable });
            }
        }
        Scope::Public | Scope::None => unreachable!("validation refuses writes to these tables"),
    }
    Ok(forbidden)
}

/// Whether `user` may read a row of `table` whose owner is `owner`.
pub(super) fn readable(schema: &SchemaMeta, table: &TableMeta, owner: &Owner, user: &str) -> bool {
    match owner {
        Owner::User(owner) => owner == user,
        Owner::Public => schema.public_when_unowned(table),
        Owner::Missing => false,
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

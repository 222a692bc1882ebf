//! References into rows the user may not read (docs/sync.md): a change whose foreign key points
//! at another user's private row is refused exactly as one that points at no row, so that a
//! user learns nothing of rows they cannot read and cannot tie their rows to them. The engine
//! reads the referenced rows inside the push's transaction, kept from deletion until it ends
//! (what the database's own check takes), so the verdict cannot race with a delete.

use std::collections::{HashMap, HashSet};

use super::access::{self, Lock, Owner};
use crate::schema::{ForeignKeyMeta, SchemaMeta, TableMeta};
use crate::store::{StoreError, Transaction, Values, key_text};

/// The table a foreign key refers to, when the engine checks it itself: a synced table,
/// referred to by its primary key. Others are left to the database.
pub(super) fn checked(schema: &SchemaMeta, fk: &ForeignKeyMeta) -> Option<&'static TableMeta> {
    schema.table(fk.ref_table).filter(|t| t.is_synced() && t.primary_key == fk.ref_columns)
}

/// One row to be written: its key text, the row as it will be, and the server's row now.
pub(super) struct Pending<'a> {
    pub key_text: &'a str,
    pub row: &'a Values,
    pub current: Option<&'a Values>,
}

/// The foreign key each row of `pending` breaks for `user`, by the row's key text: it names a
/// row that does not exist or that `user` may not read. A reference a row already had is not
/// checked again, so that a row stays writable when what it refers to stops being readable.
pub(super) async fn unreadable<T: Transaction>(
    tx: &mut T,
    schema: &'static SchemaMeta,
    user: &str,
    table: &'static TableMeta,
    pending: &[Pending<'_>],
) -> Result<HashMap<String, &'static ForeignKeyMeta>, StoreError> {
    let mut broken = HashMap::new();
    for fk in table.constraints.foreign_keys {
        let Some(target) = checked(schema, fk) else { continue };
        let reference = |p: &Pending| -> Option<Values> {
            let mut key = Values::new();
            for (column, ref_column) in fk.columns.iter().zip(fk.ref_columns) {
                let value = p.row.get(*column).filter(|v| !v.is_null())?;
                key.insert((*ref_column).to_owned(), value.clone());
            }
            let unchanged = p
                .current
                .is_some_and(|current| fk.columns.iter().all(|c| current.get(*c) == p.row.get(*c)));
            (!unchanged).then_some(key)
        };
        let mut seen = HashSet::new();
        let keys: Vec<Values> = pending
            .iter()
            .filter_map(reference)
            .filter(|key| seen.insert(key_text(target, key)))
            .collect();
        if keys.is_empty() {
            continue;
        }
        let owners = access::owners(tx, schema, target, keys, Lock::Reference).await?;
        for p in pending {
            let Some(key) = reference(p) else { continue };
            let owner = owners.get(&key_text(target, &key)).unwrap_or(&Owner::Missing);
            if !access::readable(schema, target, owner, user) {
                broken.entry(p.key_text.to_owned()).or_insert(fk);
            }
        }
    }
    Ok(broken)
}

//! The client's sync machinery of one SQLite table (docs/sync.md), laid out after the tables by
//! `sqlite.sql.jinja`.
//!
//! A device's database keeps an outbox of its local writes: generated triggers record every
//! insert, update and delete of a synced table as one entry per row (the row's key; a later write
//! to the same row replaces the entry and gets a higher sequence number, so the client can tell
//! an entry that changed while its request was in flight). The client reads the row itself when
//! it pushes, so an entry never holds stale values. While the client applies pulled rows it sets
//! `_sync_client.applying`, which silences every trigger. Tables a client may not write
//! (`public`ones, and deletes of tables without a deleted column) refuse such writes locally, at
//! once, rather than leave an entry the server would refuse on every sync.
//!
//! The same DDL serves a TypeScript client on SQLite WASM: it is plain SQLite. The embedded sync
//! server runs `sqlite.sql` too and drops this part (every name starts with `_sync_client` or is
//! `_sync_outbox`).

use serde::Serialize;

use crate::ir::{Schema, SyncScope, Table};

use super::column::{ident, literal};

/// The single-row table of the device's sync state.
pub(super) const STATE: &str = "_sync_client";
/// The table of pending local writes.
pub(super) const OUTBOX: &str = "_sync_outbox";

/// What the template needs of one synced SQLite table.
#[derive(Debug, Serialize)]
pub(super) struct ClientTable {
    /// The quoted table name.
    pub name: String,
    /// The table name as an SQL string literal, as the outbox records it.
    pub label: String,
    /// The quoted names of the triggers: `_sync_client_<table>_<what>`.
    pub triggers: Triggers,
    /// Whether clients may write the table (every scope but `public`).
    pub writable: bool,
    /// Whether clients may delete its rows (it has a deleted column).
    pub deletable: bool,
    /// `json_object(...)` of the new row's key, as the outbox stores keys.
    pub new_key: String,
    /// The same of the old row's key.
    pub old_key: String,
    /// The quoted primary key columns, for `UPDATE OF`.
    pub key_columns: String,
    /// The condition under which an update changes the primary key.
    pub rekeyed: String,
    /// Why a write the table refuses is refused, as SQL string literals.
    pub read_only: String,
    pub undeletable: String,
}

#[derive(Debug, Serialize)]
pub(super) struct Triggers {
    pub insert: String,
    pub update: String,
    pub delete: String,
    pub rekey: String,
}

/// The client machinery of every synced table the SQLite target has, in schema order.
pub(super) fn client_tables(schema: &Schema) -> Vec<ClientTable> {
    schema.tables.iter().filter(|t| t.targets.sqlite && t.is_synced()).map(client_table).collect()
}

fn client_table(table: &Table) -> ClientTable {
    let key = |alias: &str| {
        let pairs: Vec<String> = table
            .primary_key
            .columns
            .iter()
            .map(|c| format!("{}, {alias}.{}", literal(c), ident(c)))
            .collect();
        format!("json_object({})", pairs.join(", "))
    };
    let changed: Vec<String> = table
        .primary_key
        .columns
        .iter()
        .map(|c| format!("OLD.{0} IS NOT NEW.{0}", ident(c)))
        .collect();
    let trigger = |what: &str| ident(&format!("{STATE}_{}_{what}", table.name));
    let name = &table.name;
    ClientTable {
        name: ident(name),
        label: literal(name),
        triggers: Triggers {
            insert: trigger("insert"),
            update: trigger("update"),
            delete: trigger("delete"),
            rekey: trigger("rekey"),
        },
        writable: table.scope != SyncScope::Public,
        deletable: table.sync.deleted.is_some(),
        new_key: key("NEW"),
        old_key: key("OLD"),
        key_columns: table
            .primary_key
            .columns
            .iter()
            .map(|c| ident(c))
            .collect::<Vec<_>>()
            .join(", "),
        rekeyed: changed.join(" OR "),
        read_only: literal(&format!(
            "`{name}` is public: clients read it and never write it (sync would refuse the write)"
        )),
        undeletable: literal(&format!(
            "rows of `{name}` cannot be deleted by a client: the table has no deleted column, so \
             sync cannot carry the delete (and a changed primary key is a delete of the old key)"
        )),
    }
}

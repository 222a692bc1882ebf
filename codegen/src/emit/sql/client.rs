//! The client's sync machinery in SQLite (see docs/sync.md), laid out after the tables by
//! `sqlite.sql.jinja`.
//!
//! A device's database keeps an outbox of its local writes: generated triggers record every
//! insert, update and delete of a synced table as one entry per row (the row's key; a later write
//! to the same row replaces the entry and gets a higher sequence number, so the client can tell
//! an entry that changed while its request was in flight). The client reads the row itself when
//! it pushes, so an entry never holds stale values. While the client applies pulled rows it sets
//! `_sync_client.applying`, which silences every trigger. Tables a client may not write
//! (`public` ones, and deletes of tables that neither have a deleted column nor say
//! `deletes = "hard"`) refuse such writes locally, at once, rather than leave an entry the
//! server would refuse on every sync.
//!
//! The same DDL serves a TypeScript client on SQLite WASM: it is plain SQLite. The embedded sync
//! server's `sqlite-server.sql` has the same tables without this part (its own machinery is
//! `server.rs`).

use minijinja::{Value, context};
use serde::Serialize;

use crate::ir::{Deletes, Schema, SyncScope, Table};

use super::column::{self, ident, literal};
use super::statement::{Group, StatementKind, Statements};
use super::table::{key_changed, key_list, key_object};

/// The single-row table of the device's sync state.
pub(super) const STATE: &str = "_sync_client";
/// The table of pending local writes.
pub(crate) const OUTBOX: &str = "_sync_outbox";
/// The changes the server refused for good, kept with the device's version of the row.
pub(crate) const QUARANTINE: &str = "_sync_quarantine";
/// The local rows a full pull after `resync_required` has not served yet.
pub(crate) const RESYNC: &str = "_sync_resync";

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
    /// Whether clients may delete its rows (it has a deleted column, or `deletes = "hard"`).
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

/// The client's machinery, recorded in `s`, as `sqlite.sql.jinja` lays it out; `None` when no
/// table is synced.
pub(super) fn machinery(schema: &Schema, s: &mut Statements) -> Option<Value> {
    let synced: Vec<&Table> =
        schema.tables.iter().filter(|t| t.targets.sqlite && t.is_synced()).collect();
    if synced.is_empty() {
        return None;
    }
    let c = context! {
        state => STATE,
        outbox => OUTBOX,
        quarantine => QUARANTINE,
        resync => RESYNC,
        version => schema.version,
        random_uuid => column::SQLITE_RANDOM_UUID,
        now => format!("strftime('{}', 'now')", column::TIMESTAMP_FORMAT),
    };
    let constants = [c.clone()];
    let state = Group {
        comment: None,
        statements: vec![
            s.call(StatementKind::Table(Vec::new()), Some(STATE), "client_state", &constants),
            s.call(StatementKind::Row, Some(STATE), "client_state_row", &constants),
        ],
    };
    let index = StatementKind::Index(format!("{OUTBOX}_seq_idx"));
    let outbox = Group {
        comment: None,
        statements: vec![
            s.call(StatementKind::Table(Vec::new()), Some(OUTBOX), "outbox", &constants),
            s.call(index, Some(OUTBOX), "outbox_index", &constants),
            s.call(StatementKind::Table(Vec::new()), Some(QUARANTINE), "quarantine", &constants),
            s.call(StatementKind::Table(Vec::new()), Some(RESYNC), "resync", &constants),
        ],
    };
    let tables: Vec<Group> = synced
        .into_iter()
        .map(|table| {
            let t = client_table(table);
            // Which triggers a table gets, by the name each has in `t.triggers`, and the macro
            // that writes it.
            let triggers: &[(&str, &str)] = match (t.writable, t.deletable) {
                (true, true) => &[
                    ("insert", "outbox_insert"),
                    ("update", "outbox_update"),
                    ("delete", "outbox_delete"),
                ],
                (true, false) => &[
                    ("insert", "outbox_insert"),
                    ("update", "outbox_update"),
                    ("rekey", "refuse_rekey"),
                    ("delete", "refuse_delete"),
                ],
                (false, _) => {
                    &[("insert", "read_only"), ("update", "read_only"), ("delete", "read_only")]
                }
            };
            let value = Value::from_serialize(&t);
            let statements = triggers
                .iter()
                .map(|(what, call)| {
                    let kind = StatementKind::Trigger(trigger_name(table, what));
                    let args = [c.clone(), value.clone(), Value::from(*what)];
                    s.call(kind, Some(&table.name), call, &args)
                })
                .collect();
            Group { comment: None, statements }
        })
        .collect();
    Some(context! { state, outbox, tables })
}

/// `_sync_client_<table>_<what>`, the name of one of the table's triggers.
fn trigger_name(table: &Table, what: &str) -> String {
    format!("{STATE}_{}_{what}", table.name)
}

fn client_table(table: &Table) -> ClientTable {
    let trigger = |what: &str| ident(&trigger_name(table, what));
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
        deletable: table.deletes != Deletes::Never,
        new_key: key_object(table, "NEW"),
        old_key: key_object(table, "OLD"),
        key_columns: key_list(table),
        rekeyed: key_changed(table),
        read_only: literal(&format!(
            "`{name}` is public: clients read it and never write it (sync would refuse the write)"
        )),
        undeletable: literal(&format!(
            "rows of `{name}` cannot be deleted by a client: the table has no deleted column and no \
             `deletes = \"hard\"`, so sync cannot carry the delete (and a changed primary key is \
             a delete of the old key)"
        )),
    }
}

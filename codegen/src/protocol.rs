//! The sync protocol (docs/sync.md), described once as data.
//!
//! The emitters of each language (TypeScript's `sync-types.ts`, the runtime's Rust types) walk
//! [`MESSAGES`] instead of restating the protocol, so the request and response shapes and the
//! error codes cannot drift between client and server. Names are the JSON names on the wire
//! (snake_case); each emitter chooses its own spelling of type names. The description stays
//! plain: structs, tagged per-table variants, unions and string enums are all the protocol needs.

use crate::ir::{Deletes, SyncScope, Table};

/// One named type of the protocol.
#[derive(Debug, Clone, Copy)]
pub struct Message {
    /// The type's name, in PascalCase.
    pub name: &'static str,
    pub doc: &'static str,
    pub shape: Shape,
}

#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// A JSON object with these fields.
    Struct(&'static [Field]),
    /// One JSON object per table of the set, discriminated by its `table` field; [`Wire::Row`],
    /// [`Wire::Key`] and [`Wire::TableName`] in the fields refer to that table.
    PerTable(Tables, &'static [Field]),
    /// Any one of these messages.
    Union(&'static [&'static str]),
    /// One of these strings.
    Enum(&'static [&'static str]),
}

#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub ty: Wire,
    /// The field may be left out of the JSON object (not the same as `null`).
    pub optional: bool,
    pub doc: &'static str,
}

/// The JSON type of a field.
#[derive(Debug, Clone, Copy)]
pub enum Wire {
    String,
    /// A lower-case UUID string.
    Uuid,
    /// RFC 3339 in UTC with milliseconds, like `2026-11-24T10:00:00.000Z`.
    Timestamp,
    /// A JSON number without a fraction, within 2^53.
    Integer,
    Boolean,
    /// Exactly this string: a variant's tag.
    Tag(&'static str),
    /// Exactly `true`.
    True,
    Nullable(&'static Wire),
    List(&'static Wire),
    /// Another message of [`MESSAGES`], by name.
    Message(&'static str),
    /// Any JSON object (an error names a key of a table it could not resolve).
    Object,
    /// The table's name, in a [`Shape::PerTable`] message.
    TableName,
    /// The table's row in its wire shape (snake_case columns).
    Row,
    /// The table's primary key columns.
    Key,
}

/// Which tables a [`Shape::PerTable`] message exists for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tables {
    /// Every synced table: what a client may pull.
    Synced,
    /// Tables a client may write: not `public` (a catalog) and not `none`.
    Writable,
    /// Writable tables whose rows clients delete: with a soft-delete column, or with
    /// `deletes = "hard"`; others refuse client deletes.
    Deletable,
}

impl Tables {
    pub const ALL: [Tables; 3] = [Tables::Synced, Tables::Writable, Tables::Deletable];

    pub fn contains(self, table: &Table) -> bool {
        let writable = !matches!(table.scope, SyncScope::Public | SyncScope::None);
        match self {
            Tables::Synced => table.is_synced(),
            Tables::Writable => writable,
            Tables::Deletable => writable && table.deletes != Deletes::Never,
        }
    }
}

const fn field(name: &'static str, ty: Wire, doc: &'static str) -> Field {
    Field { name, ty, optional: false, doc }
}

const fn optional(name: &'static str, ty: Wire, doc: &'static str) -> Field {
    Field { name, ty, optional: true, doc }
}

const TABLE: Field = field("table", Wire::TableName, "The table the change belongs to.");

/// The whole protocol, in the order emitters print it.
pub const MESSAGES: &[Message] = &[
    Message {
        name: "SyncRequest",
        doc: "The body of `POST /api/sync`: push the client's changes and pull one page.",
        shape: Shape::Struct(&[
            field(
                "schema_version",
                Wire::Integer,
                "The `[schema] version` the client was built with; the server refuses others.",
            ),
            field("client_id", Wire::Uuid, "The device's stable id, stored in the device column."),
            field(
                "cursor",
                Wire::Nullable(&Wire::String),
                "Where the last pull stopped; `null` on the first sync. Opaque to the client.",
            ),
            optional(
                "page_size",
                Wire::Integer,
                "The most changes to pull in one response; the server's default when absent.",
            ),
            field("changes", Wire::List(&Wire::Message("PushChange")), "The client's edits."),
        ]),
    },
    Message {
        name: "PushChange",
        doc: "A change a client pushes.",
        shape: Shape::Union(&["UpsertChange", "DeleteChange"]),
    },
    Message {
        name: "UpsertChange",
        doc: "Insert or replace a row; the row's modified column is the conflict time.",
        shape: Shape::PerTable(
            Tables::Writable,
            &[
                TABLE,
                field("op", Wire::Tag("upsert"), ""),
                field("row", Wire::Row, "The whole row."),
            ],
        ),
    },
    Message {
        name: "DeleteChange",
        doc: "Delete a row: the server sets its deleted flag, or removes it from a table with `deletes = \"hard\"`.",
        shape: Shape::PerTable(
            Tables::Deletable,
            &[
                TABLE,
                field("op", Wire::Tag("delete"), ""),
                field("key", Wire::Key, "The primary key of the deleted row."),
                field(
                    "modified_at",
                    Wire::Timestamp,
                    "When the client deleted it: the conflict time.",
                ),
            ],
        ),
    },
    Message {
        name: "SyncResponse",
        doc: "The answer to a successful sync: what was pulled and what was refused.",
        shape: Shape::Struct(&[
            field("changes", Wire::List(&Wire::Message("PulledChange")), "One page of changes."),
            field("cursor", Wire::String, "Send this as the next request's cursor."),
            field("has_more", Wire::Boolean, "Whether another page is waiting: sync again."),
            field("server_time", Wire::Timestamp, "The server's clock, to detect skew."),
            field(
                "rejected",
                Wire::List(&Wire::Message("Rejected")),
                "Every pushed change the server did not apply.",
            ),
        ]),
    },
    Message {
        name: "PulledChange",
        doc: "A change the server sends.",
        shape: Shape::Union(&["PulledRow", "PulledDelete"]),
    },
    Message {
        name: "PulledRow",
        doc: "A row to store; a soft-deleted one has its deleted flag set.",
        shape: Shape::PerTable(Tables::Synced, &[TABLE, field("row", Wire::Row, "The whole row.")]),
    },
    Message {
        name: "PulledDelete",
        doc: "A row removed on the server by another path (an admin, a cascade): delete it locally.",
        shape: Shape::PerTable(
            Tables::Synced,
            &[
                TABLE,
                field("key", Wire::Key, "The primary key of the removed row."),
                field("deleted", Wire::True, ""),
            ],
        ),
    },
    Message {
        name: "Rejected",
        doc: "A pushed change the server did not apply, with its current row so the client converges.",
        shape: Shape::PerTable(
            Tables::Synced,
            &[
                TABLE,
                field("key", Wire::Key, "The primary key of the refused change."),
                field("reason", Wire::Message("RejectReason"), ""),
                field(
                    "message",
                    Wire::String,
                    "A sentence for people, worded the same by every store.",
                ),
                optional(
                    "constraint",
                    Wire::String,
                    "For `constraint`: the name of the constraint the change breaks.",
                ),
                optional("kind", Wire::Message("ConstraintKind"), "For `constraint`: its kind."),
                optional(
                    "column",
                    Wire::String,
                    "The column at fault: always for `too_large`, for `constraint` when it \
                     concerns one column, for `forbidden` the one that says whose the row is.",
                ),
                field(
                    "server_row",
                    Wire::Nullable(&Wire::Row),
                    "The server's current row; `null` when it has none the user may read.",
                ),
            ],
        ),
    },
    Message {
        name: "RejectReason",
        doc: "Why a change was not applied: `stale` when the server's row is as new or newer, \
              `clock_skew` when the change's time is too far in the future, `constraint` when \
              the database refuses it (a unique key taken, a referenced row missing or not \
              the user's to reference, a check), `too_large` when a value is larger than the \
              database can index, `forbidden` when the row is not the user's to write (any \
              longer: it changed hands, or became public, since the device last pulled it).",
        shape: Shape::Enum(&["stale", "clock_skew", "constraint", "too_large", "forbidden"]),
    },
    Message {
        name: "ConstraintKind",
        doc: "The kind of constraint a change breaks.",
        shape: Shape::Enum(&["unique", "foreign_key", "check", "not_null"]),
    },
    Message {
        name: "SyncErrorResponse",
        doc: "The body of every 4xx and 5xx answer; nothing of the request was written.",
        shape: Shape::Struct(&[field("error", Wire::Message("SyncError"), "")]),
    },
    Message {
        name: "SyncError",
        doc: "What went wrong, naming the table, key and column where there is one.",
        shape: Shape::Struct(&[
            field("code", Wire::Message("ErrorCode"), "What went wrong, for programs."),
            field("message", Wire::String, "A sentence for people."),
            optional("table", Wire::String, ""),
            optional("key", Wire::Object, ""),
            optional("column", Wire::String, ""),
        ]),
    },
    Message {
        name: "ErrorCode",
        doc: "Every code an error answer can carry, each always with the same HTTP status: 401 \
              for the credentials, 400, 413 and 415 for the body, 426 and 409 for the schema \
              version, 400 for a change that does not fit the schema, 403 for a write the user \
              may not make, 409 for a constraint of the database, 410 for a cursor older than \
              the history the server keeps (pull again from the start), 404 and 405 for the \
              route, 429 for a user over the request limit, 503 when the server is at its limit \
              of requests in flight or the database is busy or unavailable, and 500 for the \
              server's own failures.",
        shape: Shape::Enum(&[
            // The bearer token (401).
            "missing_authorization",
            "not_bearer",
            "empty_token",
            "malformed_token",
            "unsigned_token",
            "unsupported_algorithm",
            "algorithm_not_configured",
            "missing_kid",
            "unknown_kid",
            "key_algorithm_mismatch",
            "bad_signature",
            "token_expired",
            "token_not_yet_valid",
            "wrong_audience",
            "missing_claim",
            "invalid_claim",
            "missing_subject",
            "invalid_dev_user_id",
            // The body.
            "unsupported_media_type",
            "body_too_large",
            "body_unreadable",
            "invalid_json",
            "invalid_request",
            // The request as a whole.
            "upgrade_required",
            "unsupported_schema_version",
            "too_many_changes",
            "invalid_page_size",
            "bad_cursor",
            "resync_required",
            // One change.
            "unknown_table",
            "invalid_row",
            "unknown_column",
            "missing_key",
            "missing_column",
            "invalid_value",
            "null_value",
            "duplicate_change",
            "delete_not_supported",
            "not_syncable",
            "forbidden",
            "constraint_violation",
            // The route.
            "not_found",
            "method_not_allowed",
            // The server.
            "rate_limited",
            "overloaded",
            "busy",
            "database_unavailable",
            "internal",
        ]),
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Every message a field or union refers to exists, so emitters never print a dangling name.
    #[test]
    fn references_resolve() {
        let exists = |name: &str| MESSAGES.iter().any(|m| m.name == name);
        fn refs(ty: &Wire, out: &mut Vec<&'static str>) {
            match ty {
                Wire::Message(name) => out.push(name),
                Wire::Nullable(inner) | Wire::List(inner) => refs(inner, out),
                _ => {}
            }
        }
        for message in MESSAGES {
            let mut names = Vec::new();
            match message.shape {
                Shape::Struct(fields) | Shape::PerTable(_, fields) => {
                    fields.iter().for_each(|f| refs(&f.ty, &mut names))
                }
                Shape::Union(members) => names.extend(members),
                Shape::Enum(_) => {}
            }
            for name in names {
                assert!(exists(name), "{} refers to unknown message {name}", message.name);
            }
        }
    }
}

//! Why a sync request was refused: an HTTP status and the protocol's error body, which names the
//! table, key and column where there is one (DESIGN 5.4). A refused request wrote nothing.

use std::fmt;

use crate::protocol::{Key, SyncError};
use crate::store::StoreError;

/// A refused request: answer `status` with `{"error": error}`. The body is boxed so that a
/// `Result<_, Refusal>` stays small on the happy path.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub status: u16,
    pub error: Box<SyncError>,
}

impl Refusal {
    /// A refusal with a stable snake_case `code` and a sentence for people.
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        Refusal {
            status,
            error: Box::new(SyncError {
                code: code.to_owned(),
                message: message.into(),
                table: None,
                key: None,
                column: None,
            }),
        }
    }

    /// Bad input: 400.
    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Refusal::new(400, code, message)
    }

    /// A write the user may not make: 403.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Refusal::new(403, "forbidden", message)
    }

    pub fn table(mut self, table: &str) -> Self {
        self.error.table = Some(table.to_owned());
        self
    }

    pub fn key(mut self, key: &Key) -> Self {
        self.error.key = Some(key.clone());
        self
    }

    pub fn column(mut self, column: &str) -> Self {
        self.error.column = Some(column.to_owned());
        self
    }

    /// Where a problem is, for messages: "table `t`, key {"id":"..."}".
    pub(crate) fn place(table: &str, key: Option<&Key>) -> String {
        match key {
            Some(key) => format!("table `{table}`, key {}", serde_json::Value::from(key.clone())),
            None => format!("table `{table}`"),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.error.code, self.error.message)
    }
}

impl std::error::Error for Refusal {}

impl From<StoreError> for Refusal {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::BadCursor(_) => Refusal::bad_request("bad_cursor", error.to_string()),
            StoreError::Conflict(_) => Refusal::new(
                503,
                "busy",
                "concurrent writes to the same rows kept conflicting; retry the sync",
            ),
            StoreError::Constraint { ref message, ref table, ref column, ref constraint } => {
                let mut refusal = Refusal::new(
                    409,
                    "constraint_violation",
                    match constraint {
                        Some(name) => format!("constraint `{name}` refused a change: {message}"),
                        None => format!("the database refused a change: {message}"),
                    },
                );
                refusal.error.table = table.clone();
                refusal.error.column = column.clone();
                refusal
            }
            StoreError::Database(message) => {
                tracing::error!(%message, "database error during sync");
                Refusal::new(500, "internal", "the server's database failed; retry later")
            }
        }
    }
}

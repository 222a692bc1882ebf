//! Why a sync request was refused: a kind with its data, such as the versions, the limit, or
//! where in the request the problem is (table, key and column). A refused request wrote nothing.
//! The engine knows no HTTP: each kind has its protocol [`ErrorCode`], and the server answers a
//! code with its status (docs/sync.md).

use crate::protocol::{ErrorCode, Key};
use crate::store::StoreError;

/// Where in a request a problem is, as far as it is known, and a sentence that says it.
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    pub message: String,
    pub table: Option<String>,
    pub key: Option<Key>,
    pub column: Option<String>,
}

impl Located {
    /// A problem with a change to `table`.
    pub(crate) fn table(table: &str, message: impl Into<String>) -> Self {
        Located { message: message.into(), table: Some(table.to_owned()), key: None, column: None }
    }

    pub(crate) fn key(mut self, key: &Key) -> Self {
        self.key = Some(key.clone());
        self
    }

    pub(crate) fn column(mut self, column: &str) -> Self {
        self.column = Some(column.to_owned());
        self
    }
}

/// Where a problem is, for messages: "table `t`, key {"id":"..."}".
pub(crate) fn place_of(table: &str, key: Option<&Key>) -> String {
    match key {
        Some(key) => format!("table `{table}`, key {}", serde_json::Value::from(key.clone())),
        None => format!("table `{table}`"),
    }
}

/// What is wrong with a change that does not fit the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    /// The table does not exist or is not synced.
    UnknownTable,
    /// The row is not a JSON object.
    InvalidRow,
    /// The table has no such column, or a delete's key holds a column outside the primary key.
    UnknownColumn,
    /// A primary key column has no value.
    MissingKey,
    /// A required column, or the conflict time, has no value.
    MissingColumn,
    /// A value does not fit its column's type, or has no form both databases can store.
    InvalidValue,
    /// A null in a column that is not nullable.
    NullValue,
    /// The request changes one row twice.
    DuplicateChange,
    /// A delete of a row of a table without a soft-delete column.
    DeleteNotSupported,
    /// A write to a table without a modified column to order writes by.
    NotSyncable,
}

impl Invalid {
    pub fn code(self) -> ErrorCode {
        match self {
            Invalid::UnknownTable => ErrorCode::UnknownTable,
            Invalid::InvalidRow => ErrorCode::InvalidRow,
            Invalid::UnknownColumn => ErrorCode::UnknownColumn,
            Invalid::MissingKey => ErrorCode::MissingKey,
            Invalid::MissingColumn => ErrorCode::MissingColumn,
            Invalid::InvalidValue => ErrorCode::InvalidValue,
            Invalid::NullValue => ErrorCode::NullValue,
            Invalid::DuplicateChange => ErrorCode::DuplicateChange,
            Invalid::DeleteNotSupported => ErrorCode::DeleteNotSupported,
            Invalid::NotSyncable => ErrorCode::NotSyncable,
        }
    }
}

/// A refused request. What is located is boxed, so that a `Result<_, Refusal>` stays small on
/// the happy path.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Refusal {
    /// The client is older than the schema's `min_client_version`: the app must be updated.
    #[error(
        "the client speaks schema version {client}, and this server syncs versions {oldest} to \
         {newest}: update the app"
    )]
    UpgradeRequired { client: i64, oldest: u32, newest: u32 },
    /// The client is newer than the server.
    #[error(
        "the client speaks schema version {client}, newer than the server's {newest}: deploy the \
         server's new version first"
    )]
    UnsupportedSchemaVersion { client: i64, newest: u32 },
    #[error("{count} changes in one request; the limit is {limit}: send them in smaller batches")]
    TooManyChanges { count: usize, limit: usize },
    #[error("page_size must be at least 1, got {page_size}")]
    InvalidPageSize { page_size: i64 },
    /// A change does not fit the schema.
    #[error("{}", .at.message)]
    BadChange { why: Invalid, at: Box<Located> },
    /// A write the user may not make.
    #[error("{}", .0.message)]
    Forbidden(Box<Located>),
    /// The cursor was not made by this server; the store's sentence says so.
    #[error("{0}")]
    BadCursor(String),
    /// The cursor is older than the history the server keeps; the store's sentence says so.
    #[error("{0}")]
    ResyncRequired(String),
    /// Concurrent writes kept conflicting, however often the transaction ran again.
    #[error("concurrent writes to the same rows kept conflicting; retry the sync")]
    Busy,
    /// The token's subject is not a user id as the schema's owner columns hold them.
    #[error(
        "the token's `sub` claim `{sub}` is not a user id of this server: its owner columns hold \
         UUIDs, spelled lower-case with hyphens (8-4-4-4-12); have the identity provider issue \
         that form"
    )]
    InvalidSubject { sub: String },
    /// The database cannot be reached; the server reconnects by itself.
    #[error("the server cannot reach its database; retry later")]
    Unavailable,
    /// The database failed; what it said is logged, not answered.
    #[error("the server's database failed; retry later")]
    Database,
}

impl Refusal {
    pub(crate) fn invalid(why: Invalid, at: Located) -> Self {
        Refusal::BadChange { why, at: Box::new(at) }
    }

    pub(crate) fn forbidden(at: Located) -> Self {
        Refusal::Forbidden(Box::new(at))
    }

    /// The protocol's code of the refusal.
    pub fn code(&self) -> ErrorCode {
        match self {
            Refusal::UpgradeRequired { .. } => ErrorCode::UpgradeRequired,
            Refusal::UnsupportedSchemaVersion { .. } => ErrorCode::UnsupportedSchemaVersion,
            Refusal::TooManyChanges { .. } => ErrorCode::TooManyChanges,
            Refusal::InvalidPageSize { .. } => ErrorCode::InvalidPageSize,
            Refusal::BadChange { why, .. } => why.code(),
            Refusal::Forbidden(_) => ErrorCode::Forbidden,
            Refusal::BadCursor(_) => ErrorCode::BadCursor,
            Refusal::ResyncRequired(_) => ErrorCode::ResyncRequired,
            Refusal::Busy => ErrorCode::Busy,
            Refusal::InvalidSubject { .. } => ErrorCode::InvalidClaim,
            Refusal::Unavailable => ErrorCode::DatabaseUnavailable,
            Refusal::Database => ErrorCode::Internal,
        }
    }

    /// Where in the request the problem is, for refusals of changes.
    pub fn location(&self) -> Option<&Located> {
        match self {
            Refusal::BadChange { at, .. } | Refusal::Forbidden(at) => Some(at),
            _ => None,
        }
    }
}

impl From<StoreError> for Refusal {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::BadCursor(_) => Refusal::BadCursor(error.to_string()),
            StoreError::ResyncRequired(_) => Refusal::ResyncRequired(error.to_string()),
            StoreError::Conflict(_) => Refusal::Busy,
            // Stores report refused rows per row; one here is a write the engine did not expect
            // to fail, and the database's words are not for clients.
            StoreError::Refused(refused) => {
                tracing::error!(detail = %refused.detail, "the database refused a row unexpectedly");
                Refusal::Database
            }
            StoreError::Unavailable(message) => {
                tracing::warn!(%message, "the database is unavailable");
                Refusal::Unavailable
            }
            StoreError::Database(message) => {
                tracing::error!(%message, "database error during sync");
                Refusal::Database
            }
        }
    }
}

//! The names the format gives the constraints and indexes that `schema.toml` does not name:
//! validation gives them, and a rename (`crate::rename`) gives them again under the new names, so
//! that a derived name follows its table and columns while a name written in the file stays.

/// `<table>_pkey`.
pub fn primary_key(table: &str) -> String {
    format!("{table}_pkey")
}

/// `<table>_<columns>_key`.
pub fn unique(table: &str, columns: &[String]) -> String {
    format!("{table}_{}_key", columns.join("_"))
}

/// `<table>_<columns>_fkey`.
pub fn foreign_key(table: &str, columns: &[String]) -> String {
    format!("{table}_{}_fkey", columns.join("_"))
}

/// `<table>_<column>_check`: the CHECK a column's type or values put on it.
pub fn check(table: &str, column: &str) -> String {
    format!("{table}_{column}_check")
}

/// `<table>_<columns>_idx`.
pub fn index(table: &str, columns: &[String]) -> String {
    format!("{table}_{}_idx", columns.join("_"))
}

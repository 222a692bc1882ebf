//! SQL quoting shared by both stores and the client: every statement they build names tables
//! and columns from the schema's metadata, quoted here.

/// `"name"`: an SQL identifier, quoted, with embedded quotes doubled (SQLite and Postgres).
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'text'`: an SQL string literal, with embedded quotes doubled (SQLite and Postgres).
pub(crate) fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

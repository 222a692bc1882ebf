//! Identifier rules: what a table, column or constraint may be called in every target.

use crate::diag::Problem;
use crate::ir::Span;

/// Postgres truncates identifiers longer than this many bytes, so two long names could collide.
pub(crate) const MAX_IDENT: usize = 63;

/// Column names that Postgres (system columns) or SQLite (rowid aliases) already use.
const RESERVED_COLUMNS: &[&str] =
    &["tableoid", "xmin", "cmin", "xmax", "cmax", "ctid", "oid", "rowid", "_rowid_"];

/// SQLite refuses tables and indexes whose names start with this, in any case.
const SQLITE_PREFIX: &str = "sqlite_";
const SQLITE_RESERVED: &str = "SQLite reserves names starting with `sqlite_` for its own objects";

/// Names that cannot be Rust identifiers even in raw form (`r#self` is not allowed).
const NOT_RAW_RUST: &[&str] = &["self", "super", "crate"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Table,
    Column,
}

impl Kind {
    pub(crate) fn noun(self) -> &'static str {
        match self {
            Kind::Table => "table",
            Kind::Column => "column",
        }
    }
}

/// A table or column name: lower snake case, so it needs no quoting rules of its own and maps
/// one-to-one to camelCase and PascalCase. Names cannot start with `_`, which leaves `_sync_*`
/// free for the sync runtime's own tables and columns without reserving a name a legacy
/// database might already use.
pub(crate) fn check_ident(kind: Kind, name: &str, span: Span, problems: &mut Vec<Problem>) {
    let noun = kind.noun();
    let well_formed = name.split('_').all(|part| {
        !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    }) && name.starts_with(|c: char| c.is_ascii_lowercase());
    if !well_formed {
        problems.push(
            Problem::new(
                "schema::invalid_identifier",
                span.clone(),
                format!("`{name}` is not a valid {noun} name"),
            )
            .label("invalid name")
            .help("use lower snake_case: a letter, then letters, digits and single underscores"),
        );
        return;
    }
    if name.len() > MAX_IDENT {
        problems.push(
            Problem::new(
                "schema::identifier_too_long",
                span.clone(),
                format!("{noun} name `{name}` is {} bytes long", name.len()),
            )
            .help(format!("Postgres truncates names to {MAX_IDENT} bytes; use a shorter name")),
        );
    }
    let reserved = match kind {
        Kind::Column if RESERVED_COLUMNS.contains(&name) => {
            Some("Postgres and SQLite use this name for a system column".to_owned())
        }
        // Each table's generated Rust module holds `TABLE` (its name) beside one constant per
        // column, so a column `table` would clash with it.
        Kind::Column if name == "table" => Some(
            "the generated Rust module of each table uses `TABLE` for the table's name".to_owned(),
        ),
        _ if NOT_RAW_RUST.contains(&name) => {
            Some("it cannot be a Rust identifier, not even as a raw identifier".to_owned())
        }
        // Postgres searches `pg_catalog` before every other schema, so an unqualified
        // `pg_class` in later statements (an index, a comment, a foreign key) would mean the
        // system table, not this one.
        Kind::Table if name.starts_with("pg_") => {
            Some("Postgres looks up `pg_` names in its system catalog first".to_owned())
        }
        Kind::Table if name.starts_with(SQLITE_PREFIX) => Some(SQLITE_RESERVED.to_owned()),
        _ => None,
    };
    if let Some(why) = reserved {
        problems.push(
            Problem::new(
                "schema::reserved_name",
                span,
                format!("{noun} name `{name}` is reserved"),
            )
            .label("reserved")
            .help(why),
        );
    }
}

/// A constraint or index name: legacy names keep their case, so any SQL identifier that needs
/// no escaping inside double quotes is accepted.
pub(crate) fn check_constraint_name(name: &str, span: Span, problems: &mut Vec<Problem>) {
    let ok = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && name.len() <= MAX_IDENT;
    if !ok {
        problems.push(
            Problem::new(
                "schema::invalid_identifier",
                span,
                format!("`{name}` is not a valid constraint or index name"),
            )
            .help(format!(
                "use letters, digits and underscores, at most {MAX_IDENT} bytes, not starting with a digit"
            )),
        );
    } else if name.get(..SQLITE_PREFIX.len()).is_some_and(|p| p.eq_ignore_ascii_case(SQLITE_PREFIX))
    {
        problems.push(
            Problem::new(
                "schema::reserved_name",
                span,
                format!("constraint or index name `{name}` is reserved"),
            )
            .label("reserved")
            .help(SQLITE_RESERVED),
        );
    }
}

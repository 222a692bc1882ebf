//! Raw document -> IR. The only way to build a `Schema`; every problem is collected, none stops
//! the others from being found.

mod columns;
mod evolution;
mod names;
mod refs;
mod sync;

use crate::diag::Problem;
use crate::ir::{self, Index, IndexColumn, PrimaryKey, Schema, Table, Targets};
use crate::load::Locator;
use crate::raw;

pub use columns::MAX_SAFE_INTEGER;

pub(crate) fn validate(
    doc: &raw::Document,
    loc: &Locator<'_>,
    problems: &mut Vec<Problem>,
) -> Option<Schema> {
    if doc.schema.version == 0 {
        problems.push(
            Problem::new(
                "schema::invalid_version",
                loc.top("schema", "version"),
                "schema version must be at least 1",
            )
            .help("start at 1 and bump it on every change clients see"),
        );
    }
    let min_client_version = doc.schema.min_client_version.unwrap_or(doc.schema.version);
    let min_client_version_span = match doc.schema.min_client_version {
        Some(_) => loc.top("schema", "min_client_version"),
        None => loc.top("schema", "version"),
    };
    // A version of 0 is reported above; the default then follows it and says nothing more.
    if doc.schema.version > 0
        && (min_client_version == 0 || min_client_version > doc.schema.version)
    {
        problems.push(
            Problem::new(
                "schema::invalid_min_client_version",
                min_client_version_span.clone(),
                format!(
                    "min_client_version {min_client_version} is not between 1 and the schema's version {}",
                    doc.schema.version
                ),
            )
            .help("it names the oldest schema version whose clients the server still syncs"),
        );
    }
    let tables: Vec<Table> =
        doc.tables.iter().map(|(name, t)| table(name, t, &doc.sync, loc, problems)).collect();
    refs::check_cross_table(&tables, loc, problems);
    let allowances = evolution::allowances(&doc.evolution, loc, problems);
    let tables = refs::dependency_order(tables, loc, problems)?;
    Some(Schema {
        name: doc.schema.name.clone(),
        version: doc.schema.version,
        min_client_version,
        timestamp_storage: doc.schema.timestamp_storage.unwrap_or_default(),
        tables,
        allowances,
        version_span: loc.top("schema", "version"),
        min_client_version_span,
        timestamp_storage_span: loc.top("schema", "timestamp_storage"),
    })
}

fn table(
    name: &str,
    raw: &raw::Table,
    defaults: &raw::SyncDefaults,
    loc: &Locator<'_>,
    problems: &mut Vec<Problem>,
) -> Table {
    let span = loc.table(name);
    names::check_ident(names::Kind::Table, name, span.clone(), problems);
    if raw.columns.is_empty() {
        problems.push(
            Problem::new(
                "schema::no_columns",
                span.clone(),
                format!("table `{name}` has no columns"),
            )
            .help(format!("add columns under [tables.{name}.columns]")),
        );
    }
    let columns: Vec<ir::Column> = raw
        .columns
        .iter()
        .map(|(col, spec)| columns::column(name, col, spec, loc, problems))
        .collect();
    refs::check_case_collisions(
        "column",
        columns.iter().map(|c| (c.name.as_str(), c.span.clone())),
        problems,
    );

    let must_exist = |cols: &[String], span: ir::Span, what: &str, problems: &mut Vec<Problem>| {
        columns_exist(name, raw, cols, span, what, problems)
    };

    check_explicit_names(name, raw, loc, problems);
    check_sql_fragments(name, raw, loc, problems);
    let primary_key = primary_key(name, raw, &columns, loc, problems);
    must_exist(
        &primary_key.columns,
        loc.table_field(name, "primary_key"),
        "the primary key",
        problems,
    );

    let mut uniques: Vec<ir::Unique> = raw
        .columns
        .iter()
        .filter(|(_, c)| c.unique)
        .map(|(col, c)| ir::Unique {
            name: c.unique_name.clone().unwrap_or_else(|| format!("{name}_{col}_key")),
            columns: vec![col.clone()],
            span: loc.column_field(name, col, "unique"),
        })
        .collect();
    for (i, u) in raw.unique.iter().enumerate() {
        let span = loc.table_item(name, "unique", i);
        must_exist(&u.columns, span.clone(), "a unique constraint", problems);
        uniques.push(ir::Unique {
            name: u.name.clone().unwrap_or_else(|| format!("{name}_{}_key", u.columns.join("_"))),
            columns: u.columns.clone(),
            span,
        });
    }

    let checks: Vec<ir::Check> = raw
        .checks
        .iter()
        .enumerate()
        .map(|(i, c)| ir::Check {
            name: c.name.clone(),
            expr: text(&c.expr),
            span: loc.table_item(name, "checks", i),
        })
        .collect();

    let foreign_keys = refs::foreign_keys(name, raw, loc, problems);
    for (i, fk) in raw.foreign_keys.iter().enumerate() {
        must_exist(&fk.columns, loc.table_item(name, "foreign_keys", i), "a foreign key", problems);
    }

    let indexes: Vec<Index> = raw
        .indexes
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let span = loc.table_item(name, "indexes", i);
            let columns: Vec<IndexColumn> =
                spec.columns.iter().map(|c| index_column(c, span.clone(), problems)).collect();
            let plain: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
            must_exist(&plain, span.clone(), "an index", problems);
            Index {
                name: spec
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("{name}_{}_idx", plain.join("_"))),
                columns,
                unique: spec.unique,
                predicate: spec.predicate.as_deref().map(text),
                span,
            }
        })
        .collect();

    let (scope, sync) =
        sync::scope_and_columns(name, raw, defaults, &columns, &foreign_keys, loc, problems);
    let targets = targets(name, raw, &scope, loc, problems);

    Table {
        name: name.to_owned(),
        comment: comment(raw.comment.as_deref()),
        scope,
        targets,
        columns,
        primary_key,
        uniques,
        checks,
        foreign_keys,
        indexes,
        sync,
        span,
    }
}

fn primary_key(
    table: &str,
    raw: &raw::Table,
    columns: &[ir::Column],
    loc: &Locator<'_>,
    problems: &mut Vec<Problem>,
) -> PrimaryKey {
    let on_columns: Vec<String> =
        raw.columns.iter().filter(|(_, c)| c.primary_key).map(|(n, _)| n.clone()).collect();
    let columns_of_key = match (&raw.primary_key, on_columns.len()) {
        (Some(cols), 0) => cols.clone(),
        (None, 1) => on_columns,
        (None, 0) => {
            problems.push(
                Problem::new(
                    "schema::missing_primary_key",
                    loc.table(table),
                    format!("table `{table}` has no primary key"),
                )
                .help("mark a column `primary_key = true`, or set `primary_key = [\"a\", \"b\"]` on the table"),
            );
            Vec::new()
        }
        _ => {
            problems.push(
                Problem::new(
                    "schema::ambiguous_primary_key",
                    loc.table(table),
                    format!("table `{table}` declares its primary key more than once"),
                )
                .help("for a composite key use `primary_key = [..]` on the table and no `primary_key = true` on columns"),
            );
            Vec::new()
        }
    };
    for c in columns.iter().filter(|c| c.nullable && columns_of_key.contains(&c.name)) {
        problems.push(
            Problem::new(
                "schema::nullable_primary_key",
                loc.column_field(table, &c.name, "nullable"),
                format!("primary key column `{table}.{}` is nullable", c.name),
            )
            .help("a primary key column is always NOT NULL; remove `nullable = true`"),
        );
    }
    PrimaryKey {
        name: raw.primary_key_name.clone().unwrap_or_else(|| format!("{table}_pkey")),
        columns: columns_of_key,
    }
}

/// Free text as the generated files carry it, with LF line breaks: a `schema.toml` checked out
/// with CRLF line endings (git's `core.autocrlf` on Windows) has CRLF inside its multi-line
/// strings, and must still generate the very same files.
fn text(s: &str) -> String {
    s.replace("\r\n", "\n")
}

/// A table's or column's comment; an empty one says nothing, and Postgres would drop it
/// (`COMMENT ON ... IS ''` removes the comment).
pub(super) fn comment(raw: Option<&str>) -> Option<String> {
    raw.filter(|c| !c.trim().is_empty()).map(text)
}

/// `"practiced desc"` -> the column and its order.
fn index_column(spec: &str, span: ir::Span, problems: &mut Vec<Problem>) -> IndexColumn {
    let mut words = spec.split_whitespace();
    let name = words.next().unwrap_or_default().to_owned();
    let descending = match (words.next(), words.next()) {
        (None, _) => false,
        (Some(order), None) if order.eq_ignore_ascii_case("asc") => false,
        (Some(order), None) if order.eq_ignore_ascii_case("desc") => true,
        _ => {
            problems.push(
                Problem::new(
                    "schema::invalid_index_column",
                    span,
                    format!("index column `{spec}` is not understood"),
                )
                .help("write a column name, optionally followed by `asc` or `desc`"),
            );
            false
        }
    };
    IndexColumn { name, descending }
}

fn targets(
    table: &str,
    raw: &raw::Table,
    scope: &ir::SyncScope,
    loc: &Locator<'_>,
    problems: &mut Vec<Problem>,
) -> Targets {
    let Some(list) = &raw.targets else { return Targets { sqlite: true, postgres: true } };
    let targets = Targets {
        sqlite: list.contains(&raw::Target::Sqlite),
        postgres: list.contains(&raw::Target::Postgres),
    };
    let span = loc.table_field(table, "targets");
    if !targets.sqlite && !targets.postgres {
        problems.push(Problem::new(
            "schema::no_targets",
            span,
            format!("table `{table}` has an empty `targets` list"),
        ));
    } else if *scope != ir::SyncScope::None && !(targets.sqlite && targets.postgres) {
        problems.push(
            Problem::new(
                "schema::synced_table_targets",
                span,
                format!("synced table `{table}` must exist in both databases"),
            )
            .help("remove `targets`, or set `sync = \"none\"`"),
        );
    }
    targets
}

/// Every column a key, constraint or index lists exists, and none is listed twice.
fn columns_exist(
    table: &str,
    raw: &raw::Table,
    cols: &[String],
    span: ir::Span,
    what: &str,
    problems: &mut Vec<Problem>,
) {
    for (i, c) in cols.iter().enumerate() {
        if !raw.columns.contains_key(c) {
            problems.push(
                Problem::new(
                    "schema::unknown_column",
                    span.clone(),
                    format!("{what} of table `{table}` names unknown column `{c}`"),
                )
                .label("no such column"),
            );
        }
        if cols[..i].contains(c) {
            problems.push(Problem::new(
                "schema::duplicate_name",
                span.clone(),
                format!("{what} of table `{table}` lists column `{c}` twice"),
            ));
        }
    }
}

/// Constraint and index names written in the schema (legacy names) must be usable as quoted
/// SQL identifiers; derived names are checked once the whole schema is known.
fn check_explicit_names(
    table: &str,
    raw: &raw::Table,
    loc: &Locator<'_>,
    problems: &mut Vec<Problem>,
) {
    let mut check = |name: &Option<String>, span: ir::Span| {
        if let Some(name) = name {
            names::check_constraint_name(name, span, problems);
        }
    };
    check(&raw.primary_key_name, loc.table_field(table, "primary_key_name"));
    for (i, u) in raw.unique.iter().enumerate() {
        check(&u.name, loc.table_item(table, "unique", i));
    }
    for (i, c) in raw.checks.iter().enumerate() {
        check(&Some(c.name.clone()), loc.table_item(table, "checks", i));
    }
    for (i, f) in raw.foreign_keys.iter().enumerate() {
        check(&f.name, loc.table_item(table, "foreign_keys", i));
    }
    for (i, x) in raw.indexes.iter().enumerate() {
        check(&x.name, loc.table_item(table, "indexes", i));
    }
    for (col, spec) in &raw.columns {
        for (field, name) in [
            ("unique_name", &spec.unique_name),
            ("fk_name", &spec.fk_name),
            ("check_name", &spec.check_name),
        ] {
            check(name, loc.column_field(table, col, field));
        }
    }
}

/// Check expressions and index predicates are pasted into DDL: a `--` or `/*` comment would
/// swallow the rest of the statement and a `;` would end it, so both are refused here rather
/// than failing (or doing something else) when the DDL is applied.
fn check_sql_fragments(
    table: &str,
    raw: &raw::Table,
    loc: &Locator<'_>,
    problems: &mut Vec<Problem>,
) {
    let fragments = raw
        .checks
        .iter()
        .enumerate()
        .map(|(i, c)| (&c.expr, loc.table_item(table, "checks", i), "a check expression"))
        .chain(raw.indexes.iter().enumerate().filter_map(|(i, x)| {
            x.predicate
                .as_ref()
                .map(|p| (p, loc.table_item(table, "indexes", i), "an index predicate"))
        }));
    for (sql, span, what) in fragments {
        if let Some(token) = ["--", "/*", ";"].into_iter().find(|t| sql.contains(t)) {
            problems.push(
                Problem::new(
                    "schema::sql_fragment",
                    span,
                    format!("{what} of table `{table}` contains `{token}`"),
                )
                .help("write one SQL expression without comments or `;`; put explanations in `comment`"),
            );
        }
    }
}

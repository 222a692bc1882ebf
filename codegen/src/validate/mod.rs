//! Raw document -> IR. The only way to build a `Schema`; every problem is collected, none stops
//! the others from being found.

mod clashes;
mod columns;
mod evolution;
mod extra_sql;
mod names;
mod refs;
mod renames;
mod sync;

use toml::Spanned;

use crate::diag::Problem;
use crate::ir::{self, Index, IndexColumn, PrimaryKey, Schema, Span, Table, Targets, derived};
use crate::raw;

pub use columns::MAX_SAFE_INTEGER;
pub(crate) use sync::unknown_scope;

/// Where an optional key is written, or `otherwise` (the place of the table or section that
/// would hold it) when it is not.
fn written_at<T>(key: &Option<Spanned<T>>, otherwise: Span) -> Span {
    key.as_ref().map_or(otherwise, Spanned::span)
}

pub(crate) fn validate(
    doc: &raw::Document,
    read: crate::load::ReadExtra<'_>,
    problems: &mut Vec<Problem>,
) -> Option<Schema> {
    let meta = doc.schema.get_ref();
    let version = *meta.version.get_ref();
    if version == 0 {
        problems.push(
            Problem::new(
                "schema::invalid_version",
                meta.version.span(),
                "schema version must be at least 1",
            )
            .help("start at 1 and bump it on every change clients see"),
        );
    }
    let min_client_version = meta.min_client_version.as_ref().map_or(version, |v| *v.get_ref());
    let min_client_version_span = written_at(&meta.min_client_version, meta.version.span());
    // A version of 0 is reported above; the default then follows it and says nothing more.
    if version > 0 && (min_client_version == 0 || min_client_version > version) {
        problems.push(
            Problem::new(
                "schema::invalid_min_client_version",
                min_client_version_span.clone(),
                format!(
                    "min_client_version {min_client_version} is not between 1 and the schema's version {version}"
                ),
            )
            .help("it names the oldest schema version whose clients the server still syncs"),
        );
    }
    let tables: Vec<Table> =
        doc.tables.iter().map(|(name, t)| table(name, t, &doc.sync, problems)).collect();
    refs::check_cross_table(&tables, &doc.tables, problems);
    renames::check(doc, problems);
    let allowances = evolution::allowances(&doc.evolution, problems);
    let extra_sql = extra_sql::extra_sql(&doc.extra_sql, read, problems);
    let tables = refs::dependency_order(tables, problems)?;
    Some(Schema {
        name: meta.name.clone(),
        version,
        min_client_version,
        timestamp_storage: meta
            .timestamp_storage
            .as_ref()
            .map(|t| *t.get_ref())
            .unwrap_or_default(),
        tables,
        allowances,
        rls: rls(&doc.postgres, problems),
        extra_sql,
        version_span: meta.version.span(),
        min_client_version_span,
        timestamp_storage_span: written_at(&meta.timestamp_storage, doc.schema.span()),
    })
}

/// One table. Problems about the whole table point at its name; a key the table does not write
/// is placed at the table's definition.
fn table(
    spanned_name: &Spanned<String>,
    spanned: &Spanned<raw::Table>,
    defaults: &raw::SyncDefaults,
    problems: &mut Vec<Problem>,
) -> Table {
    let (span, name, raw) =
        (spanned_name.span(), spanned_name.get_ref().as_str(), spanned.get_ref());
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
    let columns: Vec<ir::Column> =
        raw.columns.iter().map(|(col, spec)| columns::column(name, col, spec, problems)).collect();
    clashes::check_case_collisions(
        "column",
        columns.iter().map(|c| (c.name.as_str(), c.span.clone())),
        problems,
    );

    let must_exist = |cols: &[String], span: ir::Span, what: &str, problems: &mut Vec<Problem>| {
        columns_exist(name, raw, cols, span, what, problems)
    };

    check_explicit_names(raw, problems);
    check_sql_fragments(name, raw, problems);
    let primary_key = primary_key(name, span.clone(), raw, &columns, problems);
    must_exist(
        &primary_key.columns,
        written_at(&raw.primary_key, spanned.span()),
        "the primary key",
        problems,
    );

    let mut uniques: Vec<ir::Unique> = raw
        .columns
        .iter()
        .filter(|(_, c)| *c.unique.get_ref())
        .map(|(col, c)| ir::Unique {
            name: c.unique_name.as_ref().map_or_else(
                || derived::unique(name, &[col.get_ref().clone()]),
                |n| n.get_ref().clone(),
            ),
            columns: vec![col.get_ref().clone()],
            live_only: false,
            span: c.unique.span(),
        })
        .collect();
    for spanned in &raw.unique {
        let (span, u) = (spanned.span(), spanned.get_ref());
        must_exist(&u.columns, span.clone(), "a unique constraint", problems);
        uniques.push(ir::Unique {
            name: u.name.clone().unwrap_or_else(|| derived::unique(name, &u.columns)),
            columns: u.columns.clone(),
            live_only: *u.live_only.get_ref(),
            span,
        });
    }

    let checks: Vec<ir::Check> = raw
        .checks
        .iter()
        .map(|c| ir::Check {
            name: c.get_ref().name.clone(),
            expr: text(&c.get_ref().expr),
            span: c.span(),
        })
        .collect();

    let foreign_keys = refs::foreign_keys(name, raw, problems);
    for fk in &raw.foreign_keys {
        must_exist(&fk.get_ref().columns, fk.span(), "a foreign key", problems);
    }

    let indexes: Vec<Index> = raw
        .indexes
        .iter()
        .map(|spanned| {
            let (span, spec) = (spanned.span(), spanned.get_ref());
            let columns: Vec<IndexColumn> =
                spec.columns.iter().map(|c| index_column(c, span.clone(), problems)).collect();
            let plain: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
            must_exist(&plain, span.clone(), "an index", problems);
            Index {
                name: spec.name.clone().unwrap_or_else(|| derived::index(name, &plain)),
                columns,
                unique: spec.unique,
                predicate: spec.predicate.as_deref().map(text),
                span,
            }
        })
        .collect();

    let (scope, sync) =
        sync::scope_and_columns(spanned_name, spanned, defaults, &columns, &foreign_keys, problems);
    let targets = targets(name, raw, &scope, problems);
    check_live_only(name, raw, &sync, problems);
    let deletes = sync::deletes(spanned_name, raw, &scope, &sync, problems);

    Table {
        name: name.to_owned(),
        comment: comment(raw.comment.as_deref()),
        renamed_from: raw.renamed_from.as_ref().map(|n| n.get_ref().clone()),
        scope,
        targets,
        columns,
        primary_key,
        uniques,
        checks,
        foreign_keys,
        indexes,
        sync,
        deletes,
        span,
    }
}

fn primary_key(
    table: &str,
    span: Span,
    raw: &raw::Table,
    columns: &[ir::Column],
    problems: &mut Vec<Problem>,
) -> PrimaryKey {
    let on_columns: Vec<String> = raw
        .columns
        .iter()
        .filter(|(_, c)| c.primary_key)
        .map(|(n, _)| n.get_ref().clone())
        .collect();
    let columns_of_key = match (&raw.primary_key, on_columns.len()) {
        (Some(cols), 0) => cols.get_ref().clone(),
        (None, 1) => on_columns,
        (None, 0) => {
            problems.push(
                Problem::new(
                    "schema::missing_primary_key",
                    span.clone(),
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
                    span,
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
                raw.columns[c.name.as_str()].nullable.span(),
                format!("primary key column `{table}.{}` is nullable", c.name),
            )
            .help("a primary key column is always NOT NULL; remove `nullable = true`"),
        );
    }
    PrimaryKey {
        name: raw
            .primary_key_name
            .as_ref()
            .map_or_else(|| derived::primary_key(table), |n| n.get_ref().clone()),
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
    problems: &mut Vec<Problem>,
) -> Targets {
    let Some(list) = &raw.targets else { return Targets { sqlite: true, postgres: true } };
    let targets = Targets {
        sqlite: list.get_ref().contains(&raw::Target::Sqlite),
        postgres: list.get_ref().contains(&raw::Target::Postgres),
    };
    let span = list.span();
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
        if !raw.columns.contains_key(c.as_str()) {
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

/// A live-only unique key ignores soft-deleted rows, so the table must have a soft-delete column
/// to say which rows those are.
fn check_live_only(
    table: &str,
    raw: &raw::Table,
    sync: &ir::SyncColumns,
    problems: &mut Vec<Problem>,
) {
    if sync.deleted.is_some() {
        return;
    }
    for spec in raw.unique.iter().map(Spanned::get_ref).filter(|u| *u.live_only.get_ref()) {
        problems.push(
            Problem::new(
                "schema::live_only_without_soft_delete",
                spec.live_only.span(),
                format!(
                    "unique key ({}) of table `{table}` is `live_only`, but the table has no \
                     soft-delete column",
                    spec.columns.join(", ")
                ),
            )
            .label("needs a soft-delete column")
            .help(
                "`live_only` leaves out the rows whose soft-delete flag is set; remove it, or give \
                 the table a `deleted` column (a synced table, without `deleted = false`)",
            ),
        );
    }
}

/// Constraint and index names written in the schema (legacy names) must be usable as quoted
/// SQL identifiers; derived names are checked once the whole schema is known.
fn check_explicit_names(raw: &raw::Table, problems: &mut Vec<Problem>) {
    let mut check = |name: Option<&String>, span: ir::Span| {
        if let Some(name) = name {
            names::check_constraint_name(name, span, problems);
        }
    };
    if let Some(name) = &raw.primary_key_name {
        check(Some(name.get_ref()), name.span());
    }
    for u in &raw.unique {
        check(u.get_ref().name.as_ref(), u.span());
    }
    for c in &raw.checks {
        check(Some(&c.get_ref().name), c.span());
    }
    for f in &raw.foreign_keys {
        check(f.get_ref().name.as_ref(), f.span());
    }
    for x in &raw.indexes {
        check(x.get_ref().name.as_ref(), x.span());
    }
    for spec in raw.columns.values() {
        for name in [&spec.unique_name, &spec.fk_name, &spec.check_name].into_iter().flatten() {
            check(Some(name.get_ref()), name.span());
        }
    }
}

/// `[postgres] rls`. The user expression is pasted into every policy, so it must be one SQL
/// expression: no comment, no `;`, and its parentheses balanced (it is wrapped in a cast).
fn rls(settings: &raw::PostgresSettings, problems: &mut Vec<Problem>) -> Option<ir::Rls> {
    let rls = settings.rls.as_ref()?.get_ref();
    let user = rls.user.get_ref().trim();
    let mut depth: i32 = 0;
    let unbalanced = user.chars().any(|c| {
        depth += match c {
            '(' => 1,
            ')' => -1,
            _ => 0,
        };
        depth < 0
    }) || depth != 0;
    let token = ["--", "/*", ";"].into_iter().find(|t| user.contains(t));
    let problem = if user.is_empty() {
        Some("the rls user expression is empty".to_owned())
    } else if let Some(token) = token {
        Some(format!("the rls user expression contains `{token}`"))
    } else if unbalanced {
        Some("the rls user expression has unbalanced parentheses".to_owned())
    } else {
        None
    };
    match problem {
        Some(message) => {
            problems.push(Problem::new("schema::rls_user", rls.user.span(), message).help(
                "write one SQL expression for the current user's id, such as `auth.uid()` or \
                     `current_setting('request.jwt.claim.sub', true)`",
            ));
            None
        }
        None => Some(ir::Rls { user: user.to_owned(), force: rls.force }),
    }
}

/// Check expressions and index predicates are pasted into DDL: a `--` or `/*` comment would
/// swallow the rest of the statement and a `;` would end it, so both are refused here rather
/// than failing (or doing something else) when the DDL is applied.
fn check_sql_fragments(table: &str, raw: &raw::Table, problems: &mut Vec<Problem>) {
    let fragments =
        raw.checks.iter().map(|c| (&c.get_ref().expr, c.span(), "a check expression")).chain(
            raw.indexes.iter().filter_map(|x| {
                x.get_ref().predicate.as_ref().map(|p| (p, x.span(), "an index predicate"))
            }),
        );
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

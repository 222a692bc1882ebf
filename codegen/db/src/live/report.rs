//! The live drift report: one line per difference, rustc's short form pointing at the
//! `schema.toml` line of the table or column where there is one, or GitHub annotations.

use std::fmt::Write as _;

use codegen::diag::{escape_property, line_col};
use codegen::ir::{ExtraTarget, Schema, Span};

use super::catalog::{Difference, Object};

/// Every difference between a live database and `schema.toml`, each with its place in the file.
#[derive(Debug, Clone)]
pub struct Report {
    pub differences: Vec<Located>,
    /// The schema file's name, as lines show it.
    file: String,
    /// The database, without its password.
    database: String,
}

/// A difference and the 1-based line and column in `schema.toml` it belongs to, if any.
#[derive(Debug, Clone)]
pub struct Located {
    pub difference: Difference,
    pub at: Option<(usize, usize)>,
}

impl Report {
    pub(super) fn new(
        differences: Vec<Difference>,
        schema: &Schema,
        target: ExtraTarget,
        file: String,
        text: &str,
        database: String,
    ) -> Self {
        let differences = differences
            .into_iter()
            .map(|difference| {
                let at = extra_span(schema, target, &difference)
                    .or_else(|| span(schema, &difference))
                    .map(|s| line_col(text, s.start));
                Located { difference, at }
            })
            .collect();
        Report { differences, file, database }
    }

    /// Whether the database matches `schema.toml`.
    pub fn passes(&self) -> bool {
        self.differences.is_empty()
    }

    /// `schema.toml:52:1: error[missing_column]: column tune.incipit is missing from the
    /// database: incipit text`, one line per difference, then a summary.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for located in &self.differences {
            let d = &located.difference;
            let _ =
                writeln!(out, "{}: error[{}]: {}", self.position(located), d.rule(), d.message());
        }
        let n = self.differences.len();
        if n == 0 {
            let _ = writeln!(out, "ok: {} matches {}", self.database, self.file);
        } else {
            let _ = writeln!(
                out,
                "error: {n} difference{} between {} and {}: migrate the database to {} or \
                 change {} to match it",
                if n == 1 { "" } else { "s" },
                self.database,
                self.file,
                self.file,
                self.file
            );
        }
        out
    }

    /// One GitHub Actions `::error` annotation per difference, on its `schema.toml` line.
    pub fn github_annotations(&self) -> String {
        let mut out = String::new();
        for located in &self.differences {
            let d = &located.difference;
            let place = located.at.map_or(String::new(), |(l, c)| format!(",line={l},col={c}"));
            let message = format!("{} ({})", d.message(), self.database);
            let _ = writeln!(
                out,
                "::error file={}{place},title=drift {}::{}",
                escape_property(&self.file),
                d.rule(),
                message.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
            );
        }
        out
    }

    fn position(&self, located: &Located) -> String {
        match located.at {
            Some((line, col)) => format!("{}:{line}:{col}", self.file),
            None => self.file.clone(),
        }
    }
}

/// Where in `schema.toml` the team's own view, function, trigger or policy is declared: the
/// first `[extra_sql]` file of the database's target that names it (the SQL is the team's, so
/// it is searched for the name rather than parsed). Nothing for the sync machinery's objects and
/// for what no file names.
fn extra_span<'s>(
    schema: &'s Schema,
    target: ExtraTarget,
    difference: &Difference,
) -> Option<&'s Span> {
    let name = match &difference.object {
        Object::View(name) | Object::Trigger(name) | Object::Policy(name) => name.as_str(),
        // A function is known by its signature, `name(argument types)`.
        Object::Function(signature) => signature.split('(').next().unwrap_or_default(),
        _ => return None,
    };
    if name.starts_with("_sync") {
        return None;
    }
    schema.extra_sql(target).find(|e| mentions(&e.sql, name)).map(|e| &e.span)
}

/// Whether `sql` has `name` as a whole word, in any case (SQL folds unquoted names).
fn mentions(sql: &str, name: &str) -> bool {
    let (sql, name) = (sql.to_lowercase(), name.to_lowercase());
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    sql.match_indices(&name).any(|(at, _)| {
        !word(sql[..at].chars().next_back()) && !word(sql[at + name.len()..].chars().next())
    })
}

/// Where in `schema.toml` a difference belongs: the column, constraint or index when the
/// schema declares it, otherwise its table; nothing for what the schema does not declare at all
/// (a table it does not have, a function of the sync machinery).
fn span<'s>(schema: &'s Schema, difference: &Difference) -> Option<&'s Span> {
    let table = schema.table(difference.table.as_deref()?)?;
    let column = |name: &str| table.column(name).map(|c| &c.span);
    let own = match &difference.object {
        Object::Table
        | Object::PrimaryKey(_)
        | Object::Trigger(_)
        | Object::View(_)
        | Object::Function(_)
        | Object::RowSecurity
        | Object::Policy(_) => None,
        Object::Column(c) | Object::ColumnType(c) | Object::Nullability(c) | Object::Default(c) => {
            column(c)
        }
        Object::Unique(key) => {
            table.uniques.iter().find(|u| u.columns == key.columns).map(|u| &u.span)
        }
        Object::ForeignKey(key) => {
            table.foreign_keys.iter().find(|f| f.columns == key.columns).map(|f| &f.span)
        }
        Object::Check(name) => table.checks.iter().find(|c| &c.name == name).map_or_else(
            || table.columns.iter().find(|c| &c.check_name == name).map(|c| &c.span),
            |c| Some(&c.span),
        ),
        // A live-only unique key is a partial unique index under the key's name.
        Object::Index(name) => table.indexes.iter().find(|i| &i.name == name).map_or_else(
            || table.uniques.iter().find(|u| u.live_only && &u.name == name).map(|u| &u.span),
            |i| Some(&i.span),
        ),
    };
    own.or(Some(&table.span))
}

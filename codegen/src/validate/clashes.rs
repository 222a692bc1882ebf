//! Name clashes across tables: names that differ only in case, generated type names, and
//! constraint and index names, each also held to the length Postgres keeps.

use std::collections::HashMap;

use heck::{ToLowerCamelCase, ToUpperCamelCase};

use crate::diag::Problem;
use crate::ir::{Span, Table};
use crate::names::{fixed_type_names, table_var};

use super::names::MAX_IDENT;

/// Names that differ in snake case but not after conversion to camelCase or PascalCase would
/// clash in TypeScript and Rust.
pub(crate) fn check_case_collisions<'a>(
    what: &str,
    names: impl Iterator<Item = (&'a str, Span)>,
    problems: &mut Vec<Problem>,
) {
    let mut seen: HashMap<String, (&str, Span)> = HashMap::new();
    for (name, span) in names {
        for converted in [name.to_lower_camel_case(), name.to_upper_camel_case()] {
            if let Some((other, first)) = seen.get(&converted).filter(|(o, _)| *o != name) {
                problems.push(
                    Problem::new(
                        "schema::duplicate_name",
                        span.clone(),
                        format!("{what} `{name}` and `{other}` both become `{converted}` in TypeScript and Rust"),
                    )
                    .also(first.clone(), FIRST_DEFINED)
                    .help("rename one of them"),
                );
                break;
            }
            seen.insert(converted, (name, span.clone()));
        }
    }
}

/// The type names the TypeScript package declares (`Tune`, `TuneRow`, `TuneStored`, `TuneKey`,
/// `TuneType` for the enum `tune.type`, the protocol's messages and the fixed names of
/// `crate::names`)
/// must all differ: tables `tune` and `tune_row` would both declare `TuneRow`. So must the
/// constants the Drizzle schemas export per table.
pub(super) fn check_type_names(tables: &[Table], problems: &mut Vec<Problem>) {
    // Each name's owner, and the table that declares it (none for the fixed names).
    let mut owners: HashMap<String, (String, Option<Span>)> = crate::protocol::MESSAGES
        .iter()
        .map(|m| (m.name.to_owned(), ("the sync protocol".to_owned(), None)))
        .chain(
            fixed_type_names().map(|n| (n.to_owned(), ("the TypeScript package".to_owned(), None))),
        )
        .collect();
    let mut drizzle: HashMap<String, &Table> = HashMap::new();
    for table in tables {
        let var = table_var(&table.name);
        if let Some(other) = drizzle.insert(var.clone(), table) {
            problems.push(
                Problem::new(
                    "schema::duplicate_name",
                    table.span.clone(),
                    format!(
                        "tables `{}` and `{}` are both exported as `{var}` by the Drizzle schemas",
                        other.name, table.name
                    ),
                )
                .also(other.span.clone(), FIRST_DEFINED)
                .help("rename one of them"),
            );
        }
        let stem = table.name.to_upper_camel_case();
        let enums = table.columns.iter().filter(|c| c.values.is_some()).map(|c| {
            let name = format!("{stem}{}", c.name.to_upper_camel_case());
            (name, format!("enum `{}.{}`", table.name, c.name))
        });
        let own =
            [stem.clone(), format!("{stem}Row"), format!("{stem}Stored"), format!("{stem}Key")]
                .into_iter()
                .map(|n| (n, format!("table `{}`", table.name)));
        for (name, owner) in own.chain(enums) {
            match owners.get(&name) {
                Some((first, at)) if *first != owner => {
                    let mut problem = Problem::new(
                        "schema::duplicate_name",
                        table.span.clone(),
                        format!("{owner} and {first} both declare the TypeScript type `{name}`"),
                    )
                    .help("rename the table or column");
                    if let Some(at) = at {
                        problem = problem.also(at.clone(), FIRST_DEFINED);
                    }
                    problems.push(problem);
                }
                _ => {
                    owners.insert(name, (owner, Some(table.span.clone())));
                }
            }
        }
    }
}

/// Index, primary key and unique names share one namespace per database schema (they are all
/// indexes in Postgres) with the tables themselves (relations in Postgres, objects in SQLite);
/// foreign key and check names must differ within their table. A duplicate points at both
/// definitions.
pub(super) fn check_constraint_names(tables: &[Table], problems: &mut Vec<Problem>) {
    for table in tables {
        for (name, _) in table_index_names(table) {
            if let Some(other) = tables.iter().find(|t| t.name == name) {
                problems.push(
                    Problem::new(
                        "schema::duplicate_name",
                        table.span.clone(),
                        format!(
                            "constraint or index name `{name}` of table `{}` is also a table's name",
                            table.name
                        ),
                    )
                    .also(other.span.clone(), "the table")
                    .help("tables, indexes and key constraints share one namespace in both databases; give the constraint or index another `name`"),
                );
            }
        }
    }
    let mut global: HashMap<&str, (&str, Span)> = HashMap::new();
    for table in tables {
        let mut local: HashMap<&str, Span> = HashMap::new();
        for (name, span) in table_index_names(table) {
            if table.targets.postgres {
                check_length(name, span.clone(), problems);
            }
            if let Some((other, first)) = global.insert(name, (&table.name, span.clone())) {
                problems.push(duplicate(name, other, &table.name, span, first));
            }
        }
        let columns = table.columns.iter().filter(|c| c.has_check());
        let per_table = table
            .foreign_keys
            .iter()
            .map(|f| (f.name.as_str(), f.span.clone(), true))
            .chain(table.checks.iter().map(|c| (c.name.as_str(), c.span.clone(), true)))
            // A column's CHECK reaches Postgres only for what Postgres's type does not enforce.
            .chain(columns.map(|c| (c.check_name.as_str(), c.span.clone(), c.postgres_check())));
        for (name, span, in_postgres) in per_table {
            if in_postgres && table.targets.postgres {
                check_length(name, span.clone(), problems);
            }
            let first = local.get(name).cloned().or_else(|| global.get(name).map(|g| g.1.clone()));
            match first {
                Some(first) => {
                    problems.push(duplicate(name, &table.name, &table.name, span, first))
                }
                None => {
                    local.insert(name, span);
                }
            }
        }
    }
}

/// The names of a table's primary key, unique constraints and indexes (each is an index), with
/// where each is declared (the table, for a primary key).
fn table_index_names(table: &Table) -> impl Iterator<Item = (&str, Span)> {
    std::iter::once((table.primary_key.name.as_str(), table.span.clone()))
        .chain(table.uniques.iter().map(|u| (u.name.as_str(), u.span.clone())))
        .chain(table.indexes.iter().map(|i| (i.name.as_str(), i.span.clone())))
}

/// A name derived from long table and column names can exceed what Postgres keeps. Only names
/// Postgres receives are checked: SQLite keeps names of any length.
fn check_length(name: &str, span: Span, problems: &mut Vec<Problem>) {
    if name.len() > MAX_IDENT {
        problems.push(
            Problem::new(
                "schema::identifier_too_long",
                span,
                format!("constraint or index name `{name}` is longer than {MAX_IDENT} bytes"),
            )
            .help("Postgres would truncate it; give the constraint or index an explicit `name`"),
        );
    }
}

/// The label on the first of two definitions of one name.
const FIRST_DEFINED: &str = "first defined here";

fn duplicate(name: &str, first: &str, second: &str, span: Span, first_span: Span) -> Problem {
    let whose = if first == second {
        format!("table `{first}`")
    } else {
        format!("tables `{first}` and `{second}`")
    };
    Problem::new(
        "schema::duplicate_name",
        span,
        format!("constraint or index name `{name}` is used twice in {whose}"),
    )
    .label("defined again here")
    .also(first_span, FIRST_DEFINED)
    .help("give one of them another `name`")
}

//! The commands that open a database, in a build with the `db` feature: `check
//! --database-url` (the drift gate against a live database) and `import`.

use std::path::Path;
use std::process::ExitCode;

use codegen_db::{import, live};

use crate::cli::{Format, report_invalid};

/// The drift gate against a live database: exit 1 on any difference from schema.toml.
pub fn check_live(
    schema_path: &Path,
    url: &str,
    db_schema: &str,
    format: Format,
) -> Result<ExitCode, String> {
    let report = match live::gate(schema_path, url, db_schema).map_err(|e| e.to_string())? {
        live::Outcome::Report(report) => report,
        live::Outcome::Invalid(error) => return Ok(report_invalid(&error, format)),
    };
    if format == Format::Github {
        print!("{}", report.github_annotations());
        eprint!("{}", report.render());
    } else {
        print!("{}", report.render());
    }
    Ok(if report.passes() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Import a Postgres schema: exit 1 when something was not imported exactly. Each inferred
/// sync scope is printed with what it was inferred from, and each table left unsynced with why.
pub fn import(options: &import::Options<'_>) -> Result<ExitCode, String> {
    let imported = import::run(options).map_err(|e| e.to_string())?;
    for note in &imported.notes {
        let column = note.column.as_ref().map_or(String::new(), |c| format!(".{c}"));
        eprintln!("warning: {}{column}: {}", note.table, note.message);
    }
    if let Some(problems) = &imported.problems {
        eprint!("{}", problems.render());
    }
    match &imported.users {
        Some((table, how)) => println!("user table: {table} ({how})"),
        None => println!("user table: none found (pass --user-table); owners by name only"),
    }
    for (table, scope, because) in &imported.synced {
        println!("inferred: {table} sync = \"{scope}\": {because}");
    }
    for (table, why) in &imported.unsynced {
        println!("not synced: {table}: {why}");
    }
    for kept in &imported.kept {
        println!("kept in {} ([extra_sql]): {kept}", import::OUTSIDE_SQL);
    }
    println!(
        "wrote {}: {} table(s), {} synced",
        imported.path.display(),
        imported.tables,
        imported.synced.len(),
    );
    if imported.notes.is_empty() && imported.problems.is_none() {
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} note(s){}: review the warnings and the `# not imported:` lines",
        imported.notes.len(),
        if imported.problems.is_some() { ", and the file needs an edit before `gen`" } else { "" }
    );
    Ok(ExitCode::from(1))
}

//! The command line of `cargo xtask` (and of `xtask-db`, the same with the `db` feature): a
//! thin layer over `codegen`, and over `codegen-db` for the commands that open a database.
//!
//! Exit codes mean something: 0 ok, 1 drift or findings, 2 invalid input or an error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::evolve::Outcome;
use crate::{drift, evolve, migrate, test_cmd};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Generate and check everything derived from schema.toml")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write generated/ from schema.toml.
    Gen(Paths),
    /// The drift gate: regenerate in memory and compare with generated/ (exit 1 when stale,
    /// 2 when schema.toml is invalid). With `--against`, the breaking-change gate instead; with
    /// `--database-url`, the drift gate against a live database.
    ///
    /// Without `--against` or `--database-url`: regenerate everything from schema.toml in memory and compare with
    /// generated/. Exit 0 when equal, 1 with a unified diff per stale, missing or orphaned file
    /// (run `cargo xtask gen` and commit), 2 when schema.toml is invalid.
    ///
    /// With `--against <git-ref|file>`: compare schema.toml with an earlier version and classify
    /// every change for deployed databases and clients still on an older app version: safe,
    /// needs_backfill, breaking or mistake, each with a stable rule id, a one-line explanation
    /// and the schema.toml line. Exit 1 when a breaking change or a mistake is not allowed by an
    /// `[[evolution.allow]]` entry (rule, table, column, reason) in schema.toml, 0 otherwise, 2
    /// when either version is invalid or cannot be read.
    ///
    /// With `--database-url postgres://...|sqlite:<path>`: compare a live database with the
    /// DDL schema.toml generates, applied somewhere disposable (Postgres: a shadow schema in one
    /// transaction that is rolled back, so nothing is written; SQLite: an in-memory database,
    /// the live file opened read-only). Tables, columns (type, nullability, default as the
    /// database prints them), primary keys, unique constraints, foreign keys, checks and
    /// indexes are compared; column order and comments are not. One line per difference,
    /// pointing at the schema.toml line. On SQLite every `_sync*` table, column, index and
    /// check is ignored in both, and triggers are not compared (a device's database has the
    /// client machinery, the embedded server's its own); on Postgres the `_sync*` machinery
    /// (tables, columns, indexes, triggers, functions) is compared too. Exit 0 when they match,
    /// 1 on any difference, 2 for a bad URL, an unreachable database or an invalid schema.
    Check {
        #[command(flatten)]
        paths: Paths,
        /// `human` (a diff or report) or `github` (workflow annotations on stdout as well).
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// An earlier schema.toml: a file (relative to the workspace root), or a git revision
        /// (`HEAD`, `origin/main`, a tag) to read schema.toml at.
        #[arg(long, value_name = "GIT_REF|FILE", conflicts_with = "database_url")]
        against: Option<String>,
        /// A live database to compare with schema.toml: `postgres://user:password@host/db`
        /// or `sqlite:<path>`.
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
        /// The Postgres schema to compare (with `--database-url`).
        #[arg(long, value_name = "NAME", default_value = "public", requires = "database_url")]
        db_schema: String,
    },
    /// Write a schema.toml from an existing Postgres schema (a Supabase project, a legacy
    /// database).
    ///
    /// Tables, columns, types, defaults, primary keys, unique constraints, foreign keys,
    /// checks, indexes and comments are read from the catalog so that the DDL generated from
    /// the file is the same schema again. Sync scopes are inferred as a person reading the
    /// schema would: owners from foreign keys to the user table (`auth.users`, or the table
    /// owner-like columns reference) and from row-level security policies, `owner = "id"` for
    /// a profile row, `via:<column>` chains below owned tables, `public` for the catalogs synced
    /// tables reference; each inference is reported with its evidence, and each table left
    /// unsynced with the reason. What the format cannot say (a type without a logical type, a sequence default, a
    /// foreign key to another schema, an expression index) stays in the file as a
    /// `# not imported:` comment and is reported. Exit 0 when everything was imported exactly,
    /// 1 when something was reported or the file needs an edit before `gen`, 2 on an error.
    Import {
        /// The database: `postgres://user:password@host/db`.
        #[arg(long, value_name = "URL")]
        database_url: String,
        /// The Postgres schema to import.
        #[arg(long, value_name = "NAME", default_value = "public")]
        db_schema: String,
        /// The schema.toml to write (relative to the workspace root).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Overwrite `--out` when it exists.
        #[arg(long)]
        force: bool,
        /// The table whose rows are the users, which owner columns reference (`auth.users`,
        /// `profiles`). Default: `auth.users` when the schema references it, else the table
        /// that most columns named `user_id`/`owner_id` or compared with the user's id by a
        /// policy reference.
        #[arg(long, value_name = "TABLE")]
        user_table: Option<String>,
    },
    /// Write the migration from an earlier schema.toml to this one for both databases:
    /// generated/migrations/NNNN_<name>.postgres.sql and .sqlite.sql, NNNN being the new
    /// `[schema] version`. Postgres alters tables in place; SQLite adds columns where it can and
    /// otherwise rebuilds the table (foreign keys off, no row lost or cascade-deleted). Each runs
    /// in one transaction. Exit 2 when the version was not bumped, a new NOT NULL column has no
    /// default, a migration file exists already (without `--force`) or a version is invalid.
    Migrate {
        #[command(flatten)]
        paths: Paths,
        /// The earlier schema.toml: a file (relative to the workspace root), or a git revision
        /// to read schema.toml at.
        #[arg(long, value_name = "GIT_REF|FILE")]
        from: String,
        /// The file name after the number (default `v<old>_to_v<new>`).
        #[arg(long)]
        name: Option<String>,
        /// Replace migration files that exist already.
        #[arg(long)]
        force: bool,
    },
    /// Print benchmark figures as `name: value` lines.
    Bench {
        /// CI-sized runs.
        #[arg(long)]
        quick: bool,
    },
    /// Run the whole test suite: starts Postgres if needed, installs the TypeScript checker.
    Test {
        /// Extra arguments passed to `cargo nextest run` (or `cargo test`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

#[derive(clap::Args)]
struct Paths {
    /// The schema file.
    #[arg(long, default_value = "schema.toml")]
    schema: PathBuf,
    /// The folder of generated files.
    #[arg(long, default_value = "generated")]
    out: PathBuf,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Github,
}

/// Parse the command line and run the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = match crate::root::workspace_root() {
        Ok(root) => root,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Gen(paths) => {
            write_generated(&root.join(paths.schema), &root, &root.join(paths.out))
        }
        Command::Check { paths, format, against: None, database_url: None, .. } => {
            check(&root.join(paths.schema), &root, &root.join(paths.out), format)
        }
        Command::Check { paths, format, against: Some(against), .. } => {
            check_against(&root.join(paths.schema), &against, &root, format)
        }
        #[cfg(feature = "db")]
        Command::Check { paths, format, database_url: Some(url), db_schema, .. } => {
            crate::db::check_live(&root.join(paths.schema), &url, &db_schema, format)
        }
        #[cfg(feature = "db")]
        Command::Import { database_url, db_schema, out, force, user_table } => {
            crate::db::import(&codegen_db::import::Options {
                url: &database_url,
                db_schema: &db_schema,
                out: &root.join(out),
                force,
                user_table: user_table.as_deref(),
            })
        }
        // Without the database drivers in this build, the build that has them runs the same
        // command line.
        #[cfg(not(feature = "db"))]
        Command::Check { database_url: Some(_), .. } | Command::Import { .. } => {
            crate::rerun::with_db(&root)
        }
        Command::Migrate { paths, from, name, force } => {
            let options = migrate::Options { from, name, force };
            run_migrate(&root.join(paths.schema), &root.join(paths.out), &root, &options)
        }
        Command::Test { args } => test_cmd::run(&root, &args),
        Command::Bench { quick } => crate::bench::run(&root, quick).map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// Print an invalid schema's problems; exit code 2.
pub(crate) fn report_invalid(error: &codegen::SchemaError, format: Format) -> ExitCode {
    eprint!("{}", error.render());
    if format == Format::Github {
        print!("{}", error.github_annotations());
    }
    ExitCode::from(2)
}

/// What the generator produces for `schema`, each set with its folder: the generated files in
/// `out` (carrying the SQLite migration scripts of `out/migrations`), and the generator's source
/// files (the protocol) in the workspace root.
fn expected<'a>(
    schema: &codegen::ir::Schema,
    root: &'a Path,
    out: &'a Path,
    shown: &'a str,
) -> Result<[(codegen::Files, drift::Folder<'a>); 2], String> {
    let migrations = migrate::sqlite_scripts(out)?;
    Ok([
        (
            codegen::generate_with(schema, &migrations),
            drift::Folder { dir: out, shown, owned: true },
        ),
        (drift::sources(), drift::Folder { dir: root, shown: "", owned: false }),
    ])
}

/// How messages show the folder `out`: relative to the workspace root when inside it (as GitHub
/// annotations need), otherwise by its name.
fn shown(root: &Path, out: &Path) -> String {
    let shown = match out.strip_prefix(root) {
        Ok(rel) => rel,
        Err(_) => out.file_name().map_or(out, Path::new),
    };
    shown.to_string_lossy().replace('\\', "/")
}

fn write_generated(schema: &Path, root: &Path, out: &Path) -> Result<ExitCode, String> {
    let schema = match drift::load_schema(schema)? {
        Ok(schema) => schema,
        Err(error) => return Ok(report_invalid(&error, Format::Human)),
    };
    let shown = shown(root, out);
    let mut count = 0;
    let mut changed = Vec::new();
    for (files, folder) in expected(&schema, root, out, &shown)? {
        count += files.len();
        changed.extend(
            drift::write_all(&files, folder)
                .map_err(|e| format!("cannot write {}: {e}", folder.dir.display()))?,
        );
    }
    for path in &changed {
        println!("wrote {path}");
    }
    println!("{count} file(s) generated, {} changed", changed.len());
    Ok(ExitCode::SUCCESS)
}

fn check(schema_path: &Path, root: &Path, out: &Path, format: Format) -> Result<ExitCode, String> {
    let schema = match drift::load_schema(schema_path)? {
        Ok(schema) => schema,
        Err(error) => return Ok(report_invalid(&error, format)),
    };
    let shown = shown(root, out);
    let mut count = 0;
    let mut drifts = Vec::new();
    for (files, folder) in expected(&schema, root, out, &shown)? {
        count += files.len();
        drifts.extend(
            drift::compare(&files, folder)
                .map_err(|e| format!("cannot read {}: {e}", folder.dir.display()))?,
        );
    }
    if drifts.is_empty() {
        println!("{shown}/ matches schema.toml ({count} files)");
        return Ok(ExitCode::SUCCESS);
    }
    eprint!("{}", drift::render(&drifts));
    if format == Format::Github {
        let name = schema_path.file_name().map_or("schema.toml".into(), |n| n.to_string_lossy());
        let text = std::fs::read_to_string(schema_path)
            .map_err(|e| format!("cannot read {}: {e}", schema_path.display()))?;
        print!("{}", drift::annotations(&drifts, &name, &text));
    }
    Ok(ExitCode::from(1))
}

/// The breaking-change gate: exit 1 when a breaking change or a mistake is not allowed.
fn check_against(
    schema_path: &Path,
    against: &str,
    root: &Path,
    format: Format,
) -> Result<ExitCode, String> {
    let report = match evolve::gate(schema_path, against, root)? {
        Outcome::Report(report) => report,
        Outcome::Invalid(errors) => {
            for error in &errors {
                report_invalid(error, format);
            }
            return Ok(ExitCode::from(2));
        }
    };
    if format == Format::Github {
        print!("{}", report.github_annotations());
        eprint!("{}", report.render());
    } else {
        print!("{}", report.render());
    }
    Ok(if report.passes() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Write a migration and regenerate the files that carry it; exit 2 when it cannot be planned.
fn run_migrate(
    schema_path: &Path,
    out: &Path,
    root: &Path,
    options: &migrate::Options,
) -> Result<ExitCode, String> {
    match migrate::run(schema_path, out, root, options)? {
        migrate::Outcome::Written(paths) => {
            for path in paths {
                let shown = path.strip_prefix(root).unwrap_or(&path);
                println!("wrote {}", shown.display());
            }
            write_generated(schema_path, root, out)
        }
        migrate::Outcome::Invalid(errors) => {
            for error in &errors {
                report_invalid(error, Format::Human);
            }
            Ok(ExitCode::from(2))
        }
        migrate::Outcome::Refused(error) => Err(format!("cannot write a migration: {error}")),
    }
}

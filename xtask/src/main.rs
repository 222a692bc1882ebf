//! `cargo xtask`: the project's command line, a thin layer over `codegen`.
//!
//! Exit codes mean something: 0 ok, 1 drift or findings, 2 invalid input or an error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use xtask::{drift, test_cmd};

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
    /// 2 when schema.toml is invalid).
    Check {
        #[command(flatten)]
        paths: Paths,
        /// `human` (a unified diff per file) or `github` (workflow annotations as well).
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
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

/// The workspace root, so that `cargo xtask` works from any folder inside it.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_owned()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = workspace_root();
    let result = match cli.command {
        Command::Gen(paths) => write_generated(&root.join(paths.schema), &root.join(paths.out)),
        Command::Check { paths, format } => {
            check(&root.join(paths.schema), &root.join(paths.out), format)
        }
        Command::Test { args } => test_cmd::run(&root, &args),
        Command::Bench { quick } => xtask::bench::run(&root, quick).map(|()| ExitCode::SUCCESS),
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
fn report_invalid(error: &codegen::SchemaError, format: Format) -> ExitCode {
    eprint!("{}", error.render());
    if format == Format::Github {
        print!("{}", error.github_annotations());
    }
    ExitCode::from(2)
}

fn write_generated(schema: &Path, out: &Path) -> Result<ExitCode, String> {
    let schema = match drift::load_schema(schema)? {
        Ok(schema) => schema,
        Err(error) => return Ok(report_invalid(&error, Format::Human)),
    };
    let files = codegen::generate(&schema);
    let changed = drift::write_all(&files, out)
        .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    for path in &changed {
        println!("wrote generated/{path}");
    }
    println!("{} file(s) generated, {} changed", files.len(), changed.len());
    Ok(ExitCode::SUCCESS)
}

fn check(schema_path: &Path, out: &Path, format: Format) -> Result<ExitCode, String> {
    let schema = match drift::load_schema(schema_path)? {
        Ok(schema) => schema,
        Err(error) => return Ok(report_invalid(&error, format)),
    };
    let files = codegen::generate(&schema);
    let drifts =
        drift::compare(&files, out).map_err(|e| format!("cannot read {}: {e}", out.display()))?;
    if drifts.is_empty() {
        println!("generated/ matches schema.toml ({} files)", files.len());
        return Ok(ExitCode::SUCCESS);
    }
    eprint!("{}", drift::render(&drifts));
    if format == Format::Github {
        let name = schema_path.file_name().map_or("schema.toml".into(), |n| n.to_string_lossy());
        print!("{}", drift::annotations(&drifts, &name));
    }
    Ok(ExitCode::from(1))
}

//! Error cases: each `tests/data/errors/<case>.toml` is rejected, and every problem in it is
//! reported at once; the rendered diagnostics (file:line:column, snippet, help) are golden.

use crate::common;

use std::path::{Path, PathBuf};

fn error_cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/errors");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    cases.sort();
    cases
}

fn load_case(path: &Path) -> codegen::SchemaError {
    let text = std::fs::read_to_string(path).unwrap();
    let name = path.file_name().unwrap().to_string_lossy();
    match codegen::load_in(&name, &text, path.parent().unwrap()) {
        Ok(_) => panic!("{} was accepted but should be rejected", path.display()),
        Err(e) => e,
    }
}

#[test]
fn every_error_case_renders_its_golden_diagnostics() {
    let mut differences = Vec::new();
    for case in error_cases() {
        let rendered = load_case(&case).render();
        differences.extend(common::check_golden(&case.with_extension("stderr"), &rendered));
    }
    common::assert_no_differences(&differences);
}

#[test]
fn error_cases_cover_many_distinct_mistakes() {
    let mut codes: Vec<&str> =
        error_cases().iter().flat_map(|c| load_case(c).problems).map(|p| p.code).collect();
    codes.sort();
    codes.dedup();
    assert!(codes.len() >= 20, "only {} distinct problem codes covered: {codes:?}", codes.len());
}

#[test]
fn all_problems_are_reported_at_once_with_positions() {
    let error = load_case(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/errors/default_wrong_type.toml"),
    );
    assert_eq!(error.problems.len(), 7, "{}", error.render());
    let positions: Vec<String> = error.problems.iter().map(|p| error.position(p)).collect();
    assert_eq!(positions[0], "default_wrong_type.toml:11:53");
    assert!(positions.windows(2).all(|w| w[0] != w[1]), "{positions:?}");
}

#[test]
fn github_annotations_point_at_schema_lines() {
    let error = load_case(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/errors/unknown_key.toml"),
    );
    let annotations = error.github_annotations();
    let lines: Vec<&str> = annotations.lines().collect();
    assert_eq!(lines.len(), 2, "{annotations}");
    // GitHub's runner ends the properties at the first `::`: the code's are escaped.
    assert!(
        lines[0].starts_with(
            "::error file=unknown_key.toml,line=13,col=43,title=schema%3A%3Aunknown_key::"
        ),
        "{annotations}"
    );
    assert!(lines[0].ends_with("unknown key `nulable`"), "{annotations}");
}

#[test]
fn the_example_schema_is_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema.toml");
    let text = std::fs::read_to_string(path).unwrap();
    if let Err(e) = codegen::load("schema.toml", &text) {
        panic!("{}", e.render());
    }
}

/// A misspelt sync scope is reported beside type errors that keep the file from validating.
#[test]
fn a_misspelt_scope_is_reported_beside_type_errors() {
    let error = load_case(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/errors/wrong_value_type.toml"),
    );
    let scopes: Vec<&str> = error
        .problems
        .iter()
        .filter(|p| p.code == "schema::unknown_scope")
        .map(|p| p.message.as_str())
        .collect();
    assert_eq!(
        scopes,
        [
            "unknown sync scope `owner_or_publik` on table `tune`",
            "unknown sync scope `ownr` on table `album`"
        ],
        "{}",
        error.render()
    );
    assert!(error.problems.iter().any(|p| p.code == "schema::invalid_value"));
}

/// Derived names are held to Postgres's 63 bytes only where Postgres receives them: a uuid's
/// or a timestamp's CHECK exists in SQLite alone, and a SQLite-only table reaches no Postgres.
#[test]
fn names_postgres_never_receives_may_be_long() {
    let table = "practice_record_with_a_rather_long_legacy_name";
    let column = "started_at_local_time";
    let text = format!(
        "[schema]\nname = 'x'\nversion = 1\n[tables.{table}.columns]\n\
         id = {{ type = 'uuid', primary_key = true }}\n{column} = {{ type = 'timestamp' }}\n\
         [tables.{table}_device]\ntargets = ['sqlite']\n[tables.{table}_device.columns]\n\
         id = {{ type = 'uuid', primary_key = true }}\nkind = {{ type = 'text', values = ['a'] }}\n"
    );
    assert!(format!("{table}_{column}_check").len() > 63);
    if let Err(e) = codegen::load("schema.toml", &text) {
        panic!("{}", e.render());
    }
    // An enum's CHECK does reach Postgres: its derived name is still checked.
    let enum_text = text.replace(
        &format!("{column} = {{ type = 'timestamp' }}"),
        &format!("{column} = {{ type = 'text', values = ['a'] }}"),
    );
    let error = codegen::load("schema.toml", &enum_text).unwrap_err();
    let codes: Vec<&str> = error.problems.iter().map(|p| p.code).collect();
    assert_eq!(codes, ["schema::identifier_too_long"], "{}", error.render());
}

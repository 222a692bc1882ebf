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
    match codegen::load(&name, &text) {
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
    assert!(
        lines[0].starts_with(
            "::error file=unknown_key.toml,line=13,col=43,title=schema::unknown_key::"
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

//! Golden tests: every emitter's output for each small schema under `tests/data/<case>/`
//! equals the committed files in `tests/data/<case>/expected/`.

use crate::common;

use std::path::{Path, PathBuf};

/// The format's JSON Schema does not depend on the schema; `generated/` covers it once.
const SCHEMA_INDEPENDENT: &[&str] = &["schema.schema.json"];

fn cases() -> Vec<PathBuf> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("schema.toml").is_file())
        .collect();
    cases.sort();
    cases
}

fn files_below(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries {
        let path = entry.unwrap().path();
        let name = format!("{prefix}{}", path.file_name().unwrap().to_string_lossy());
        if path.is_dir() {
            files_below(&path, &format!("{name}/"), out);
        } else {
            out.push(name);
        }
    }
}

#[test]
fn every_emitter_matches_its_golden_files() {
    let cases = cases();
    assert!(cases.len() >= 4, "expected at least four golden cases, found {}", cases.len());
    let mut differences = Vec::new();
    for case in &cases {
        let text = std::fs::read_to_string(case.join("schema.toml")).unwrap();
        let schema = codegen::load_in("schema.toml", &text, case)
            .unwrap_or_else(|e| panic!("{}: {}", case.display(), e.render()));
        let files = codegen::generate(&schema);
        let expected_dir = case.join("expected");
        for (path, contents) in &files {
            if !SCHEMA_INDEPENDENT.contains(&path.as_str()) {
                differences.extend(common::check_golden(&expected_dir.join(path), contents));
            }
        }
        let mut on_disk = Vec::new();
        files_below(&expected_dir, "", &mut on_disk);
        for path in on_disk.iter().filter(|p| !files.contains_key(*p)) {
            if std::env::var_os("UPDATE_GOLDEN").is_some() {
                std::fs::remove_file(expected_dir.join(path)).unwrap();
            } else {
                differences.push(format!("{}: no emitter produces {path}", case.display()));
            }
        }
    }
    common::assert_no_differences(&differences);
}

#[test]
fn generation_is_deterministic() {
    for case in cases() {
        let text = std::fs::read_to_string(case.join("schema.toml")).unwrap();
        let first = codegen::generate(&codegen::load_in("schema.toml", &text, &case).unwrap());
        let second = codegen::generate(&codegen::load_in("schema.toml", &text, &case).unwrap());
        assert_eq!(first, second, "{}", case.display());
    }
}

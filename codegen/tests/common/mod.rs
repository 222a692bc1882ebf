//! Golden-file comparison shared by the codegen tests: `UPDATE_GOLDEN=1 cargo test -p codegen`
//! rewrites the expected files instead of failing.

use std::path::Path;

/// Compare `actual` with the file at `path`; with `UPDATE_GOLDEN=1`, write it instead.
/// Returns a description of the difference, so a test can report every stale file at once.
pub fn check_golden(path: &Path, actual: &str) -> Option<String> {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, actual).unwrap();
        return None;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_default();
    if expected == actual {
        return None;
    }
    let diff = similar::TextDiff::from_lines(expected.as_str(), actual)
        .unified_diff()
        .header(&format!("{} (expected)", path.display()), "actual")
        .to_string();
    Some(diff)
}

/// Fail with every difference, and the command that refreshes the golden files.
pub fn assert_no_differences(differences: &[String]) {
    assert!(
        differences.is_empty(),
        "{}\n{} golden file(s) differ; if the change is intended, run `UPDATE_GOLDEN=1 cargo test -p codegen` and review the diff",
        differences.join("\n"),
        differences.len()
    );
}

//! UI tests: what `include_schema!` and `#[derive(SyncRow)]` accept, and the compile errors
//! they give (`ui/fail/*.stderr`), all in one trybuild run so its project is built once.

use std::path::Path;

#[test]
fn ui() {
    link_tests_into_trybuild_project();
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}

/// trybuild compiles the cases as a crate of its own in `<target>/tests/trybuild/<crate>`, and
/// that folder is the `CARGO_MANIFEST_DIR` the macros resolve schema paths against. A `tests`
/// link there to this crate's `tests` folder lets the cases name their schemas exactly as code
/// in this crate would (`tests/ui/schemas/tune.toml`), and keeps the messages in the `.stderr`
/// files free of machine-specific paths.
fn link_tests_into_trybuild_project() {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("tmp is inside target");
    let project = target.join("tests/trybuild").join(env!("CARGO_PKG_NAME"));
    std::fs::create_dir_all(&project).unwrap();
    let link = project.join("tests");
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    if std::fs::read_link(&link).is_ok_and(|to| to == tests) {
        return;
    }
    // A link left by a checkout elsewhere that shares this target folder.
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&tests, &link).unwrap();
}

//! The generator's integration tests, one test binary (one link instead of one per file); each
//! module is one suite, and its opening comment says what it shows.

mod common;
mod diagnostics;
mod golden;
mod json_schema;
mod meta;
mod typescript;

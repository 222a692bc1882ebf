//! The command line's integration tests, one test binary (one link instead of one per file); each
//! module is one suite, and its opening comment says what it shows.

mod deps;
mod drift;
mod evolve;
mod import;
mod import_infer;
mod live_drift;
mod migrate;
mod passwords;
mod support;
mod tidy;

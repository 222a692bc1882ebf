//! The library half of `cargo xtask`, so that tests can run the same drift gate as the CLI.

pub mod bench;
pub mod drift;
pub mod evolve;
pub mod import;
pub mod live;
pub mod migrate;
pub mod test_cmd;

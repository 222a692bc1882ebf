//! The library half of `cargo xtask`: the command line, and what tests run directly (the same
//! drift gate as the CLI).

pub mod bench;
pub mod cli;
#[cfg(feature = "db")]
mod db;
mod diff;
pub mod drift;
pub mod evolve;
pub mod migrate;
#[cfg(not(feature = "db"))]
mod rerun;
pub mod root;
pub mod test_cmd;

//! `xtask-db`: `cargo xtask` built with the `db` feature, which `cargo xtask` builds and runs for
//! `check --database-url` and `import` (see `rerun`).

fn main() -> std::process::ExitCode {
    xtask::cli::main()
}

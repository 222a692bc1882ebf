//! `cargo xtask`: the project's command line (see `cli`).

fn main() -> std::process::ExitCode {
    xtask::cli::main()
}

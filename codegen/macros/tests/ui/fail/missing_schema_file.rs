//! A schema file that does not exist.

codegen_macros::include_schema!("tests/ui/schemas/missing.toml");

fn main() {}

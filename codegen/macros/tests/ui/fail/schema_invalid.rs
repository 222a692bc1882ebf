//! A schema that fails validation: every problem, with file, line and column.

codegen_macros::include_schema!("tests/ui/schemas/invalid.toml");

fn main() {}

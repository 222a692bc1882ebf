//! What the engine's unit tests share: the example schema's metadata.

use std::sync::OnceLock;

use crate::schema::SchemaMeta;

/// The example schema's metadata, built from `schema.toml` (the generated crate's `SCHEMA` is
/// of another compilation of this crate's types, so unit tests cannot use it).
pub(crate) fn example_schema() -> &'static SchemaMeta {
    static SCHEMA: OnceLock<&'static SchemaMeta> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let text = include_str!("../../../schema.toml");
        let schema = codegen::load("schema.toml", text).expect("the example schema is valid");
        crate::schema::from_ir::leak(&schema)
    })
}

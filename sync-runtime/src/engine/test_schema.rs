//! What the engine's unit tests share: the example schema's metadata.

use crate::schema::SchemaMeta;

/// The example schema's metadata, as the generated crate compiles it.
pub(crate) fn example_schema() -> &'static SchemaMeta {
    &generated::SCHEMA
}

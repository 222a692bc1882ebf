//! `schema.schema.json`: a JSON Schema of the `schema.toml` format, for editors (Taplo, Even
//! Better TOML). Derived from the same serde types the loader reads, so the two cannot disagree.

use schemars::Schema;
use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use serde_json::Value;

use crate::GENERATED_NOTICE;
use crate::raw;

pub fn emit() -> String {
    let settings =
        SchemaSettings::draft2020_12().with_transform(RecursiveTransform(drop_null_alternative));
    let mut schema = settings.into_generator().into_root_schema_for::<raw::Document>();
    schema.insert("$comment".into(), GENERATED_NOTICE.into());
    let mut text = serde_json::to_string_pretty(&schema).expect("a JSON Schema serializes");
    text.push('\n');
    text
}

/// TOML has no null: an optional key is simply left out, so `anyOf: [X, {type: null}]` and
/// `type: [T, "null"]` (how schemars describes an `Option`) become X and T.
fn drop_null_alternative(schema: &mut Schema) {
    if let Some(Value::Array(types)) = schema.get_mut("type") {
        types.retain(|t| t != "null");
        if let [only] = types.as_slice() {
            let only = only.clone();
            schema.insert("type".into(), only);
        }
    }
    let Some(Value::Array(any_of)) = schema.get("anyOf") else { return };
    let null = serde_json::json!({ "type": "null" });
    let rest: Vec<Value> = any_of.iter().filter(|v| **v != null).cloned().collect();
    if let ([only], true) = (rest.as_slice(), rest.len() < any_of.len()) {
        schema.remove("anyOf");
        if let (Some(target), Value::Object(fields)) = (schema.as_object_mut(), only) {
            target.extend(fields.clone());
        }
    }
}

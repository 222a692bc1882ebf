//! The package's manifests and entry point: `package.json`, `tsconfig.json` and `src/index.ts`.

use heck::ToKebabCase;
use serde_json::json;

use super::header;
use crate::GENERATED_NOTICE;
use crate::ir::Schema;

/// Subpath exports besides `.`, each a module under `src/`.
const SUBPATHS: [&str; 6] =
    ["db-constants", "rows", "sync-types", "sync-meta", "drizzle/sqlite", "drizzle/pg"];

/// The Drizzle versions whose API the generated schemas use (checked by tools/ts-check).
const DRIZZLE_RANGE: &str = "^0.45.0";

/// `@<schema>/schema`, the name apps import the package by.
pub(super) fn package_name(schema: &Schema) -> String {
    format!("@{}/schema", schema.name.to_kebab_case())
}

pub(super) fn package_json(schema: &Schema) -> String {
    // Each module is JavaScript with its declarations next to it, so the package works as it
    // is in Node.js, bundlers and tsc, without a build step.
    let entry = |file: &str| json!({ "types": format!("./src/{file}.d.ts"), "default": format!("./src/{file}.js") });
    let mut exports = serde_json::Map::new();
    exports.insert(".".into(), entry("index"));
    for subpath in SUBPATHS {
        exports.insert(format!("./{subpath}"), entry(subpath));
    }
    let manifest = json!({
        "//": GENERATED_NOTICE,
        "name": package_name(schema),
        "version": "0.0.0",
        "description": format!("Tables, row types, sync protocol and Drizzle schemas of `{}`, schema version {}.", schema.name, schema.version),
        "private": true,
        "type": "module",
        "sideEffects": false,
        "exports": exports,
        "peerDependencies": { "drizzle-orm": DRIZZLE_RANGE },
    });
    let mut text = serde_json::to_string_pretty(&manifest).expect("a JSON value serializes");
    text.push('\n');
    text
}

pub(super) fn tsconfig_json() -> String {
    // tsconfig.json is JSON with comments, so the notice can be a comment line.
    format!(
        r#"{}{{
  "compilerOptions": {{
    "target": "ES2022",
    "lib": ["ES2022"],
    "module": "nodenext",
    "strict": true,
    "noUncheckedIndexedAccess": true,
    "exactOptionalPropertyTypes": true,
    "verbatimModuleSyntax": true,
    "isolatedModules": true,
    "noEmit": true,
    "skipLibCheck": true
  }},
  "include": ["src"]
}}
"#,
        header()
    )
}

pub(super) fn index_ts() -> String {
    let mut out = header();
    for module in ["db-constants", "rows", "sync-types", "sync-meta"] {
        out.push_str(&format!("export * from \"./{module}.js\";\n"));
    }
    // Both Drizzle schemas define a table per name, so each gets a namespace.
    out.push_str("export * as sqlite from \"./drizzle/sqlite.js\";\n");
    out.push_str("export * as pg from \"./drizzle/pg.js\";\n");
    out
}

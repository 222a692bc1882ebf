//! The published JSON Schema of the format accepts the example schema and catches the mistakes
//! an editor should underline.

use std::path::Path;

fn validator() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../generated/schema.schema.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run `cargo xtask gen`", path.display()));
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn as_json(toml_text: &str) -> serde_json::Value {
    let value: toml::Value = toml::from_str(toml_text).unwrap();
    serde_json::to_value(value).unwrap()
}

#[test]
fn the_committed_json_schema_is_what_the_generator_emits() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../generated/schema.schema.json");
    let on_disk = std::fs::read_to_string(path).unwrap();
    let schema = codegen::load("schema.toml", "[schema]\nname = \"x\"\nversion = 1\n").unwrap();
    assert_eq!(codegen::generate(&schema)["schema.schema.json"], on_disk);
}

#[test]
fn example_and_golden_schemas_validate() {
    let validator = validator();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = vec![root.join("../schema.toml")];
    for entry in std::fs::read_dir(root.join("tests/data")).unwrap() {
        let case = entry.unwrap().path().join("schema.toml");
        if case.is_file() {
            paths.push(case);
        }
    }
    for path in paths {
        let doc = as_json(&std::fs::read_to_string(&path).unwrap());
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
    }
}

#[test]
fn allowances_validate() {
    let text = "[schema]\nname='a'\nversion=2\n[[evolution.allow]]\nrule='drop_column'\n\
                table='t'\ncolumn='c'\nreason='No client reads it.'";
    let errors: Vec<String> =
        validator().iter_errors(&as_json(text)).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn mistakes_are_rejected() {
    let validator = validator();
    let cases = [
        (
            "unknown column key",
            "[schema]\nname='a'\nversion=1\n[tables.t.columns]\nid={type='uuid',nulable=true}",
        ),
        ("unknown type", "[schema]\nname='a'\nversion=1\n[tables.t.columns]\nid={type='varchar'}"),
        (
            "wrong value type",
            "[schema]\nname='a'\nversion=1\n[tables.t.columns]\nid={type='uuid',nullable='yes'}",
        ),
        ("missing [schema]", "[tables.t.columns]\nid={type='uuid'}"),
        ("unknown table key", "[schema]\nname='a'\nversion=1\n[tables.t]\nsynced='owner'"),
        (
            "unknown rule in an allowance",
            "[schema]\nname='a'\nversion=1\n[[evolution.allow]]\nrule='drop_colum'\ntable='t'\nreason='r'",
        ),
        (
            "empty allowance reason",
            "[schema]\nname='a'\nversion=1\n[[evolution.allow]]\nrule='drop_table'\ntable='t'\nreason=''",
        ),
        (
            "bad on_delete",
            "[schema]\nname='a'\nversion=1\n[tables.t.columns]\nid={type='uuid',on_delete='explode'}",
        ),
        (
            "misspelt sync scope",
            "[schema]\nname='a'\nversion=1\n[tables.t]\nsync='owner_or_publik'",
        ),
        ("via: without a column", "[schema]\nname='a'\nversion=1\n[tables.t]\nsync='via:'"),
    ];
    for (what, text) in cases {
        assert!(!validator.is_valid(&as_json(text)), "{what} was accepted");
    }
}

#[test]
fn every_sync_scope_validates() {
    let validator = validator();
    for scope in ["owner", "owner_or_public", "public", "none", "via:parent_id"] {
        let text = format!("[schema]\nname='a'\nversion=1\n[tables.t]\nsync='{scope}'");
        let errors: Vec<String> =
            validator.iter_errors(&as_json(&text)).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{scope}: {errors:#?}");
    }
}

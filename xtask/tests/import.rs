//! `cargo xtask import` end to end on real Postgres: a Supabase-style fixture of twelve tables
//! imported, generated and applied to a fresh database reads back as the very same catalog;
//! what the format cannot say is reported and kept in the file, never dropped.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use codegen::ir::SyncScope;
use support::PgDb;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

pub fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask")).args(args).output().unwrap()
}

pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Import `db` into `dir/schema.toml`; the output and the file's text.
pub fn import(db: &PgDb, dir: &Path) -> (Output, String) {
    let out = dir.join("schema.toml");
    let output = xtask(&["import", "--database-url", &db.url(), "--out", out.to_str().unwrap()]);
    let written = std::fs::read_to_string(&out).unwrap_or_default();
    (output, written)
}

/// Import `original`, generate the Postgres DDL from the result, apply it to a fresh database
/// and compare the two catalogs (the sync machinery aside, which only the generated side has);
/// the schema, import's report and the written file. The fresh database first gets `outside`,
/// what the original has outside the imported schema (Supabase's `auth.users`). Import exits 1
/// when it `warned` (something it reports and does not import), else 0.
pub fn round_trip(
    original: &PgDb,
    outside: &str,
    warned: bool,
) -> (codegen::ir::Schema, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let (output, written) = import(original, dir.path());
    let report = text(&output);
    assert_eq!(output.status.code(), Some(i32::from(warned)), "{report}\n{written}");
    let schema = codegen::load_in("schema.toml", &written, dir.path())
        .unwrap_or_else(|e| panic!("{}\n{written}", e.render()));
    let files = codegen::generate(&schema);
    let copy = PgDb::with(&format!("{outside}{}", files["sql/postgres.sql"]));
    let expected = support::snapshot(&mut original.client());
    let actual = support::snapshot(&mut copy.client());
    let diff = similar::TextDiff::from_lines(&expected.join("\n"), &actual.join("\n"))
        .unified_diff()
        .header("original", "imported and generated")
        .to_string();
    assert!(expected == actual, "the catalogs differ:\n{diff}\n{written}");
    // The device side applies too: the import made every check portable or reported it.
    let device = rusqlite::Connection::open_in_memory().unwrap();
    device.execute_batch(&files["sql/sqlite.sql"]).unwrap_or_else(|e| panic!("{e}\n{written}"));
    // And the drift gate sees the generated database as schema.toml.
    let schema_file = dir.path().join("schema.toml");
    let check =
        xtask(&["check", "--schema", schema_file.to_str().unwrap(), "--database-url", &copy.url()]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check));
    (schema, report, written)
}

pub fn scope(schema: &codegen::ir::Schema, table: &str) -> String {
    schema.table(table).unwrap_or_else(|| panic!("no table {table}")).scope.as_toml()
}

/// The unique keys of `table` among live rows only (`live_only = true`), as (name, columns);
/// none of them is left among the table's indexes.
fn live_only(schema: &codegen::ir::Schema, table: &str) -> Vec<(String, Vec<String>)> {
    let table = schema.table(table).unwrap_or_else(|| panic!("no table {table}"));
    let keys: Vec<(String, Vec<String>)> = table
        .uniques
        .iter()
        .filter(|u| u.live_only)
        .map(|u| (u.name.clone(), u.columns.clone()))
        .collect();
    for (name, _) in &keys {
        assert!(table.indexes.iter().all(|i| &i.name != name), "{name} is also an index");
    }
    keys
}

#[test]
fn a_supabase_style_schema_round_trips_through_import_and_gen() {
    let fixture = std::fs::read_to_string(root().join("xtask/tests/fixtures/import.sql")).unwrap();
    let original = PgDb::with(&fixture);
    let lines = support::snapshot(&mut original.client());
    assert!(lines.len() > 120, "the fixture is substantial: {} catalog lines", lines.len());
    let (schema, ..) = round_trip(&original, "", false);
    assert_eq!(schema.tables.len(), 12);
    let scopes: Vec<(&str, String)> = [
        "workspaces",
        "projects",
        "tasks",
        "task_tags",
        "comments",
        "snippets",
        "profiles",
        "tags",
    ]
    .into_iter()
    .map(|t| (t, scope(&schema, t)))
    .collect();
    let expected = [
        ("workspaces", "owner"),
        ("projects", "via:workspace_id"),
        ("tasks", "via:project_id"),
        ("task_tags", "via:task_id"),
        ("comments", "owner"),
        ("snippets", "owner_or_public"),
        ("profiles", "none"),
        ("tags", "public"),
    ];
    assert_eq!(scopes, expected.map(|(t, s)| (t, s.to_owned())));
    let tasks = schema.table("tasks").unwrap();
    // A unique index over the rows not soft-deleted is a live-only key again, under its name.
    let live =
        [("tasks_project_id_title_idx".to_owned(), vec!["project_id".into(), "title".into()])];
    assert_eq!(live_only(&schema, "tasks"), live);
    assert_eq!(tasks.sync.version.as_deref(), Some("sync_version"));
    assert_eq!(tasks.sync.device.as_deref(), Some("device_id"));
    // Server-only tables stay out of devices; tables synced ones reference go along.
    for table in ["invoices", "invoice_lines", "audit_log", "settings"] {
        assert!(!schema.table(table).unwrap().targets.sqlite, "{table} is Postgres only");
    }
    for table in ["profiles", "tags"] {
        assert!(schema.table(table).unwrap().targets.sqlite, "{table} goes to devices");
    }
    assert_eq!(
        schema.table("projects").unwrap().columns[3].values.as_deref().unwrap(),
        ["active", "archived"]
    );
}

#[test]
fn the_example_schemas_own_database_round_trips() {
    let text = std::fs::read_to_string(root().join("schema.toml")).unwrap();
    let example = codegen::load("schema.toml", &text).unwrap();
    let original = PgDb::with(&codegen::generate(&example)["sql/postgres.sql"]);
    let (schema, report, _) = round_trip(&original, "", false);
    // Every table's scope is the example's: the profile owned by its id, the catalog public.
    for table in &example.tables {
        assert_eq!(scope(&schema, &table.name), table.scope.as_toml(), "{report}");
        assert_eq!(schema.table(&table.name).unwrap().sync.owner, table.sync.owner, "{report}");
    }
    assert!(report.contains("user table: user_profile (the owner-like columns "), "{report}");
    assert_eq!(scope(&schema, "repertoire_tune"), "via:repertoire_id");
    assert_eq!(scope(&schema, "tune"), "owner_or_public");
    assert!(matches!(schema.table("note").unwrap().scope, SyncScope::Owner));
    // `live_only = true` comes back as it was written, not as an index with a `where`.
    for table in example.tables.iter() {
        let declared: Vec<(String, Vec<String>)> = table
            .uniques
            .iter()
            .filter(|u| u.live_only)
            .map(|u| (u.name.clone(), u.columns.clone()))
            .collect();
        assert_eq!(live_only(&schema, &table.name), declared, "table {}", table.name);
    }
    assert!(!live_only(&schema, "repertoire").is_empty());
}

#[test]
fn what_the_format_cannot_say_is_reported_and_kept_in_the_file() {
    let original = PgDb::with(
        "CREATE SCHEMA auth;
         CREATE TABLE auth.users (id uuid PRIMARY KEY);
         CREATE TYPE mood AS ENUM ('happy', 'sad');
         CREATE TABLE legacy (
           id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
           price numeric(10,2) NOT NULL,
           code varchar(8) NOT NULL,
           feeling mood DEFAULT 'happy',
           author uuid REFERENCES auth.users (id),
           during tsrange,
           serial_no integer DEFAULT nextval('pg_catalog.pg_class_oid_index'::regclass),
           EXCLUDE USING gist (during WITH &&)
         );
         CREATE INDEX legacy_lower_code_idx ON legacy (lower(code));
         CREATE INDEX legacy_price_idx ON legacy (price);
         CREATE TABLE notes (
           id uuid PRIMARY KEY,
           user_id uuid NOT NULL,
           body text CONSTRAINT notes_body_short CHECK (char_length(body) < 500),
           updated_at timestamptz NOT NULL DEFAULT now()
         );",
    );
    let dir = tempfile::tempdir().unwrap();
    let (output, written) = import(&original, dir.path());
    let report = text(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    for warning in [
        "warning: legacy.id: GENERATED BY DEFAULT AS IDENTITY; imported without it",
        "warning: legacy.price: numeric(10,2) has no logical type in schema.toml; left out",
        "warning: legacy.code: character varying(8) imported as text, without its length limit",
        "warning: legacy.feeling: enum type mood imported as text with its values (a CHECK)",
        "warning: legacy.during: tsrange has no logical type in schema.toml; left out",
        "warning: legacy.serial_no: default nextval('pg_class_oid_index'::regclass) has no \
         schema.toml form; left out",
        "warning: legacy: constraint legacy_during_excl EXCLUDE USING gist (during WITH &&) has \
         no schema.toml form; left out",
        "warning: legacy: index CREATE INDEX legacy_lower_code_idx ON legacy USING btree \
         (lower((code)::text)) is not a btree over imported columns with default orderings; \
         left out",
        "warning: legacy: index CREATE INDEX legacy_price_idx ON legacy USING btree (price) is \
         not a btree over imported columns with default orderings; left out",
        "warning: notes: check notes_body_short is Postgres SQL that SQLite refuses (no such \
         function: char_length)",
    ] {
        assert!(report.contains(warning), "missing `{warning}` in:\n{report}");
    }
    for kept in [
        "# not imported: column price numeric(10,2)",
        "# not imported: column during tsrange",
        "# not imported: constraint legacy_during_excl EXCLUDE USING gist (during WITH &&)",
        "# not imported: index CREATE INDEX legacy_price_idx ON legacy USING btree (price)",
        "feeling = { type = \"text\", nullable = true, values = [\"happy\", \"sad\"], default = \"happy\" }",
    ] {
        assert!(written.contains(kept), "missing `{kept}` in:\n{written}");
    }
    // A foreign key to a table outside the imported schema is kept in the [extra_sql] file.
    assert!(report.contains(
        "kept in imported.postgres.sql ([extra_sql]): legacy: foreign key legacy_author_fkey \
         references auth.users, outside the imported schema"
    ));
    let outside = std::fs::read_to_string(dir.path().join("imported.postgres.sql")).unwrap();
    assert!(
        outside.contains(
            "ALTER TABLE \"legacy\" ADD CONSTRAINT \"legacy_author_fkey\" FOREIGN KEY (author) \
         REFERENCES auth.users(id);"
        ),
        "{outside}"
    );
    let schema = codegen::load_in("schema.toml", &written, dir.path()).unwrap();
    assert_eq!(scope(&schema, "notes"), "owner");
}

#[test]
fn an_existing_file_is_kept_unless_forced() {
    let original = PgDb::with("CREATE TABLE t (id integer PRIMARY KEY)");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("schema.toml");
    std::fs::write(&out, "mine").unwrap();
    let args = ["import", "--database-url", &original.url(), "--out", out.to_str().unwrap()];
    let output = xtask(&args);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("exists; pass --force"), "{}", text(&output));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "mine");
    let output = xtask(&[&args[..], &["--force"]].concat());
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(std::fs::read_to_string(&out).unwrap().contains("[tables.t.columns]"));
}

#[test]
fn import_reads_postgres_only() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("schema.toml");
    let output =
        xtask(&["import", "--database-url", "sqlite:x.db", "--out", out.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output).contains("import reads a Postgres database"), "{}", text(&output));
    assert!(!out.exists());
}

/// The team's views, functions, triggers and policies (`[extra_sql]`) beside the tables do not
/// become tables, columns or warnings: import reads the tables, and keeps the policies as they
/// are in its own `[extra_sql]` file.
#[test]
fn import_is_not_confused_by_the_teams_own_objects() {
    let case = root().join("codegen/tests/data/composite_keys");
    let ddl = std::fs::read_to_string(case.join("expected/sql/postgres.sql")).unwrap();
    assert!(
        ddl.contains("CREATE VIEW basket_size") && ddl.contains("CREATE FUNCTION basket_items")
    );
    let db = PgDb::with(&ddl);
    let dir = tempfile::tempdir().unwrap();
    let (output, written) = import(&db, dir.path());
    assert!(output.status.code().is_some_and(|c| c < 2), "{}\n{written}", text(&output));
    let schema = codegen::load_in("schema.toml", &written, dir.path())
        .unwrap_or_else(|e| panic!("{}\n{written}", e.render()));
    let tables: Vec<&str> = schema.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(tables, ["account", "basket", "basket_line"], "{written}");
    for team in ["basket_size", "basket_items", "basket_line_quantity_limit", "account_support"] {
        assert!(!written.contains(team), "{team} in:\n{written}");
        assert!(!text(&output).contains(&format!("warning: {team}")), "{}", text(&output));
    }
    let outside = std::fs::read_to_string(dir.path().join("imported.postgres.sql")).unwrap();
    assert!(outside.contains("CREATE POLICY \"account_support_read\" ON \"account\""), "{outside}");
}

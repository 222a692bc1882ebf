//! The live drift gate end to end: the real `cargo xtask check --database-url` against real
//! Postgres databases (one fresh database per case, from `TEST_DATABASE_URL`) and real SQLite
//! files, each made from the generated DDL and then altered by hand in exactly one way.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support;

use support::PgDb;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

fn schema_text() -> String {
    std::fs::read_to_string(root().join("schema.toml")).unwrap()
}

/// The example schema's generated DDL for one database (`postgres.sql` or `sqlite.sql`).
fn ddl(file: &str) -> String {
    let schema = codegen::load("schema.toml", &schema_text()).unwrap();
    codegen::generate(&schema).remove(&format!("sql/{file}")).unwrap()
}

/// `schema.toml:line:col` of a byte offset in the example schema.
fn position(text: &str, offset: usize) -> String {
    let line = text[..offset].matches('\n').count() + 1;
    let col = offset - text[..offset].rfind('\n').map_or(0, |n| n + 1) + 1;
    format!("schema.toml:{line}:{col}")
}

/// `schema.toml:line:col` of `needle` in the example schema, moved `skip` characters on.
fn at(needle: &str, skip: usize) -> String {
    let text = schema_text();
    let offset = text.find(needle).unwrap_or_else(|| panic!("`{needle}` not in schema.toml"));
    position(&text, offset + skip)
}

/// Where a table is declared: its name in `[tables.<name>]`.
fn table_at(table: &str) -> String {
    at(&format!("[tables.{table}]\n"), "[tables.".len())
}

/// Where a column is declared in `[tables.<table>.columns]`.
fn column_at(table: &str, column: &str) -> String {
    let text = schema_text();
    let section = text.find(&format!("[tables.{table}.columns]")).unwrap();
    let offset = section + text[section..].find(&format!("\n{column} = ")).unwrap() + 1;
    position(&text, offset)
}

fn xtask(args: &[&str]) -> Output {
    let schema = root().join("schema.toml");
    let mut all = vec!["check", "--schema", schema.to_str().unwrap()];
    all.extend_from_slice(args);
    Command::new(env!("CARGO_BIN_EXE_xtask")).args(&all).output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The difference lines of a human report.
fn differences(output: &Output) -> Vec<String> {
    stdout(output).lines().filter(|l| l.contains(": error[")).map(str::to_owned).collect()
}

/// Run the gate on `url` and check that it reports exactly `expected`, then exit 1.
fn assert_one(case: &str, url: &str, extra: &[&str], expected: &str) {
    let mut args = vec!["--database-url", url];
    args.extend_from_slice(extra);
    let output = xtask(&args);
    let out = stdout(&output);
    assert_eq!(
        differences(&output),
        vec![expected.to_owned()],
        "{case}:\n{out}{}",
        stderr(&output)
    );
    assert!(out.contains("error: 1 difference between"), "{case}: {out}");
    assert_eq!(output.status.code(), Some(1), "{case}: {out}");
}

fn assert_no_drift(url: &str, extra: &[&str]) {
    let mut args = vec!["--database-url", url];
    args.extend_from_slice(extra);
    let output = xtask(&args);
    let out = stdout(&output);
    assert!(differences(&output).is_empty(), "{out}{}", stderr(&output));
    assert!(out.starts_with("ok: "), "{out}");
    assert_eq!(output.status.code(), Some(0), "{out}{}", stderr(&output));
}

/// `(case, SQL run on the database made from the DDL, the one line expected)`.
fn postgres_cases() -> Vec<(&'static str, &'static str, String)> {
    vec![
        (
            "drop a column",
            "ALTER TABLE tune DROP COLUMN incipit",
            format!(
                "{}: error[missing_column]: column tune.incipit is missing from the database: \
                 incipit text",
                column_at("tune", "incipit")
            ),
        ),
        (
            "add a column",
            "ALTER TABLE tune ADD COLUMN subtitle text NOT NULL DEFAULT ''",
            format!(
                "{}: error[extra_column]: column tune.subtitle is in the database but not in \
                 schema.toml: subtitle text NOT NULL DEFAULT ''::text",
                table_at("tune")
            ),
        ),
        (
            "change a type",
            "ALTER TABLE tune ALTER COLUMN structure TYPE varchar(20)",
            format!(
                "{}: error[column_type]: the type of tune.structure is character varying(20) in \
                 the database, text from schema.toml",
                column_at("tune", "structure")
            ),
        ),
        (
            "drop NOT NULL",
            "ALTER TABLE tune ALTER COLUMN title DROP NOT NULL",
            format!(
                "{}: error[column_nullability]: tune.title is nullable in the database, NOT NULL \
                 from schema.toml",
                column_at("tune", "title")
            ),
        ),
        (
            "change a default",
            "ALTER TABLE tune ALTER COLUMN type SET DEFAULT 'jig'",
            format!(
                "{}: error[column_default]: the default of tune.type is 'jig'::text in the \
                 database, 'reel'::text from schema.toml",
                column_at("tune", "type")
            ),
        ),
        (
            "drop an index",
            "DROP INDEX tune_genre_title_idx",
            format!(
                "{}: error[missing_index]: index tune_genre_title_idx on tune is missing from the \
                 database: CREATE INDEX tune_genre_title_idx ON tune USING btree (genre_id, title)",
                at("{ columns = [\"genre_id\", \"title\"]", 0)
            ),
        ),
        (
            "add an index",
            "CREATE INDEX tune_title_idx ON tune (lower(title))",
            format!(
                "{}: error[extra_index]: index tune_title_idx on tune is in the database but not \
                 in schema.toml: CREATE INDEX tune_title_idx ON tune USING btree (lower(title))",
                table_at("tune")
            ),
        ),
        (
            "add a table",
            "CREATE TABLE scratch (id integer PRIMARY KEY)",
            "schema.toml: error[extra_table]: table scratch is in the database but not in \
             schema.toml"
                .to_owned(),
        ),
        (
            "drop a check",
            "ALTER TABLE tune DROP CONSTRAINT tune_title_not_blank",
            format!(
                "{}: error[missing_check]: check tune_title_not_blank on tune is missing from the \
                 database: CHECK ((length(TRIM(BOTH FROM title)) > 0))",
                at("{ name = \"tune_title_not_blank\"", 0)
            ),
        ),
        (
            "change a foreign key's ON DELETE",
            "ALTER TABLE tune DROP CONSTRAINT tune_genre_id_fkey, ADD CONSTRAINT \
             tune_genre_id_fkey FOREIGN KEY (genre_id) REFERENCES genre (id) ON DELETE CASCADE",
            format!(
                "{}: error[changed_foreign_key]: foreign key tune (genre_id) is REFERENCES genre \
                 (id) ON DELETE CASCADE in the database, REFERENCES genre (id) ON DELETE SET NULL \
                 from schema.toml",
                at("\"genre.id\", on_delete = \"set null\"", 0)
            ),
        ),
        (
            "drop a unique constraint",
            "ALTER TABLE tag DROP CONSTRAINT tag_user_tune_label_key",
            format!(
                "{}: error[missing_unique]: unique constraint tag (user_id, tune_id, label) is \
                 missing from the database",
                at("{ columns = [\"user_id\", \"tune_id\", \"label\"]", 0)
            ),
        ),
        (
            "drop a table",
            "DROP TABLE note",
            format!(
                "{}: error[missing_table]: table note is missing from the database",
                table_at("note")
            ),
        ),
        (
            "make a live-only unique key count soft-deleted rows",
            "DROP INDEX repertoire_user_id_name_key; \
             CREATE UNIQUE INDEX repertoire_user_id_name_key ON repertoire (user_id, name)",
            format!(
                "{}: error[changed_index]: index repertoire_user_id_name_key on repertoire is \
                 CREATE UNIQUE INDEX repertoire_user_id_name_key ON repertoire USING btree \
                 (user_id, name) in the database, CREATE UNIQUE INDEX \
                 repertoire_user_id_name_key ON repertoire USING btree (user_id, name) WHERE \
                 (deleted = false) from schema.toml",
                at("{ columns = [\"user_id\", \"name\"], live_only", 0)
            ),
        ),
        (
            "drop a trigger of the sync machinery",
            "DROP TRIGGER _sync_stamp ON tag",
            format!(
                "{}: error[missing_trigger]: trigger _sync_stamp on tag is missing from the \
                 database: CREATE TRIGGER _sync_stamp BEFORE INSERT OR UPDATE ON tag FOR EACH ROW \
                 EXECUTE FUNCTION _sync_stamp()",
                table_at("tag")
            ),
        ),
    ]
}

#[test]
fn postgres_made_from_the_ddl_has_no_drift() {
    let db = PgDb::with(&ddl("postgres.sql"));
    assert_no_drift(&db.url(), &[]);
}

#[test]
fn postgres_reports_each_alteration_as_exactly_one_difference() {
    for (case, alteration, expected) in postgres_cases() {
        let db = PgDb::with(&format!("{}\n{alteration}", ddl("postgres.sql")));
        assert_one(case, &db.url(), &[], &expected);
    }
}

#[test]
fn postgres_is_never_written_to() {
    let db = PgDb::with(&format!("{}\nALTER TABLE tune DROP COLUMN incipit", ddl("postgres.sql")));
    let mut client = db.client();
    let census = "SELECT (SELECT count(*) FROM pg_namespace) + (SELECT count(*) FROM pg_class) \
                  + (SELECT count(*) FROM pg_proc)";
    let before: i64 = client.query_one(census, &[]).unwrap().get(0);
    let catalog = support::snapshot(&mut client);
    let output = xtask(&["--database-url", &db.url()]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let after: i64 = client.query_one(census, &[]).unwrap().get(0);
    assert_eq!(before, after, "the shadow schema is rolled back");
    assert_eq!(support::snapshot(&mut client), catalog);
}

#[test]
fn postgres_compares_the_schema_named_by_db_schema() {
    let db = PgDb::new();
    let mut client = db.client();
    let setup = format!("CREATE SCHEMA app; SET search_path TO app; {}", ddl("postgres.sql"));
    client.batch_execute(&setup).unwrap();
    assert_no_drift(&db.url(), &["--db-schema", "app"]);
    // `public` is empty: every table and function of schema.toml is missing there.
    let output = xtask(&["--database-url", &db.url()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(differences(&output).iter().any(|l| l.contains("error[missing_table]: table tune ")));
    let output = xtask(&["--database-url", &db.url(), "--db-schema", "nope"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("has no schema `nope`"), "{}", stderr(&output));
}

#[test]
fn github_format_annotates_the_schema_line() {
    let db = PgDb::with(&format!("{}\nALTER TABLE tune DROP COLUMN incipit", ddl("postgres.sql")));
    let output = xtask(&["--database-url", &db.url(), "--format", "github"]);
    assert_eq!(output.status.code(), Some(1));
    let position = column_at("tune", "incipit");
    let mut parts = position.split(':').skip(1);
    let (line, col) = (parts.next().unwrap(), parts.next().unwrap());
    let annotation = format!(
        "::error file=schema.toml,line={line},col={col},title=drift missing_column::column \
         tune.incipit is missing from the database: incipit text ({} (schema public))",
        sync_meta::database_url::redact(&db.url())
    );
    assert_eq!(stdout(&output).trim_end(), annotation);
    assert!(stderr(&output).contains("error: 1 difference between"), "{}", stderr(&output));
}

/// An SQLite file in a temporary folder.
struct SqliteFile {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl SqliteFile {
    /// A file made from `ddl`, then changed by `alteration`.
    fn new(ddl: &str, alteration: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.db");
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(ddl).unwrap();
        conn.execute_batch(alteration).unwrap_or_else(|e| panic!("{alteration}: {e}"));
        SqliteFile { _dir: dir, path }
    }

    fn url(&self) -> String {
        format!("sqlite:{}", self.path.display())
    }
}

/// `sqlite.sql` with `from` replaced by `to` inside the `CREATE TABLE "tune"` statement, for
/// what SQLite cannot ALTER: such a change is made by rebuilding the table.
fn tune_edited(from: &str, to: &str) -> String {
    let ddl = ddl("sqlite.sql");
    let start = ddl.find("CREATE TABLE \"tune\" (").unwrap();
    let end = start + ddl[start..].find(") STRICT;").unwrap();
    let statement = &ddl[start..end];
    assert_eq!(statement.matches(from).count(), 1, "`{from}` once in tune");
    format!("{}{}{}", &ddl[..start], statement.replace(from, to), &ddl[end..])
}

/// `(case, DDL the file is made from, SQL run on it then, the one line expected)`.
fn sqlite_cases() -> Vec<(&'static str, String, &'static str, String)> {
    let generated = ddl("sqlite.sql");
    vec![
        (
            "drop a column",
            generated.clone(),
            "ALTER TABLE tune DROP COLUMN incipit",
            format!(
                "{}: error[missing_column]: column tune.incipit is missing from the database: \
                 incipit TEXT",
                column_at("tune", "incipit")
            ),
        ),
        (
            "add a column",
            generated.clone(),
            "ALTER TABLE tune ADD COLUMN subtitle TEXT",
            format!(
                "{}: error[extra_column]: column tune.subtitle is in the database but not in \
                 schema.toml: subtitle TEXT",
                table_at("tune")
            ),
        ),
        (
            "change a type",
            tune_edited("\"structure\" TEXT,", "\"structure\" INTEGER,"),
            "",
            format!(
                "{}: error[column_type]: the type of tune.structure is INTEGER in the database, \
                 TEXT from schema.toml",
                column_at("tune", "structure")
            ),
        ),
        (
            "drop NOT NULL",
            tune_edited("\"title\" TEXT NOT NULL,", "\"title\" TEXT,"),
            "",
            format!(
                "{}: error[column_nullability]: tune.title is nullable in the database, NOT NULL \
                 from schema.toml",
                column_at("tune", "title")
            ),
        ),
        (
            "change a default",
            tune_edited("DEFAULT 'reel'", "DEFAULT 'jig'"),
            "",
            format!(
                "{}: error[column_default]: the default of tune.type is 'jig' in the database, \
                 'reel' from schema.toml",
                column_at("tune", "type")
            ),
        ),
        (
            "drop an index",
            generated.clone(),
            "DROP INDEX tune_genre_title_idx",
            format!(
                "{}: error[missing_index]: index tune_genre_title_idx on tune is missing from the \
                 database: CREATE INDEX \"tune_genre_title_idx\" ON \"tune\" (\"genre_id\", \
                 \"title\")",
                at("{ columns = [\"genre_id\", \"title\"]", 0)
            ),
        ),
        (
            "add an index",
            generated.clone(),
            "CREATE INDEX tune_title_idx ON tune (lower(title))",
            format!(
                "{}: error[extra_index]: index tune_title_idx on tune is in the database but not \
                 in schema.toml: CREATE INDEX tune_title_idx ON tune (lower(title))",
                table_at("tune")
            ),
        ),
        (
            "add a table",
            generated.clone(),
            "CREATE TABLE scratch (id INTEGER PRIMARY KEY)",
            "schema.toml: error[extra_table]: table scratch is in the database but not in \
             schema.toml"
                .to_owned(),
        ),
        (
            "drop a check",
            tune_edited(
                ",\n  CONSTRAINT \"tune_title_not_blank\" CHECK (length(trim(title)) > 0)",
                "",
            ),
            "",
            format!(
                "{}: error[missing_check]: check tune_title_not_blank on tune is missing from the \
                 database: CHECK (length(trim(title)) > 0)",
                at("{ name = \"tune_title_not_blank\"", 0)
            ),
        ),
        (
            "change a foreign key's ON DELETE",
            tune_edited(
                "REFERENCES \"genre\" (\"id\") ON DELETE SET NULL",
                "REFERENCES \"genre\" (\"id\") ON DELETE CASCADE",
            ),
            "",
            format!(
                "{}: error[changed_foreign_key]: foreign key tune (genre_id) is REFERENCES genre \
                 (id) ON DELETE CASCADE in the database, REFERENCES genre (id) ON DELETE SET NULL \
                 from schema.toml",
                at("\"genre.id\", on_delete = \"set null\"", 0)
            ),
        ),
        (
            "make a live-only unique key count soft-deleted rows",
            generated.clone(),
            "DROP INDEX repertoire_user_id_name_key; \
             CREATE UNIQUE INDEX repertoire_user_id_name_key ON repertoire (user_id, name)",
            format!(
                "{}: error[changed_index]: index repertoire_user_id_name_key on repertoire is \
                 CREATE UNIQUE INDEX repertoire_user_id_name_key ON repertoire (user_id, name) \
                 in the database, CREATE UNIQUE INDEX \"repertoire_user_id_name_key\" ON \
                 \"repertoire\" (\"user_id\", \"name\") WHERE \"deleted\" = 0 from \
                 schema.toml",
                at("{ columns = [\"user_id\", \"name\"], live_only", 0)
            ),
        ),
        (
            "drop a table",
            generated,
            "DROP TABLE note",
            format!(
                "{}: error[missing_table]: table note is missing from the database",
                table_at("note")
            ),
        ),
    ]
}

#[test]
fn sqlite_made_from_the_ddl_has_no_drift() {
    let file = SqliteFile::new(&ddl("sqlite.sql"), "");
    assert_no_drift(&file.url(), &[]);
}

#[test]
fn sqlite_reports_each_alteration_as_exactly_one_difference() {
    for (case, ddl, alteration, expected) in sqlite_cases() {
        let file = SqliteFile::new(&ddl, alteration);
        assert_one(case, &file.url(), &[], &expected);
    }
}

/// The embedded server's database drops the client machinery and adds its own: neither is
/// drift.
#[test]
fn sqlite_sync_machinery_is_ignored_on_both_sides() {
    let server_machinery = "
        DROP TABLE _sync_outbox;
        ALTER TABLE tune ADD COLUMN _sync_seq INTEGER;
        CREATE TABLE _sync_counter (seq INTEGER NOT NULL) STRICT;
        CREATE INDEX _sync_tune_idx ON tune (_sync_seq);
        CREATE TRIGGER _sync_tune_stamp AFTER INSERT ON tune BEGIN
          UPDATE _sync_counter SET seq = seq + 1;
        END;";
    let file = SqliteFile::new(&ddl("sqlite.sql"), server_machinery);
    assert_no_drift(&file.url(), &[]);
}

#[test]
fn sqlite_file_is_opened_read_only_and_never_created() {
    let file = SqliteFile::new(&ddl("sqlite.sql"), "ALTER TABLE tune DROP COLUMN incipit");
    let before = std::fs::read(&file.path).unwrap();
    let output = xtask(&["--database-url", &file.url()]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(std::fs::read(&file.path).unwrap(), before);
    let absent = file.path.with_file_name("absent.db");
    let output = xtask(&["--database-url", &format!("sqlite:{}", absent.display())]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("absent.db: no such file"), "{}", stderr(&output));
    assert!(!absent.exists());
}

#[test]
fn a_bad_or_unreachable_url_exits_2_without_its_password() {
    let output = xtask(&["--database-url", "mysql://me:hunter2@127.0.0.1/db"]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("`mysql://me:***@127.0.0.1/db` names no supported database"), "{err}");
    // Port 1 on the loopback refuses connections at once.
    let output = xtask(&["--database-url", "postgres://me:hunter2@127.0.0.1:1/db"]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("cannot connect to postgres://me:***@127.0.0.1:1/db"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn an_invalid_schema_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("schema.toml");
    std::fs::write(&schema, "[schema]\nname = 1\n").unwrap();
    let file = SqliteFile::new("", "");
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["check", "--schema", schema.to_str().unwrap(), "--database-url", &file.url()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
}

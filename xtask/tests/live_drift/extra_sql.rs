//! The live gate and `[extra_sql]`: the example schema with the team's own view, function,
//! trigger and policy, against real Postgres databases and real SQLite files made from its DDL
//! and then altered in one way each, reported as one line at the `[extra_sql]` file that makes
//! the object. The gate is called as a library, as in `rls.rs`.

use super::*;

const POSTGRES_SQL: &str = "-- The team's reports and rules.
CREATE VIEW tune_titles AS SELECT id, title FROM tune WHERE NOT deleted;

CREATE FUNCTION tune_count(account uuid) RETURNS bigint
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM tune WHERE user_id = account $$;

CREATE FUNCTION tune_title_trimmed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.title := btrim(NEW.title);
  RETURN NEW;
END
$$;

CREATE TRIGGER tune_title_trimmed BEFORE INSERT OR UPDATE OF title ON tune
  FOR EACH ROW EXECUTE FUNCTION tune_title_trimmed();

CREATE POLICY tune_support_read ON tune FOR SELECT
  USING (current_setting('app.support', true) = 'on');
";

const DEVICE_SQL: &str = "CREATE VIEW tune_titles AS SELECT id, title FROM tune WHERE NOT deleted;

CREATE TRIGGER tune_title_required BEFORE INSERT ON tune WHEN trim(NEW.title) = ''
BEGIN
  SELECT RAISE(ABORT, 'a tune needs a title');
END;
";

const SERVER_SQL: &str = "CREATE VIEW tune_count AS SELECT count(*) AS tunes FROM tune;\n";

const EXTRA: &str = "\n[extra_sql]\npostgres = [\"sql/pg.sql\"]\nsqlite = [\"sql/device.sql\"]\n\
    sqlite_server = [\"sql/server.sql\"]\n";

/// The example schema with `[extra_sql]` and its files, written where the gate can read them.
struct ExtraSchema {
    _dir: tempfile::TempDir,
    path: PathBuf,
    files: codegen::Files,
}

impl ExtraSchema {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("schema.toml");
        std::fs::write(&path, schema_text() + EXTRA).unwrap();
        std::fs::create_dir(dir.path().join("sql")).unwrap();
        for (file, sql) in [("pg", POSTGRES_SQL), ("device", DEVICE_SQL), ("server", SERVER_SQL)] {
            std::fs::write(dir.path().join(format!("sql/{file}.sql")), sql).unwrap();
        }
        let schema = codegen::load_in("schema.toml", &(schema_text() + EXTRA), dir.path());
        let files = codegen::generate(&schema.unwrap());
        ExtraSchema { _dir: dir, path, files }
    }

    fn ddl(&self, file: &str) -> &str {
        &self.files[&format!("sql/{file}")]
    }

    /// `schema.toml:line:col` of an `[extra_sql]` path.
    fn listed_at(&self, path: &str) -> String {
        let text = schema_text() + EXTRA;
        position(&text, text.find(&format!("\"{path}\"")).unwrap())
    }

    /// The gate's difference lines on `url`, and its whole report.
    fn check(&self, url: &str) -> (Vec<String>, String) {
        let outcome = codegen_db::live::gate(&self.path, url, "public").unwrap();
        let codegen_db::live::Outcome::Report(report) = outcome else {
            panic!("the schema with extra_sql is valid")
        };
        let out = report.render();
        (out.lines().filter(|l| l.contains(": error[")).map(str::to_owned).collect(), out)
    }
}

#[test]
fn postgres_with_extra_sql_made_from_the_ddl_has_no_drift() {
    let schema = ExtraSchema::new();
    assert!(schema.ddl("postgres.sql").contains("-- extra_sql: sql/pg.sql\n-- The team's"));
    let db = PgDb::with(schema.ddl("postgres.sql"));
    let (lines, out) = schema.check(&db.url());
    assert!(lines.is_empty(), "{out}");
}

#[test]
fn postgres_reports_each_extra_sql_alteration_as_exactly_one_difference() {
    let schema = ExtraSchema::new();
    let at = schema.listed_at("sql/pg.sql");
    let cases = [
        (
            "edit the view",
            "CREATE OR REPLACE VIEW tune_titles AS SELECT id, title FROM tune",
            format!("{at}: error[changed_view]: view tune_titles is AS SELECT "),
        ),
        (
            "drop the view",
            "DROP VIEW tune_titles",
            format!("{at}: error[missing_view]: view tune_titles is missing from the database: "),
        ),
        (
            "add a view",
            "CREATE VIEW scratch AS SELECT 1 AS one",
            "schema.toml: error[extra_view]: view scratch is in the database but not in \
             schema.toml: AS SELECT 1 AS one;"
                .to_owned(),
        ),
        (
            "edit a function",
            "CREATE OR REPLACE FUNCTION tune_count(account uuid) RETURNS bigint \
             LANGUAGE sql STABLE AS $$ SELECT 0::bigint $$",
            format!("{at}: error[changed_function]: function tune_count(uuid) is RETURNS bigint "),
        ),
        (
            "drop the trigger",
            "DROP TRIGGER tune_title_trimmed ON tune",
            format!(
                "{at}: error[missing_trigger]: trigger tune_title_trimmed on tune is missing from \
                 the database: CREATE TRIGGER tune_title_trimmed BEFORE INSERT OR UPDATE OF title \
                 ON tune FOR EACH ROW EXECUTE FUNCTION tune_title_trimmed()"
            ),
        ),
        (
            "widen the policy",
            "ALTER POLICY tune_support_read ON tune USING (true)",
            format!(
                "{at}: error[changed_policy]: policy tune_support_read on tune is PERMISSIVE FOR \
                 SELECT TO public USING (true) in the database, "
            ),
        ),
    ];
    for (case, alteration, expected) in cases {
        let db = PgDb::with(&format!("{}\n{alteration}", schema.ddl("postgres.sql")));
        let (lines, out) = schema.check(&db.url());
        assert_eq!(lines.len(), 1, "{case}:\n{out}");
        assert!(lines[0].starts_with(&expected), "{case}: {} is not {expected}...", lines[0]);
    }
}

#[test]
fn sqlite_reports_an_edited_view_and_a_dropped_trigger_on_devices() {
    let schema = ExtraSchema::new();
    let device = SqliteFile::new(schema.ddl("sqlite.sql"), "");
    let (lines, out) = schema.check(&device.url());
    assert!(lines.is_empty(), "{out}");
    let at = schema.listed_at("sql/device.sql");
    let cases = [
        (
            "edit the view",
            "DROP VIEW tune_titles; CREATE VIEW tune_titles AS SELECT id, title FROM tune;",
            format!(
                "{at}: error[changed_view]: view tune_titles is CREATE VIEW tune_titles AS SELECT \
                 id, title FROM tune in the database, CREATE VIEW tune_titles AS SELECT id, title \
                 FROM tune WHERE NOT deleted from schema.toml"
            ),
        ),
        (
            "drop the trigger",
            "DROP TRIGGER tune_title_required",
            format!(
                "{at}: error[missing_trigger]: trigger tune_title_required on tune is missing \
                 from the database: CREATE TRIGGER tune_title_required BEFORE INSERT ON tune WHEN \
                 trim(NEW.title) = '' BEGIN SELECT RAISE(ABORT, 'a tune needs a title'); END"
            ),
        ),
    ];
    for (case, alteration, expected) in cases {
        let file = SqliteFile::new(schema.ddl("sqlite.sql"), alteration);
        let (lines, out) = schema.check(&file.url());
        assert_eq!(lines, vec![expected], "{case}:\n{out}");
    }
}

#[test]
fn sqlite_compares_the_embedded_servers_file_with_its_own_extra_sql() {
    let schema = ExtraSchema::new();
    let server = SqliteFile::new(schema.ddl("sqlite-server.sql"), "");
    let (lines, out) = schema.check(&server.url());
    assert!(lines.is_empty(), "{out}");
    let edited = SqliteFile::new(
        schema.ddl("sqlite-server.sql"),
        "DROP VIEW tune_count; CREATE VIEW tune_count AS SELECT 0 AS tunes;",
    );
    let (lines, out) = schema.check(&edited.url());
    let at = schema.listed_at("sql/server.sql");
    assert_eq!(lines.len(), 1, "{out}");
    assert!(
        lines[0].starts_with(&format!("{at}: error[changed_view]: view tune_count is ")),
        "{out}"
    );
}

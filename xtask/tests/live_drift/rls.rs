//! The live gate and `[postgres] rls`: the example schema with row-level security on, against
//! real Postgres databases made from its DDL and then altered in one way each (a policy dropped,
//! added, changed or renamed, row security turned off or unforced), reported as one line.
//!
//! The gate is called as a library here, the command line being the same code: a test that
//! runs the `xtask` binary builds `xtask-db` on the way, which a shared target directory makes
//! slow and lets another checkout's build replace.

use super::*;

/// The example schema with row-level security, written where the gate can read it.
struct RlsSchema {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

const RLS: &str = "\n[postgres]\n\
    rls = { user = \"nullif(current_setting('request.jwt.claim.sub', true), '')\", force = true }\n";

impl RlsSchema {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("schema.toml");
        std::fs::write(&path, schema_text() + RLS).unwrap();
        RlsSchema { _dir: dir, path }
    }

    fn ddl(&self) -> String {
        let schema = codegen::load("schema.toml", &(schema_text() + RLS)).unwrap();
        codegen::generate(&schema).remove("sql/postgres.sql").unwrap()
    }

    /// The gate's difference lines on `url`, and its whole report.
    fn check(&self, url: &str) -> (Vec<String>, String) {
        let outcome = codegen_db::live::gate(&self.path, url, "public").unwrap();
        let codegen_db::live::Outcome::Report(report) = outcome else {
            panic!("the schema with rls is valid")
        };
        let out = report.render();
        (out.lines().filter(|l| l.contains(": error[")).map(str::to_owned).collect(), out)
    }
}

/// The example schema's policy on who reads a note, as Postgres prints it.
const NOTE_SELECT: &str = "PERMISSIVE FOR SELECT TO public USING ((user_id = ( SELECT \
    (NULLIF(current_setting('request.jwt.claim.sub'::text, true), ''::text))::uuid AS \"nullif\")))";

#[test]
fn postgres_with_rls_made_from_the_ddl_has_no_drift() {
    let schema = RlsSchema::new();
    let db = PgDb::with(&schema.ddl());
    let (lines, out) = schema.check(&db.url());
    assert!(lines.is_empty(), "{out}");
    assert!(out.starts_with("ok: "), "{out}");
}

#[test]
fn postgres_reports_each_policy_alteration_as_exactly_one_difference() {
    let note = table_at("note");
    let cases = [
        (
            "drop a policy",
            "DROP POLICY _sync_select ON note".to_owned(),
            format!(
                "{note}: error[missing_policy]: policy _sync_select on note is missing from the \
                 database: {NOTE_SELECT}"
            ),
        ),
        (
            "add a policy",
            "CREATE POLICY everyone ON note FOR SELECT USING (true)".to_owned(),
            format!(
                "{note}: error[extra_policy]: policy everyone on note is in the database but not \
                 in schema.toml: PERMISSIVE FOR SELECT TO public USING (true)"
            ),
        ),
        (
            "change a policy",
            "DROP POLICY _sync_select ON note; \
             CREATE POLICY _sync_select ON note FOR SELECT USING (true)"
                .to_owned(),
            format!(
                "{note}: error[changed_policy]: policy _sync_select on note is PERMISSIVE FOR \
                 SELECT TO public USING (true) in the database, {NOTE_SELECT} from schema.toml"
            ),
        ),
        (
            "rename a policy",
            "ALTER POLICY _sync_select ON note RENAME TO note_read".to_owned(),
            format!(
                "{note}: error[renamed_policy]: policy _sync_select on note is named note_read in \
                 the database"
            ),
        ),
        (
            "stop forcing row security",
            "ALTER TABLE note NO FORCE ROW LEVEL SECURITY".to_owned(),
            format!(
                "{note}: error[changed_row_security]: row-level security on note is enabled in \
                 the database, enabled and forced from schema.toml"
            ),
        ),
        (
            "disable row security",
            "ALTER TABLE note DISABLE ROW LEVEL SECURITY".to_owned(),
            format!(
                "{note}: error[changed_row_security]: row-level security on note is off in the \
                 database, enabled and forced from schema.toml"
            ),
        ),
    ];
    let schema = RlsSchema::new();
    for (case, alteration, expected) in cases {
        let db = PgDb::with(&format!("{}\n{alteration}", schema.ddl()));
        let (lines, out) = schema.check(&db.url());
        assert_eq!(lines, vec![expected], "{case}:\n{out}");
    }
}

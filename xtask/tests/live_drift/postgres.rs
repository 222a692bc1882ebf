//! The live gate against real Postgres databases: each case one alteration (a rename of a key,
//! index or check included), reported as exactly one line.

use super::*;

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
            "rename a foreign key",
            "ALTER TABLE tune RENAME CONSTRAINT tune_genre_id_fkey TO tune_genre_fkey",
            format!(
                "{}: error[renamed_foreign_key]: foreign key tune_genre_id_fkey on tune is named \
                 tune_genre_fkey in the database",
                at("\"genre.id\", on_delete = \"set null\"", 0)
            ),
        ),
        (
            "rename the primary key",
            "ALTER TABLE genre RENAME CONSTRAINT genre_pkey TO genre_pk",
            format!(
                "{}: error[renamed_primary_key]: primary key genre_pkey on genre is named \
                 genre_pk in the database",
                table_at("genre")
            ),
        ),
        (
            "rename a unique constraint",
            "ALTER TABLE tag RENAME CONSTRAINT tag_user_tune_label_key TO tag_label_key",
            format!(
                "{}: error[renamed_unique]: unique constraint tag_user_tune_label_key on tag is \
                 named tag_label_key in the database",
                at("{ columns = [\"user_id\", \"tune_id\", \"label\"]", 0)
            ),
        ),
        (
            "rename a check",
            "ALTER TABLE tune RENAME CONSTRAINT tune_title_not_blank TO tune_title_nonblank",
            format!(
                "{}: error[renamed_check]: check tune_title_not_blank on tune is named \
                 tune_title_nonblank in the database",
                at("{ name = \"tune_title_not_blank\"", 0)
            ),
        ),
        (
            "rename an index",
            "ALTER INDEX tune_genre_title_idx RENAME TO tune_by_genre_idx",
            format!(
                "{}: error[renamed_index]: index tune_genre_title_idx on tune is named \
                 tune_by_genre_idx in the database",
                at("{ columns = [\"genre_id\", \"title\"]", 0)
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

//! The live gate against real SQLite files: each case one alteration (a rename of a key, index
//! or check included), reported as exactly one line; the sync machinery is ignored.

use super::*;

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
            "rename a foreign key",
            tune_edited("CONSTRAINT \"tune_genre_id_fkey\"", "CONSTRAINT \"tune_genre_fkey\""),
            "",
            format!(
                "{}: error[renamed_foreign_key]: foreign key tune_genre_id_fkey on tune is named \
                 tune_genre_fkey in the database",
                at("\"genre.id\", on_delete = \"set null\"", 0)
            ),
        ),
        (
            "rename the primary key",
            tune_edited("CONSTRAINT \"tune_pkey\"", "CONSTRAINT \"tune_pk\""),
            "",
            format!(
                "{}: error[renamed_primary_key]: primary key tune_pkey on tune is named tune_pk \
                 in the database",
                table_at("tune")
            ),
        ),
        (
            "rename a check",
            tune_edited(
                "CONSTRAINT \"tune_title_not_blank\"",
                "CONSTRAINT \"tune_title_nonblank\"",
            ),
            "",
            format!(
                "{}: error[renamed_check]: check tune_title_not_blank on tune is named \
                 tune_title_nonblank in the database",
                at("{ name = \"tune_title_not_blank\"", 0)
            ),
        ),
        (
            "unname a check",
            tune_edited("CONSTRAINT \"tune_title_not_blank\" CHECK", "CHECK"),
            "",
            format!(
                "{}: error[renamed_check]: check tune_title_not_blank on tune is unnamed in the \
                 database",
                at("{ name = \"tune_title_not_blank\"", 0)
            ),
        ),
        (
            "rename an index",
            generated.clone(),
            "DROP INDEX tune_genre_title_idx; \
             CREATE INDEX \"tune_by_genre_idx\" ON \"tune\" (\"genre_id\", \"title\")",
            format!(
                "{}: error[renamed_index]: index tune_genre_title_idx on tune is named \
                 tune_by_genre_idx in the database",
                at("{ columns = [\"genre_id\", \"title\"]", 0)
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

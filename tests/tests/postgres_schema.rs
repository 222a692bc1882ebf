//! The generated Postgres DDL on a real Postgres database, read back through `pg_catalog`
//! (`pg_attribute`, `pg_constraint`, `pg_index`, `col_description`/`obj_description`) and
//! compared with the IR, for the example schema and every test schema; then the constraints
//! are shown to reject bad rows. Synced tables also carry the sync machinery (a cursor column,
//! its index and two triggers, `pg_sync_machinery.rs` shows what they do) and unsynced ones none.

use codegen::ir::{FkAction, Schema, SyncScope, Table};
use integration_tests::pg::{self, TestDb};
use integration_tests::wire::{
    assert_default, expected_default, postgres_has_check, postgres_type,
};
use integration_tests::{ddl, example_schema, schemas_under_test};
use postgres::error::SqlState;

#[test]
fn every_schema_reads_back_as_its_ir() {
    for (name, schema) in schemas_under_test() {
        let mut db = TestDb::new();
        db.batch_execute(&ddl(&schema).1)
            .unwrap_or_else(|e| panic!("{name}: Postgres rejects the DDL: {e}"));
        check_schema(&name, &schema, &mut db);
    }
}

fn check_schema(name: &str, schema: &Schema, db: &mut TestDb) {
    let actual: Vec<String> = db
        .query(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let pg_tables = || schema.tables.iter().filter(|t| t.targets.postgres);
    let mut expected: Vec<String> = pg_tables().map(|t| t.name.clone()).collect();
    if pg_tables().any(Table::is_synced) {
        expected.extend([TOMBSTONE.into(), PRUNED.into()]);
    }
    expected.sort();
    assert_eq!(actual, expected, "{name}: tables");
    for table in pg_tables() {
        let what = format!("{name}: table {}", table.name);
        check_columns(&what, table, db);
        check_constraints(&what, table, db);
        check_indexes(&what, table, db);
        check_comments(&what, table, db);
        check_triggers(&what, table, db);
    }
}

/// The sync machinery's cursor column, tombstone table and the record of pruned tombstones.
const CURSOR: &str = "_sync_xid";
const TOMBSTONE: &str = "_sync_tombstone";
const PRUNED: &str = "_sync_pruned";

/// The table's oid, for catalog queries.
const OID: &str = "to_regclass(quote_ident($1))";

/// Names, types, nullability and defaults (evaluated in the column's type, not compared as
/// text).
fn check_columns(what: &str, table: &Table, db: &mut TestDb) {
    let rows = db
        .query(
            &format!(
                "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull, \
                 pg_get_expr(d.adbin, d.adrelid) \
                 FROM pg_attribute a \
                 LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
                 WHERE a.attrelid = {OID} AND a.attnum > 0 AND NOT a.attisdropped \
                 ORDER BY a.attnum"
            ),
            &[&table.name],
        )
        .unwrap();
    let actual: Vec<(String, String, bool)> =
        rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect();
    let mut expected: Vec<(String, String, bool)> = table
        .columns
        .iter()
        .map(|c| (c.name.clone(), postgres_type(c).to_owned(), !c.nullable))
        .collect();
    if table.is_synced() {
        expected.push((CURSOR.into(), "xid8".into(), true));
        let default: Option<String> = rows.last().unwrap().get(3);
        assert_eq!(default.as_deref(), Some("pg_current_xact_id()"), "{what}: cursor default");
    }
    assert_eq!(actual, expected, "{what}: columns (name, type, not null)");

    for (col, row) in table.columns.iter().zip(&rows) {
        let default: Option<String> = row.get(3);
        match (expected_default(col), default) {
            (None, None) => {}
            (None, Some(d)) => panic!("{what}: column {} has an unexpected default {d}", col.name),
            (Some(_), None) => panic!("{what}: column {} has no default", col.name),
            (Some(expected), Some(default)) => {
                let sql = format!(
                    "SELECT {} FROM (SELECT ({default})::{} AS \"{}\") AS d",
                    pg::read_expr(col),
                    postgres_type(col),
                    col.name
                );
                let row = db.query_one(&sql, &[]).unwrap_or_else(|e| panic!("{sql}: {e}"));
                let value = pg::decode(col, &row, 0);
                assert_default(&format!("{what}.{}", col.name), &expected, &value);
            }
        }
    }
}

/// `(name, kind, columns, referenced table, referenced columns, on delete, on update)`.
type Constraint = (String, String, Vec<String>, String, Vec<String>, String, String);

fn check_constraints(what: &str, table: &Table, db: &mut TestDb) {
    let names = |key: &str, rel: &str| {
        format!(
            "ARRAY(SELECT a.attname::text FROM unnest(c.{key}) WITH ORDINALITY k(n, i) \
             JOIN pg_attribute a ON a.attrelid = c.{rel} AND a.attnum = k.n ORDER BY k.i)"
        )
    };
    let sql = format!(
        "SELECT c.conname::text, c.contype::text, {}, \
         coalesce((SELECT relname::text FROM pg_class WHERE oid = c.confrelid), ''), {}, \
         c.confdeltype::text, c.confupdtype::text \
         FROM pg_constraint c WHERE c.conrelid = {OID} AND c.contype IN ('p', 'u', 'f', 'c') \
         ORDER BY c.conname",
        names("conkey", "conrelid"),
        names("confkey", "confrelid"),
    );
    let actual: Vec<Constraint> = db
        .query(&sql, &[&table.name])
        .unwrap()
        .iter()
        .map(|r| {
            let conkey: Vec<String> = r.get(2);
            let kind: String = r.get(1);
            // A table CHECK's columns are whatever its expression mentions, which the IR does
            // not record; its name and its effect (tested below) are what count.
            let table_check =
                kind == "c" && table.checks.iter().any(|c| c.name == r.get::<_, String>(0));
            let (delete, update): (String, String) = (r.get(5), r.get(6));
            let fk = kind == "f";
            (
                r.get(0),
                kind,
                if table_check { Vec::new() } else { conkey },
                r.get(3),
                r.get(4),
                if fk { delete } else { String::new() },
                if fk { update } else { String::new() },
            )
        })
        .collect();

    let plain = |name: &str, kind: &str, cols: &[String]| -> Constraint {
        (
            name.into(),
            kind.into(),
            cols.to_vec(),
            String::new(),
            Vec::new(),
            String::new(),
            String::new(),
        )
    };
    let mut expected: Vec<Constraint> =
        vec![plain(&table.primary_key.name, "p", &table.primary_key.columns)];
    // A live-only key is a partial unique index, not a constraint: see check_indexes.
    let constraints = table.uniques.iter().filter(|u| !u.live_only);
    expected.extend(constraints.map(|u| plain(&u.name, "u", &u.columns)));
    expected.extend(table.checks.iter().map(|c| plain(&c.name, "c", &[])));
    expected.extend(
        table
            .columns
            .iter()
            .filter(|c| postgres_has_check(c))
            .map(|c| plain(&c.check_name, "c", std::slice::from_ref(&c.name))),
    );
    expected.extend(table.foreign_keys.iter().map(|fk| {
        (
            fk.name.clone(),
            "f".into(),
            fk.columns.clone(),
            fk.ref_table.clone(),
            fk.ref_columns.clone(),
            action_code(fk.on_delete).into(),
            action_code(fk.on_update).into(),
        )
    }));
    expected.sort();
    assert_eq!(actual, expected, "{what}: constraints");
}

/// `pg_constraint.confdeltype`/`confupdtype` of an action.
fn action_code(action: Option<FkAction>) -> &'static str {
    match action {
        None | Some(FkAction::NoAction) => "a",
        Some(FkAction::Restrict) => "r",
        Some(FkAction::Cascade) => "c",
        Some(FkAction::SetNull) => "n",
        Some(FkAction::SetDefault) => "d",
    }
}

/// `(name, unique, [(column, descending)], predicate)`.
type IndexInfo = (String, bool, Vec<(String, bool)>, Option<String>);

/// Indexes other than those behind PRIMARY KEY and UNIQUE constraints.
fn check_indexes(what: &str, table: &Table, db: &mut TestDb) {
    let sql = format!(
        "SELECT ic.relname::text, ix.indisunique, \
         ARRAY(SELECT a.attname::text FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(n, i) \
               JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.n ORDER BY k.i), \
         ARRAY(SELECT (o & 1) = 1 FROM unnest(ix.indoption::int2[]) WITH ORDINALITY k(o, i) \
               ORDER BY k.i), \
         pg_get_expr(ix.indpred, ix.indrelid) \
         FROM pg_index ix JOIN pg_class ic ON ic.oid = ix.indexrelid \
         WHERE ix.indrelid = {OID} \
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid) \
         ORDER BY ic.relname"
    );
    let actual: Vec<IndexInfo> = db
        .query(&sql, &[&table.name])
        .unwrap()
        .iter()
        .map(|r| {
            let cols: Vec<String> = r.get(2);
            let desc: Vec<bool> = r.get(3);
            let predicate: Option<String> = r.get(4);
            (r.get(0), r.get(1), cols.into_iter().zip(desc).collect(), predicate.map(normalize))
        })
        .collect();
    let mut expected: Vec<IndexInfo> = table
        .indexes
        .iter()
        .map(|i| {
            let cols = i.columns.iter().map(|c| (c.name.clone(), c.descending)).collect();
            (i.name.clone(), i.unique, cols, i.predicate.clone().map(normalize))
        })
        .collect();
    // Live-only unique keys: unique indexes over the rows whose soft-delete flag is off.
    for unique in table.uniques.iter().filter(|u| u.live_only) {
        let deleted = table.sync.deleted.as_deref().expect("live-only keys need a deleted column");
        let column = table.columns.iter().find(|c| c.name == deleted).expect("the deleted column");
        let off = if column.storage.stored_as.is_some() { "0" } else { "false" };
        let cols = unique.columns.iter().map(|c| (c.clone(), false)).collect();
        expected.push((unique.name.clone(), true, cols, Some(format!("{deleted}={off}"))));
    }
    if table.is_synced() {
        // Pull's index: whose the row is (owner, or the parent reference of a `via:` table),
        // then the cursor, then the rest of the primary key for keyed pages.
        let scope = match &table.scope {
            SyncScope::Via { column, .. } => Some(column),
            _ => table.sync.owner.as_ref(),
        };
        let mut cols: Vec<String> = scope.into_iter().cloned().collect();
        cols.push(CURSOR.into());
        for key in &table.primary_key.columns {
            if !cols.contains(key) {
                cols.push(key.clone());
            }
        }
        let cols = cols.into_iter().map(|c| (c, false)).collect();
        expected.push((format!("_sync_{}_idx", table.name), false, cols, None));
    }
    expected.sort();
    assert_eq!(actual, expected, "{what}: indexes (name, unique, columns, predicate)");
}

/// A predicate without the parentheses, quotes and spacing Postgres adds when it prints one.
fn normalize(sql: String) -> String {
    sql.chars().filter(|c| !matches!(c, '(' | ')' | '"') && !c.is_whitespace()).collect()
}

fn check_comments(what: &str, table: &Table, db: &mut TestDb) {
    let comment: Option<String> = db
        .query_one(&format!("SELECT obj_description({OID}, 'pg_class')"), &[&table.name])
        .unwrap()
        .get(0);
    assert_eq!(comment, table.comment, "{what}: table comment");
    let actual: Vec<(String, Option<String>)> = db
        .query(
            &format!(
                "SELECT attname::text, col_description(attrelid, attnum) FROM pg_attribute \
                 WHERE attrelid = {OID} AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
            ),
            &[&table.name],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let mut expected: Vec<(String, Option<String>)> =
        table.columns.iter().map(|c| (c.name.clone(), c.comment.clone())).collect();
    if let (true, Some((name, comment))) = (table.is_synced(), actual.last()) {
        assert!(comment.as_deref().is_some_and(|c| c.starts_with("Sync cursor")), "{what}");
        expected.push((name.clone(), comment.clone()));
    }
    assert_eq!(actual, expected, "{what}: column comments");
}

/// A synced table's triggers (stamp, deletion, key change, refused TRUNCATE, and for a table
/// whose rows belong to someone the change of hands), with the arguments its deletion records
/// need; none on others. The team's own triggers (`[extra_sql]`) are not the machinery's.
fn check_triggers(what: &str, table: &Table, db: &mut TestDb) {
    let actual: Vec<String> = db
        .query(
            &format!(
                "SELECT pg_get_triggerdef(oid) FROM pg_trigger                  WHERE tgrelid = {OID} AND NOT tgisinternal AND tgname LIKE '\\_sync%' ORDER BY tgname"
            ),
            &[&table.name],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    if !table.is_synced() {
        assert_eq!(actual, Vec::<String>::new(), "{what}: triggers");
        return;
    }
    let on = format!("ON public.{} FOR EACH ROW EXECUTE FUNCTION", table.name);
    let keys = format!("'{{{}}}'", table.primary_key.columns.join(","));
    let owner_arg = match (&table.scope, &table.sync.owner) {
        (SyncScope::Via { .. }, _) => ", ''".to_owned(),
        (_, Some(owner)) => format!(", '{owner}')"),
        (_, None) => ")".to_owned(),
    };
    let mut actual = actual;
    let scope_column = match &table.scope {
        SyncScope::Via { column, .. } => Some(column),
        SyncScope::Owner | SyncScope::OwnerOrPublic => table.sync.owner.as_ref(),
        _ => None,
    };
    if let Some(column) = scope_column {
        let moved = actual.remove(0);
        let trigger = format!(
            "CREATE TRIGGER _sync_move AFTER UPDATE OF {column} ON public.{} FOR EACH ROW WHEN \
             ((old.{column} IS DISTINCT FROM new.{column})) EXECUTE FUNCTION _sync_record_move({keys}, '",
            table.name
        );
        assert!(moved.starts_with(&trigger), "{what}: {moved} is not {trigger}");
    }
    assert_eq!(actual.len(), 4, "{what}: triggers {actual:#?}");
    let record = format!("_sync_record_delete({keys}{owner_arg}");
    // Postgres quotes key columns that are keywords, so only the shape is compared here.
    let rekey = format!(" ON public.{} FOR EACH ROW WHEN (", table.name);
    assert!(
        actual[0].starts_with("CREATE TRIGGER _sync_rekey BEFORE UPDATE OF ")
            && actual[0].contains(&rekey),
        "{what}: {} is not a key-change trigger",
        actual[0]
    );
    assert!(actual[0].contains(&format!("EXECUTE FUNCTION {record}")), "{what}: {}", actual[0]);
    assert_eq!(
        actual[1],
        format!("CREATE TRIGGER _sync_stamp BEFORE INSERT OR UPDATE {on} _sync_stamp()")
    );
    let tombstone = format!("CREATE TRIGGER _sync_tombstone BEFORE DELETE {on} {record}");
    assert!(actual[2].starts_with(&tombstone), "{what}: {} is not {tombstone}", actual[2]);
    assert_eq!(
        actual[3],
        format!(
            "CREATE TRIGGER _sync_truncate BEFORE TRUNCATE ON public.{} FOR EACH STATEMENT \
             EXECUTE FUNCTION _sync_refuse_truncate()",
            table.name
        )
    );
}

const USER: &str = "00000000-0000-4000-8000-000000000001";
const TUNE: &str = "00000000-0000-4000-8000-000000000002";

/// Assert that a statement fails, naming `constraint` when given, with SQLSTATE `code`.
fn rejects(db: &mut TestDb, sql: &str, code: &SqlState, constraint: Option<&str>) {
    let err = match db.batch_execute(sql) {
        Ok(()) => panic!("Postgres accepted `{sql}`"),
        Err(e) => e,
    };
    let db_err = err.as_db_error().unwrap_or_else(|| panic!("`{sql}`: {err}"));
    assert_eq!(db_err.code(), code, "`{sql}` failed with {db_err}");
    assert_eq!(db_err.constraint(), constraint, "`{sql}` failed with {db_err}");
}

#[test]
fn constraints_reject_bad_rows() {
    let mut db = TestDb::new();
    db.batch_execute(&ddl(&example_schema()).1).expect("apply the DDL");
    db.batch_execute(&format!(
        "INSERT INTO user_profile (id, email) VALUES ('{USER}', 'a@example.com');
         INSERT INTO genre (id, name) VALUES ('irish', 'Irish');
         INSERT INTO tune (id, user_id, genre_id, title, composed_on) \
           VALUES ('{TUNE}', '{USER}', 'irish', 'The Kesh', '2024-02-29');"
    ))
    .expect("valid rows are accepted");
    let tune = |column: &str, value: &str| {
        format!("INSERT INTO tune (user_id, title, {column}) VALUES ('{USER}', 'T', {value})")
    };
    let check = SqlState::CHECK_VIOLATION;
    rejects(&mut db, &tune("type", "'bogus'"), &check, Some("tune_type_check"));
    rejects(
        &mut db,
        &tune("composed_on", "'2024-02-30'"),
        &SqlState::DATETIME_FIELD_OVERFLOW,
        None,
    );
    rejects(&mut db, &tune("sync_version", "'many'"), &SqlState::INVALID_TEXT_REPRESENTATION, None);
    rejects(
        &mut db,
        "INSERT INTO tune (user_id, title) VALUES ('00000000-0000-4000-8000-0000000000ff', 'T')",
        &SqlState::FOREIGN_KEY_VIOLATION,
        Some("tune_user_id_fkey"),
    );
    rejects(
        &mut db,
        "INSERT INTO tune (user_id, title) VALUES (NULL, '   ')",
        &check,
        Some("tune_title_not_blank"),
    );
    rejects(&mut db, "INSERT INTO tune (title) VALUES (NULL)", &SqlState::NOT_NULL_VIOLATION, None);
    rejects(
        &mut db,
        &format!("INSERT INTO user_profile (id, settings) VALUES ('{TUNE}', '{{not json')"),
        &SqlState::INVALID_TEXT_REPRESENTATION,
        None,
    );
    rejects(
        &mut db,
        &format!("INSERT INTO user_profile (id, email) VALUES ('{TUNE}', 'a@example.com')"),
        &SqlState::UNIQUE_VIOLATION,
        Some("user_profile_email_key"),
    );
    rejects(
        &mut db,
        &format!(
            "INSERT INTO practice_record (user_id, tune_id, practiced, quality) \
             VALUES ('{USER}', '{TUNE}', '2024-01-01T00:00:00.000Z', 6)"
        ),
        &check,
        Some("practice_record_quality_range"),
    );

    // ON DELETE SET NULL and ON DELETE CASCADE act.
    db.batch_execute("DELETE FROM genre WHERE id = 'irish'").expect("delete a genre");
    let genre: Option<String> = db
        .query_one("SELECT genre_id FROM tune WHERE id = $1::text::uuid", &[&TUNE])
        .unwrap()
        .get(0);
    assert_eq!(genre, None, "ON DELETE SET NULL");
    db.batch_execute(&format!("DELETE FROM user_profile WHERE id = '{USER}'")).expect("delete");
    let tunes: i64 = db.query_one("SELECT count(*) FROM tune", &[]).unwrap().get(0);
    assert_eq!(tunes, 0, "ON DELETE CASCADE removes the user's tunes");
}

//! Row-level security against the sync server (docs/rls.md), on real Postgres: for every scope
//! (`owner`, `owner_or_public`, `public`, and `via:` chains one and two levels deep), the rows a
//! user sees through the generated policies, as a role standing for PostgREST's `authenticated`
//! with the user's claim set, are the rows the sync pull serves them; and every write the
//! policies refuse, the sync server refuses, and every write one accepts, so does the other.

use std::collections::{BTreeMap, BTreeSet};

use integration_tests::pg::TestDb;
use integration_tests::sync::*;
use postgres::error::SqlState;
use serde_json::{Value, json};
use sync_runtime::protocol::{ConstraintKind, ErrorCode, RejectReason};
use sync_runtime::store::postgres::PgStore;

/// Every scope, with the user's id from the claim PostgREST sets (`request.jwt.claim.sub`).
/// Tables are the server's to own: `force = false`, so the sync server, connected as the
/// owner, is not bound by the policies.
const SCHEMA: &str = r#"
[schema]
name = "shelves"
version = 1

[sync]
owner = "user_id"
modified = "at"
deleted = "deleted"

[postgres]
rls = { user = "nullif(current_setting('request.jwt.claim.sub', true), '')", force = false }

[tables.genre]
sync = "public"
[tables.genre.columns]
id = { type = "text", primary_key = true }
at = { type = "timestamp" }

[tables.shelf]
sync = "owner"
deleted = false
deletes = "hard"
[tables.shelf.columns]
id = { type = "uuid", primary_key = true }
user_id = { type = "uuid" }
at = { type = "timestamp" }

[tables.slot]
sync = "via:shelf_id"
deleted = false
deletes = "hard"
[tables.slot.columns]
id = { type = "uuid", primary_key = true }
shelf_id = { type = "uuid", references = "shelf.id", on_delete = "cascade" }
at = { type = "timestamp" }

[tables.book]
sync = "owner_or_public"
[tables.book.columns]
id = { type = "uuid", primary_key = true }
user_id = { type = "uuid", nullable = true }
genre_id = { type = "text", references = "genre.id", nullable = true }
at = { type = "timestamp" }
deleted = { type = "boolean", default = false }

[tables.chapter]
sync = "via:book_id"
[tables.chapter.columns]
id = { type = "uuid", primary_key = true }
book_id = { type = "uuid", references = "book.id", nullable = true }
at = { type = "timestamp" }
deleted = { type = "boolean", default = false }

[tables.page]
sync = "via:chapter_id"
[tables.page.columns]
id = { type = "uuid", primary_key = true }
chapter_id = { type = "uuid", references = "chapter.id" }
at = { type = "timestamp" }
deleted = { type = "boolean", default = false }
"#;

// Row ids. User A's shelf, slot, book, soft-deleted book, chapter and page; user B's; a public
// book with its chapter and page; a chapter with no book and its page; ids for new rows.
const S_A: u32 = 1;
const SL_A: u32 = 2;
const B_A: u32 = 3;
const B_A_DELETED: u32 = 4;
const C_A: u32 = 5;
const P_A: u32 = 6;
const S_B: u32 = 11;
const SL_B: u32 = 12;
const B_B: u32 = 13;
const C_B: u32 = 15;
const P_B: u32 = 16;
const B_P: u32 = 21;
const C_P: u32 = 25;
const P_P: u32 = 26;
const C_N: u32 = 35;
const P_N: u32 = 36;
const NEW: u32 = 100;

#[test]
fn policies_and_the_sync_server_agree_on_reads_and_writes() {
    let server = Server::<PgStore>::with_schema(SCHEMA);
    let role = Authenticated::new(&server.db.postgres());
    let [a, b, c] = [1, 2, 3].map(user);
    seed(&server, &a, &b);

    let genres = [("genre", "irish".to_owned()), ("genre", "jazz".to_owned())];
    let public = [("book", id(B_P)), ("chapter", id(C_P)), ("page", id(P_P))];
    let expected = |own: &[(&'static str, u32)]| -> Keys {
        let own = own.iter().map(|&(table, n)| (table, id(n)));
        keys(genres.iter().cloned().chain(public.iter().cloned()).chain(own))
    };
    let a_owns = [
        ("shelf", S_A),
        ("slot", SL_A),
        ("book", B_A),
        ("book", B_A_DELETED),
        ("chapter", C_A),
        ("page", P_A),
    ];
    let b_owns = [("shelf", S_B), ("slot", SL_B), ("book", B_B), ("chapter", C_B), ("page", P_B)];
    let readers = [(&a, 1, &a_owns[..]), (&b, 2, &b_owns[..]), (&c, 3, &[][..])];
    for (user, n, own) in readers {
        let through_rls = role.read(&server, user);
        let mut device = Device::new(user, n);
        let mut pulled = Rows::new();
        server.catch_up(&mut device, &mut pulled);
        let through_sync = by_table(pulled.into_keys());
        assert_eq!(through_rls, through_sync, "user {user}: RLS (left) and the pull (right)");
        assert_eq!(through_sync, expected(own), "user {user}: the pull (left), expected (right)");
    }

    // B tries each write; the server keeps those it accepts.
    let device = Device::new(&b, 5);
    for write in writes(&a, &b) {
        let by_rls = role.attempt(&server, &b, &write.sql);
        let by_sync = pushed(&server, &device, write.change.clone());
        let what = write.what;
        assert_eq!(
            (by_rls.is_ok(), by_sync.is_ok()),
            (write.accepted, write.accepted),
            "{what}: RLS {by_rls:?}, sync {by_sync:?}\n  SQL: {}\n  change: {}",
            write.sql,
            write.change,
        );
    }
}

/// A's and B's rows of every table, a public book with its chain, and a chapter with no book
/// (which nobody reads) with its page; written as an admin would, bypassing the server.
fn seed(server: &Server<PgStore>, a: &str, b: &str) {
    let t = at(0);
    let [s_a, sl_a, b_a, b_ad, c_a, p_a] = [S_A, SL_A, B_A, B_A_DELETED, C_A, P_A].map(id);
    let [s_b, sl_b, b_b, c_b, p_b] = [S_B, SL_B, B_B, C_B, P_B].map(id);
    let [b_p, c_p, p_p, c_n, p_n] = [B_P, C_P, P_P, C_N, P_N].map(id);
    server.sql(&format!(
        "INSERT INTO genre (id, at) VALUES ('irish', '{t}'), ('jazz', '{t}');
         INSERT INTO shelf (id, user_id, at) VALUES ('{s_a}', '{a}', '{t}'), ('{s_b}', '{b}', '{t}');
         INSERT INTO slot (id, shelf_id, at) VALUES ('{sl_a}', '{s_a}', '{t}'), ('{sl_b}', '{s_b}', '{t}');
         INSERT INTO book (id, user_id, genre_id, at, deleted) VALUES
           ('{b_a}', '{a}', 'irish', '{t}', false), ('{b_ad}', '{a}', NULL, '{t}', true),
           ('{b_b}', '{b}', 'jazz', '{t}', false), ('{b_p}', NULL, 'irish', '{t}', false);
         INSERT INTO chapter (id, book_id, at) VALUES
           ('{c_a}', '{b_a}', '{t}'), ('{c_b}', '{b_b}', '{t}'), ('{c_p}', '{b_p}', '{t}'),
           ('{c_n}', NULL, '{t}');
         INSERT INTO page (id, chapter_id, at) VALUES
           ('{p_a}', '{c_a}', '{t}'), ('{p_b}', '{c_b}', '{t}'), ('{p_p}', '{c_p}', '{t}'),
           ('{p_n}', '{c_n}', '{t}')"
    ));
}

/// One write tried both ways: as `sql` through the policies and as `change` pushed to the
/// server, with the verdict both must give.
struct Write {
    what: &'static str,
    sql: String,
    change: Value,
    accepted: bool,
}

/// B's writes, among A's rows and their own; the accepted ones last, as the server keeps them.
fn writes(a: &str, b: &str) -> Vec<Write> {
    let t = at(10);
    let [s_a, sl_a, b_a, c_a, s_b, sl_b, b_b, c_b, b_p, c_n] =
        [S_A, SL_A, B_A, C_A, S_B, SL_B, B_B, C_B, B_P, C_N].map(id);
    let new = |n: u32| id(NEW + n);
    let refused = |what, sql: String, change| Write { what, sql, change, accepted: false };
    let accepted = |what, sql: String, change| Write { what, sql, change, accepted: true };
    let shelf =
        |id: &str, owner: &str| upsert("shelf", json!({ "id": id, "user_id": owner, "at": t }));
    let book = |id: &str, owner: Option<&str>| {
        upsert("book", json!({ "id": id, "user_id": owner, "at": t, "deleted": false }))
    };
    let chapter = |id: &str, book: Option<&str>| {
        upsert("chapter", json!({ "id": id, "book_id": book, "at": t, "deleted": false }))
    };
    let page = |id: &str, chapter: &str| {
        upsert("page", json!({ "id": id, "chapter_id": chapter, "at": t, "deleted": false }))
    };
    let slot =
        |id: &str, shelf: &str| upsert("slot", json!({ "id": id, "shelf_id": shelf, "at": t }));
    let mut out = vec![
        refused(
            "insert a shelf owned by another user",
            format!("INSERT INTO shelf (id, user_id, at) VALUES ('{}', '{a}', '{t}')", new(1)),
            shelf(&new(1), a),
        ),
        refused(
            "update another user's shelf",
            format!("UPDATE shelf SET at = '{t}' WHERE id = '{s_a}'"),
            shelf(&s_a, b),
        ),
        refused(
            "give one's own shelf to another user",
            format!("UPDATE shelf SET user_id = '{a}', at = '{t}' WHERE id = '{s_b}'"),
            shelf(&s_b, a),
        ),
        refused(
            "delete another user's shelf",
            format!("DELETE FROM shelf WHERE id = '{s_a}'"),
            delete("shelf", json!({ "id": s_a }), &t),
        ),
        refused(
            "insert into a public table",
            format!("INSERT INTO genre (id, at) VALUES ('folk', '{t}')"),
            upsert("genre", json!({ "id": "folk", "at": t })),
        ),
        refused(
            "update a public table",
            format!("UPDATE genre SET at = '{t}' WHERE id = 'irish'"),
            upsert("genre", json!({ "id": "irish", "at": t })),
        ),
        refused(
            "insert a book with no owner (a public one)",
            format!("INSERT INTO book (id, user_id, at) VALUES ('{}', NULL, '{t}')", new(2)),
            book(&new(2), None),
        ),
        refused(
            "take over a public book",
            format!("UPDATE book SET user_id = '{b}', at = '{t}' WHERE id = '{b_p}'"),
            book(&b_p, Some(b)),
        ),
        refused(
            "delete (softly) another user's book",
            format!("UPDATE book SET deleted = true, at = '{t}' WHERE id = '{b_a}'"),
            delete("book", json!({ "id": b_a }), &t),
        ),
        refused(
            "insert a chapter under another user's book",
            format!("INSERT INTO chapter (id, book_id, at) VALUES ('{}', '{b_a}', '{t}')", new(3)),
            chapter(&new(3), Some(&b_a)),
        ),
        refused(
            "insert a chapter under a public book",
            format!("INSERT INTO chapter (id, book_id, at) VALUES ('{}', '{b_p}', '{t}')", new(4)),
            chapter(&new(4), Some(&b_p)),
        ),
        refused(
            "insert a chapter with no book",
            format!("INSERT INTO chapter (id, book_id, at) VALUES ('{}', NULL, '{t}')", new(5)),
            chapter(&new(5), None),
        ),
        refused(
            "insert a chapter that names no book",
            format!("INSERT INTO chapter (id, at) VALUES ('{}', '{t}')", new(9)),
            upsert("chapter", json!({ "id": new(9), "at": t })),
        ),
        refused(
            "update the chapter with no book",
            format!("UPDATE chapter SET at = '{t}' WHERE id = '{c_n}'"),
            chapter(&c_n, None),
        ),
        refused(
            "move another user's chapter under one's own book",
            format!("UPDATE chapter SET book_id = '{b_b}', at = '{t}' WHERE id = '{c_a}'"),
            chapter(&c_a, Some(&b_b)),
        ),
        refused(
            "move one's own chapter under another user's book",
            format!("UPDATE chapter SET book_id = '{b_a}', at = '{t}' WHERE id = '{c_b}'"),
            chapter(&c_b, Some(&b_a)),
        ),
        refused(
            "insert a page under another user's chapter (two levels)",
            format!("INSERT INTO page (id, chapter_id, at) VALUES ('{}', '{c_a}', '{t}')", new(6)),
            page(&new(6), &c_a),
        ),
        refused(
            "insert a page under the chapter with no book",
            format!("INSERT INTO page (id, chapter_id, at) VALUES ('{}', '{c_n}', '{t}')", new(7)),
            page(&new(7), &c_n),
        ),
        refused(
            "insert a slot under another user's shelf",
            format!("INSERT INTO slot (id, shelf_id, at) VALUES ('{}', '{s_a}', '{t}')", new(8)),
            slot(&new(8), &s_a),
        ),
        refused(
            "delete another user's slot",
            format!("DELETE FROM slot WHERE id = '{sl_a}'"),
            delete("slot", json!({ "id": sl_a }), &t),
        ),
    ];
    out.extend([
        accepted(
            "insert one's own shelf",
            format!("INSERT INTO shelf (id, user_id, at) VALUES ('{}', '{b}', '{t}')", new(11)),
            shelf(&new(11), b),
        ),
        accepted(
            "update one's own book",
            format!("UPDATE book SET at = '{t}' WHERE id = '{b_b}'"),
            book(&b_b, Some(b)),
        ),
        accepted(
            "insert a chapter under one's own book",
            format!("INSERT INTO chapter (id, book_id, at) VALUES ('{}', '{b_b}', '{t}')", new(12)),
            chapter(&new(12), Some(&b_b)),
        ),
        accepted(
            "insert a page under one's own chapter (two levels)",
            format!("INSERT INTO page (id, chapter_id, at) VALUES ('{}', '{c_b}', '{t}')", new(13)),
            page(&new(13), &c_b),
        ),
        accepted(
            "delete one's own slot",
            format!("DELETE FROM slot WHERE id = '{sl_b}'"),
            delete("slot", json!({ "id": sl_b }), &t),
        ),
    ]);
    out
}

/// A verdict on a write: accepted, or refused with what the refusing side said.
type Verdict = Result<(), String>;

/// Push `change` alone as `device`: refused when the whole request is refused as forbidden or
/// the change is rejected as forbidden or as a reference to a parent the user may not read.
fn pushed(server: &Server<PgStore>, device: &Device, change: Value) -> Verdict {
    match server.try_push(device, vec![change.clone()]) {
        Err(refusal) if refusal.code() == ErrorCode::Forbidden => Err(refusal.to_string()),
        Err(refusal) => panic!("{change}: refused for another reason than tenancy: {refusal}"),
        Ok(response) => match response.rejected.as_slice() {
            [] => Ok(()),
            [rejected]
                if rejected.reason == RejectReason::Forbidden
                    || rejected.kind == Some(ConstraintKind::ForeignKey) =>
            {
                Err(format!("{rejected:?}"))
            }
            other => panic!("{change}: rejected for another reason than tenancy: {other:?}"),
        },
    }
}

/// Keys by table: each key the primary key values as a JSON array (as [`row_key`] writes it).
type Keys = BTreeMap<String, BTreeSet<String>>;

const TABLES: [&str; 6] = ["genre", "shelf", "slot", "book", "chapter", "page"];

fn key_of(id: &str) -> String {
    json!([id]).to_string()
}

fn keys(rows: impl IntoIterator<Item = (&'static str, String)>) -> Keys {
    by_table(rows.into_iter().map(|(table, id)| (table.to_owned(), key_of(&id))))
}

/// Every table of the schema, with the keys of `rows` (`(table, key)`).
fn by_table(rows: impl IntoIterator<Item = (String, String)>) -> Keys {
    let mut out: Keys = TABLES.iter().map(|t| (t.to_string(), BTreeSet::new())).collect();
    for (table, key) in rows {
        out.get_mut(&table).unwrap_or_else(|| panic!("{table} is not a table")).insert(key);
    }
    out
}

/// A NOLOGIN role standing for PostgREST's `authenticated`, with its grants on every table,
/// made for one test: roles are cluster-wide, so it is named after the test's database and
/// dropped when the test ends. The test's connection role is made a member so that it can
/// `SET ROLE` to it, as PostgREST's authenticator does.
struct Authenticated {
    name: String,
    conn: postgres::Client,
}

impl Authenticated {
    fn new(db: &TestDb) -> Self {
        let name = format!("{}_authenticated", db.name());
        let mut conn = db.connect();
        conn.batch_execute(&format!(
            "CREATE ROLE \"{name}\" NOLOGIN; GRANT \"{name}\" TO CURRENT_USER"
        ))
        .unwrap_or_else(|e| {
            panic!("{e}: TEST_DATABASE_URL's role needs CREATEROLE (`cargo xtask test` gives it)")
        });
        let mut role = Authenticated { name, conn };
        let grants = format!(
            "GRANT USAGE ON SCHEMA public TO \"{n}\"; \
             GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO \"{n}\"",
            n = role.name
        );
        role.conn.batch_execute(&grants).expect("grant the role what `authenticated` has");
        role
    }

    /// A transaction as `user`: `SET LOCAL ROLE` and the claim, local to it, as PostgREST does.
    fn as_user<'c>(
        conn: &'c mut postgres::Client,
        role: &str,
        user: &str,
    ) -> postgres::Transaction<'c> {
        let mut tx = conn.transaction().expect("begin");
        tx.batch_execute(&format!("SET LOCAL ROLE \"{role}\"")).expect("set role");
        tx.execute("SELECT set_config('request.jwt.claim.sub', $1, true)", &[&user])
            .expect("set the claim");
        tx
    }

    /// The keys of every synced table that `user` sees through the policies.
    fn read(&self, server: &Server<PgStore>, user: &str) -> Keys {
        let mut conn = server.db.postgres().connect();
        let mut tx = Self::as_user(&mut conn, &self.name, user);
        let mut rows = Vec::new();
        for table in server.schema.meta.tables.iter().filter(|t| t.is_synced()) {
            let columns: Vec<String> =
                table.primary_key.iter().map(|c| format!("\"{c}\"")).collect();
            let sql = format!(
                "SELECT json_build_array({})::text FROM \"{}\"",
                columns.join(", "),
                table.name
            );
            for row in tx.query(&sql, &[]).unwrap_or_else(|e| panic!("{sql}: {e}")) {
                let key: Value = serde_json::from_str(row.get(0)).expect("JSON");
                rows.push((table.name.to_owned(), key.to_string()));
            }
        }
        tx.rollback().expect("roll back");
        by_table(rows)
    }

    /// Run `sql` as `user` and roll it back: refused when the policies raise 42501
    /// (`insufficient_privilege`, a new row they do not allow) or let it touch no row.
    fn attempt(&self, server: &Server<PgStore>, user: &str, sql: &str) -> Verdict {
        let mut conn = server.db.postgres().connect();
        let mut tx = Self::as_user(&mut conn, &self.name, user);
        match tx.execute(sql, &[]) {
            Ok(0) => Err("no row written".into()),
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) => {
                Err(e.as_db_error().map_or(e.to_string(), |e| e.message().to_owned()))
            }
            Err(e) => panic!("{sql}: failed for another reason than the policies: {e}"),
        }
    }
}

impl Drop for Authenticated {
    fn drop(&mut self) {
        // A failure here must not turn a test's panic into an abort, so it is reported.
        let sql = format!("DROP OWNED BY \"{n}\"; DROP ROLE \"{n}\"", n = self.name);
        if let Err(e) = self.conn.batch_execute(&sql) {
            eprintln!("could not drop the test role {}: {e}", self.name);
        }
    }
}

//! `cargo xtask import` infers sync scopes like a person reading the schema would (issue 15,
//! item 4), on real Postgres: a fixture shaped like a production Supabase app (a fake `auth`
//! schema, owner columns named user_ref, private_for, private_to_user, a profile row owned by
//! its id, catalogs without a clock, two-level `via:` chains, row-level security policies) gets
//! the scope a person would give every table, each explained in the report, and round-trips
//! through import, gen and apply.

use crate::import::{root, round_trip, scope, text};
use crate::support::PgDb;

/// `(table, sync, owner)` of every table of the fixture.
const EXPECTED: [(&str, &str, Option<&str>); 16] = [
    ("user_profile", "owner", Some("id")),
    ("genre", "public", None),
    ("tune_type", "public", None),
    ("genre_tune_type", "public", None),
    ("tune", "owner_or_public", Some("private_for")),
    ("instrument", "owner_or_public", Some("private_to_user")),
    ("playlist", "owner", Some("user_ref")),
    ("playlist_tune", "via:playlist_ref", None),
    ("practice_record", "via:playlist_tune_ref", None),
    ("note", "owner", Some("user_ref")),
    ("note_attachment", "via:note_ref", None),
    ("attachment_thumbnail", "via:attachment_ref", None),
    ("prefs_spaced_repetition", "owner", Some("user_id")),
    ("daily_practice_queue", "none", None),
    ("message", "none", None),
    ("admin_event", "none", None),
];

#[test]
fn a_supabase_apps_scopes_are_inferred_from_keys_and_policies() {
    let fixture = |name: &str| {
        std::fs::read_to_string(root().join("xtask/tests/fixtures").join(name)).unwrap()
    };
    let auth = fixture("supabase_auth.sql");
    let original = PgDb::with(&format!("{auth}{}", fixture("import_supabase.sql")));
    // The foreign keys to auth.users are outside what schema.toml can name, and the policies
    // are the team's: both are kept in the [extra_sql] file import writes beside it, so the
    // round trip keeps them too.
    let (schema, report, written) = round_trip(&original, &auth, false);
    for constraint in [
        "user_profile: foreign key user_profile_id_fkey",
        "tune: foreign key tune_private_for_fkey",
        "note: foreign key note_user_ref_fkey",
        "daily_practice_queue: foreign key daily_practice_queue_user_ref_fkey",
        "message: foreign key message_sender_ref_fkey",
        "message: foreign key message_recipient_ref_fkey",
    ] {
        let line = format!(
            "kept in imported.postgres.sql ([extra_sql]): {constraint} references auth.users, \
             outside the imported schema"
        );
        assert!(report.contains(&line), "`{line}` is not in the report:\n{report}");
    }
    assert!(written.contains("[extra_sql]\npostgres = [\"imported.postgres.sql\"]"), "{written}");
    let actual: Vec<(&str, String, Option<String>)> = EXPECTED
        .iter()
        .map(|(t, _, _)| (*t, scope(&schema, t), schema.table(t).unwrap().sync.owner.clone()))
        .collect();
    let expected: Vec<(&str, String, Option<String>)> =
        EXPECTED.iter().map(|(t, s, o)| (*t, (*s).to_owned(), o.map(str::to_owned))).collect();
    assert_eq!(actual, expected, "{report}");
    assert_eq!(schema.tables.len(), EXPECTED.len());
    // A catalog without a clock is public without one; with one, it would be its clock.
    assert_eq!(schema.table("genre").unwrap().sync.modified, None);
    let playlist = schema.table("playlist").unwrap();
    assert_eq!(playlist.sync.modified.as_deref(), Some("last_modified_at"));
    assert_eq!(playlist.sync.version.as_deref(), Some("sync_version"));
    // What each inference was made from, and why a table is not synced.
    for line in [
        "user table: auth.users (6 foreign key(s) reference it)",
        "inferred: user_profile sync = \"owner\": policy Users manage their own profile \
         compares id with the user's id; the primary key id references auth.users: one row \
         per user",
        "inferred: tune sync = \"owner_or_public\": policies Public or own tunes are visible, \
         Users insert private tunes, Users update private tunes compare private_for with the \
         user's id; private_for references auth.users, the user table",
        "inferred: instrument sync = \"owner_or_public\": private_to_user references \
         user_profile, a profile of the user table",
        "inferred: note sync = \"owner\": policy Users manage their notes compares user_ref \
         with the user's id; user_ref references auth.users, the user table",
        "inferred: prefs_spaced_repetition sync = \"owner\": the primary key user_id \
         references user_profile: one row per user",
        "inferred: playlist_tune sync = \"via:playlist_ref\": playlist_ref references \
         playlist, synced owner; policy Users manage tunes of their playlists reads \
         playlist_ref",
        "inferred: practice_record sync = \"via:playlist_tune_ref\": playlist_tune_ref \
         references playlist_tune, synced via:playlist_ref; policy Users manage their practice \
         records reads playlist_tune_ref",
        "inferred: attachment_thumbnail sync = \"via:attachment_ref\": attachment_ref \
         references note_attachment, synced via:note_ref",
        "inferred: genre sync = \"public\": no owner; policy Anyone reads genres lets everyone \
         read every row (USING (true)) and no policy writes",
        "inferred: tune_type sync = \"public\": no owner; genre_tune_type.tune_type_id \
         references it and genre_tune_type is synced public",
        "not synced: daily_practice_queue: owner user_ref (policy Users read their queue \
         compares user_ref with the user's id; user_ref references auth.users, the user \
         table), but no clock (a NOT NULL timestamp last_modified_at, modified_at or \
         updated_at)",
        "not synced: message: recipient_ref and sender_ref could each own its rows",
        "not synced: admin_event: no owner column, no NOT NULL foreign key to a synced table, \
         no synced table references it, and no policy lets everyone read it",
        "wrote ",
        ": 16 table(s), 13 synced",
    ] {
        assert!(report.contains(line), "missing `{line}` in:\n{report}");
    }
    // The file says it too, above each table's sync line or its header.
    for line in [
        "\n# the primary key user_id references user_profile: one row per user\nsync = \"owner\"\n",
        "\n# not synced: recipient_ref and sender_ref could each own its rows (",
    ] {
        assert!(written.contains(line), "missing `{line}` in:\n{written}");
    }
    // The hand-written policies are kept as they are, with the foreign keys to auth.users (the
    // round trip above compared them through the live gate).
    let kept = "kept in imported.postgres.sql ([extra_sql]): note: policy Users manage their \
                notes FOR ALL USING ((( SELECT auth.uid() AS uid) = user_ref)) WITH CHECK \
                ((( SELECT auth.uid() AS uid) = user_ref))";
    assert!(report.contains(kept), "{report}");
}

#[test]
fn the_user_table_can_be_named() {
    let original = PgDb::with(
        "CREATE TABLE account (id uuid PRIMARY KEY);
         CREATE TABLE doc (
           id uuid PRIMARY KEY,
           author uuid NOT NULL REFERENCES account (id),
           updated_at timestamptz NOT NULL DEFAULT now()
         );",
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("schema.toml");
    let args = ["import", "--database-url", &original.url(), "--out", out.to_str().unwrap()];
    let found = crate::import::xtask(&args);
    let report = text(&found);
    assert!(report.contains("not synced: doc: no owner column"), "{report}");
    let named =
        crate::import::xtask(&[&args[..], &["--force", "--user-table", "account"]].concat());
    let report = text(&named);
    assert_eq!(named.status.code(), Some(0), "{report}");
    for line in [
        "user table: account (--user-table)",
        "inferred: doc sync = \"owner\": author references account, the user table",
    ] {
        assert!(report.contains(line), "missing `{line}` in:\n{report}");
    }
}

//! Every rule with a change that fires it and a nearby change that does not, on pairs of small
//! schema texts; then allowances, versions and the rendered report.

mod live_only;
mod renames;
mod report;

use super::{Class, Report, Rule, Version, compare};

/// The old version of every case: a synced owner table, a synced table that references it and
/// a table no client syncs.
fn base() -> String {
    format!("{HEAD}{TUNE}{LOG}")
}

const HEAD: &str = r#"[schema]
name = "t"
version = 1

[sync]
owner = "user_id"
modified = "modified_at"
deleted = "deleted"

[tables.account]
sync = "owner"
owner = "id"

[tables.account.columns]
id = { type = "uuid", primary_key = true }
deleted = { type = "boolean", default = false }
modified_at = { type = "timestamp", default = "now" }
"#;

const TUNE: &str = r#"
[tables.tune]
sync = "owner"
indexes = [{ columns = ["title"] }]
checks = [{ name = "tune_title_not_blank", expr = "length(title) > 0" }]

[tables.tune.columns]
id = { type = "uuid", primary_key = true }
user_id = { type = "uuid", references = "account.id" }
title = { type = "text" }
kind = { type = "text", values = ["reel", "jig"] }
note = { type = "text", nullable = true }
deleted = { type = "boolean", default = false }
modified_at = { type = "timestamp", default = "now" }
"#;

const LOG: &str = r#"
[tables.log]
[tables.log.columns]
id = { type = "integer", primary_key = true }
line = { type = "text" }
level = { type = "text", values = ["info", "error"] }
"#;

const NOTE: &str = "note = { type = \"text\", nullable = true }\n";
const TUNE_SYNC: &str = "[tables.tune]\nsync = \"owner\"\n";
/// Version 2 that still syncs the clients of version 1.
const OLD_CLIENTS: (&str, &str) = ("version = 1\n", "version = 2\nmin_client_version = 1\n");
const PIECE_SYNC: &str = "[tables.piece]\nrenamed_from = \"tune\"\nsync = \"owner\"\n";
const KIND: &str = "kind = { type = \"text\", values = [\"reel\", \"jig\"] }";
const LOG_ID: &str = "[tables.log.columns]\nid = { type = \"integer\", primary_key = true }\n";
const LEVEL: &str = "level = { type = \"text\", values = [\"info\", \"error\"] }\n";

/// `base` with each `(from, to)` replaced once (`from` must be there), and the version bumped
/// to 2 unless an edit is about the version itself.
pub(super) fn edited(base: &str, edits: &[(&str, &str)]) -> String {
    let mut text = base.to_owned();
    for (from, to) in edits {
        assert!(text.contains(from), "the edit's text is not in the schema: {from}");
        text = text.replacen(from, to, 1);
    }
    if !edits.iter().any(|(from, _)| from.starts_with("version")) {
        text = text.replacen("version = 1\n", "version = 2\n", 1);
    }
    text
}

pub(super) fn report(old: &str, new: &str) -> Report {
    let load = |name: &str, text: &str| {
        crate::load(name, text).unwrap_or_else(|e| panic!("{name}:\n{}", e.render()))
    };
    let (old_schema, new_schema) = (load("old.toml", old), load("schema.toml", new));
    let old = Version { file: "old.toml", text: old, schema: &old_schema };
    let new = Version { file: "schema.toml", text: new, schema: &new_schema };
    compare(old, new).unwrap_or_else(|e| panic!("{}", e.render()))
}

type Edits = &'static [(&'static str, &'static str)];

/// A rule, a change that fires it (with the class it must have) and one that must not, both
/// from `base()` with the `old` edits (most cases have none).
struct Case {
    rule: Rule,
    old: Edits,
    fires: Edits,
    class: Class,
    quiet: Edits,
}

const CASES: &[Case] = &[
    Case {
        rule: Rule::AddTable,
        old: &[],
        fires: &[(
            LEVEL,
            "level = { type = \"text\", values = [\"info\", \"error\"] }\n[tables.tag.columns]\nid = { type = \"text\", primary_key = true }\n",
        )],
        class: Class::Safe,
        // A new column is not a new table.
        quiet: &[(
            NOTE,
            "note = { type = \"text\", nullable = true }\nkey = { type = \"text\", nullable = true }\n",
        )],
    },
    Case {
        rule: Rule::DropTable,
        old: &[],
        fires: &[(LOG, "")],
        class: Class::Breaking,
        quiet: &[("line = { type = \"text\" }\n", "")],
    },
    Case {
        rule: Rule::RenameTable,
        old: &[],
        // Breaking while `min_client_version` admits the old clients (renames.rs: and safe once
        // it does not).
        fires: &[
            (TUNE_SYNC, PIECE_SYNC),
            ("[tables.tune.columns]", "[tables.piece.columns]"),
            (OLD_CLIENTS.0, OLD_CLIENTS.1),
        ],
        class: Class::Breaking,
        // A `renamed_from` the old version does not match is history.
        quiet: &[(TUNE_SYNC, "[tables.tune]\nrenamed_from = \"song\"\nsync = \"owner\"\n")],
    },
    Case {
        rule: Rule::RenameColumn,
        old: &[],
        fires: &[
            (NOTE, "remark = { type = \"text\", nullable = true, renamed_from = \"note\" }\n"),
            (OLD_CLIENTS.0, OLD_CLIENTS.1),
        ],
        class: Class::Breaking,
        quiet: &[(
            NOTE,
            "note = { type = \"text\", nullable = true, renamed_from = \"remark\" }\n",
        )],
    },
    Case {
        rule: Rule::AddNullableColumn,
        old: &[],
        fires: &[(
            NOTE,
            "note = { type = \"text\", nullable = true }\nkey = { type = \"text\", nullable = true }\n",
        )],
        class: Class::Safe,
        quiet: &[(
            NOTE,
            "note = { type = \"text\", nullable = true }\nkey = { type = \"text\", default = \"D\" }\n",
        )],
    },
    Case {
        rule: Rule::AddColumnWithDefault,
        old: &[],
        fires: &[(
            NOTE,
            "note = { type = \"text\", nullable = true }\nkey = { type = \"text\", default = \"D\" }\n",
        )],
        class: Class::Safe,
        quiet: &[(
            NOTE,
            "note = { type = \"text\", nullable = true }\nkey = { type = \"text\", nullable = true, default = \"D\" }\n",
        )],
    },
    Case {
        rule: Rule::AddRequiredColumn,
        old: &[],
        fires: &[(
            NOTE,
            "note = { type = \"text\", nullable = true }\nkey = { type = \"text\" }\n",
        )],
        class: Class::NeedsBackfill,
        quiet: &[(
            NOTE,
            "note = { type = \"text\", nullable = true }\nkey = { type = \"text\", default = \"D\" }\n",
        )],
    },
    Case {
        rule: Rule::DropColumn,
        old: &[],
        fires: &[(NOTE, "")],
        class: Class::Breaking,
        // Column order is not compared.
        quiet: &[
            (NOTE, ""),
            (
                "title = { type = \"text\" }\n",
                "note = { type = \"text\", nullable = true }\ntitle = { type = \"text\" }\n",
            ),
        ],
    },
    Case {
        rule: Rule::ChangeColumnType,
        old: &[],
        fires: &[("line = { type = \"text\" }", "line = { type = \"json\" }")],
        class: Class::Breaking,
        quiet: &[("line = { type = \"text\" }", "line = { type = \"text\", nullable = true }")],
    },
    Case {
        rule: Rule::ChangeColumnStorage,
        old: &[],
        fires: &[(
            "modified_at = { type = \"timestamp\", default = \"now\" }\n\n[tables.log]",
            "modified_at = { type = \"timestamp\", default = \"now\", postgres_type = \"timestamptz\" }\n\n[tables.log]",
        )],
        class: Class::NeedsBackfill,
        quiet: &[(
            "modified_at = { type = \"timestamp\", default = \"now\" }\n\n[tables.log]",
            "modified_at = { type = \"timestamp\", default = \"2026-01-01T00:00:00Z\" }\n\n[tables.log]",
        )],
    },
    Case {
        rule: Rule::ChangeDefault,
        old: &[],
        fires: &[(
            "modified_at = { type = \"timestamp\", default = \"now\" }\n\n[tables.log]",
            "modified_at = { type = \"timestamp\", default = \"2026-01-01T00:00:00Z\" }\n\n[tables.log]",
        )],
        class: Class::Safe,
        // The same default written differently, and a comment, are no change.
        quiet: &[(
            "modified_at = { type = \"timestamp\", default = \"now\" }\n\n[tables.log]",
            "modified_at = { type = \"timestamp\", comment = \"Clock.\", default = \"now\" }\n\n[tables.log]",
        )],
    },
    Case {
        rule: Rule::NullableToNotNull,
        old: &[],
        fires: &[(NOTE, "note = { type = \"text\" }\n")],
        class: Class::Breaking,
        quiet: &[("title = { type = \"text\" }", "title = { type = \"text\", nullable = true }")],
    },
    Case {
        rule: Rule::NotNullToNullable,
        old: &[],
        fires: &[("title = { type = \"text\" }", "title = { type = \"text\", nullable = true }")],
        class: Class::Breaking,
        quiet: &[(NOTE, "note = { type = \"text\" }\n")],
    },
    Case {
        rule: Rule::AddEnumValue,
        old: &[],
        fires: &[(KIND, "kind = { type = \"text\", values = [\"reel\", \"jig\", \"hornpipe\"] }")],
        class: Class::Breaking,
        // Reordering values changes nothing on the wire.
        quiet: &[(KIND, "kind = { type = \"text\", values = [\"jig\", \"reel\"] }")],
    },
    Case {
        rule: Rule::RemoveEnumValue,
        old: &[],
        fires: &[(KIND, "kind = { type = \"text\", values = [\"reel\"] }")],
        class: Class::Breaking,
        quiet: &[(KIND, "kind = { type = \"text\", values = [\"reel\", \"jig\", \"polka\"] }")],
    },
    Case {
        rule: Rule::ChangePrimaryKey,
        old: &[],
        fires: &[
            (LOG_ID, "[tables.log.columns]\nid = { type = \"integer\" }\n"),
            ("[tables.log]\n", "[tables.log]\nprimary_key = [\"id\", \"line\"]\n"),
        ],
        class: Class::Breaking,
        // A new name for the same key is no change of the key.
        quiet: &[("[tables.log]\n", "[tables.log]\nprimary_key_name = \"log_pk\"\n")],
    },
    Case {
        rule: Rule::ChangeSyncScope,
        old: &[],
        fires: &[("[tables.log]\n", "[tables.log]\nsync = \"public\"\n")],
        class: Class::Breaking,
        quiet: &[("[tables.log]\n", "[tables.log]\ncomment = \"Server logs.\"\n")],
    },
    Case {
        rule: Rule::AddHardDeletes,
        old: &[],
        fires: &[(
            TUNE_SYNC,
            "[tables.tune]\nsync = \"owner\"\ndeleted = false\ndeletes = \"hard\"\n",
        )],
        class: Class::Safe,
        quiet: &[(TUNE_SYNC, "[tables.tune]\nsync = \"owner\"\ndeletes = \"soft\"\n")],
    },
    Case {
        rule: Rule::DropHardDeletes,
        old: &[(
            TUNE_SYNC,
            "[tables.tune]\nsync = \"owner\"\ndeleted = false\ndeletes = \"hard\"\n",
        )],
        fires: &[("deletes = \"hard\"\n", "")],
        class: Class::Breaking,
        quiet: &[(NOTE, "")],
    },
    Case {
        rule: Rule::AddIndex,
        old: &[],
        fires: &[(
            "indexes = [{ columns = [\"title\"] }]",
            "indexes = [{ columns = [\"title\"] }, { columns = [\"note\"] }]",
        )],
        class: Class::Safe,
        quiet: &[(
            "indexes = [{ columns = [\"title\"] }]",
            "indexes = [{ columns = [\"title\"] }, { columns = [\"note\"], unique = true }]",
        )],
    },
    Case {
        rule: Rule::DropIndex,
        old: &[],
        fires: &[("indexes = [{ columns = [\"title\"] }]\n", "")],
        class: Class::Safe,
        // The indexes of a dropped table are not reported one by one.
        quiet: &[(TUNE, "")],
    },
    Case {
        rule: Rule::AddUnique,
        old: &[],
        fires: &[(NOTE, "note = { type = \"text\", nullable = true, unique = true }\n")],
        class: Class::NeedsBackfill,
        quiet: &[(
            "indexes = [{ columns = [\"title\"] }]",
            "indexes = [{ columns = [\"title\"] }, { columns = [\"note\"] }]",
        )],
    },
    Case {
        rule: Rule::DropUnique,
        old: &[(
            "indexes = [{ columns = [\"title\"] }]",
            "indexes = [{ columns = [\"title\"], unique = true }]",
        )],
        fires: &[(
            "indexes = [{ columns = [\"title\"], unique = true }]",
            "indexes = [{ columns = [\"title\"] }]",
        )],
        class: Class::Safe,
        quiet: &[(NOTE, "note = { type = \"text\", nullable = true, unique = true }\n")],
    },
    Case {
        rule: Rule::AddCheck,
        old: &[],
        fires: &[("length(title) > 0", "length(title) > 1")],
        class: Class::NeedsBackfill,
        quiet: &[(
            "checks = [{ name = \"tune_title_not_blank\", expr = \"length(title) > 0\" }]\n",
            "",
        )],
    },
    Case {
        rule: Rule::DropCheck,
        old: &[],
        fires: &[(
            "checks = [{ name = \"tune_title_not_blank\", expr = \"length(title) > 0\" }]\n",
            "",
        )],
        class: Class::Safe,
        quiet: &[("length(title) > 0", "length(title) > 1")],
    },
    Case {
        rule: Rule::AddForeignKey,
        old: &[],
        fires: &[(
            "line = { type = \"text\" }",
            "line = { type = \"text\" }\ntune_id = { type = \"uuid\", nullable = true, references = \"tune.id\" }",
        )],
        class: Class::NeedsBackfill,
        quiet: &[(
            "references = \"account.id\" }",
            "references = \"account.id\", on_delete = \"cascade\" }",
        )],
    },
    Case {
        rule: Rule::DropForeignKey,
        old: &[],
        fires: &[(
            "user_id = { type = \"uuid\", references = \"account.id\" }",
            "user_id = { type = \"uuid\" }",
        )],
        class: Class::Safe,
        quiet: &[(
            "references = \"account.id\" }",
            "references = \"account.id\", on_delete = \"cascade\" }",
        )],
    },
    Case {
        rule: Rule::ChangeForeignKeyAction,
        old: &[],
        fires: &[(
            "references = \"account.id\" }",
            "references = \"account.id\", on_delete = \"cascade\" }",
        )],
        class: Class::Safe,
        quiet: &[(
            "user_id = { type = \"uuid\", references = \"account.id\" }",
            "user_id = { type = \"uuid\" }",
        )],
    },
    Case {
        rule: Rule::ChangeTimestampStorage,
        old: &[],
        fires: &[("name = \"t\"\n", "name = \"t\"\ntimestamp_storage = \"integer\"\n")],
        class: Class::NeedsBackfill,
        // Spelling out the default is no change.
        quiet: &[("name = \"t\"\n", "name = \"t\"\ntimestamp_storage = \"text\"\n")],
    },
    Case {
        rule: Rule::VersionNotBumped,
        old: &[],
        fires: &[("version = 1\n", "version = 1\n"), (NOTE, "")],
        class: Class::Mistake,
        // Changes no client sees need no bump: an index, and anything on an unsynced table.
        quiet: &[
            ("version = 1\n", "version = 1\n"),
            ("indexes = [{ columns = [\"title\"] }]\n", ""),
            ("line = { type = \"text\" }\n", ""),
        ],
    },
    Case {
        rule: Rule::VersionDecreased,
        old: &[("version = 1\n", "version = 3\n")],
        fires: &[("version = 3\n", "version = 2\n")],
        class: Class::Mistake,
        quiet: &[("version = 3\n", "version = 4\n")],
    },
    Case {
        rule: Rule::MinClientVersionTooLow,
        old: &[],
        fires: &[("version = 1\n", "version = 2\nmin_client_version = 1\n"), (NOTE, "")],
        class: Class::Mistake,
        // Raised past the old version, the old clients get `upgrade_required` instead.
        quiet: &[("version = 1\n", "version = 2\nmin_client_version = 2\n"), (NOTE, "")],
    },
];

fn rules_of(report: &Report) -> Vec<Rule> {
    report.findings.iter().map(|f| f.rule).collect()
}

#[test]
fn every_rule_fires_on_its_change_with_its_class_and_not_on_a_near_miss() {
    let mut failures = Vec::new();
    for case in CASES {
        let mut old = base();
        for (from, to) in case.old {
            old = old.replacen(from, to, 1);
        }
        let fired = report(&old, &edited(&old, case.fires));
        match fired.findings.iter().find(|f| f.rule == case.rule) {
            None => {
                failures.push(format!("{}: did not fire: {:?}", case.rule.id(), rules_of(&fired)))
            }
            Some(f) if f.class != case.class => failures.push(format!(
                "{}: class {:?}, expected {:?}",
                case.rule.id(),
                f.class,
                case.class
            )),
            Some(_) => {}
        }
        let quiet = report(&old, &edited(&old, case.quiet));
        if rules_of(&quiet).contains(&case.rule) {
            failures.push(format!(
                "{}: fired on its near miss: {:?}",
                case.rule.id(),
                quiet.findings
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn every_rule_has_a_case() {
    let missing: Vec<&str> =
        Rule::ALL.iter().filter(|r| !CASES.iter().any(|c| c.rule == **r)).map(|r| r.id()).collect();
    assert!(missing.is_empty(), "rules without a case: {missing:?}");
    for rule in Rule::ALL {
        assert_eq!(Rule::from_id(rule.id()), Some(rule));
        if rule.class(true) != Class::Safe {
            assert!(rule.recipe().is_some(), "{} has no recipe", rule.id());
        }
    }
}

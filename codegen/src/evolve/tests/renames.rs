//! Renames with `renamed_from`: one finding per rename and nothing else (no drop and add, no
//! derived name reported as changed), breaking while old clients are admitted, safe once
//! `min_client_version` turns them away or when no client syncs the table.

use super::{NOTE, PIECE_SYNC, TUNE_SYNC, base, edited, report, rules_of};
use crate::evolve::{Class, Place, Rule};

const REMARK: &str = "remark = { type = \"text\", nullable = true, renamed_from = \"note\" }\n";

fn renamed(min_client_version: Option<u32>) -> String {
    let mut edits = vec![
        (TUNE_SYNC, PIECE_SYNC),
        ("[tables.tune.columns]", "[tables.piece.columns]"),
        (NOTE, REMARK),
    ];
    let raised;
    if let Some(min) = min_client_version {
        raised = format!("version = 2\nmin_client_version = {min}\n");
        edits.push(("version = 1\n", &raised));
    }
    edited(&base(), &edits)
}

#[test]
fn a_renamed_synced_table_and_column_are_breaking_while_old_clients_are_admitted() {
    let report = report(&base(), &renamed(Some(1)));
    assert_eq!(
        rules_of(&report),
        [Rule::RenameTable, Rule::RenameColumn, Rule::MinClientVersionTooLow],
        "{}",
        report.render()
    );
    let table = &report.findings[0];
    assert_eq!(table.class, Class::Breaking);
    assert_eq!(
        table.message,
        "table `tune` is renamed to `piece`: migrations keep its rows, but `min_client_version` 1 \
         still admits clients of version 1, which push and pull the old name the server no longer \
         knows"
    );
    assert_eq!((table.table.as_deref(), table.column.as_deref()), (Some("piece"), None));
    let column = &report.findings[1];
    assert_eq!(column.class, Class::Breaking);
    assert!(column.message.starts_with("column `piece.note` is renamed to `piece.remark`"));
    let Place::New(span) = &column.place else { panic!("{column:?}") };
    assert!(renamed(Some(1))[span.clone()].starts_with("remark"));
    assert!(!report.passes());
}

#[test]
fn raising_min_client_version_handles_a_rename() {
    for min in [None, Some(2)] {
        let report = report(&base(), &renamed(min));
        assert_eq!(rules_of(&report), [Rule::RenameTable, Rule::RenameColumn], "{min:?}");
        assert!(report.findings.iter().all(|f| f.class == Class::Safe && f.client_visible));
        assert!(report.findings[0].message.contains("get `upgrade_required`"), "{report:?}");
        assert!(report.passes(), "{}", report.render());
    }
    // Clients see it: without a version bump, the gate says so.
    let same = renamed(None).replacen("version = 2\n", "version = 1\n", 1);
    assert!(rules_of(&report(&base(), &same)).contains(&Rule::VersionNotBumped));
}

#[test]
fn a_rename_no_client_syncs_is_safe() {
    let new = edited(
        &base(),
        &[
            (
                "[tables.log]\n[tables.log.columns]",
                "[tables.journal]\nrenamed_from = \"log\"\n[tables.journal.columns]",
            ),
            ("line = { type = \"text\" }", "text = { type = \"text\", renamed_from = \"line\" }"),
        ],
    );
    let report = report(&base(), &new);
    assert_eq!(rules_of(&report), [Rule::RenameTable, Rule::RenameColumn], "{}", report.render());
    assert!(report.findings.iter().all(|f| f.class == Class::Safe && !f.client_visible));
    assert!(report.findings[0].message.ends_with("no client syncs the table"));
}

/// A `renamed_from` kept after its release is history: against the version it came from it
/// says nothing, and a schema that still has it compares with itself as unchanged.
#[test]
fn a_renamed_from_that_no_longer_matches_is_history() {
    let v2 = renamed(None);
    let v3 = v2.replacen("version = 2\n", "version = 3\n", 1);
    let report = report(&v2, &v3);
    assert!(report.findings.is_empty(), "{}", report.render());
}

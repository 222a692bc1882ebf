//! Allowances, classes on tables no client syncs, and the rendered report.

use super::{NOTE, base, edited, report};
use crate::evolve::{Class, Place, Rule, Version, compare};

const ALLOW_NOTE: &str = r#"
[[evolution.allow]]
rule = "drop_column"
table = "tune"
column = "note"
reason = "No released client ever wrote it."
"#;

fn dropped_note() -> String {
    edited(&base(), &[(NOTE, "")])
}

#[test]
fn a_breaking_change_blocks_and_points_at_the_old_file() {
    let report = report(&base(), &dropped_note());
    assert!(!report.passes());
    let [finding] = report.findings.as_slice() else { panic!("{:?}", report.findings) };
    assert_eq!((finding.rule, finding.class), (Rule::DropColumn, Class::Breaking));
    assert_eq!(finding.message, "column `tune.note` is dropped");
    assert_eq!((finding.table.as_deref(), finding.column.as_deref()), (Some("tune"), Some("note")));
    let Place::Removed { old, anchor: Some(_) } = &finding.place else { panic!("{finding:?}") };
    assert!(base()[old.clone()].starts_with("note"), "{old:?}");
}

#[test]
fn an_allowance_lets_its_change_through_with_its_reason() {
    let new = dropped_note() + ALLOW_NOTE;
    let report = report(&base(), &new);
    assert!(report.passes(), "{}", report.render());
    assert_eq!(report.findings[0].allowed.as_deref(), Some("No released client ever wrote it."));
    assert!(report.stale.is_empty());
    // Without `column`, an allowance covers the rule on every column of the table.
    let table_wide = dropped_note() + &ALLOW_NOTE.replace("column = \"note\"\n", "");
    assert!(super::report(&base(), &table_wide).passes());
}

#[test]
fn an_allowance_for_another_column_or_rule_does_not_match_and_is_stale() {
    for (from, to) in
        [("column = \"note\"", "column = \"title\""), ("drop_column", "change_column_type")]
    {
        let new = dropped_note() + &ALLOW_NOTE.replace(from, to);
        let report = report(&base(), &new);
        assert!(!report.passes(), "{to}");
        assert_eq!(report.stale.len(), 1, "{to}");
        assert!(report.findings[0].allowed.is_none());
    }
}

#[test]
fn a_stale_allowance_is_a_warning_not_a_failure() {
    let new = edited(&base(), &[]) + ALLOW_NOTE;
    let report = report(&base(), &new);
    assert!(report.passes());
    assert_eq!(report.stale.len(), 1);
    let text = report.render();
    assert!(text.contains("stale_allowance"), "{text}");
    assert!(
        text.contains("the allowance for `drop_column` on `tune.note` matches no change"),
        "{text}"
    );
    assert!(text.contains("; 1 stale allowance(s)"), "{text}");
    let annotations = report.github_annotations();
    let line = new.lines().position(|l| l == "[[evolution.allow]]").unwrap() + 1;
    assert!(
        annotations.starts_with(&format!(
            "::warning file=schema.toml,line={line},title=stale_allowance::"
        )),
        "{annotations}"
    );
}

#[test]
fn an_allowance_may_name_a_table_only_the_old_version_has() {
    let dropped = edited(&base(), &[(super::LOG, "")]);
    let allow = "\n[[evolution.allow]]\nrule = \"drop_table\"\ntable = \"log\"\nreason = \"Logs moved to the log service.\"\n";
    let report = report(&base(), &(dropped + allow));
    assert!(report.passes(), "{}", report.render());
}

#[test]
fn an_allowance_naming_a_table_in_neither_version_is_invalid() {
    let new = dropped_note() + &ALLOW_NOTE.replace("table = \"tune\"", "table = \"tunes\"");
    let old_text = base();
    let old_schema = crate::load("old.toml", &old_text).unwrap();
    let new_schema = crate::load("schema.toml", &new).unwrap();
    let old = Version { file: "old.toml", text: &old_text, schema: &old_schema };
    let error = compare(old, Version { file: "schema.toml", text: &new, schema: &new_schema })
        .expect_err("invalid allowance");
    assert_eq!(error.problems.len(), 1, "{}", error.render());
    assert_eq!(error.problems[0].code, "schema::unknown_table");
    let line = new.lines().position(|l| l == "[[evolution.allow]]").unwrap() + 1;
    assert!(error.position(&error.problems[0]).starts_with(&format!("schema.toml:{line}:")));
    // A column in neither version (a typo, or a drop already shipped) only makes it stale, and
    // the change it meant still blocks.
    let new = dropped_note() + &ALLOW_NOTE.replace("column = \"note\"", "column = \"notes\"");
    let report = report(&base(), &new);
    assert_eq!((report.passes(), report.stale.len()), (false, 1));
}

#[test]
fn allowances_are_validated_when_the_schema_loads() {
    let cases = [
        (
            "rule = \"drop_column\"",
            "rule = \"drop_colum\"",
            "schema::unknown_rule",
            "did you mean `drop_column`?",
        ),
        (
            "reason = \"No released client ever wrote it.\"",
            "reason = \" \"",
            "schema::empty_reason",
            "say why",
        ),
        ("table = \"tune\"\ncolumn = \"note\"\n", "", "schema::allowance_subject", "add `table"),
        (
            "rule = \"drop_column\"",
            "rule = \"drop_table\"",
            "schema::allowance_subject",
            "remove `column`",
        ),
        (
            "rule = \"drop_column\"\ntable = \"tune\"\ncolumn = \"note\"",
            "rule = \"version_not_bumped\"\ntable = \"tune\"",
            "schema::allowance_subject",
            "remove `table`",
        ),
    ];
    for (from, to, code, help) in cases {
        assert!(ALLOW_NOTE.contains(from), "{from}");
        let text = base() + &ALLOW_NOTE.replacen(from, to, 1);
        let error = crate::load("schema.toml", &text).expect_err(to);
        assert_eq!(error.problems.len(), 1, "{}", error.render());
        assert_eq!(error.problems[0].code, code, "{}", error.render());
        assert!(
            error.problems[0].help.as_deref().unwrap_or_default().contains(help),
            "{}",
            error.render()
        );
    }
    // A reason is required at all: serde says so with the position of the entry.
    let error = crate::load(
        "schema.toml",
        &(base() + &ALLOW_NOTE.replace("reason = \"No released client ever wrote it.\"\n", "")),
    )
    .expect_err("no reason");
    assert!(error.render().contains("missing field `reason`"), "{}", error.render());
}

#[test]
fn client_type_changes_are_safe_on_a_table_no_client_syncs() {
    let new = edited(
        &base(),
        &[
            ("line = { type = \"text\" }", "line = { type = \"text\", nullable = true }"),
            ("values = [\"info\", \"error\"]", "values = [\"info\", \"error\", \"debug\"]"),
        ],
    );
    let report = report(&base(), &new);
    let found: Vec<(Rule, Class, bool)> =
        report.findings.iter().map(|f| (f.rule, f.class, f.client_visible)).collect();
    assert_eq!(
        found,
        [(Rule::NotNullToNullable, Class::Safe, false), (Rule::AddEnumValue, Class::Safe, false)]
    );
}

#[test]
fn the_human_report_groups_by_class_with_snippets_and_a_summary() {
    let new = edited(
        &dropped_note(),
        &[
            ("version = 2\n", "version = 2\n"),
            (
                "title = { type = \"text\" }",
                "title = { type = \"text\" }\nkey = { type = \"text\" }\nbpm = { type = \"integer\", nullable = true }",
            ),
        ],
    );
    let report = report(&base(), &new);
    let text = report.render();
    let order: Vec<usize> =
        ["breaking changes: 1", "changes that need a backfill: 1", "safe changes: 1", "summary:"]
            .iter()
            .map(|heading| text.find(heading).unwrap_or_else(|| panic!("{heading} in:\n{text}")))
            .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
    assert!(text.contains("╭─[old.toml:29:1]"), "{text}");
    assert!(text.contains("removed: this is the old version, old.toml"), "{text}");
    assert!(text.contains("help: expand/contract: stop writing the column"), "{text}");
    assert!(text.contains("╭─[schema.toml:28:1]"), "{text}");
    assert!(
        text.contains(
            "  add_nullable_column: column `tune.bpm` is added, nullable (schema.toml:29:1)"
        ),
        "{text}"
    );
    assert!(text.contains(
        "summary: schema.toml against old.toml: 1 breaking, 0 mistake(s), 1 need(s) a backfill, 1 safe\nerror: 1 change(s)"
    ), "{text}");
}

#[test]
fn github_annotations_are_errors_warnings_and_notices_on_new_lines() {
    let new = edited(
        &dropped_note(),
        &[(
            "title = { type = \"text\" }",
            "title = { type = \"text\" }\nkey = { type = \"text\" }\nbpm = { type = \"integer\", nullable = true }",
        )],
    );
    let annotations = report(&base(), &new).github_annotations();
    let lines: Vec<&str> = annotations.lines().collect();
    assert_eq!(lines.len(), 3, "{annotations}");
    assert_eq!(
        lines[0],
        "::warning file=schema.toml,line=28,title=add_required_column::column `tune.key` is added, NOT NULL without a default: existing rows have no value and older clients do not send one%0Agive it a `default`; or add it nullable, backfill every row, ship clients that send it, then make it NOT NULL"
    );
    assert!(
        lines[1].starts_with("::notice file=schema.toml,line=29,title=add_nullable_column::"),
        "{annotations}"
    );
    // The dropped column is annotated on its table, which the new file still has.
    assert!(
        lines[2].starts_with("::error file=schema.toml,line=19,title=drop_column::column `tune.note` is dropped (removed; it was old.toml:29)%0Aexpand/contract:"),
        "{annotations}"
    );
}

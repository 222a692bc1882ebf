//! Unique keys made live-only and back: what the gate makes of each direction.

use super::{base, edited, report};
use crate::evolve::{Class, Rule};

/// A unique key made live-only still lets in everything it let in: safe, but clients see it
/// (their tables change). The reverse counts soft-deleted rows again, which may already share a
/// value with a live row.
#[test]
fn a_unique_key_made_live_only_is_safe_and_back_needs_the_data_checked() {
    const INDEXES: &str = "indexes = [{ columns = [\"title\"] }]\n";
    let key = |live: &str| {
        format!("{INDEXES}unique = [{{ columns = [\"user_id\", \"title\"]{live} }}]\n")
    };
    let (all_rows, live_rows) = (key(""), key(", live_only = true"));
    let all = edited(&base(), &[(INDEXES, &all_rows)]).replacen("version = 2", "version = 1", 1);
    let live = edited(&base(), &[(INDEXES, &live_rows)]).replacen("version = 2", "version = 1", 1);
    let finding = |old: &str, new: &str| {
        let report = report(old, &edited(new, &[]));
        let unique: Vec<_> = report.findings.iter().filter(|f| f.table.is_some()).collect();
        assert_eq!(unique.len(), 1, "{:#?}", report.findings);
        (unique[0].rule, unique[0].class, unique[0].client_visible, unique[0].message.clone())
    };
    assert_eq!(
        finding(&all, &live),
        (
            Rule::DropUnique,
            Class::Safe,
            true,
            "unique constraint `tune_user_id_title_key` on `tune` (user_id, title) is made \
             live-only: soft-deleted rows no longer count"
                .into()
        )
    );
    assert_eq!(
        finding(&live, &all),
        (
            Rule::AddUnique,
            Class::NeedsBackfill,
            true,
            "unique constraint `tune_user_id_title_key` on `tune` (user_id, title) is extended \
             to soft-deleted rows, which may hold duplicates"
                .into()
        )
    );
    let added = finding(&base(), &live);
    assert_eq!((added.0, added.1), (Rule::AddUnique, Class::NeedsBackfill));
    assert!(added.3.ends_with("(user_id, title) is added, among live rows"), "{}", added.3);
}

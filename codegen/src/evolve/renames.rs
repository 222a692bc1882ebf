//! Tables and columns renamed with `renamed_from`: migrations rename them in place and keep the
//! data, so the server's database loses nothing. Clients of older versions still push and pull
//! the old names (docs/drift.md says why the server does not translate for them), so on a synced
//! table the rename breaks them while `min_client_version` still admits them; once it no longer
//! does, they get `upgrade_required` and the rename is handled: safe, but seen by clients.

use super::{About, Class, Findings, Place, Rule};
use crate::ir::Schema;
use crate::rename::Renamed;

pub(super) fn findings(renamed: &Renamed, old: &Schema, new: &Schema, findings: &mut Findings) {
    let admitted = new.min_client_version <= old.version;
    let clients = |synced: bool, what: &str| match (synced, admitted) {
        (false, _) => format!("migrations keep its {what}, and no client syncs the table"),
        (true, true) => format!(
            "migrations keep its {what}, but `min_client_version` {} still admits clients of \
             version {}, which push and pull the old name the server no longer knows",
            new.min_client_version, old.version
        ),
        (true, false) => format!(
            "migrations keep its {what}; clients of version {} get `upgrade_required` \
             (`min_client_version` {}), and their unsent writes are renamed with their database",
            old.version, new.min_client_version
        ),
    };
    // The class follows from the rule and whether the table is synced, except that raising
    // `min_client_version` past the old version handles the rename for the old clients.
    let handled = |findings: &mut Findings| {
        if !admitted && let Some(last) = findings.0.last_mut() {
            last.class = Class::Safe;
        }
    };
    for rename in &renamed.tables {
        let (Some(was), Some(now)) = (old.table(&rename.from), new.table(&rename.to)) else {
            continue;
        };
        let synced = was.is_synced() || now.is_synced();
        let about = About { table: Some(&now.name), column: None, synced };
        let message = format!(
            "table `{}` is renamed to `{}`: {}",
            rename.from,
            rename.to,
            clients(synced, "rows")
        );
        findings.push(Rule::RenameTable, about, Place::New(now.span.clone()), message);
        handled(findings);
    }
    for rename in &renamed.columns {
        let Some(now) = new.table(&rename.table) else { continue };
        let Some(column) = now.column(&rename.to) else { continue };
        let synced = now.is_synced()
            || old.table(renamed.old_table(&now.name)).is_some_and(|t| t.is_synced());
        let about = About { table: Some(&now.name), column: Some(&column.name), synced };
        let message = format!(
            "column `{table}.{}` is renamed to `{table}.{}`: {}",
            rename.from,
            rename.to,
            clients(synced, "values"),
            table = now.name
        );
        findings.push(Rule::RenameColumn, about, Place::New(column.span.clone()), message);
        handled(findings);
    }
}

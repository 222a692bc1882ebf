//! Row-level security from the sync scopes (`[postgres] rls`, docs/rls.md): for every synced
//! table, `ENABLE` (and `FORCE`) `ROW LEVEL SECURITY` and policies that let a user read and write
//! exactly the rows the sync server lets them read and write.
//!
//! The conditions are those of the server (docs/sync.md): a user reads their own rows, the
//! public rows of an `owner_or_public` table, every row of a `public` one, and a `via:` row when
//! they may read its parent; they write only their own rows and the `via:` rows of parents that
//! are theirs (not public ones). Policies are named `_sync_<command>`: a policy's name is its
//! table's alone, and `_sync` is the machinery's prefix, which no name in `schema.toml` takes.

use minijinja::Value;
use serde::Serialize;

use crate::ir::{Deletes, Rls, Schema, SyncScope, Table};

use super::Dialect;
use super::column::{ident, sql_type};
use super::statement::{StatementKind, Statements};
use super::sync::via_ref_column;

/// One `CREATE POLICY`, as `postgres.jinja`'s `policy` macro writes it.
#[derive(Debug, Serialize)]
pub(crate) struct Policy {
    /// The unquoted name.
    pub name: String,
    /// `SELECT`, `INSERT`, `UPDATE` or `DELETE`.
    pub command: &'static str,
    /// Which existing rows the command sees.
    pub using: Option<String>,
    /// Which new rows it may write.
    pub check: Option<String>,
}

/// The policies `postgres.sql` puts on `table`: none without `rls`, or on a table not synced.
pub(crate) fn table_policies(schema: &Schema, table: &Table) -> Vec<Policy> {
    match &schema.rls {
        Some(rls) if table.is_synced() => policies(schema, table, rls),
        _ => Vec::new(),
    }
}

/// The row security statements of a synced `table`, recorded in `s`; none without `rls`.
pub(super) fn statements(
    schema: &Schema,
    table: &Table,
    t: &Value,
    s: &mut Statements,
) -> Vec<String> {
    let Some(rls) = &schema.rls else { return Vec::new() };
    let name = Some(table.name.as_str());
    let mut out = Vec::new();
    for force in [false].into_iter().chain(rls.force.then_some(true)) {
        let kind = StatementKind::RowSecurity { force };
        out.push(s.call(kind, name, "row_security", &[t.clone(), force.into()]));
    }
    for policy in policies(schema, table, rls) {
        let kind = StatementKind::Policy(policy.name.clone());
        out.push(s.call(kind, name, "policy", &[t.clone(), Value::from_serialize(&policy)]));
    }
    out
}

/// The policies of `table`: reading for every synced table, writing for those clients write.
fn policies(schema: &Schema, table: &Table, rls: &Rls) -> Vec<Policy> {
    let conditions = Conditions { schema, rls };
    let here = ident(&table.name);
    let policy = |command: &'static str, using: Option<String>, check: Option<String>| Policy {
        name: format!("_sync_{}", command.to_lowercase()),
        command,
        using,
        check,
    };
    let mut out = vec![policy("SELECT", Some(conditions.readable(table, &here, 1)), None)];
    if table.scope == SyncScope::Public {
        return out;
    }
    let mine = || Some(conditions.writable(table, &here, 1));
    out.push(policy("INSERT", None, mine()));
    out.push(policy("UPDATE", mine(), mine()));
    // A soft delete is an update; a table without `deletes = "hard"` refuses hard deletes.
    if table.deletes == Deletes::Hard {
        out.push(policy("DELETE", mine(), None));
    }
    out
}

/// The policy conditions of a schema, over row `alias` of a table.
struct Conditions<'a> {
    schema: &'a Schema,
    rls: &'a Rls,
}

impl Conditions<'_> {
    /// The user may read row `alias` of `table`.
    fn readable(&self, table: &Table, alias: &str, depth: usize) -> String {
        match &table.scope {
            SyncScope::Owner => self.owned(table, alias),
            SyncScope::OwnerOrPublic => {
                let owner = format!("{alias}.{}", ident(owner(table)));
                format!("({} OR {owner} IS NULL)", self.owned(table, alias))
            }
            SyncScope::Via { .. } => self.through_parent(table, alias, depth, |parent, p| {
                self.readable(parent, p, depth + 1)
            }),
            SyncScope::Public | SyncScope::None => "true".to_owned(),
        }
    }

    /// The user may write row `alias` of `table`: it is theirs, or its parent chain ends at a
    /// row of theirs (a public parent's rows are read-only).
    fn writable(&self, table: &Table, alias: &str, depth: usize) -> String {
        match &table.scope {
            SyncScope::Via { .. } => self.through_parent(table, alias, depth, |parent, p| {
                self.writable(parent, p, depth + 1)
            }),
            _ => self.owned(table, alias),
        }
    }

    /// The owner column of row `alias` is the user, compared in the column's type. The user is
    /// a scalar subquery so that Postgres works it out once per statement, not once per row.
    fn owned(&self, table: &Table, alias: &str) -> String {
        let column = table.column(owner(table)).expect("validation checks the owner column");
        let ty = sql_type(column, Dialect::Postgres, self.schema.timestamp_storage);
        format!("{alias}.{} = (SELECT ({})::{ty})", ident(&column.name), self.rls.user)
    }

    /// `EXISTS` a parent of the `via:` row `alias` for which `condition` holds.
    fn through_parent(
        &self,
        table: &Table,
        alias: &str,
        depth: usize,
        condition: impl Fn(&Table, &str) -> String,
    ) -> String {
        let SyncScope::Via { column, parent_table } = &table.scope else {
            unreachable!("only `via:` tables have a parent")
        };
        let parent = self.schema.table(parent_table).expect("validation resolves via parents");
        let p = format!("p{depth}");
        format!(
            "EXISTS (SELECT 1 FROM {} AS {p} WHERE {p}.{} = {alias}.{} AND {})",
            ident(&parent.name),
            ident(via_ref_column(table, column)),
            ident(column),
            condition(parent, &p),
        )
    }
}

fn owner(table: &Table) -> &str {
    table.sync.owner.as_deref().expect("validation gives owned tables an owner column")
}

//! One IR table -> sea-query statements -> the SQL pieces that the dialect's template lays out.
//!
//! Each piece (a column, a table constraint, an index) is rendered on its own, with its name, so
//! that the template can put comments above columns and one item on each line, and so that the
//! migration planner can compare two versions item by item; the SQL of every piece still comes
//! from sea-query, the dialect only being the choice of builder.

use sea_query::{
    Alias, Check, ColumnDef, ConditionalStatement as _, Expr, ForeignKey, ForeignKeyAction,
    ForeignKeyCreateStatement, Index, IndexCreateStatement, IndexOrder, Mode, SchemaBuilder,
};
use serde::Serialize;

use crate::ir::{FkAction, Table, TimestampStorage};

use super::column::{
    DefaultSql, check_expr, default_sql, ident, literal, live_predicate, sql_type,
};
use super::statement::Item;
use super::{Dialect, index_sql};

/// A table's DDL as data for the templates.
#[derive(Debug, Serialize)]
pub(super) struct TableSql {
    /// The quoted table name.
    pub name: String,
    pub comment: Option<String>,
    /// Column definitions, then the table constraints, in the order they are written.
    pub items: Vec<Item>,
    pub indexes: Vec<IndexSql>,
    pub column_comments: Vec<ColumnComment>,
}

#[derive(Debug, Serialize)]
pub(super) struct IndexSql {
    pub name: String,
    /// The `CREATE INDEX` statement, with the closing semicolon.
    pub sql: String,
}

#[derive(Debug, Serialize)]
pub(super) struct ColumnComment {
    /// The unquoted column name.
    pub name: String,
    /// The quoted column name.
    pub column: String,
    pub comment: String,
}

/// The sync machinery's cursor column of a synced table on the server, added after the table's
/// own columns so that theirs keep their positions.
pub(super) struct Cursor {
    pub def: ColumnDef,
    pub comment: &'static str,
}

pub(super) fn table_sql<B: SchemaBuilder + Default>(
    table: &Table,
    dialect: Dialect,
    ts: TimestampStorage,
    cursor: Option<Cursor>,
) -> TableSql {
    let builder = B::default();
    let mut items: Vec<Item> = table
        .columns
        .iter()
        .map(|col| {
            let mut def = ColumnDef::new(Alias::new(&col.name));
            def.custom(Alias::new(sql_type(col, dialect, ts)));
            if !col.nullable {
                def.not_null();
            }
            match default_sql(col, dialect, ts) {
                Some(DefaultSql::Literal(sql)) => {
                    def.default(Expr::custom_keyword(Alias::new(sql)))
                }
                Some(DefaultSql::Expression(sql)) => def.default(Expr::cust(sql)),
                None => &mut def,
            };
            if let Some(expr) = check_expr(col, dialect, ts) {
                def.check(Check::named(Alias::new(&col.check_name), Expr::cust(expr)));
            }
            let mut sql = String::new();
            builder.prepare_column_def(&def, &mut sql);
            Item { name: col.name.clone(), column: true, sql, comment: col.comment.clone() }
        })
        .collect();
    let cursor_name = cursor.as_ref().map(|c| c.def.get_column_name());
    if let Some(cursor) = &cursor {
        let mut sql = String::new();
        builder.prepare_column_def(&cursor.def, &mut sql);
        let (name, comment) = (cursor.def.get_column_name(), Some(cursor.comment.to_owned()));
        items.push(Item { name, column: true, sql, comment });
    }

    let mut constraint = |name: &str, sql: String| {
        items.push(Item { name: name.to_owned(), column: false, sql, comment: None })
    };

    let mut pk = Index::create();
    pk.name(&table.primary_key.name).primary();
    for col in &table.primary_key.columns {
        pk.col(Alias::new(col));
    }
    constraint(&table.primary_key.name, key_sql(&builder, &pk));
    for unique in table.uniques.iter().filter(|u| !u.live_only) {
        let mut key = Index::create();
        key.name(&unique.name).unique();
        for col in &unique.columns {
            key.col(Alias::new(col));
        }
        constraint(&unique.name, key_sql(&builder, &key));
    }
    for fk in &table.foreign_keys {
        let mut stmt = ForeignKey::create();
        stmt.to_tbl(Alias::new(&fk.ref_table));
        for (from, to) in fk.columns.iter().zip(&fk.ref_columns) {
            stmt.from_col(Alias::new(from)).to_col(Alias::new(to));
        }
        if let Some(action) = fk.on_delete {
            stmt.on_delete(fk_action(action));
        }
        if let Some(action) = fk.on_update {
            stmt.on_update(fk_action(action));
        }
        let sql = format!("CONSTRAINT {} {}", ident(&fk.name), fk_sql(&builder, &stmt));
        constraint(&fk.name, sql);
    }
    for check in &table.checks {
        let mut sql = String::new();
        builder.prepare_check_constraint(
            &Check::named(Alias::new(&check.name), Expr::cust(check.expr.clone())),
            &mut sql,
        );
        constraint(&check.name, sql);
    }

    // A live-only key is a partial unique index (neither database puts a WHERE on a table
    // constraint), under the key's name, before the table's own indexes.
    let live_keys = table.uniques.iter().filter(|u| u.live_only).map(|unique| {
        let mut stmt = Index::create();
        stmt.name(&unique.name).table(Alias::new(&table.name)).unique();
        for col in &unique.columns {
            stmt.col(Alias::new(col));
        }
        stmt.and_where(Expr::cust(live_predicate(table, dialect)));
        IndexSql { name: unique.name.clone(), sql: index_sql::<B>(&stmt) }
    });
    let indexes = live_keys
        .chain(table.indexes.iter().map(|index| {
            let mut stmt = Index::create();
            stmt.name(&index.name).table(Alias::new(&table.name));
            for col in &index.columns {
                if col.descending {
                    stmt.col((Alias::new(&col.name), IndexOrder::Desc));
                } else {
                    stmt.col(Alias::new(&col.name));
                }
            }
            if index.unique {
                stmt.unique();
            }
            if let Some(predicate) = &index.predicate {
                stmt.and_where(Expr::cust(predicate.clone()));
            }
            IndexSql { name: index.name.clone(), sql: index_sql::<B>(&stmt) }
        }))
        .collect();

    let mut column_comments: Vec<ColumnComment> = table
        .columns
        .iter()
        .filter_map(|c| {
            let comment = c.comment.clone()?;
            Some(ColumnComment { name: c.name.clone(), column: ident(&c.name), comment })
        })
        .collect();
    if let (Some(name), Some(cursor)) = (cursor_name, &cursor) {
        let (column, comment) = (ident(&name), cursor.comment.to_owned());
        column_comments.push(ColumnComment { name, column, comment });
    }
    TableSql {
        name: ident(&table.name),
        comment: table.comment.clone(),
        items,
        indexes,
        column_comments,
    }
}

/// A named PRIMARY KEY or UNIQUE table constraint.
fn key_sql(builder: &impl SchemaBuilder, key: &IndexCreateStatement) -> String {
    let mut sql = String::new();
    builder.prepare_table_index_expression(key, &mut sql);
    sql
}

/// The `FOREIGN KEY (..) REFERENCES ..` clause. The constraint name is written by the caller:
/// sea-query's SQLite backend drops foreign key names, and legacy names must survive in both.
fn fk_sql(builder: &impl SchemaBuilder, fk: &ForeignKeyCreateStatement) -> String {
    let mut sql = String::new();
    builder.prepare_foreign_key_create_statement_internal(fk, &mut sql, Mode::Creation);
    sql
}

fn fk_action(action: FkAction) -> ForeignKeyAction {
    match action {
        FkAction::Cascade => ForeignKeyAction::Cascade,
        FkAction::Restrict => ForeignKeyAction::Restrict,
        FkAction::SetNull => ForeignKeyAction::SetNull,
        FkAction::SetDefault => ForeignKeyAction::SetDefault,
        FkAction::NoAction => ForeignKeyAction::NoAction,
    }
}

/// `json_object(...)` of the primary key of row `alias` (`NEW`, `OLD`): how SQLite's machinery
/// stores keys, in stored form.
pub(super) fn key_object(table: &Table, alias: &str) -> String {
    let pairs: Vec<String> = table
        .primary_key
        .columns
        .iter()
        .map(|c| format!("{}, {alias}.{}", literal(c), ident(c)))
        .collect();
    format!("json_object({})", pairs.join(", "))
}

/// The quoted primary key columns, for `UPDATE OF`.
pub(super) fn key_list(table: &Table) -> String {
    table.primary_key.columns.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ")
}

/// The SQLite condition under which an update changes the primary key.
pub(super) fn key_changed(table: &Table) -> String {
    let changed: Vec<String> = table
        .primary_key
        .columns
        .iter()
        .map(|c| format!("OLD.{0} IS NOT NEW.{0}", ident(c)))
        .collect();
    changed.join(" OR ")
}

//! One IR table -> sea-query statements -> the SQL pieces that the dialect's template lays out.
//!
//! Each piece (a column, a table constraint, an index) is rendered on its own so that the
//! template can put comments above columns and one item on each line; the SQL of every piece
//! still comes from sea-query, the dialect only being the choice of builder.

use sea_query::{
    Alias, Check, ColumnDef, ConditionalStatement as _, Expr, ForeignKey, ForeignKeyAction,
    ForeignKeyCreateStatement, Index, IndexCreateStatement, IndexOrder, Mode, SchemaBuilder,
};
use serde::Serialize;

use crate::ir::{FkAction, Table, TimestampStorage};

use super::Dialect;
use super::column::{DefaultSql, check_expr, default_sql, ident, sql_type};
use super::sync::{self, SyncSql};

/// A table's DDL as data for the templates.
#[derive(Debug, Serialize)]
pub(super) struct TableSql {
    /// The quoted table name.
    pub name: String,
    pub comment: Option<String>,
    /// Column definitions, then the table constraints, in the order they are written.
    pub items: Vec<Item>,
    /// Complete `CREATE INDEX` statements, without the closing semicolon.
    pub indexes: Vec<String>,
    pub column_comments: Vec<ColumnComment>,
    /// The sync machinery of a synced table, Postgres only.
    pub sync: Option<SyncSql>,
}

#[derive(Debug, Serialize)]
pub(super) struct Item {
    pub sql: String,
    pub comment: Option<String>,
}

#[derive(Debug, Serialize)]
pub(super) struct ColumnComment {
    /// The quoted column name.
    pub column: String,
    pub comment: String,
}

pub(super) fn table_sql<B: SchemaBuilder + Default>(
    table: &Table,
    dialect: Dialect,
    ts: TimestampStorage,
    sync: Option<SyncSql>,
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
            Item { sql, comment: col.comment.clone() }
        })
        .collect();
    // The cursor column goes after the table's own columns, so theirs keep their positions.
    if sync.is_some() {
        let mut sql = String::new();
        builder.prepare_column_def(&sync::cursor_column(), &mut sql);
        items.push(Item { sql, comment: None });
    }

    let mut constraint = |sql: String| items.push(Item { sql, comment: None });

    let mut pk = Index::create();
    pk.name(&table.primary_key.name).primary();
    for col in &table.primary_key.columns {
        pk.col(Alias::new(col));
    }
    constraint(key_sql(&builder, &pk));
    for unique in &table.uniques {
        let mut key = Index::create();
        key.name(&unique.name).unique();
        for col in &unique.columns {
            key.col(Alias::new(col));
        }
        constraint(key_sql(&builder, &key));
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
        constraint(format!("CONSTRAINT {} {}", ident(&fk.name), fk_sql(&builder, &stmt)));
    }
    for check in &table.checks {
        let mut sql = String::new();
        builder.prepare_check_constraint(
            &Check::named(Alias::new(&check.name), Expr::cust(check.expr.clone())),
            &mut sql,
        );
        constraint(sql);
    }

    let indexes = table
        .indexes
        .iter()
        .map(|index| {
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
            stmt.to_string(B::default())
        })
        .collect();

    let mut column_comments: Vec<ColumnComment> = table
        .columns
        .iter()
        .filter_map(|c| {
            let comment = c.comment.clone()?;
            Some(ColumnComment { column: ident(&c.name), comment })
        })
        .collect();
    if sync.is_some() {
        column_comments.push(ColumnComment {
            column: ident(sync::CURSOR),
            comment: sync::CURSOR_COMMENT.into(),
        });
    }
    TableSql {
        name: ident(&table.name),
        comment: table.comment.clone(),
        items,
        indexes,
        column_comments,
        sync,
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

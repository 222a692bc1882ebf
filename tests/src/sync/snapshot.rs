//! Snapshots of the database under a store, read by another path than the engine: every row of
//! every synced table and every tombstone, and which rows a user may read.

use serde_json::{Value, json};
use sync_runtime::schema::{SchemaMeta, Scope, TableMeta};

use super::{Database, Rows, Schema, Values, lock, normal, row_key, sqlite};

/// Every row of every synced table, in wire form plus the store's change stamp as `_sync`, and
/// every tombstone: equal snapshots mean nothing was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub rows: Rows,
    pub tombstones: Vec<Value>,
    schema: &'static SchemaMeta,
}

impl Snapshot {
    /// Read every row and tombstone of the database under a store.
    pub fn read(db: &Database, schema: &Schema) -> Self {
        let tables = schema.meta.tables.iter().filter(|t| t.is_synced());
        let mut rows = Rows::new();
        let mut tombstones = Vec::new();
        match db {
            Database::Postgres(db) => {
                let mut db = lock(db);
                for table in tables.filter(|t| t.targets.postgres) {
                    let columns = &schema.ir.table(table.name).expect("in the IR").columns;
                    let list: Vec<String> = columns.iter().map(crate::pg::read_expr).collect();
                    let sql = format!(
                        "SELECT {}, _sync_xid::text FROM \"{}\"",
                        list.join(", "),
                        table.name
                    );
                    for row in db.query(&sql, &[]).unwrap_or_else(|e| panic!("{sql}: {e}")) {
                        let mut values: Values = columns
                            .iter()
                            .enumerate()
                            .map(|(i, c)| (c.name.clone(), crate::pg::decode(c, &row, i)))
                            .collect();
                        values.insert("_sync".into(), json!(row.get::<_, String>(columns.len())));
                        rows.insert(row_key(table, &values), normal(values));
                    }
                }
                let sql = "SELECT json_build_array(_sync_xid::text, table_name, key, owner)::text \
                           FROM _sync_tombstone ORDER BY _sync_xid, table_name, key";
                for row in db.query(sql, &[]).expect("read the tombstones") {
                    tombstones.push(serde_json::from_str(row.get(0)).expect("JSON"));
                }
            }
            Database::Sqlite { path, .. } => {
                let conn = sqlite(path);
                let ts = schema.ir.timestamp_storage;
                for table in tables.filter(|t| t.targets.sqlite) {
                    let columns = &schema.ir.table(table.name).expect("in the IR").columns;
                    let list: Vec<String> =
                        columns.iter().map(|c| format!("\"{}\"", c.name)).collect();
                    let sql =
                        format!("SELECT {}, _sync_seq FROM \"{}\"", list.join(", "), table.name);
                    let mut statement = conn.prepare(&sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
                    let mut result = statement.query([]).expect("query");
                    while let Some(row) = result.next().expect("a row") {
                        let mut values: Values = columns
                            .iter()
                            .enumerate()
                            .map(|(i, c)| {
                                let value = row.get_ref(i).expect("a column");
                                (c.name.clone(), crate::sqlite::decode(c, ts, value))
                            })
                            .collect();
                        let stamp: i64 = row.get(columns.len()).expect("the stamp");
                        values.insert("_sync".into(), json!(stamp.to_string()));
                        rows.insert(row_key(table, &values), normal(values));
                    }
                }
                let sql = "SELECT json_array(_sync_seq, table_name, json(key), owner) \
                           FROM _sync_tombstone ORDER BY _sync_seq";
                let mut statement = conn.prepare(sql).expect("read the tombstones");
                let mut result = statement.query([]).expect("query");
                while let Some(row) = result.next().expect("a row") {
                    let text: String = row.get(0).expect("JSON text");
                    tombstones.push(serde_json::from_str(&text).expect("JSON"));
                }
            }
        }
        Snapshot { rows, tombstones, schema: schema.meta }
    }

    /// The row of `table` with primary key `key` (a JSON object), without the change stamp.
    pub fn row(&self, table: &str, key: Value) -> Option<Values> {
        let table = self.schema.table(table).expect("a table of the schema");
        let Value::Object(key) = key else { panic!("a key is a JSON object") };
        let mut row = self.rows.get(&row_key(table, &key))?.clone();
        row.remove("_sync");
        Some(row)
    }

    /// The rows `user` may read (docs/sync.md), without change stamps: what every device of the
    /// user holds once it has pulled everything.
    pub fn readable_by(&self, user: &str) -> Rows {
        let mut out = Rows::new();
        for ((name, key), row) in &self.rows {
            let table = self.schema.table(name).expect("a table of the schema");
            if self.may_read(user, table, row) {
                let mut row = row.clone();
                row.remove("_sync");
                out.insert((name.clone(), key.clone()), row);
            }
        }
        out
    }

    fn may_read(&self, user: &str, table: &TableMeta, row: &Values) -> bool {
        let owner = || table.sync.owner.and_then(|o| row.get(o)).and_then(Value::as_str);
        match table.scope {
            Scope::Public => true,
            Scope::Owner => owner() == Some(user),
            Scope::OwnerOrPublic => owner().is_none_or(|o| o == user),
            Scope::Via { column, parent_table } => {
                let parent = self.schema.table(parent_table).expect("a parent table");
                let key = Values::from_iter([(
                    parent.primary_key[0].to_owned(),
                    row.get(column).cloned().unwrap_or(Value::Null),
                )]);
                self.rows
                    .get(&row_key(parent, &key))
                    .is_some_and(|p| self.may_read(user, parent, p))
            }
            Scope::None => false,
        }
    }
}

//! Everything `import` needs to know about one Postgres schema, read from its catalog in one
//! read-only transaction: tables and columns with comments, constraints with their names,
//! indexes with their parts, and row-level security policies (evidence of sync scopes). The
//! sync machinery (`_sync*`) is generated, not imported.

use postgres::{Client, Row, Transaction};

use crate::live::LiveError;
use crate::live::postgres::{db_message, quote_ident};

#[derive(Debug, Clone, Default)]
pub struct Table {
    pub name: String,
    pub comment: Option<String>,
    pub columns: Vec<Column>,
    pub primary_key: Option<Key>,
    pub uniques: Vec<Key>,
    pub foreign_keys: Vec<ForeignKey>,
    pub checks: Vec<Check>,
    /// Exclusion constraints: `(name, definition)`; `schema.toml` has no way to say them.
    pub exclusions: Vec<(String, String)>,
    pub indexes: Vec<Index>,
    /// Whether row-level security is enabled, and forced on the table's owner.
    pub rls: bool,
    pub force_rls: bool,
    pub policies: Vec<Policy>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    /// As `format_type` prints it: `timestamp(3) with time zone`, `character varying(20)`.
    pub ty: String,
    /// The labels of an enum type, in order.
    pub enum_values: Option<Vec<String>>,
    pub not_null: bool,
    /// As `pg_get_expr` prints it, in UTC.
    pub default: Option<String>,
    /// `a` (ALWAYS) or `d` (BY DEFAULT) for an identity column.
    pub identity: Option<String>,
    /// The expression of a stored generated column.
    pub generated: Option<String>,
    pub comment: Option<String>,
}

/// A primary key or unique constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub name: String,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ForeignKey {
    pub name: String,
    pub columns: Vec<String>,
    /// The referenced table, qualified when it is in another schema.
    pub ref_table: String,
    /// Whether the referenced table is in the imported schema.
    pub local: bool,
    pub ref_columns: Vec<String>,
    /// `pg_constraint` action codes: `a` no action, `r`, `c`, `n`, `d`.
    pub on_delete: String,
    pub on_update: String,
    /// What the format cannot say: DEFERRABLE, MATCH FULL, NOT VALID.
    pub unsupported: Option<String>,
    pub definition: String,
}

#[derive(Debug, Clone)]
pub struct Check {
    pub name: String,
    /// The columns it reads.
    pub columns: Vec<String>,
    /// As `pg_get_constraintdef` prints it: `CHECK ((quality >= 0))`.
    pub definition: String,
    pub validated: bool,
}

#[derive(Debug, Clone)]
pub struct Index {
    pub name: String,
    pub unique: bool,
    /// A btree over plain columns with default operator classes and orderings (ASC, or DESC
    /// NULLS FIRST) and no INCLUDE: what `schema.toml` can say.
    pub plain: bool,
    /// Column names with DESC; empty names for expressions.
    pub columns: Vec<(String, bool)>,
    pub predicate: Option<String>,
    /// As `pg_get_indexdef` prints it, the table unqualified.
    pub definition: String,
}

/// A row-level security policy, its expressions as `pg_get_expr` prints them.
#[derive(Debug, Clone)]
pub struct Policy {
    pub name: String,
    /// `pg_policy.polcmd`: `r` SELECT, `a` INSERT, `w` UPDATE, `d` DELETE, `*` ALL.
    pub command: String,
    pub permissive: bool,
    pub using: Option<String>,
    pub check: Option<String>,
    /// The roles it applies to, as `CREATE POLICY ... TO` lists them (`public` for every role).
    pub roles: String,
}

impl Policy {
    /// `policy <name> FOR <command> [AS RESTRICTIVE] [USING (...)] [WITH CHECK (...)]`.
    pub fn definition(&self) -> String {
        let mut out = format!("policy {} FOR {}", self.name, self.command_name());
        if !self.permissive {
            out += " AS RESTRICTIVE";
        }
        out + &self.clauses()
    }

    /// The statement that makes it again on `table`.
    pub fn statement(&self, table: &str) -> String {
        let kind = if self.permissive { "PERMISSIVE" } else { "RESTRICTIVE" };
        format!(
            "CREATE POLICY {} ON {} AS {kind} FOR {} TO {}{};",
            quote_ident(&self.name),
            quote_ident(table),
            self.command_name(),
            self.roles,
            self.clauses()
        )
    }

    fn command_name(&self) -> &'static str {
        match self.command.as_str() {
            "r" => "SELECT",
            "a" => "INSERT",
            "w" => "UPDATE",
            "d" => "DELETE",
            _ => "ALL",
        }
    }

    /// ` USING (...)` and ` WITH CHECK (...)`, those it has.
    fn clauses(&self) -> String {
        let mut out = String::new();
        if let Some(using) = &self.using {
            out += &format!(" USING ({using})");
        }
        if let Some(check) = &self.check {
            out += &format!(" WITH CHECK ({check})");
        }
        out
    }
}

/// Tables of the schema that the generated DDL can own: ordinary and partitioned tables, not
/// partitions, not what an extension owns, not the sync machinery.
const TABLES: &str = "
SELECT c.relname, obj_description(c.oid, 'pg_class'), c.relrowsecurity, c.relforcerowsecurity
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
   AND c.relname NOT LIKE '\\_sync%'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                   AND d.objid = c.oid AND d.deptype = 'e')
 ORDER BY c.relname";

const COLUMNS: &str = "
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
       CASE WHEN t.typtype = 'e' THEN ARRAY(SELECT e.enumlabel::text FROM pg_enum e
                                            WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)
       END,
       a.attnotnull,
       CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END,
       NULLIF(a.attidentity::text, ''),
       CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END,
       col_description(c.oid, a.attnum)
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
   AND a.attname NOT LIKE '\\_sync%'
 ORDER BY c.relname, a.attnum";

const CONSTRAINTS: &str = "
SELECT c.relname, k.conname, k.contype::text,
       ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(num, ord)
               JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.num ORDER BY u.ord),
       CASE WHEN rn.nspname = n.nspname THEN r.relname::text
            ELSE quote_ident(rn.nspname) || '.' || quote_ident(r.relname) END,
       coalesce(rn.nspname = n.nspname, false),
       ARRAY(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u(num, ord)
               JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.num ORDER BY u.ord),
       k.confdeltype::text, k.confupdtype::text, k.condeferrable, k.confmatchtype::text,
       k.convalidated, pg_get_constraintdef(k.oid)
  FROM pg_constraint k
  JOIN pg_class c ON c.oid = k.conrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_class r ON r.oid = k.confrelid
  LEFT JOIN pg_namespace rn ON rn.oid = r.relnamespace
 WHERE n.nspname = $1 AND k.contype IN ('p', 'u', 'f', 'c', 'x') AND k.conname NOT LIKE '\\_sync%'
 ORDER BY c.relname, k.conname";

const INDEXES: &str = "
SELECT t.relname, ic.relname, i.indisunique,
       am.amname = 'btree' AND i.indnkeyatts = i.indnatts AND i.indexprs IS NULL
         AND NOT EXISTS (SELECT 1 FROM unnest(i.indclass::oid[]) u(op)
                         JOIN pg_opclass o ON o.oid = u.op WHERE NOT o.opcdefault)
         AND NOT EXISTS (SELECT 1 FROM unnest(i.indoption::int2[]) u(opt) WHERE opt NOT IN (0, 3)),
       ARRAY(SELECT coalesce(a.attname::text, '') FROM unnest(i.indkey::int2[]) WITH ORDINALITY u(num, ord)
               LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = u.num
              WHERE u.ord <= i.indnkeyatts ORDER BY u.ord),
       ARRAY(SELECT (opt & 1) = 1 FROM unnest(i.indoption::int2[]) WITH ORDINALITY u(opt, ord)
              ORDER BY u.ord),
       pg_get_expr(i.indpred, i.indrelid),
       replace(pg_get_indexdef(i.indexrelid), ' ON ' || quote_ident(n.nspname) || '.', ' ON ')
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_class t ON t.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = t.relnamespace
  JOIN pg_am am ON am.oid = ic.relam
 WHERE n.nspname = $1 AND t.relkind IN ('r', 'p') AND ic.relname NOT LIKE '\\_sync%'
   AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid
                   AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))
 ORDER BY t.relname, ic.relname";

const POLICIES: &str = "
SELECT c.relname, p.polname, p.polcmd::text, p.polpermissive,
       pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid),
       (SELECT string_agg(CASE WHEN r = 0 THEN 'public' ELSE quote_ident(pg_get_userbyid(r)) END,
                          ', ' ORDER BY r)
          FROM unnest(p.polroles) AS r)
  FROM pg_policy p
  JOIN pg_class c ON c.oid = p.polrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = $1 AND p.polname NOT LIKE '\\_sync%'
 ORDER BY c.relname, p.polname";

/// Every table of `schema`, in name order. Defaults and literals print in UTC, and names in
/// the schema unqualified.
pub fn read(client: &mut Client, shown: &str, schema: &str) -> Result<Vec<Table>, LiveError> {
    let fail = |what: &'static str| {
        move |e: postgres::Error| LiveError::Query { what: what.into(), message: db_message(&e) }
    };
    let mut tx = client
        .build_transaction()
        .read_only(true)
        .start()
        .map_err(fail("starting a read-only transaction"))?;
    let exists = tx
        .query_opt("SELECT 1 FROM pg_namespace WHERE nspname = $1", &[&schema])
        .map_err(fail("looking up the schema"))?;
    if exists.is_none() {
        return Err(LiveError::NoSchema { url: shown.to_owned(), schema: schema.to_owned() });
    }
    tx.batch_execute(&format!(
        "SET LOCAL search_path TO {}; SET LOCAL TimeZone = 'UTC'",
        quote_ident(schema)
    ))
    .map_err(fail("setting the search path"))?;
    let mut tables: Vec<Table> = query(&mut tx, TABLES, schema, "reading tables")?
        .iter()
        .map(|r| Table {
            name: r.get(0),
            comment: r.get(1),
            rls: r.get(2),
            force_rls: r.get(3),
            ..Table::default()
        })
        .collect();
    for row in query(&mut tx, COLUMNS, schema, "reading columns")? {
        if let Some(t) = find(&mut tables, &row) {
            t.columns.push(Column {
                name: row.get(1),
                ty: row.get(2),
                enum_values: row.get(3),
                not_null: row.get(4),
                default: row.get(5),
                identity: row.get(6),
                generated: row.get(7),
                comment: row.get(8),
            });
        }
    }
    for row in query(&mut tx, CONSTRAINTS, schema, "reading constraints")? {
        if let Some(t) = find(&mut tables, &row) {
            constraint(t, &row);
        }
    }
    for row in query(&mut tx, INDEXES, schema, "reading indexes")? {
        if let Some(t) = find(&mut tables, &row) {
            let names: Vec<String> = row.get(4);
            let desc: Vec<bool> = row.get(5);
            t.indexes.push(Index {
                name: row.get(1),
                unique: row.get(2),
                plain: row.get(3),
                columns: names.into_iter().zip(desc).collect(),
                predicate: row.get(6),
                definition: row.get(7),
            });
        }
    }
    for row in query(&mut tx, POLICIES, schema, "reading row-level security policies")? {
        if let Some(t) = find(&mut tables, &row) {
            t.policies.push(Policy {
                name: row.get(1),
                command: row.get(2),
                permissive: row.get(3),
                using: row.get(4),
                check: row.get(5),
                roles: row.get(6),
            });
        }
    }
    tx.rollback().map_err(fail("ending the read-only transaction"))?;
    Ok(tables)
}

fn query(
    tx: &mut Transaction<'_>,
    sql: &str,
    schema: &str,
    what: &str,
) -> Result<Vec<Row>, LiveError> {
    tx.query(sql, &[&schema])
        .map_err(|e| LiveError::Query { what: what.to_owned(), message: db_message(&e) })
}

/// The table a row of a catalog query is about (its first column), if it is imported.
fn find<'t>(tables: &'t mut [Table], row: &Row) -> Option<&'t mut Table> {
    let name: String = row.get(0);
    tables.iter_mut().find(|t| t.name == name)
}

fn constraint(table: &mut Table, row: &Row) {
    let name: String = row.get(1);
    let columns: Vec<String> = row.get(3);
    let definition: String = row.get(12);
    match row.get::<_, String>(2).as_str() {
        "p" => table.primary_key = Some(Key { name, columns }),
        "u" => table.uniques.push(Key { name, columns }),
        "f" => {
            let deferrable: bool = row.get(9);
            let full_match = row.get::<_, String>(10) != "s";
            let validated: bool = row.get(11);
            let unsupported =
                [(deferrable, "DEFERRABLE"), (full_match, "MATCH FULL"), (!validated, "NOT VALID")]
                    .iter()
                    .filter(|(on, _)| *on)
                    .map(|(_, what)| *what)
                    .collect::<Vec<_>>();
            table.foreign_keys.push(ForeignKey {
                name,
                columns,
                ref_table: row.get(4),
                local: row.get(5),
                ref_columns: row.get(6),
                on_delete: row.get(7),
                on_update: row.get(8),
                unsupported: (!unsupported.is_empty()).then(|| unsupported.join(", ")),
                definition,
            });
        }
        "c" => table.checks.push(Check { name, columns, definition, validated: row.get(11) }),
        _ => table.exclusions.push((name, definition)),
    }
}

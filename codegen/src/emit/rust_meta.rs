//! Schema metadata ([`sync_meta::schema`]) printed as Rust tokens: the `static` data of the
//! generated crate and of `#[derive(SyncRow)]`. The values come from [`crate::meta`], the one
//! translation of the IR, so what is printed is what a server that loads `schema.toml` builds.
//! Every struct is destructured whole, so a field added to the metadata fails to compile here
//! until it is printed.

use heck::ToUpperCamelCase;
use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};
use sync_meta::schema::{
    CheckMeta, ColumnMeta, Constraints, Deletes, ForeignKeyMeta, KeyMeta, SchemaMeta, Scope,
    Storage, SyncColumns, TableMeta, Targets, TimestampStorage,
};

/// `::sync_meta::schema::SchemaMeta { .. }` whose tables are `tables` (expressions of type
/// `&'static TableMeta`, such as each row type's `SyncRow::TABLE`).
pub(super) fn schema_tokens(schema: &SchemaMeta, tables: Vec<TokenStream>) -> TokenStream {
    let SchemaMeta { name, version, min_client_version, timestamp_storage, tables: _ } = schema;
    let version = Literal::u32_unsuffixed(*version);
    let min_client_version = Literal::u32_unsuffixed(*min_client_version);
    let timestamp_storage = variant(match timestamp_storage {
        TimestampStorage::Text => "text",
        TimestampStorage::Integer => "integer",
    });
    quote! {
        ::sync_meta::schema::SchemaMeta {
            name: #name,
            version: #version,
            min_client_version: #min_client_version,
            timestamp_storage: ::sync_meta::schema::TimestampStorage::#timestamp_storage,
            tables: &[#(#tables),*],
        }
    }
}

/// `::sync_meta::schema::TableMeta { .. }`.
pub(super) fn table_tokens(table: &TableMeta) -> TokenStream {
    let TableMeta { name, columns, primary_key, scope, sync, targets, constraints, deletes } =
        table;
    let columns = columns.iter().map(column_tokens);
    let scope = match scope {
        Scope::Owner => quote!(Owner),
        Scope::OwnerOrPublic => quote!(OwnerOrPublic),
        Scope::Public => quote!(Public),
        Scope::None => quote!(None),
        Scope::Via { column, parent_table } => {
            quote!(Via { column: #column, parent_table: #parent_table })
        }
    };
    let SyncColumns { owner, modified, deleted, version, device } = sync;
    let [owner, modified, deleted, version, device] =
        [owner, modified, deleted, version, device].map(|c| option(c.map(|name| quote!(#name))));
    let Targets { sqlite, postgres } = targets;
    let constraints = constraints_tokens(constraints);
    let deletes = match deletes {
        Deletes::Soft => quote!(Soft),
        Deletes::Hard => quote!(Hard),
        Deletes::Never => quote!(Never),
    };
    quote! {
        ::sync_meta::schema::TableMeta {
            name: #name,
            columns: &[#(#columns),*],
            primary_key: &[#(#primary_key),*],
            scope: ::sync_meta::schema::Scope::#scope,
            sync: ::sync_meta::schema::SyncColumns {
                owner: #owner,
                modified: #modified,
                deleted: #deleted,
                version: #version,
                device: #device,
            },
            targets: ::sync_meta::schema::Targets { sqlite: #sqlite, postgres: #postgres },
            constraints: #constraints,
            deletes: ::sync_meta::schema::Deletes::#deletes,
        }
    }
}

fn constraints_tokens(constraints: &Constraints) -> TokenStream {
    let Constraints { primary_key, unique, foreign_keys, checks, indexes } = constraints;
    let key = |k: &KeyMeta| {
        let KeyMeta { name, columns } = k;
        quote!(::sync_meta::schema::KeyMeta { name: #name, columns: &[#(#columns),*] })
    };
    let (unique, indexes) = (unique.iter().map(key), indexes.iter().map(key));
    let foreign_keys = foreign_keys.iter().map(|fk| {
        let ForeignKeyMeta { name, columns, ref_table, ref_columns } = fk;
        quote! {
            ::sync_meta::schema::ForeignKeyMeta {
                name: #name,
                columns: &[#(#columns),*],
                ref_table: #ref_table,
                ref_columns: &[#(#ref_columns),*],
            }
        }
    });
    let checks = checks.iter().map(|c| {
        let CheckMeta { name, column } = c;
        let column = option(column.map(|c| quote!(#c)));
        quote!(::sync_meta::schema::CheckMeta { name: #name, column: #column })
    });
    quote! {
        ::sync_meta::schema::Constraints {
            primary_key: #primary_key,
            unique: &[#(#unique),*],
            foreign_keys: &[#(#foreign_keys),*],
            checks: &[#(#checks),*],
            indexes: &[#(#indexes),*],
        }
    }
}

fn column_tokens(column: &ColumnMeta) -> TokenStream {
    let ColumnMeta { name, ty, nullable, has_default, values, storage } = column;
    let ty = variant(ty.as_str());
    let values = option(values.map(|values| quote!(&[#(#values),*])));
    let Storage { postgres, stored_as } = storage;
    let postgres = option(postgres.map(|p| {
        let p = variant(p.as_str());
        quote!(::sync_meta::schema::PostgresType::#p)
    }));
    let stored_as = option(stored_as.map(|s| {
        let s = variant(s.as_str());
        quote!(::sync_meta::schema::StoredAs::#s)
    }));
    quote! {
        ::sync_meta::schema::ColumnMeta {
            name: #name,
            ty: ::sync_meta::schema::LogicalType::#ty,
            nullable: #nullable,
            has_default: #has_default,
            values: #values,
            storage: ::sync_meta::schema::Storage { postgres: #postgres, stored_as: #stored_as },
        }
    }
}

/// An enum variant from its `schema.toml` spelling: `timestamptz` -> `Timestamptz`.
fn variant(spelling: &str) -> Ident {
    format_ident!("{}", spelling.to_upper_camel_case())
}

fn option(value: Option<TokenStream>) -> TokenStream {
    match value {
        Some(value) => quote!(Some(#value)),
        None => quote!(None),
    }
}

//! The type table is complete: every logical type names every target (Drizzle's included),
//! and the inverse used by the import finds each type again.

use std::collections::HashSet;

use super::*;

#[test]
fn every_logical_type_names_every_target() {
    for ty in LogicalType::ALL {
        let entry = entry(ty);
        let name = ty.as_str();
        for timestamps in TimestampStorage::ALL {
            assert!(!entry.sqlite.name(timestamps).is_empty(), "{name}: SQLite");
        }
        for pg in std::iter::once(entry.postgres)
            .chain(entry.postgres_overrides.iter().map(|(_, pg)| *pg))
            .chain(entry.stored_as.map(|s| s.postgres))
        {
            assert!(!pg.ddl.is_empty() && !pg.catalog.is_empty(), "{name}: Postgres");
            assert_drizzle(pg.drizzle, &format!("{name}: Drizzle Postgres `{}`", pg.ddl));
        }
        for timestamps in TimestampStorage::ALL {
            assert_drizzle(drizzle_sqlite(ty, timestamps), &format!("{name}: Drizzle SQLite"));
        }
        // The SQLite schema reads these checked integers and texts back through a mode.
        let mode = match entry.sqlite_check {
            Some(TypeCheck::ZeroOrOne) => Some(r#"{ mode: "boolean" }"#),
            Some(TypeCheck::Json) => Some(r#"{ mode: "json" }"#),
            _ => None,
        };
        assert_eq!(entry.drizzle_sqlite_options, mode, "{name}: Drizzle SQLite mode");
        assert!(!entry.typescript.is_empty(), "{name}: TypeScript");
        assert!(syn::parse_str::<syn::Type>(entry.rust).is_ok(), "{name}: Rust `{}`", entry.rust);
        assert!(!entry.default_hint.is_empty(), "{name}: default hint");
        assert_eq!(from_postgres(entry.postgres.catalog), Some((ty, None)), "{name}: import");
        for (postgres_type, pg) in entry.postgres_overrides {
            assert_eq!(from_postgres(pg.catalog), Some((ty, Some(*postgres_type))), "{name}");
        }
    }
}

/// A Drizzle column names a builder, options as an object literal, a declared type with a place
/// for the column's name, and a custom type's definition defines it.
fn assert_drizzle(column: DrizzleColumn, what: &str) {
    let name = column.builder.name();
    assert!(!name.is_empty(), "{what}: builder");
    if let Some(options) = column.options {
        assert!(options.starts_with("{ ") && options.ends_with(" }"), "{what}: `{options}`");
    }
    assert!(column.declared.contains("<$"), "{what}: declared `{}`", column.declared);
    if let DrizzleBuilder::Custom { definition, .. } = column.builder {
        assert!(definition.contains(&format!("const {name} = customType(")), "{what}: definition");
    }
}

#[test]
fn no_two_logical_types_share_a_rust_or_postgres_type() {
    let entries = LogicalType::ALL.map(entry);
    let rust: HashSet<&str> = entries.iter().map(|e| e.rust).collect();
    let postgres: HashSet<&str> = entries.iter().map(|e| e.postgres.catalog).collect();
    assert_eq!(rust.len(), entries.len());
    assert_eq!(postgres.len(), entries.len());
}

#[test]
fn every_override_belongs_to_exactly_one_logical_type() {
    for postgres_type in PostgresType::ALL {
        let owners = LogicalType::ALL
            .iter()
            .filter(|ty| entry(**ty).postgres_overrides.iter().any(|(o, _)| *o == postgres_type));
        assert_eq!(owners.count(), 1, "postgres_type = {}", postgres_type.as_str());
    }
    for stored_as in StoredAs::ALL {
        let owners = LogicalType::ALL
            .iter()
            .filter(|ty| entry(**ty).stored_as.is_some_and(|s| s.stored_as == stored_as));
        assert_eq!(owners.count(), 1, "storage = {}", stored_as.as_str());
    }
}

#[test]
fn overrides_select_their_postgres_type() {
    let storage = |postgres, stored_as| Storage { postgres, stored_as };
    let ddl = |ty, s| postgres_type(ty, s).ddl;
    assert_eq!(ddl(LogicalType::Timestamp, storage(None, None)), "timestamptz(3)");
    assert_eq!(
        ddl(LogicalType::Timestamp, storage(Some(PostgresType::Timestamp), None)),
        "timestamp"
    );
    assert_eq!(ddl(LogicalType::Real, storage(Some(PostgresType::Real), None)), "real");
    assert_eq!(ddl(LogicalType::Boolean, storage(None, Some(StoredAs::Integer))), "integer");
    assert_eq!(ddl(LogicalType::Json, storage(None, Some(StoredAs::Text))), "text");
    let int_boolean = storage(None, Some(StoredAs::Integer));
    assert_eq!(postgres_check(LogicalType::Boolean, int_boolean), Some(TypeCheck::ZeroOrOne));
    assert_eq!(postgres_check(LogicalType::Boolean, storage(None, None)), None);
    assert_eq!(sqlite_check(LogicalType::Timestamp, TimestampStorage::Integer), None);
}

//! Serde for the generated row structs, written once: a row's `Serialize` impl lists its fields
//! as [`Field`]s for [`serialize`], and its `Deserialize` impl reads them with [`deserialize`]
//! and takes each out of the [`Values`] by column index, so each table's impls are a few lines
//! with no serde derive behind them (a derive per table was most of the time `cargo check` took
//! on a generated crate). What a column's JSON value is comes from its [`ColumnMeta`]: its
//! logical type through the wire helpers of [`crate::wire`], its `values`, and `nullable`.
//!
//! The wire format is the one `#[derive(Serialize, Deserialize)]` with the wire helpers gave:
//! an object with one member per column, `null` for `None`; unknown members are ignored, a
//! missing member is `None` for a nullable column and an error otherwise, and a duplicate one
//! is an error; errors read as serde's own.

use std::fmt;
use std::marker::PhantomData;

use chrono::{DateTime, NaiveDate, Utc};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};

use crate::schema::{ColumnMeta, LogicalType, TableMeta};
use crate::wire;

/// One field of a row, borrowed for [`serialize`]; `None` is `null`. The variant is the
/// column's logical type, or [`Field::Variant`] for a column with `values`.
#[derive(Debug, Clone, Copy)]
pub enum Field<'a> {
    Text(Option<&'a String>),
    Uuid(Option<&'a uuid::Uuid>),
    Integer(Option<&'a i32>),
    Bigint(Option<&'a i64>),
    Real(Option<&'a f64>),
    Boolean(Option<&'a bool>),
    Timestamp(Option<&'a DateTime<Utc>>),
    Date(Option<&'a NaiveDate>),
    Json(Option<&'a serde_json::Value>),
    /// A `values` column's value, as stored and sent.
    Variant(Option<&'static str>),
}

impl Serialize for Field<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        fn some<S: Serializer, T: Serialize>(
            serializer: S,
            value: Option<T>,
        ) -> Result<S::Ok, S::Error> {
            match value {
                Some(value) => serializer.serialize_some(&value),
                None => serializer.serialize_none(),
            }
        }
        match *self {
            Field::Text(value) => some(serializer, value),
            Field::Uuid(value) => some(serializer, value),
            Field::Integer(value) => some(serializer, value),
            Field::Bigint(value) => some(serializer, value.map(Bigint)),
            Field::Real(value) => some(serializer, value),
            Field::Boolean(value) => some(serializer, value),
            Field::Timestamp(value) => some(serializer, value.map(Timestamp)),
            Field::Date(value) => some(serializer, value.map(Date)),
            Field::Json(value) => some(serializer, value),
            Field::Variant(value) => some(serializer, value),
        }
    }
}

/// A row as a struct of its `table`'s columns, `fields` in column order.
pub fn serialize<S: Serializer>(
    serializer: S,
    table: &'static TableMeta,
    fields: &[Field<'_>],
) -> Result<S::Ok, S::Error> {
    let mut row = serializer.serialize_struct(table.name, fields.len())?;
    for (column, field) in table.columns.iter().zip(fields) {
        row.serialize_field(column.name, field)?;
    }
    row.end()
}

/// Reads a row of `table`: a map (or a sequence in column order) whose values are taken out
/// of the result by column index.
pub fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
    table: &'static TableMeta,
) -> Result<Values<D::Error>, D::Error> {
    deserializer.deserialize_struct(table.name, &[], RowVisitor { table, error: PhantomData })
}

/// A `values` column's enum, read from its wire string: the index of the value in `values`.
pub fn variant<'de, D: Deserializer<'de>>(
    deserializer: D,
    values: &'static [&'static str],
) -> Result<usize, D::Error> {
    deserializer.deserialize_str(VariantVisitor(values))
}

/// The values of a row being read, by column index. Each getter takes one column's value out,
/// as the type of the column's field; the generated code asks for each column once, by the
/// getter of its type.
pub struct Values<E> {
    table: &'static TableMeta,
    slots: Vec<Slot>,
    error: PhantomData<E>,
}

enum Slot {
    Missing,
    Null,
    Value(Value),
}

enum Value {
    Text(String),
    Uuid(uuid::Uuid),
    Integer(i32),
    Bigint(i64),
    Real(f64),
    Boolean(bool),
    Timestamp(DateTime<Utc>),
    Date(NaiveDate),
    Json(serde_json::Value),
    Variant(usize),
}

/// A getter for a non-null column and one (`_opt`) for a nullable column, of one value type.
macro_rules! getters {
    ($($name:ident, $opt:ident, $variant:ident, $ty:ty;)*) => {
        impl<E: de::Error> Values<E> {
            $(
                pub fn $name(&mut self, index: usize) -> Result<$ty, E> {
                    match self.take(index) {
                        Slot::Value(Value::$variant(value)) => Ok(value),
                        Slot::Missing => Err(E::missing_field(self.name(index))),
                        _ => Err(self.mismatch(index)),
                    }
                }

                pub fn $opt(&mut self, index: usize) -> Result<Option<$ty>, E> {
                    match self.take(index) {
                        Slot::Value(Value::$variant(value)) => Ok(Some(value)),
                        Slot::Missing | Slot::Null => Ok(None),
                        Slot::Value(_) => Err(self.mismatch(index)),
                    }
                }
            )*
        }
    };
}

getters! {
    text, text_opt, Text, String;
    uuid, uuid_opt, Uuid, uuid::Uuid;
    integer, integer_opt, Integer, i32;
    bigint, bigint_opt, Bigint, i64;
    real, real_opt, Real, f64;
    boolean, boolean_opt, Boolean, bool;
    timestamp, timestamp_opt, Timestamp, DateTime<Utc>;
    date, date_opt, Date, NaiveDate;
    json, json_opt, Json, serde_json::Value;
    variant, variant_opt, Variant, usize;
}

impl<E: de::Error> Values<E> {
    fn take(&mut self, index: usize) -> Slot {
        self.slots
            .get_mut(index)
            .map_or(Slot::Missing, |slot| std::mem::replace(slot, Slot::Missing))
    }

    /// A getter that does not match the column's metadata: generated code and metadata come
    /// from one schema, so only a hand-made call gets here.
    fn mismatch(&self, index: usize) -> E {
        let column = self.name(index);
        E::custom(format_args!("column `{column}` of `{}` read as another type", self.table.name))
    }

    fn name(&self, index: usize) -> &'static str {
        self.table.columns.get(index).map_or("?", |c| c.name)
    }
}

struct RowVisitor<E> {
    table: &'static TableMeta,
    error: PhantomData<E>,
}

impl<'de, E: de::Error> Visitor<'de> for RowVisitor<E> {
    type Value = Values<E>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a row of `{}`", self.table.name)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Values<E>, A::Error> {
        let columns = self.table.columns;
        let mut slots: Vec<Slot> = columns.iter().map(|_| Slot::Missing).collect();
        while let Some(index) = map.next_key_seed(ColumnIndex(columns))? {
            let Some(index) = index else {
                map.next_value::<de::IgnoredAny>()?;
                continue;
            };
            if !matches!(slots[index], Slot::Missing) {
                return Err(de::Error::duplicate_field(columns[index].name));
            }
            slots[index] = map.next_value_seed(ColumnValue(&columns[index]))?;
        }
        Ok(Values { table: self.table, slots, error: PhantomData })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Values<E>, A::Error> {
        let columns = self.table.columns;
        let mut slots = Vec::with_capacity(columns.len());
        for (index, column) in columns.iter().enumerate() {
            match seq.next_element_seed(ColumnValue(column))? {
                Some(slot) => slots.push(slot),
                None => return Err(de::Error::invalid_length(index, &self)),
            }
        }
        Ok(Values { table: self.table, slots, error: PhantomData })
    }
}

/// A member name: the index of its column, `None` for a name the table does not have.
struct ColumnIndex(&'static [ColumnMeta]);

impl<'de> DeserializeSeed<'de> for ColumnIndex {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for ColumnIndex {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a column name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Self::Value, E> {
        Ok(self.0.iter().position(|c| c.name == name))
    }

    fn visit_bytes<E: de::Error>(self, name: &[u8]) -> Result<Self::Value, E> {
        Ok(self.0.iter().position(|c| c.name.as_bytes() == name))
    }

    fn visit_u64<E: de::Error>(self, index: u64) -> Result<Self::Value, E> {
        Ok(usize::try_from(index).ok().filter(|&i| i < self.0.len()))
    }
}

/// A column's value, read as its metadata says: `null` only for a nullable column.
struct ColumnValue(&'static ColumnMeta);

impl<'de> DeserializeSeed<'de> for ColumnValue {
    type Value = Slot;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Slot, D::Error> {
        if self.0.nullable {
            deserializer.deserialize_option(self)
        } else {
            value(self.0, deserializer).map(Slot::Value)
        }
    }
}

/// `Option`'s visitor, for a nullable column.
impl<'de> Visitor<'de> for ColumnValue {
    type Value = Slot;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("option")
    }

    fn visit_none<E: de::Error>(self) -> Result<Slot, E> {
        Ok(Slot::Null)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Slot, E> {
        Ok(Slot::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Slot, D::Error> {
        value(self.0, deserializer).map(Slot::Value)
    }
}

/// A value of `column`, not `null`, as its field's type reads it.
fn value<'de, D: Deserializer<'de>>(column: &'static ColumnMeta, d: D) -> Result<Value, D::Error> {
    if let Some(values) = column.values {
        return variant(d, values).map(Value::Variant);
    }
    match column.ty {
        LogicalType::Text => String::deserialize(d).map(Value::Text),
        LogicalType::Uuid => uuid::Uuid::deserialize(d).map(Value::Uuid),
        LogicalType::Integer => i32::deserialize(d).map(Value::Integer),
        LogicalType::Bigint => wire::bigint::deserialize(d).map(Value::Bigint),
        LogicalType::Real => f64::deserialize(d).map(Value::Real),
        LogicalType::Boolean => bool::deserialize(d).map(Value::Boolean),
        LogicalType::Timestamp => wire::timestamp::deserialize(d).map(Value::Timestamp),
        LogicalType::Date => wire::date::deserialize(d).map(Value::Date),
        LogicalType::Json => serde_json::Value::deserialize(d).map(Value::Json),
    }
}

/// A `values` column's wire string: its index in the values.
struct VariantVisitor(&'static [&'static str]);

impl<'de> Visitor<'de> for VariantVisitor {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("one of the column's values")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<usize, E> {
        self.0.iter().position(|v| *v == text).ok_or_else(|| E::unknown_variant(text, self.0))
    }
}

/// A borrowed value through one of the wire helpers of [`crate::wire`], for [`Field`].
macro_rules! wire_ref {
    ($($name:ident, $ty:ty, $helper:path;)*) => {
        $(
            struct $name<'a>(&'a $ty);

            impl Serialize for $name<'_> {
                fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                    $helper(self.0, serializer)
                }
            }
        )*
    };
}

wire_ref! {
    Bigint, i64, wire::bigint::serialize;
    Timestamp, DateTime<Utc>, wire::timestamp::serialize;
    Date, NaiveDate, wire::date::serialize;
}

#[cfg(test)]
mod tests;

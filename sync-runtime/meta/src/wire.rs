//! The wire format of values whose JSON form is a decision (docs/types.md), as serde helpers
//! for `#[serde(with = "...")]`.
//!
//! - Timestamps are RFC 3339 in UTC with exactly three fractional digits:
//!   `2026-11-24T10:00:00.000Z`. Millisecond precision holds everywhere, so a value survives any
//!   round trip unchanged and two stores never disagree on a last-write-wins comparison: input
//!   with a finer fraction is refused, not rounded, and so is a value with a finer fraction on
//!   output (truncate with `chrono::SubsecRound::trunc_subsecs(3)` first).
//! - Dates are `YYYY-MM-DD`.
//! - Bigints must fit a JavaScript number exactly (±(2^53 − 1)); the schema decided to refuse
//!   larger values in every target rather than send them as strings.
//! - A `real` kept as a Postgres `real` (float4) is the shortest decimal that reads back as the
//!   same float4 ([`float4`]); a pushed value is rounded to it ([`round_to_float4`]).
//!
//! Each helper has an `_opt` sibling for nullable columns. UUIDs need no helper: the `uuid`
//! crate already writes them hyphenated and lower-case.

use std::fmt;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Timelike, Utc};

/// The largest integer a JavaScript number holds exactly (`Number.MAX_SAFE_INTEGER`).
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// Why a value has no wire form, or a wire value was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum WireError {
    /// Not an RFC 3339 timestamp.
    NotTimestamp(String),
    /// A timestamp with a fraction finer than milliseconds.
    SubMillisecond(String),
    /// A leap second, which neither Postgres nor JavaScript keeps.
    LeapSecond(String),
    /// A timestamp or date whose year is outside 0000..=9999, which RFC 3339 cannot write.
    YearOutOfRange(i32),
    /// Not a `YYYY-MM-DD` date.
    NotDate(String),
    /// A bigint beyond ±(2^53 − 1).
    UnsafeInteger(i64),
    /// A finite, non-zero number that a float4 holds only as an infinity or as zero.
    Float4OutOfRange(f64),
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const TIMESTAMP: &str = "RFC 3339 with milliseconds, such as `2026-11-24T10:00:00.000Z`";
        match self {
            WireError::NotTimestamp(s) => {
                write!(f, "`{s}` is not a timestamp; expected {TIMESTAMP}")
            }
            WireError::SubMillisecond(s) => write!(
                f,
                "timestamp `{s}` has sub-millisecond precision; timestamps are {TIMESTAMP}"
            ),
            WireError::LeapSecond(s) => {
                write!(f, "timestamp `{s}` is a leap second, which is not supported")
            }
            WireError::YearOutOfRange(y) => {
                write!(f, "year {y} is outside 0000..=9999, which RFC 3339 cannot represent")
            }
            WireError::NotDate(s) => write!(f, "`{s}` is not a date; expected `YYYY-MM-DD`"),
            WireError::UnsafeInteger(i) => write!(
                f,
                "bigint {i} is beyond ±{MAX_SAFE_INTEGER} (2^53 - 1), the largest integer a JavaScript number holds exactly"
            ),
            WireError::Float4OutOfRange(x) => write!(
                f,
                "{x:e} is out of range for a float4 (Postgres `real`), which holds magnitudes from {:e} to {:e}",
                f32::from_bits(1),
                f32::MAX
            ),
        }
    }
}

impl std::error::Error for WireError {}

/// The wire form of a timestamp: `2026-11-24T10:00:00.000Z`.
pub fn format_timestamp(value: &DateTime<Utc>) -> Result<String, WireError> {
    check_year(value.year())?;
    if value.nanosecond() >= 1_000_000_000 {
        return Err(WireError::LeapSecond(value.to_rfc3339()));
    }
    if !value.nanosecond().is_multiple_of(1_000_000) {
        return Err(WireError::SubMillisecond(value.to_rfc3339()));
    }
    Ok(value.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
}

/// Parse a wire timestamp. Any RFC 3339 offset is accepted and converted to UTC; a fraction
/// finer than milliseconds is refused.
pub fn parse_timestamp(text: &str) -> Result<DateTime<Utc>, WireError> {
    let parsed: DateTime<FixedOffset> =
        DateTime::parse_from_rfc3339(text).map_err(|_| WireError::NotTimestamp(text.to_owned()))?;
    // chrono ignores fraction digits past the ninth, so sub-millisecond digits are checked in
    // the text: RFC 3339 fixes the seconds to end at byte 19 (`YYYY-MM-DDTHH:MM:SS`).
    let fraction = text[19..].strip_prefix('.').map(|rest| {
        let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        &rest[..end]
    });
    if fraction.is_some_and(|digits| digits.bytes().skip(3).any(|b| b != b'0')) {
        return Err(WireError::SubMillisecond(text.to_owned()));
    }
    if parsed.nanosecond() >= 1_000_000_000 {
        return Err(WireError::LeapSecond(text.to_owned()));
    }
    let utc = parsed.with_timezone(&Utc);
    // An offset can move a value across a year boundary (`0000-01-01T00:00:00+01:00`).
    check_year(utc.year())?;
    Ok(utc)
}

/// The wire form of a date: `YYYY-MM-DD`.
pub fn format_date(value: &NaiveDate) -> Result<String, WireError> {
    check_year(value.year())?;
    Ok(value.format("%Y-%m-%d").to_string())
}

/// Parse a wire date, exactly `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Result<NaiveDate, WireError> {
    let invalid = || WireError::NotDate(text.to_owned());
    let b = text.as_bytes();
    let shape_ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape_ok {
        return Err(invalid());
    }
    let number = |range: std::ops::Range<usize>| text[range].parse::<u32>().map_err(|_| invalid());
    let year = i32::try_from(number(0..4)?).map_err(|_| invalid())?;
    NaiveDate::from_ymd_opt(year, number(5..7)?, number(8..10)?).ok_or_else(invalid)
}

/// A bigint that fits a JavaScript number exactly, unchanged.
pub fn check_bigint(value: i64) -> Result<i64, WireError> {
    if (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&value) {
        Ok(value)
    } else {
        Err(WireError::UnsafeInteger(value))
    }
}

/// The wire value of a float4 (a `real` column kept as a Postgres `real`): the decimal with the
/// fewest digits that reads back as the same float4, as the `f64` nearest to it. So `0.1` stored
/// as a float4 is served as `0.1`, not as `0.10000000149011612`, the float4's exact value.
pub fn float4(value: f32) -> f64 {
    // `Display` writes the shortest decimal that reads back as the same `f32`, and parsing a
    // decimal rounds it correctly.
    value.to_string().parse().expect("the decimal form of a float parses")
}

/// A number for a float4 column in its wire form: rounded to the nearest float4, then as
/// [`float4`] writes it. A finite, non-zero number that would become an infinity or zero is
/// refused, as Postgres refuses it.
pub fn round_to_float4(value: f64) -> Result<f64, WireError> {
    let rounded = value as f32;
    if (rounded.is_infinite() && value.is_finite()) || (rounded == 0.0 && value != 0.0) {
        return Err(WireError::Float4OutOfRange(value));
    }
    Ok(float4(rounded))
}

fn check_year(year: i32) -> Result<(), WireError> {
    if (0..=9999).contains(&year) { Ok(()) } else { Err(WireError::YearOutOfRange(year)) }
}

/// Serde helpers for a string-encoded value: `$format` and `$parse` convert, and the module has
/// `serialize`/`deserialize` for `$ty` and an `opt` submodule for `Option<$ty>`.
macro_rules! string_helpers {
    ($(#[$doc:meta])* $name:ident, $opt:ident, $ty:ty, $format:path, $parse:path) => {
        $(#[$doc])*
        pub mod $name {
            use serde::{Deserialize, Deserializer, Serializer};

            pub fn serialize<S: Serializer>(value: &$ty, serializer: S) -> Result<S::Ok, S::Error> {
                let text = $format(value).map_err(serde::ser::Error::custom)?;
                serializer.serialize_str(&text)
            }

            pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<$ty, D::Error> {
                let text = String::deserialize(deserializer)?;
                $parse(&text).map_err(serde::de::Error::custom)
            }
        }

        $(#[$doc])*
        ///
        /// For a nullable column: `None` is `null`.
        pub mod $opt {
            use serde::{Deserialize, Deserializer, Serializer};

            pub fn serialize<S: Serializer>(
                value: &Option<$ty>,
                serializer: S,
            ) -> Result<S::Ok, S::Error> {
                match value {
                    Some(value) => super::$name::serialize(value, serializer),
                    None => serializer.serialize_none(),
                }
            }

            pub fn deserialize<'de, D: Deserializer<'de>>(
                deserializer: D,
            ) -> Result<Option<$ty>, D::Error> {
                Option::<String>::deserialize(deserializer)?
                    .map(|text| $parse(&text).map_err(serde::de::Error::custom))
                    .transpose()
            }
        }
    };
}

string_helpers!(
    /// A `timestamp` column: `2026-11-24T10:00:00.000Z`.
    timestamp,
    timestamp_opt,
    chrono::DateTime<chrono::Utc>,
    super::format_timestamp,
    super::parse_timestamp
);

string_helpers!(
    /// A `date` column: `YYYY-MM-DD`.
    date,
    date_opt,
    chrono::NaiveDate,
    super::format_date,
    super::parse_date
);

/// A `bigint` column: a JSON number within ±(2^53 − 1).
pub mod bigint {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &i64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(super::check_bigint(*value).map_err(serde::ser::Error::custom)?)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
        super::check_bigint(i64::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

/// A nullable `bigint` column: a JSON number within ±(2^53 − 1), or `null`.
pub mod bigint_opt {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<i64>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(value) => super::bigint::serialize(value, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<i64>, D::Error> {
        Option::<i64>::deserialize(deserializer)?
            .map(|value| super::check_bigint(value).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests;

//! Unit tests of the wire helpers: canonical forms, edge values and rejections.

use chrono::{DateTime, NaiveDate, SubsecRound, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::*;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Row {
    #[serde(with = "super::timestamp")]
    at: DateTime<Utc>,
    #[serde(with = "super::timestamp_opt")]
    due: Option<DateTime<Utc>>,
    #[serde(with = "super::date")]
    on: NaiveDate,
    #[serde(with = "super::date_opt")]
    until: Option<NaiveDate>,
    #[serde(with = "super::bigint")]
    big: i64,
    #[serde(with = "super::bigint_opt")]
    maybe_big: Option<i64>,
}

fn ms(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, milli: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap() + chrono::Duration::milliseconds(milli.into())
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn row_error(value: serde_json::Value) -> String {
    serde_json::from_value::<Row>(value).expect_err("the row is refused").to_string()
}

fn valid_row() -> serde_json::Value {
    json!({
        "at": "2026-11-24T10:00:00.000Z", "due": null, "on": "2026-11-24",
        "until": null, "big": 1, "maybe_big": null,
    })
}

#[test]
fn timestamps_have_exactly_three_fraction_digits_and_z() {
    let cases = [
        (ms(2026, 11, 24, 10, 0, 0, 0), "2026-11-24T10:00:00.000Z"),
        (ms(2026, 11, 24, 10, 0, 0, 7), "2026-11-24T10:00:00.007Z"),
        (ms(1970, 1, 1, 0, 0, 0, 0), "1970-01-01T00:00:00.000Z"),
        (ms(1969, 12, 31, 23, 59, 59, 999), "1969-12-31T23:59:59.999Z"),
        (ms(0, 1, 1, 0, 0, 0, 0), "0000-01-01T00:00:00.000Z"),
        (ms(9999, 12, 31, 23, 59, 59, 999), "9999-12-31T23:59:59.999Z"),
    ];
    for (value, text) in cases {
        assert_eq!(format_timestamp(&value).as_deref(), Ok(text));
        assert_eq!(parse_timestamp(text), Ok(value), "{text}");
    }
}

#[test]
fn timestamp_input_in_other_offsets_and_fraction_lengths_is_normalised() {
    let expected = ms(2026, 11, 24, 10, 0, 0, 500);
    for text in [
        "2026-11-24T10:00:00.5Z",
        "2026-11-24T10:00:00.500000000Z",
        "2026-11-24T11:00:00.500+01:00",
        "2026-11-24T10:00:00.500+00:00",
    ] {
        assert_eq!(parse_timestamp(text), Ok(expected), "{text}");
    }
    assert_eq!(parse_timestamp("2026-11-24T10:00:00Z"), Ok(ms(2026, 11, 24, 10, 0, 0, 0)));
}

#[test]
fn sub_millisecond_timestamps_are_refused_both_ways() {
    for text in [
        "2026-11-24T10:00:00.0001Z",
        "2026-11-24T10:00:00.123456Z",
        // chrono drops digits past the ninth; they must still count.
        "2026-11-24T10:00:00.0000000001Z",
    ] {
        assert_eq!(parse_timestamp(text), Err(WireError::SubMillisecond(text.into())), "{text}");
    }
    let fine = ms(2026, 11, 24, 10, 0, 0, 0) + chrono::Duration::microseconds(1);
    assert!(matches!(format_timestamp(&fine), Err(WireError::SubMillisecond(_))));
    assert_eq!(
        format_timestamp(&fine.trunc_subsecs(3)).as_deref(),
        Ok("2026-11-24T10:00:00.000Z"),
        "the documented fix works"
    );
}

#[test]
fn malformed_and_out_of_range_timestamps_are_refused() {
    for text in ["", "2026-11-24", "2026-11-24T10:00:00", "2026-13-01T00:00:00Z", "yesterday"] {
        assert_eq!(parse_timestamp(text), Err(WireError::NotTimestamp(text.into())), "{text}");
    }
    assert_eq!(
        parse_timestamp("2016-12-31T23:59:60.000Z"),
        Err(WireError::LeapSecond("2016-12-31T23:59:60.000Z".into()))
    );
    assert_eq!(
        parse_timestamp("0000-01-01T00:00:00.000+01:00"),
        Err(WireError::YearOutOfRange(-1))
    );
    let far = ms(10000, 1, 1, 0, 0, 0, 0);
    assert_eq!(format_timestamp(&far), Err(WireError::YearOutOfRange(10000)));
}

#[test]
fn dates_are_yyyy_mm_dd() {
    for (value, text) in [
        (date(2026, 11, 24), "2026-11-24"),
        (date(2024, 2, 29), "2024-02-29"),
        (date(0, 1, 1), "0000-01-01"),
        (date(9999, 12, 31), "9999-12-31"),
    ] {
        assert_eq!(format_date(&value).as_deref(), Ok(text));
        assert_eq!(parse_date(text), Ok(value));
    }
    for text in
        ["2026-1-5", "2026-02-30", "2025-02-29", "20261124", "2026-11-24T00:00:00Z", "+2026-11-2"]
    {
        assert_eq!(parse_date(text), Err(WireError::NotDate(text.into())), "{text}");
    }
    assert_eq!(format_date(&date(-1, 1, 1)), Err(WireError::YearOutOfRange(-1)));
}

#[test]
fn bigints_stop_at_the_largest_safe_javascript_integer() {
    assert_eq!(MAX_SAFE_INTEGER, 9_007_199_254_740_991);
    for value in [0, MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER] {
        assert_eq!(check_bigint(value), Ok(value));
    }
    for value in [MAX_SAFE_INTEGER + 1, -MAX_SAFE_INTEGER - 1, i64::MAX, i64::MIN] {
        assert_eq!(check_bigint(value), Err(WireError::UnsafeInteger(value)));
    }
}

#[test]
fn serde_round_trip_uses_the_wire_forms_and_null() {
    let row = Row {
        at: ms(2026, 11, 24, 10, 0, 0, 123),
        due: Some(ms(2026, 11, 25, 0, 0, 0, 0)),
        on: date(2026, 11, 24),
        until: None,
        big: -MAX_SAFE_INTEGER,
        maybe_big: Some(MAX_SAFE_INTEGER),
    };
    let value = serde_json::to_value(&row).unwrap();
    assert_eq!(
        value,
        json!({
            "at": "2026-11-24T10:00:00.123Z",
            "due": "2026-11-25T00:00:00.000Z",
            "on": "2026-11-24",
            "until": null,
            "big": -9_007_199_254_740_991_i64,
            "maybe_big": 9_007_199_254_740_991_i64,
        })
    );
    assert_eq!(serde_json::from_value::<Row>(value).unwrap(), row);
    assert!(serde_json::from_value::<Row>(valid_row()).is_ok());
}

#[test]
fn serde_errors_name_the_problem() {
    let mut sub_ms = valid_row();
    sub_ms["due"] = json!("2026-11-24T10:00:00.0005Z");
    assert!(row_error(sub_ms).contains("sub-millisecond precision"));

    let mut bad_date = valid_row();
    bad_date["until"] = json!("24/11/2026");
    assert!(row_error(bad_date).contains("`24/11/2026` is not a date"));

    let mut unsafe_big = valid_row();
    unsafe_big["maybe_big"] = json!(9_007_199_254_740_992_i64);
    assert!(row_error(unsafe_big).contains("bigint 9007199254740992 is beyond"));

    let mut float_big = valid_row();
    float_big["big"] = json!(1.5);
    assert!(row_error(float_big).contains("invalid type: floating point"));

    let unsafe_out = Row { big: i64::MAX, ..serde_json::from_value(valid_row()).unwrap() };
    let error = serde_json::to_string(&unsafe_out).expect_err("not serializable").to_string();
    assert!(error.contains("bigint 9223372036854775807 is beyond"), "{error}");
}

#[test]
fn float4_values_are_served_as_their_shortest_decimal() {
    assert_eq!(float4(0.1), 0.1);
    assert_eq!(float4(f32::MAX), 3.402_823_5e38);
    assert_eq!(float4(f32::from_bits(1)), 1e-45);
    assert_eq!(round_to_float4(0.1), Ok(0.1));
    // More digits than a float4 holds: rounded to the nearest float4.
    assert_eq!(round_to_float4(f64::from(0.1f32)), Ok(0.1));
    assert_eq!(round_to_float4(0.100_000_000_1), Ok(0.1));
    assert_eq!(round_to_float4(-2.25), Ok(-2.25));
    assert_eq!(round_to_float4(0.0), Ok(0.0));
    for out in [1e39, -1e39, f64::MAX, 1e-50, -1e-46] {
        let error = round_to_float4(out).expect_err("out of range");
        assert_eq!(error, WireError::Float4OutOfRange(out));
        assert!(error.to_string().contains("out of range for a float4"), "{error}");
    }
}

#[test]
fn every_float4_survives_its_wire_form() {
    // A spread of bit patterns over every exponent, both signs, subnormals included: the wire
    // value reads back as the same float4 from an f64 and from its JSON text (which Postgres
    // parses into a `real`), and rounding it again changes nothing.
    let patterns = (0..u32::MAX).step_by(16411).chain([1, 0x007f_ffff, 0x0080_0000, 0x7f7f_ffff]);
    for bits in patterns.flat_map(|b| [b, b | 0x8000_0000]) {
        let value = f32::from_bits(bits);
        if !value.is_finite() {
            continue;
        }
        let wire = float4(value);
        assert_eq!((wire as f32).to_bits(), bits, "{value:e}");
        let text = serde_json::to_string(&wire).unwrap();
        assert_eq!(text.parse::<f32>().unwrap().to_bits(), bits, "{value:e} as {text}");
        assert_eq!(round_to_float4(wire), Ok(wire), "{value:e}");
    }
}

//! `GET /metrics` (docs/server.md, Metrics) on a real server over both stores: absent without a
//! metrics token, 401 without the right one, and with it a Prometheus text exposition that
//! parses under the format's strict line grammar, whose counters move as requests are made (a
//! push, a pull, a stale rejection, a 401) and whose gauges follow open event streams and, on
//! Postgres, the connection pool.

use std::any::TypeId;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use integration_tests::server::{Options, Served, token};
use integration_tests::sync::{TestStore, at, device_id, id, profile, tune, user};
use reqwest::StatusCode;
use reqwest::header;
use serde_json::{Value, json};
use sync_runtime::pokes::PokeStream;
use sync_runtime::server::{HttpConfig, MetricsToken};
use sync_runtime::store::postgres::PgStore;

integration_tests::for_each_store!(
    metrics_are_absent_without_a_token,
    metrics_need_the_token,
    counters_move_as_requests_are_made,
);

const TOKEN: &str = "metrics-scrape-token-for-the-test";

fn serve<S: TestStore>(token: Option<&str>) -> Served {
    let http =
        HttpConfig { metrics_token: token.and_then(MetricsToken::new), ..Default::default() };
    Served::start::<S>(Options { http, ..Default::default() })
}

/// `GET /metrics` with `authorization` as the whole header: the status, the content type and
/// the body.
fn get(served: &Served, authorization: Option<&str>) -> (StatusCode, String, String) {
    let mut request = served.server.client().get(served.server.url("/metrics"));
    if let Some(authorization) = authorization {
        request = request.header(header::AUTHORIZATION, authorization);
    }
    served.block_on(async {
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map_or_else(String::new, |v| v.to_str().expect("an ASCII content type").to_owned());
        (status, content_type, response.text().await.expect("a body"))
    })
}

/// A scrape with the token, parsed.
fn scrape(served: &Served) -> Exposition {
    let (status, content_type, body) = get(served, Some(&format!("Bearer {TOKEN}")));
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    parse(&body).unwrap_or_else(|e| panic!("/metrics is not Prometheus text: {e}\n{body}"))
}

fn metrics_are_absent_without_a_token<S: TestStore>() {
    let served = serve::<S>(None);
    let (status, _, body) = get(&served, Some(&format!("Bearer {TOKEN}")));
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    served.stop();
}

fn metrics_need_the_token<S: TestStore>() {
    let served = serve::<S>(Some(TOKEN));
    for (authorization, code) in [
        (None, "missing_authorization"),
        (Some(format!("Basic {TOKEN}")), "not_bearer"),
        (Some("Bearer not-the-token".to_owned()), "bad_signature"),
        (Some(format!("Bearer {TOKEN}x")), "bad_signature"),
        // A user's token is not the metrics token.
        (Some(format!("Bearer {}", token(&user(1)))), "bad_signature"),
    ] {
        let (status, _, body) = get(&served, authorization.as_deref());
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{authorization:?}: {body}");
        let body: Value = serde_json::from_str(&body).expect("a JSON error body");
        assert_eq!(body["error"]["code"], code, "{authorization:?}");
    }
    let metrics = scrape(&served);
    let refused = metrics
        .value(r#"sync_http_requests_total{code="bad_signature",route="/metrics",status="401"}"#);
    assert_eq!(refused, Some(3.0), "the refused scrapes are counted");
    served.stop();
}

fn counters_move_as_requests_are_made<S: TestStore>() {
    let served = serve::<S>(Some(TOKEN));
    let me = user(1);
    let before = scrape(&served);
    let sync_ok = r#"sync_http_requests_total{code="ok",route="/api/sync",status="200"}"#;
    let unauthorized =
        r#"sync_http_requests_total{code="missing_authorization",route="/api/sync",status="401"}"#;

    // A push of two changes, then one that loses to the newer row (stale), a pull, a 401.
    served.push_as(
        &me,
        &device_id(1),
        vec![profile(&me, &at(0)), tune(&id(1), &me, "new", &at(5))],
    );
    let stale =
        served.sync_as(&me, &device_id(2), &Value::Null, vec![tune(&id(1), &me, "old", &at(4))]);
    assert_eq!(stale.body["rejected"][0]["reason"], "stale", "{}", stale.body);
    let (pulled, _) = served.pull_as(&me, &device_id(3), Value::Null);
    let anonymous = served.post(None, json!({}).to_string());
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);

    let after = scrape(&served);
    let moved =
        |series: &str| after.value(series).unwrap_or(0.0) - before.value(series).unwrap_or(0.0);
    assert_eq!(moved("sync_changes_pushed_total"), 3.0);
    assert!(moved("sync_rows_pulled_total") >= pulled.len() as f64, "{}", after.text);
    assert_eq!(moved(r#"sync_changes_rejected_total{reason="stale"}"#), 1.0);
    assert!(moved(sync_ok) >= 3.0, "{}", after.text);
    assert_eq!(moved(unauthorized), 1.0);
    assert!(moved(r#"sync_http_request_duration_seconds_count{route="/api/sync"}"#) >= 4.0);
    assert!(moved(r#"sync_http_request_duration_seconds_sum{route="/api/sync"}"#) > 0.0);
    assert_eq!(after.value("sync_database_up"), Some(1.0));
    assert_eq!(after.value("sync_pull_horizon_waiting_transactions"), Some(0.0));
    let pool = after.value("sync_db_pool_max_connections");
    if TypeId::of::<S>() == TypeId::of::<PgStore>() {
        assert_eq!(pool, Some(16.0), "{}", after.text);
        assert!(moved("sync_db_pool_acquired_total") >= 4.0, "{}", after.text);
        assert!(after.value("sync_db_pool_open_connections").is_some_and(|n| n >= 1.0));
    } else {
        assert_eq!(pool, None, "the embedded store has no pool");
    }

    // An open event stream is counted until it ends.
    let stream = served.block_on(PokeStream::connect(
        served.server.client(),
        &served.server.url("/api/events"),
        &token(&me),
    ));
    let stream = stream.expect("the event stream opens");
    assert_eq!(scrape(&served).value("sync_event_streams_open"), Some(1.0));
    drop(stream);
    let start = Instant::now();
    while scrape(&served).value("sync_event_streams_open") != Some(0.0) {
        assert!(start.elapsed() < Duration::from_secs(5), "the closed stream is still counted");
        std::thread::sleep(Duration::from_millis(20));
    }
    served.stop();
}

/// A parsed exposition: each series (`name{label="value",...}`, labels sorted) and its value.
struct Exposition {
    text: String,
    series: BTreeMap<String, f64>,
}

impl Exposition {
    fn value(&self, series: &str) -> Option<f64> {
        self.series.get(series).copied()
    }
}

/// A family's declared type, and the sample names it may have.
struct Family {
    name: String,
    kind: String,
}

impl Family {
    fn admits(&self, sample: &str) -> bool {
        match self.kind.as_str() {
            "histogram" => ["_bucket", "_sum", "_count"]
                .iter()
                .any(|suffix| sample.strip_suffix(suffix) == Some(&self.name)),
            _ => sample == self.name,
        }
    }
}

/// Parse the Prometheus text format (version 0.0.4) strictly: every line is a `# HELP`, a
/// `# TYPE` before its family's samples, or a sample of the family last typed, with a valid
/// name, well-formed quoted labels and a number; no family is declared twice, no series
/// repeats, counters are not negative, and each histogram's buckets are cumulative and end at
/// `+Inf` with its `_count`.
fn parse(text: &str) -> Result<Exposition, String> {
    let mut series = BTreeMap::new();
    let mut families: Vec<Family> = Vec::new();
    if !text.ends_with('\n') {
        return Err("the exposition does not end with a newline".into());
    }
    for (n, line) in text.lines().enumerate() {
        let fail = |why: &str| format!("line {}: {why}: {line:?}", n + 1);
        if let Some(rest) = line.strip_prefix("# ") {
            let mut words = rest.splitn(3, ' ');
            match (words.next(), words.next(), words.next()) {
                (Some("HELP"), Some(name), Some(_)) if is_name(name) => {}
                (Some("TYPE"), Some(name), Some(kind)) if is_name(name) => {
                    if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) {
                        return Err(fail("unknown type"));
                    }
                    if families.iter().any(|f| f.name == name) {
                        return Err(fail("a family declared twice"));
                    }
                    families.push(Family { name: name.to_owned(), kind: kind.to_owned() });
                }
                _ => return Err(fail("a comment that is neither HELP nor TYPE")),
            }
            continue;
        }
        let (name, labels, value) = sample(line).ok_or_else(|| fail("not a sample"))?;
        let family = families.last().ok_or_else(|| fail("a sample before any TYPE"))?;
        if !family.admits(&name) {
            return Err(fail(&format!("not a sample of family {}", family.name)));
        }
        if family.kind == "counter" && value < 0.0 {
            return Err(fail("a negative counter"));
        }
        let key = if labels.is_empty() {
            name
        } else {
            let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
            format!("{name}{{{}}}", labels.join(","))
        };
        if series.insert(key, value).is_some() {
            return Err(fail("a series repeated"));
        }
    }
    histograms_are_cumulative(&families, &series)?;
    Ok(Exposition { text: text.to_owned(), series })
}

/// `name{labels} value` with an optional timestamp; labels sorted by name.
fn sample(line: &str) -> Option<(String, BTreeMap<String, String>, f64)> {
    let end = line.find(['{', ' '])?;
    let (name, mut rest) = line.split_at(end);
    if !is_name(name) {
        return None;
    }
    let mut labels = BTreeMap::new();
    if let Some(inner) = rest.strip_prefix('{') {
        rest = inner;
        while !rest.starts_with('}') {
            let eq = rest.find('=')?;
            let label = &rest[..eq];
            let valid = label.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            let (value, after) = quoted(rest[eq + 1..].strip_prefix('"')?)?;
            if !valid || labels.insert(label.to_owned(), value).is_some() {
                return None;
            }
            rest = after.strip_prefix(',').unwrap_or(after);
            if !after.starts_with([',', '}']) {
                return None;
            }
        }
        rest = &rest[1..];
    }
    let mut fields = rest.strip_prefix(' ')?.split(' ');
    let value = match fields.next()? {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        number => number.parse().ok()?,
    };
    match (fields.next(), fields.next()) {
        (None, _) => Some((name.to_owned(), labels, value)),
        (Some(timestamp), None) if timestamp.parse::<i64>().is_ok() => {
            Some((name.to_owned(), labels, value))
        }
        _ => None,
    }
}

/// A label value after its opening quote, unescaped, and what follows its closing quote.
fn quoted(text: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((value, &text[i + 1..])),
            '\\' => value.push(match chars.next()?.1 {
                '\\' => '\\',
                '"' => '"',
                'n' => '\n',
                _ => return None,
            }),
            '\n' => return None,
            c => value.push(c),
        }
    }
    None
}

fn is_name(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Each histogram series' buckets never decrease and end with `+Inf` equal to its `_count`.
fn histograms_are_cumulative(
    families: &[Family],
    series: &BTreeMap<String, f64>,
) -> Result<(), String> {
    for family in families.iter().filter(|f| f.kind == "histogram") {
        let counts = series.iter().filter(|(k, _)| {
            k.strip_prefix(&family.name).is_some_and(|rest| rest.starts_with("_count"))
        });
        for (count_key, count) in counts {
            let labels = &count_key[family.name.len() + "_count".len()..];
            let inner = labels.trim_start_matches('{').trim_end_matches('}');
            let bucket_prefix = format!("{}_bucket{{", family.name);
            let mut buckets: Vec<(f64, f64)> = series
                .iter()
                .filter_map(|(k, v)| {
                    let rest = k.strip_prefix(&bucket_prefix)?.strip_suffix('}')?;
                    let (le, others): (Vec<&str>, Vec<&str>) =
                        rest.split(',').partition(|l| l.starts_with("le="));
                    (others.join(",") == inner).then_some(())?;
                    let le = le.first()?.trim_start_matches("le=").trim_matches('"');
                    let le = if le == "+Inf" { f64::INFINITY } else { le.parse().ok()? };
                    Some((le, *v))
                })
                .collect();
            buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
            let cumulative = buckets.windows(2).all(|w| w[0].1 <= w[1].1);
            let last = buckets.last().copied();
            if !cumulative || last != Some((f64::INFINITY, *count)) {
                return Err(format!("{count_key}: buckets {buckets:?} are not cumulative to it"));
            }
        }
    }
    Ok(())
}

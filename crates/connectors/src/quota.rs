//! The request limits services publish (`crates/connectors/limits.toml`, plus a file named
//! by `FERRY_LIMITS`, plus what a connector-protocol service says of itself), enforced
//! for every request of the process: a request spends units of each limit it falls under,
//! per account (`user`) or for all accounts (`app`). A rolling limit refills as it is
//! spent; a fixed one (a daily quota) comes back whole when its window ends. A request
//! waits for its units up to [`MAX_WAIT`]; beyond that, it fails with
//! [`ConnectorError::QuotaSpent`] and the job pauses until the units come back.

use ferry_core::ConnectorError;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

/// The share of a rolling limit ferry uses: clocks and network delays differ between
/// ferry and the service, so ferry stays a tenth under what is published.
pub const ROLLING_SHARE: f64 = 0.9;

/// The longest a request waits for its units; past it the job pauses instead.
pub const MAX_WAIT: Duration = Duration::from_secs(60);

const BUILT_IN: &str = include_str!("../limits.toml");

/// Whose requests a limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Each account's own.
    User,
    /// Every account of this ferry together.
    App,
}

/// How spent units come back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    /// Continuously (a moving average, as most per-second and per-minute limits are).
    #[default]
    Rolling,
    /// All at once when the window ends (windows start at the Unix epoch plus `offset`: a
    /// daily quota that resets at midnight UTC, or, with `offset = "8h"`, Pacific time).
    Fixed,
}

/// One published limit.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    pub name: String,
    /// Hosts (`host` or `host:port`) whose requests it counts.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Or: the connectors (`mastodon`) whose requests it counts, whatever the host.
    #[serde(default)]
    pub providers: Vec<String>,
    /// Only requests whose path starts with one of these (all when empty).
    #[serde(default)]
    pub paths: Vec<String>,
    /// Only requests of these methods (all when empty).
    #[serde(default)]
    pub methods: Vec<String>,
    pub units: u64,
    /// `30s`, `1m`, `10m`, `1h`, `1d`.
    pub per: String,
    pub scope: Scope,
    #[serde(default)]
    pub window: Window,
    /// Where fixed windows start after the epoch's multiples (`8h`).
    #[serde(default)]
    pub offset: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    /// Units a request costs, by `METHOD /path-prefix` (the longest prefix wins); 1 else.
    #[serde(default)]
    pub costs: BTreeMap<String, u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitFile {
    #[serde(default)]
    limit: Vec<Limit>,
}

/// `30s`, `5m`, `1h`, `1d` as a duration.
pub fn parse_period(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = n.parse().map_err(|_| format!("`{s}` is not a period such as 30s, 5m, 1h or 1d"))?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("`{s}` is not a period such as 30s, 5m, 1h or 1d")),
    };
    match n.checked_mul(secs) {
        Some(t) if t > 0 && t <= 366 * 86_400 => Ok(Duration::from_secs(t)),
        _ => Err(format!("`{s}`: a period from one second to a year")),
    }
}

impl Limit {
    fn check(&self) -> Result<(), String> {
        let period = parse_period(&self.per).map_err(|e| format!("limit `{}`: {e}", self.name))?;
        if let Some(o) = &self.offset
            && parse_period(o).map_err(|e| format!("limit `{}`: offset {e}", self.name))? >= period
        {
            return Err(format!("limit `{}`: the offset must be shorter than the period", self.name));
        }
        if self.units == 0 {
            return Err(format!("limit `{}`: units must be at least 1", self.name));
        }
        if let Some((k, v)) = self.costs.iter().find(|(_, v)| **v > self.units) {
            return Err(format!("limit `{}`: `{k}` costs {v} units, more than the {} there are", self.name, self.units));
        }
        if self.hosts.is_empty() && self.providers.is_empty() {
            return Err(format!("limit `{}`: names no host and no provider", self.name));
        }
        Ok(())
    }

    fn applies(&self, host: &str, port: Option<u16>, provider: Option<&str>, method: &str, path: &str) -> bool {
        let host_ok = self.hosts.iter().any(|h| h == host || port.is_some_and(|p| *h == format!("{host}:{p}")))
            || provider.is_some_and(|p| self.providers.iter().any(|x| x == p));
        host_ok
            && (self.paths.is_empty() || self.paths.iter().any(|p| path.starts_with(p.as_str())))
            && (self.methods.is_empty() || self.methods.iter().any(|m| m.eq_ignore_ascii_case(method)))
    }

    fn cost(&self, method: &str, path: &str) -> u64 {
        self.costs
            .iter()
            .filter_map(|(k, v)| {
                let (m, p) = k.split_once(' ')?;
                (m.eq_ignore_ascii_case(method) && path.starts_with(p)).then_some((p.len(), *v))
            })
            .max_by_key(|(len, _)| *len)
            .map_or(1, |(_, v)| v)
    }
}

/// Reads a limits file; every problem named.
pub fn parse(text: &str, what: &str) -> Result<Vec<Limit>, String> {
    let file: LimitFile = toml::from_str(text).map_err(|e| format!("{what}: {e}"))?;
    for l in &file.limit {
        l.check().map_err(|e| format!("{what}: {e}"))?;
    }
    Ok(file.limit)
}

/// The built-in limits, with those of `FERRY_LIMITS` added (replacing same names).
fn load() -> Result<Vec<Limit>, String> {
    let mut all = parse(BUILT_IN, "the built-in limits")?;
    if let Some(path) = std::env::var_os("FERRY_LIMITS") {
        let p = std::path::Path::new(&path);
        let text = std::fs::read_to_string(p).map_err(|e| format!("FERRY_LIMITS {}: {e}", p.display()))?;
        for l in parse(&text, &format!("FERRY_LIMITS {}", p.display()))? {
            all.retain(|x| x.name != l.name);
            all.push(l);
        }
    }
    Ok(all)
}

static TABLE: LazyLock<RwLock<Result<Vec<Arc<Limit>>, String>>> =
    LazyLock::new(|| RwLock::new(load().map(|v| v.into_iter().map(Arc::new).collect())));

/// Checks that the limits could be read (a broken FERRY_LIMITS stops a job at its start).
pub fn check_table() -> Result<(), ConnectorError> {
    match &*TABLE.read().unwrap_or_else(|e| e.into_inner()) {
        Ok(_) => Ok(()),
        Err(e) => Err(ConnectorError::Fatal(e.clone())),
    }
}

/// Adds a limit a service published of itself (a connector-protocol service's `limits`),
/// unless one of the same name is known.
pub fn register(limit: Limit) -> Result<(), String> {
    limit.check()?;
    let mut table = TABLE.write().unwrap_or_else(|e| e.into_inner());
    if let Ok(t) = &mut *table
        && !t.iter().any(|l| l.name == limit.name)
    {
        t.push(Arc::new(limit));
    }
    Ok(())
}

/// The budget of one limit for one account (or all).
struct Bucket {
    limit: Arc<Limit>,
    period: Duration,
    /// Units left, and when they were counted.
    state: Mutex<(f64, Instant, u64)>,
}

/// Buckets by limit name and account key (empty for `app` limits).
type Buckets = HashMap<(String, String), Arc<Bucket>>;

static BUCKETS: LazyLock<Mutex<Buckets>> = LazyLock::new(Default::default);

impl Bucket {
    /// Takes `cost` units now, or says how long until they are there.
    fn take(&self, cost: u64) -> Result<(), Duration> {
        let units = self.limit.units as f64;
        let cost = (cost.min(self.limit.units)) as f64;
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        match self.limit.window {
            Window::Rolling => {
                let units = (units * ROLLING_SHARE).max(1.0);
                let cost = cost.min(units);
                let rate = units / self.period.as_secs_f64();
                s.0 = (s.0 + now.duration_since(s.1).as_secs_f64() * rate).min(units);
                s.1 = now;
                if s.0 >= cost {
                    s.0 -= cost;
                    return Ok(());
                }
                Err(Duration::from_secs_f64((cost - s.0) / rate))
            }
            Window::Fixed => {
                let (window, ends_in) = fixed_window(self.period, self.limit.offset.as_deref());
                if s.2 != window {
                    *s = (units, now, window);
                }
                if s.0 >= cost {
                    s.0 -= cost;
                    return Ok(());
                }
                Err(ends_in)
            }
        }
    }
}

/// The number of the fixed window we are in, and how long until it ends.
fn fixed_window(period: Duration, offset: Option<&str>) -> (u64, Duration) {
    let offset = offset.and_then(|o| parse_period(o).ok()).unwrap_or_default().as_secs();
    let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_secs().saturating_sub(offset);
    let p = period.as_secs().max(1);
    (now / p, Duration::from_secs(p - now % p))
}

/// What one request is: its host, port, the connector's provider name, method and path.
pub struct RequestKind<'a> {
    pub host: &'a str,
    pub port: Option<u16>,
    pub provider: Option<&'a str>,
    pub method: &'a str,
    pub path: &'a str,
    /// The account the request is made for (a stable key, no secret).
    pub account: &'a str,
}

/// Spends the request's units of every limit it falls under, waiting for them up to
/// [`MAX_WAIT`].
pub async fn spend(r: &RequestKind<'_>) -> Result<(), ConnectorError> {
    let buckets: Vec<(Arc<Bucket>, u64)> = {
        let table = TABLE.read().unwrap_or_else(|e| e.into_inner());
        let Ok(limits) = &*table else { return Ok(()) };
        let mut buckets = BUCKETS.lock().unwrap_or_else(|e| e.into_inner());
        limits
            .iter()
            .filter(|l| l.applies(r.host, r.port, r.provider, r.method, r.path))
            .map(|l| {
                let key = (l.name.clone(), if l.scope == Scope::User { r.account.to_owned() } else { String::new() });
                let b = buckets
                    .entry(key)
                    .or_insert_with(|| {
                        let period = parse_period(&l.per).unwrap_or(Duration::from_secs(1));
                        Arc::new(Bucket { limit: l.clone(), period, state: Mutex::new((l.units as f64, Instant::now(), u64::MAX)) })
                    })
                    .clone();
                (b, l.cost(r.method, r.path))
            })
            .collect()
    };
    for (b, cost) in buckets {
        loop {
            match b.take(cost) {
                Ok(()) => break,
                Err(wait) if wait <= MAX_WAIT => tokio::time::sleep(wait).await,
                Err(wait) => {
                    let resume_at = chrono::Utc::now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::days(1));
                    return Err(ConnectorError::QuotaSpent {
                        message: format!(
                            "{} {}: the limit `{}` ({} requests a {}{}) is spent",
                            r.method,
                            r.host,
                            b.limit.name,
                            b.limit.units,
                            b.limit.per,
                            b.limit.source.as_deref().map(|s| format!(", {s}")).unwrap_or_default()
                        ),
                        resume_at,
                    });
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_table_reads_and_every_limit_names_its_source() {
        let all = parse(BUILT_IN, "built-in").unwrap();
        assert!(all.len() >= 6);
        assert!(all.iter().all(|l| l.source.as_deref().is_some_and(|s| s.starts_with("https://"))), "every figure has its source");
        let gmail = all.iter().find(|l| l.name == "gmail-user").unwrap();
        assert_eq!(gmail.cost("POST", "/upload/gmail/v1/users/me/messages/import"), 25);
        assert_eq!(gmail.cost("GET", "/gmail/v1/users/me/messages/abc"), 5);
        assert_eq!(gmail.cost("GET", "/gmail/v1/users/me/profile"), 1);
        assert_eq!(gmail.cost("POST", "/gmail/v1/users/me/messages/18c2/modify"), 5);
        assert_eq!(gmail.cost("POST", "/gmail/v1/users/me/messages/import"), 25);
        assert!(gmail.applies("gmail.googleapis.com", Some(443), None, "GET", "/gmail/v1/users/me/messages"));
        assert!(!gmail.applies("graph.microsoft.com", Some(443), None, "GET", "/gmail/v1/users/me/messages"));
        let media = all.iter().find(|l| l.name == "mastodon-media").unwrap();
        assert!(media.applies("any.social", None, Some("mastodon"), "POST", "/api/v2/media"));
        assert!(!media.applies("any.social", None, Some("mastodon"), "GET", "/api/v2/media"));
    }

    #[test]
    fn bad_limit_files_are_refused_with_their_reason() {
        for (text, says) in [
            ("[[limit]]\nname='x'\nhosts=['h']\nunits=5\nper='5 minutes'\nscope='user'\n", "not a period"),
            ("[[limit]]\nname='x'\nhosts=['h']\nunits=0\nper='5m'\nscope='user'\n", "at least 1"),
            ("[[limit]]\nname='x'\nunits=5\nper='5m'\nscope='user'\n", "no host"),
            ("[[limit]]\nname='x'\nhosts=['h']\nunits=5\nper='5m'\nscope='everyone'\n", "unknown variant"),
            ("[[limit]]\nname='x'\nhosts=['h']\nunits=5\nper='5m'\nscope='user'\nbogus=1\n", "unknown field"),
            ("[[limit]]\nname='x'\nhosts=['h']\nunits=5\nper='1d'\noffset='25h'\nscope='user'\nwindow='fixed'\n", "shorter"),
            ("[[limit]]\nname='x'\nhosts=['h']\nunits=5\nper='99999999999d'\nscope='user'\n", "a year"),
            ("[[limit", "FERRY"),
            ("[[limit]]\nname='x'\nhosts=['h']\nunits=5\nper='5m'\nscope='user'\n[limit.costs]\n'GET /' = 6\n", "more than the 5"),
        ] {
            let e = parse(text, "FERRY_LIMITS f").unwrap_err();
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    #[tokio::test]
    async fn a_rolling_limit_paces_and_a_fixed_one_pauses_the_job() {
        register(Limit {
            name: "test-rolling".into(),
            hosts: vec!["rolling.test".into()],
            providers: vec![],
            paths: vec![],
            methods: vec![],
            units: 5,
            per: "1s".into(),
            scope: Scope::User,
            window: Window::Rolling,
            offset: None,
            source: None,
            costs: BTreeMap::new(),
        })
        .unwrap();
        let req = |account| RequestKind { host: "rolling.test", port: Some(443), provider: None, method: "GET", path: "/", account };
        let start = Instant::now();
        for _ in 0..10 {
            spend(&req("alice")).await.unwrap();
        }
        // four and a half at once, then one each 0.22 seconds (a tenth under the limit)
        assert!(start.elapsed() >= Duration::from_millis(1100), "{:?}", start.elapsed());
        let other = Instant::now();
        for _ in 0..4 {
            spend(&req("bob")).await.unwrap();
        }
        assert!(other.elapsed() < Duration::from_millis(150), "another account has its own budget: {:?}", other.elapsed());

        register(Limit {
            name: "test-daily".into(),
            hosts: vec!["daily.test:8443".into()],
            providers: vec![],
            paths: vec!["/api/".into()],
            methods: vec![],
            units: 3,
            per: "1d".into(),
            scope: Scope::App,
            window: Window::Fixed,
            offset: Some("8h".into()),
            source: Some("https://example.test/quota".into()),
            costs: BTreeMap::new(),
        })
        .unwrap();
        let req = |path| RequestKind { host: "daily.test", port: Some(8443), provider: None, method: "GET", path, account: "a" };
        for _ in 0..3 {
            spend(&req("/api/x")).await.unwrap();
        }
        spend(&req("/other")).await.unwrap();
        let e = spend(&req("/api/x")).await.unwrap_err();
        let at = e.resume_at().expect("a spent quota says when it comes back");
        assert!(at > chrono::Utc::now() && at <= chrono::Utc::now() + chrono::Duration::days(1), "{at}");
        assert!(e.to_string().contains("test-daily") && e.to_string().contains("https://example.test/quota"), "{e}");
        // the next window starts at 08:00 UTC
        assert_eq!(at.format("%M").to_string(), "00", "{at}");
    }
}

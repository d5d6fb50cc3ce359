//! Per-host request gates, shared by every HTTP client (so every job) in the process: a
//! rate limit (governor; `DEFAULT_RATE` requests a second unless configured, the
//! strictest asked for a host applying to all), and a pause a server asked for with
//! `Retry-After` on 429 or 503, which holds back every request to that host until it ends.

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

/// Requests a second to one host when nothing else is configured: generous, so that it
/// only holds back a runaway client, not a transfer.
pub const DEFAULT_RATE: u32 = 100;

/// The longest pause a server's `Retry-After` imposes on a host.
pub const MAX_PAUSE: Duration = Duration::from_secs(15 * 60);

pub struct Gate {
    rate: u32,
    limiter: DefaultDirectRateLimiter,
    paused_until: Mutex<Option<Instant>>,
}

static GATES: LazyLock<Mutex<HashMap<String, Arc<Gate>>>> = LazyLock::new(Default::default);

/// The gate of `host` (`host:port`) for a client that asks for `rate` requests a second
/// (0: the default). A stricter rate than the host's replaces it, keeping its pause.
pub fn gate(host: &str, rate: u32) -> Arc<Gate> {
    let rate = if rate == 0 { DEFAULT_RATE } else { rate };
    let mut gates = GATES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(g) = gates.get(host)
        && g.rate <= rate
    {
        return g.clone();
    }
    let paused = gates.get(host).and_then(|g| *g.paused_until.lock().unwrap_or_else(|e| e.into_inner()));
    let n = NonZeroU32::new(rate).unwrap_or(NonZeroU32::MIN);
    let g = Arc::new(Gate { rate, limiter: RateLimiter::direct(Quota::per_second(n).allow_burst(n)), paused_until: Mutex::new(paused) });
    gates.insert(host.to_owned(), g.clone());
    g
}

impl Gate {
    /// Waits out the host's pause, then for a place under its rate.
    pub async fn wait(&self) {
        loop {
            let until = *self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
            match until {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t.into()).await,
                _ => break,
            }
        }
        self.limiter.until_ready().await;
    }

    /// Holds back every request to the host for `wait` (at most [`MAX_PAUSE`]).
    pub fn pause(&self, wait: Duration) {
        let until = Instant::now() + wait.min(MAX_PAUSE);
        let mut p = self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        if p.is_none_or(|t| t < until) {
            *p = Some(until);
        }
    }

    #[cfg(test)]
    pub fn rate(&self) -> u32 {
        self.rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_pause_holds_back_the_host_and_a_stricter_rate_wins() {
        let a = gate("pause.test:1", 0);
        assert_eq!(a.rate(), DEFAULT_RATE);
        a.pause(Duration::from_millis(300));
        let start = Instant::now();
        // another client of the same host: the same gate, paused
        gate("pause.test:1", 500).wait().await;
        assert!(start.elapsed() >= Duration::from_millis(290), "{:?}", start.elapsed());
        let strict = gate("pause.test:1", 5);
        assert_eq!(strict.rate(), 5);
        assert_eq!(gate("pause.test:1", 0).rate(), 5, "the strictest rate stays");
        a.pause(Duration::from_secs(86_400 * 30));
        assert!(a.paused_until.lock().unwrap().unwrap() <= Instant::now() + MAX_PAUSE, "a huge pause is bounded");
    }
}

use backon::{BackoffBuilder, ExponentialBuilder};
use ferry_core::ConnectorError;
use std::future::Future;
use std::time::{Duration, Instant};

/// Exponential backoff with jitter for transient errors; a throttle (the server's
/// `Retry-After`) is waited out as asked, without spending a retry.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub min_delay: Duration,
    pub max_delay: Duration,
    /// Retries after the first attempt.
    pub max_retries: usize,
    /// The most one operation waits out throttles in all; past it a throttle counts as a
    /// transient error (a spent retry).
    pub max_throttle: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            min_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(60),
            max_retries: 6,
            max_throttle: MAX_THROTTLE,
        }
    }
}

/// The longest a server's Retry-After is waited for: a hostile or broken one cannot stall
/// a job for days.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(15 * 60);

/// The most one operation waits out throttles in all, by default.
pub const MAX_THROTTLE: Duration = Duration::from_secs(30 * 60);

/// Throttles waited out for one operation at most (a server that asks for no wait at all,
/// again and again, ends too).
const MAX_THROTTLES: u32 = 100;

/// What an operation has spent waiting out throttles.
#[derive(Debug, Default, Clone, Copy)]
pub struct Throttled {
    waited: Duration,
    times: u32,
}

impl RetryPolicy {
    fn builder(&self) -> ExponentialBuilder {
        ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_retries)
            .with_jitter()
    }

    /// The wait before retry number `attempt` (from 1) after `e`, for callers that retry
    /// by themselves (the engine reopens a page stream): the same backoff with jitter as
    /// [`RetryPolicy::run`], and the server's Retry-After when it asks for longer.
    pub fn delay(&self, attempt: usize, e: &ConnectorError) -> Duration {
        let d = self.builder().with_max_times(attempt.max(1)).build().nth(attempt.max(1) - 1).unwrap_or(self.max_delay);
        with_retry_after(e, d, self.max_delay)
    }

    /// How long to wait out a throttle `e` asks for (at most [`MAX_RETRY_AFTER`], at least
    /// the backoff's first step), while the operation's throttle budget `spent` lasts;
    /// `None` when `e` is no throttle or the budget is spent.
    pub fn throttle_wait(&self, e: &ConnectorError, spent: &mut Throttled) -> Option<Duration> {
        let until = e.throttled_until()?;
        let wait = until.saturating_duration_since(Instant::now()).min(MAX_RETRY_AFTER).max(self.min_delay);
        if spent.times >= MAX_THROTTLES || spent.waited + wait > self.max_throttle {
            return None;
        }
        spent.waited += wait;
        spent.times += 1;
        Some(wait)
    }

    /// Runs `op` until it succeeds, fails for good, or runs out of retries. Throttles are
    /// waited out first, without spending a retry.
    pub async fn run<T, F, Fut>(&self, mut op: F, on_retry: impl Fn(&ConnectorError, Duration)) -> Result<T, ConnectorError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ConnectorError>>,
    {
        let mut backoff = self.builder().build();
        let mut throttled = Throttled::default();
        loop {
            let e = match op().await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let wait = match self.throttle_wait(&e, &mut throttled) {
                Some(wait) => wait,
                None if e.is_transient() => match backoff.next() {
                    Some(d) => with_retry_after(&e, d, self.max_delay),
                    None => return Err(e),
                },
                None => return Err(e),
            };
            on_retry(&e, wait);
            tokio::time::sleep(wait).await;
        }
    }
}

/// The backoff's wait, or a throttle's (at most [`MAX_RETRY_AFTER`]) when longer.
fn with_retry_after(e: &ConnectorError, d: Duration, max: Duration) -> Duration {
    match e.throttled_until() {
        Some(until) => {
            let after = until.saturating_duration_since(Instant::now()).min(MAX_RETRY_AFTER);
            after.max(d).min(max.max(after))
        }
        None => d,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;

    fn fast() -> RetryPolicy {
        RetryPolicy { min_delay: Duration::from_millis(1), max_delay: Duration::from_millis(20), max_retries: 3, ..Default::default() }
    }

    #[tokio::test]
    async fn transient_errors_are_retried_then_succeed() {
        let calls = AtomicUsize::new(0);
        let r = fast()
            .run(
                || async { if calls.fetch_add(1, Ordering::SeqCst) < 2 { Err(ConnectorError::transient("503")) } else { Ok(7) } },
                |_, _| {},
            )
            .await;
        assert_eq!(r.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn item_and_fatal_errors_are_not_retried() {
        for err in [ConnectorError::Item("bad".into()), ConnectorError::Fatal("revoked".into())] {
            let calls = AtomicUsize::new(0);
            let kind = std::mem::discriminant(&err);
            let mut once = Some(err);
            let r: Result<(), _> = fast()
                .run(
                    || {
                        calls.fetch_add(1, Ordering::SeqCst);
                        let e = once.take().unwrap_or(ConnectorError::Item("again".into()));
                        async move { Err(e) }
                    },
                    |_, _| {},
                )
                .await;
            assert_eq!(std::mem::discriminant(&r.unwrap_err()), kind);
            assert_eq!(calls.load(Ordering::SeqCst), 1);
        }
    }

    #[tokio::test]
    async fn gives_up_after_max_retries() {
        let calls = AtomicUsize::new(0);
        let r: Result<(), _> = fast()
            .run(
                || {
                    calls.fetch_add(1, Ordering::SeqCst);
                    async { Err(ConnectorError::transient("down")) }
                },
                |_, _| {},
            )
            .await;
        assert!(r.unwrap_err().is_transient());
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn retry_after_is_honoured() {
        let calls = AtomicUsize::new(0);
        let start = Instant::now();
        let delays = std::sync::Mutex::new(Vec::new());
        let r = fast()
            .run(
                || async {
                    if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                        Err(ConnectorError::throttled("429", Duration::from_millis(300)))
                    } else {
                        Ok(())
                    }
                },
                |_, d| delays.lock().unwrap().push(d),
            )
            .await;
        assert!(r.is_ok());
        assert!(start.elapsed() >= Duration::from_millis(300), "waited {:?}", start.elapsed());
        assert!(delays.lock().unwrap()[0] >= Duration::from_millis(290));
    }

    #[test]
    fn a_caller_s_own_retries_get_jitter_and_retry_after() {
        let p =
            RetryPolicy { min_delay: Duration::from_millis(100), max_delay: Duration::from_secs(60), max_retries: 6, ..Default::default() };
        let plain = ConnectorError::transient("reset");
        let delays: std::collections::BTreeSet<Duration> = (0..20).map(|_| p.delay(2, &plain)).collect();
        assert!(delays.len() > 1, "jitter: {delays:?}");
        assert!(delays.iter().all(|d| *d >= Duration::from_millis(200) && *d <= Duration::from_millis(400)), "{delays:?}");
        let slow = ConnectorError::throttled("503", Duration::from_secs(7));
        assert!(p.delay(1, &slow) >= Duration::from_millis(6_990), "the throttle's until, measured a moment later");
        let hostile = ConnectorError::throttled("503", Duration::from_secs(86_400 * 30));
        assert!(p.delay(1, &hostile) <= MAX_RETRY_AFTER);
    }

    #[tokio::test]
    async fn throttles_are_waited_out_without_spending_retries() {
        // more throttles than retries: each is waited out, none counts
        let calls = AtomicUsize::new(0);
        let start = Instant::now();
        let r = fast()
            .run(
                || async {
                    match calls.fetch_add(1, Ordering::SeqCst) {
                        0..=5 => Err(ConnectorError::throttled("429", Duration::from_millis(40))),
                        6 => Err(ConnectorError::transient("reset")),
                        _ => Ok(()),
                    }
                },
                |_, _| {},
            )
            .await;
        assert!(r.is_ok(), "six throttles and a transient error with three retries: {r:?}");
        assert!(start.elapsed() >= Duration::from_millis(6 * 40), "each throttle was waited out: {:?}", start.elapsed());
        // a throttle budget spent: throttles count as retries then, and end
        let p = RetryPolicy { max_throttle: Duration::from_millis(100), ..fast() };
        let calls = AtomicUsize::new(0);
        let r: Result<(), _> = p
            .run(
                || {
                    calls.fetch_add(1, Ordering::SeqCst);
                    async { Err(ConnectorError::throttled("429", Duration::from_millis(40))) }
                },
                |_, _| {},
            )
            .await;
        assert!(r.unwrap_err().throttled_until().is_some());
        assert_eq!(calls.load(Ordering::SeqCst), 2 + 1 + 3, "two throttles in the budget, then the first try and three retries");
        // a server that asks for no wait at all, forever, is not followed forever
        let calls = AtomicUsize::new(0);
        let r: Result<(), _> = fast()
            .run(
                || {
                    calls.fetch_add(1, Ordering::SeqCst);
                    async { Err(ConnectorError::throttled("429", Duration::ZERO)) }
                },
                |_, _| {},
            )
            .await;
        assert!(r.is_err());
        assert!(calls.load(Ordering::SeqCst) <= MAX_THROTTLES as usize + 4);
    }

    #[tokio::test]
    async fn unauthorized_and_quota_are_not_retried() {
        for err in [ConnectorError::reconnect("invalid_grant"), ConnectorError::QuotaExceeded("507".into())] {
            let calls = AtomicUsize::new(0);
            let mut once = Some(err);
            let r: Result<(), _> = fast()
                .run(
                    || {
                        calls.fetch_add(1, Ordering::SeqCst);
                        let e = once.take().unwrap_or(ConnectorError::Item("again".into()));
                        async move { Err(e) }
                    },
                    |_, _| {},
                )
                .await;
            assert!(r.unwrap_err().stops_job());
            assert_eq!(calls.load(Ordering::SeqCst), 1);
        }
    }
}

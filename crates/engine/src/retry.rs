use backon::{BackoffBuilder, ExponentialBuilder, Retryable};
use ferry_core::ConnectorError;
use std::future::Future;
use std::time::Duration;

/// Exponential backoff with jitter; a server's Retry-After wins when it asks for longer.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub min_delay: Duration,
    pub max_delay: Duration,
    /// Retries after the first attempt.
    pub max_retries: usize,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { min_delay: Duration::from_millis(250), max_delay: Duration::from_secs(60), max_retries: 6 }
    }
}

/// The longest a server's Retry-After is waited for: a hostile or broken one cannot stall
/// a job for days.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(15 * 60);

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

    /// Runs `op` until it succeeds, fails for good, or runs out of retries.
    pub async fn run<T, F, Fut>(&self, mut op: F, on_retry: impl Fn(&ConnectorError, Duration)) -> Result<T, ConnectorError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ConnectorError>>,
    {
        let max = self.max_delay;
        (|| op())
            .retry(self.builder())
            .when(ConnectorError::is_transient)
            .adjust(move |e, delay| delay.map(|d| with_retry_after(e, d, max)))
            .notify(|e, d| on_retry(e, d))
            .await
    }
}

/// The backoff's wait, or the server's Retry-After (at most [`MAX_RETRY_AFTER`]) when longer.
fn with_retry_after(e: &ConnectorError, d: Duration, max: Duration) -> Duration {
    match e {
        ConnectorError::Transient { retry_after: Some(after), .. } => {
            let after = (*after).min(MAX_RETRY_AFTER);
            after.max(d).min(max.max(after))
        }
        _ => d,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;

    fn fast() -> RetryPolicy {
        RetryPolicy { min_delay: Duration::from_millis(1), max_delay: Duration::from_millis(20), max_retries: 3 }
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
                        Err(ConnectorError::Transient { message: "429".into(), retry_after: Some(Duration::from_millis(300)) })
                    } else {
                        Ok(())
                    }
                },
                |_, d| delays.lock().unwrap().push(d),
            )
            .await;
        assert!(r.is_ok());
        assert!(start.elapsed() >= Duration::from_millis(300), "waited {:?}", start.elapsed());
        assert!(delays.lock().unwrap()[0] >= Duration::from_millis(300));
    }

    #[test]
    fn a_caller_s_own_retries_get_jitter_and_retry_after() {
        let p = RetryPolicy { min_delay: Duration::from_millis(100), max_delay: Duration::from_secs(60), max_retries: 6 };
        let plain = ConnectorError::transient("reset");
        let delays: std::collections::BTreeSet<Duration> = (0..20).map(|_| p.delay(2, &plain)).collect();
        assert!(delays.len() > 1, "jitter: {delays:?}");
        assert!(delays.iter().all(|d| *d >= Duration::from_millis(200) && *d <= Duration::from_millis(400)), "{delays:?}");
        let slow = ConnectorError::Transient { message: "503".into(), retry_after: Some(Duration::from_secs(7)) };
        assert!(p.delay(1, &slow) >= Duration::from_secs(7));
        let hostile = ConnectorError::Transient { message: "503".into(), retry_after: Some(Duration::from_secs(86_400 * 30)) };
        assert!(p.delay(1, &hostile) <= MAX_RETRY_AFTER);
    }
}

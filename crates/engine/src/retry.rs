use backon::{ExponentialBuilder, Retryable};
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

impl RetryPolicy {
    /// Runs `op` until it succeeds, fails for good, or runs out of retries.
    pub async fn run<T, F, Fut>(&self, mut op: F, on_retry: impl Fn(&ConnectorError, Duration)) -> Result<T, ConnectorError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ConnectorError>>,
    {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_retries)
            .with_jitter();
        let max = self.max_delay;
        (|| op())
            .retry(backoff)
            .when(ConnectorError::is_transient)
            .adjust(move |e, delay| match (e, delay) {
                (ConnectorError::Transient { retry_after: Some(after), .. }, Some(d)) => Some((*after).max(d).min(max.max(*after))),
                (_, d) => d,
            })
            .notify(|e, d| on_retry(e, d))
            .await
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
}

//! One round of a Graph delta query (https://learn.microsoft.com/graph/delta-query-overview):
//! the pages of a full listing, or of the changes since a delta link, followed by their
//! next links (on Graph's origin only) until a page ends with the next delta link. A
//! delta link Graph no longer honours (410, `syncStateNotFound`, `resyncRequired`)
//! starts the round again as a full listing, whose ledger keeps what already moved from
//! moving again.

use super::api;
use super::config::MicrosoftConfig;
use crate::http::Http;
use ferry_core::ConnectorError;
use serde_json::Value;
use std::sync::Arc;

/// More pages than any folder has: a round that goes on is a loop.
const MAX_PAGES: u32 = 100_000;

pub struct Round {
    cfg: Arc<MicrosoftConfig>,
    http: Http,
    /// What is listed, for messages ("listing contacts").
    what: &'static str,
    /// The `Prefer` header of every request (`odata.maxpagesize=200`), if any.
    prefer: Option<String>,
    /// The round's first request: a full listing.
    first: String,
    next: Option<String>,
    full: bool,
    delta: Option<String>,
    pages: u32,
    restarts: u32,
}

impl Round {
    /// A round from `cursor` (a next link of a full round, `full:`, or of a round of
    /// changes, `chg:`), else from `since` (a delta link), else a full listing.
    pub fn new(
        cfg: Arc<MicrosoftConfig>,
        http: Http,
        what: &'static str,
        prefer: Option<String>,
        first: String,
        cursor: Option<String>,
        since: Option<String>,
    ) -> Round {
        let (full, next) = match cursor.as_deref().and_then(|c| c.split_once(':')) {
            Some(("full", link)) => (true, link.to_owned()),
            Some(("chg", link)) => (false, link.to_owned()),
            _ => match since {
                Some(delta) => (false, delta),
                None => (true, first.clone()),
            },
        };
        Round { cfg, http, what, prefer, first, next: Some(next), full, delta: None, pages: 0, restarts: 0 }
    }

    /// The next page and its address; `None` once the round is over.
    pub async fn next_page(&mut self) -> Result<Option<(Value, String)>, ConnectorError> {
        loop {
            let Some(url) = self.next.take() else { return Ok(None) };
            self.pages += 1;
            if self.pages > MAX_PAGES {
                return Err(ConnectorError::Fatal(format!("{}: more than {MAX_PAGES} pages (it would never end)", self.what)));
            }
            self.cfg.own(&url)?;
            let prefer = self.prefer.clone();
            let make = || {
                let rb = self.http.request("GET", &url);
                match &prefer {
                    Some(p) => rb.header("Prefer", p.as_str()),
                    None => rb,
                }
            };
            let page: Value = match api::json(&self.http, self.what, &make).await {
                Ok(p) => p,
                // a link too old: a full round (once; a full round's own link may expire too)
                Err((_, Some((code, status)))) if self.restarts < 2 && expired(&code, status) => {
                    tracing::info!(what = self.what, "the delta link expired; listing in full");
                    self.restarts += 1;
                    self.full = true;
                    self.next = Some(self.first.clone());
                    continue;
                }
                Err((e, _)) => return Err(e),
            };
            match (page["@odata.nextLink"].as_str(), page["@odata.deltaLink"].as_str()) {
                (Some(next), _) if next == url => {
                    return Err(ConnectorError::Fatal(format!("{}: Graph gave the same next link again", self.what)));
                }
                (Some(next), _) => self.next = Some(next.to_owned()),
                (None, Some(delta)) => self.delta = Some(delta.to_owned()),
                (None, None) => {
                    return Err(ConnectorError::Fatal(format!("{}: a page with neither a next link nor a delta link", self.what)));
                }
            }
            return Ok(Some((page, url)));
        }
    }

    /// Where the stream resumes after the page just read.
    pub fn cursor(&self) -> Option<String> {
        let mode = if self.full { "full" } else { "chg" };
        self.next.as_ref().map(|n| format!("{mode}:{n}"))
    }

    /// The delta link the round ended with.
    pub fn delta_link(&self) -> Option<String> {
        self.delta.clone()
    }
}

/// Whether an error answer says the delta state is gone (Outlook: `syncStateNotFound`;
/// OneDrive: 410 `resyncRequired`, `resyncChangesApplyDifferences`...).
fn expired(code: &str, status: u16) -> bool {
    let code = code.to_ascii_lowercase();
    status == 410 || code.contains("syncstate") || code.contains("resync")
}

#[cfg(test)]
mod tests {
    #[test]
    fn expired_states_are_recognised() {
        assert!(super::expired("syncStateNotFound", 400));
        assert!(super::expired("", 410));
        assert!(super::expired("resyncRequired", 410));
        assert!(!super::expired("ErrorItemNotFound", 404));
    }
}

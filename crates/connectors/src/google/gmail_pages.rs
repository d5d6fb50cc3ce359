//! Gmail as a source (https://developers.google.com/gmail/api/guides/sync): every message
//! (`messages.list`, 500 ids a page, spam and trash included), each read with
//! `messages.get?format=raw` and kept byte for byte as the item's content. A message up to
//! [`INLINE_MAX`] is held with its page; a larger one is read again, streamed, when its
//! content is read (its size and SHA-256 known from the first read, and checked).
//! Incremental by history id (`history.list` from the id the last listing began at); an
//! id Gmail no longer has history for (404) lists everything again, and the job's ledger
//! passes over what already moved.

use super::api;
use super::config::GoogleConfig;
use super::gmail::{Label, labels_from, place};
use super::gmail_raw::RawSplit;
use crate::http::{Http, encode_component as enc, request_error};
use async_trait::async_trait;
use bytes::Bytes;
use ferry_codecs::mail_meta::read_meta;
use ferry_core::content::{BoxRead, ContentSource};
use ferry_core::{ConnectorError, Content, Item, ItemError, Page, PageStream, Record, Vertical};
use futures::StreamExt;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

/// Messages up to this size are held with their page.
pub const INLINE_MAX: usize = 1 << 20;
/// Message bytes held by one page, at most (large messages count nothing).
const PAGE_BYTES: usize = 8 << 20;
/// Messages a page.
const BATCH: usize = 100;
/// Gmail takes messages up to 150 MB; a larger answer is not a message of Gmail's.
const MAX_MESSAGE: u64 = 160 << 20;
/// The most of a large message's header kept for its record.
const MAX_HEAD: usize = 256 << 10;
/// The most pages one listing may have.
const MAX_PAGES: u32 = 1_000_000;

/// The mailbox's labels by id.
pub async fn labels(cfg: &GoogleConfig, http: &Http) -> Result<HashMap<String, Label>, ConnectorError> {
    let url = cfg.gmail("/gmail/v1/users/me/labels");
    let answer: Value = api::json(http, "listing Gmail labels", &|| http.request("GET", &url)).await.map_err(|(e, _)| e)?;
    Ok(labels_from(&answer))
}

/// One list page (of `messages.list` or `history.list`) being handed out.
struct ListPage {
    /// The token it was asked with (none: the first).
    token: Option<String>,
    ids: Vec<String>,
    /// Ids handed out so far.
    at: usize,
    next: Option<String>,
}

pub struct MailPages {
    cfg: Arc<GoogleConfig>,
    http: Http,
    labels: HashMap<String, Label>,
    /// Changes since this history id; none: every message.
    since: Option<String>,
    /// The mailbox's history id when this listing began: the next listing starts there.
    mark: Option<String>,
    page: Option<ListPage>,
    /// The list page to ask for next, and how many of its ids are done.
    next: Option<(Option<String>, usize)>,
    done: bool,
    pages: u32,
    /// The page at which the labels were last read again.
    relabelled: u32,
}

impl MailPages {
    /// `cursor` is what an earlier page of this listing gave (without `full:`/`chg:`):
    /// `MARK:AT:TOKEN`.
    pub fn new(cfg: Arc<GoogleConfig>, http: Http, labels: HashMap<String, Label>, since: Option<String>, cursor: Option<String>) -> Self {
        let mut mark = None;
        let mut next = (None, 0);
        if let Some(c) = cursor {
            let mut parts = c.splitn(3, ':');
            let (m, at, token) = (parts.next().unwrap_or(""), parts.next().and_then(|a| a.parse().ok()), parts.next());
            if let (Some(at), Some(token)) = (at, token) {
                mark = Some(m.to_owned()).filter(|m| !m.is_empty());
                next = (Some(crate::dav::percent_decode(token)).filter(|t| !t.is_empty()), at);
            }
        }
        MailPages { cfg, http, labels, since, mark, page: None, next: Some(next), done: false, pages: 0, relabelled: 0 }
    }

    fn cursor(&self) -> Option<String> {
        let mode = if self.since.is_some() { "chg" } else { "full" };
        let mark = self.mark.as_deref().unwrap_or_default();
        let (token, at) = match (&self.page, &self.next) {
            (Some(p), _) => (p.token.as_deref(), p.at),
            (None, Some((t, at))) => (t.as_deref(), *at),
            (None, None) => return None,
        };
        Some(format!("{mode}:{mark}:{at}:{}", enc(token.unwrap_or_default())))
    }

    /// The next list page's ids (history: each message changed, once).
    async fn list(&mut self, token: Option<String>) -> Result<ListPage, ConnectorError> {
        let mut url = match &self.since {
            Some(h) => self.cfg.gmail(&format!(
                "/gmail/v1/users/me/history?startHistoryId={}&maxResults=500&historyTypes=messageAdded&historyTypes=labelAdded&historyTypes=labelRemoved",
                enc(h)
            )),
            None => self.cfg.gmail("/gmail/v1/users/me/messages?maxResults=500&includeSpamTrash=true"),
        };
        if let Some(t) = &token {
            url.push_str(&format!("&pageToken={}", enc(t)));
        }
        let what = if self.since.is_some() { "listing Gmail's history" } else { "listing Gmail messages" };
        let answer: Value = match api::json(&self.http, what, &|| self.http.request("GET", &url)).await {
            Ok(a) => a,
            Err((e, _)) => return Err(e),
        };
        let mut ids = Vec::new();
        if self.since.is_some() {
            if self.mark.is_none() {
                self.mark = answer["historyId"].as_str().map(str::to_owned);
            }
            let mut seen = std::collections::HashSet::new();
            for h in answer["history"].as_array().into_iter().flatten() {
                for kind in ["messagesAdded", "labelsAdded", "labelsRemoved"] {
                    for e in h[kind].as_array().into_iter().flatten() {
                        let id = e["message"]["id"].as_str().unwrap_or_default().to_owned();
                        if seen.insert(id.clone()) {
                            ids.push(id);
                        }
                    }
                }
            }
        } else {
            ids = answer["messages"].as_array().into_iter().flatten().map(|m| m["id"].as_str().unwrap_or_default().to_owned()).collect();
        }
        let next = answer["nextPageToken"].as_str().filter(|t| !t.is_empty()).map(str::to_owned);
        if next.is_some() && next == token {
            return Err(ConnectorError::Fatal(format!("{what}: Gmail gave the same page token again")));
        }
        Ok(ListPage { token, ids, at: 0, next })
    }

    /// One message as an item (`None`: deleted since it was listed); a failure of the
    /// message alone is an item error, anything else ends the page.
    async fn message(&mut self, id: &str, location: &str) -> Result<Option<Result<(Item, usize), ItemError>>, ConnectorError> {
        let fail = |reason: String| {
            Ok(Some(Err(ItemError { skipped: false, vertical: Vertical::Mail, id: id.to_owned(), location: location.to_owned(), reason })))
        };
        if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return fail(format!("Gmail listed a message id `{}` that is not one", id.escape_debug()));
        }
        let url = self.cfg.gmail(&format!("/gmail/v1/users/me/messages/{id}?format=raw"));
        let what = format!("reading Gmail message {id}");
        let resp = match api::send_ok(&self.http, &what, &|| self.http.request("GET", &url)).await {
            Ok(r) => r,
            Err((ConnectorError::NotFound(_), _)) => return Ok(None),
            Err((e, _)) if e.is_transient() || e.stops_job() => return Err(e),
            Err((e, _)) => return fail(e.to_string()),
        };
        let mut split = RawSplit::new();
        let (mut kept, mut out, mut hash, mut spilled) = (Vec::new(), Vec::new(), Sha256::new(), None::<Vec<u8>>);
        let mut body = resp.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| request_error(&what, e))?;
            out.clear();
            if let Err(why) = split.feed(&chunk, &mut out) {
                return fail(why);
            }
            if split.decoded > MAX_MESSAGE {
                return fail(format!("Gmail sent more than {} MiB for one message", MAX_MESSAGE >> 20));
            }
            hash.update(&out);
            if spilled.is_none() {
                kept.extend_from_slice(&out);
                if kept.len() > INLINE_MAX {
                    spilled = Some(header_of(&kept).to_vec());
                    kept = Vec::new();
                }
            }
        }
        let size = split.decoded;
        let meta = match split.finish() {
            Ok(m) => m,
            Err(why) => return fail(why),
        };
        let sha = hex::encode(hash.finalize());
        let label_ids: Vec<String> =
            meta["labelIds"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect();
        if label_ids.iter().any(|l| !self.labels.contains_key(l)) && self.relabelled != self.pages {
            // made since the labels were read (read again once a page at most)
            self.labels = labels(&self.cfg, &self.http).await?;
            self.relabelled = self.pages;
        }
        let placed = place(&label_ids, &self.labels);
        let mut record = read_meta(spilled.as_deref().unwrap_or(&kept));
        if spilled.is_some() {
            record.attachments.clear(); // only the header was kept
        }
        record.flags = placed.flags;
        record.received = meta["internalDate"]
            .as_str()
            .and_then(|d| d.parse::<i64>().ok())
            .and_then(chrono::DateTime::<chrono::Utc>::from_timestamp_millis);
        let labels_hash = hex::encode(&Sha256::digest(placed.names.join("\0").as_bytes())[..8]);
        let inline = kept.len();
        let content = match spilled {
            None => Content::from_bytes("message/rfc822", Bytes::from(kept)),
            Some(_) => Content {
                media_type: "message/rfc822".into(),
                size: Some(size),
                sha256: Some(sha.clone()),
                source: Arc::new(RawSource { http: self.http.clone(), url, what }),
            },
        };
        Ok(Some(Ok((
            Item {
                id: id.to_owned(),
                container: placed.container,
                version: format!("{}-{labels_hash}", &sha[..16]),
                record: Record::Mail(record),
                original: None,
                content: Some(content),
                standard: None,
                attachments: vec![],
                references: vec![],
                source_warnings: vec![],
            },
            inline,
        ))))
    }
}

/// A message's header: up to its first empty line (at most MAX_HEAD bytes).
fn header_of(message: &[u8]) -> &[u8] {
    let end = memchr::memmem::find(message, b"\r\n\r\n")
        .map(|i| i + 4)
        .into_iter()
        .chain(memchr::memmem::find(message, b"\n\n").map(|i| i + 2))
        .min()
        .unwrap_or(message.len());
    &message[..end.min(MAX_HEAD)]
}

#[async_trait]
impl PageStream for MailPages {
    async fn next_page(&mut self) -> Result<Option<Page>, ConnectorError> {
        loop {
            if self.done {
                return Ok(None);
            }
            self.pages += 1;
            if self.pages > MAX_PAGES {
                return Err(ConnectorError::Fatal(format!("listing Gmail: more than {MAX_PAGES} pages (it would never end)")));
            }
            if self.mark.is_none() && self.since.is_none() {
                // before the listing: what changes while it runs is listed again next time
                let url = self.cfg.gmail("/gmail/v1/users/me/profile");
                let p: Value =
                    api::json(&self.http, "reading the Gmail profile", &|| self.http.request("GET", &url)).await.map_err(|(e, _)| e)?;
                self.mark = Some(
                    p["historyId"]
                        .as_str()
                        .map(str::to_owned)
                        .or_else(|| p["historyId"].as_u64().map(|h| h.to_string()))
                        .ok_or_else(|| ConnectorError::Fatal("reading the Gmail profile: Google's answer has no historyId".into()))?,
                );
            }
            if self.page.is_none() {
                let Some((token, at)) = self.next.take() else {
                    self.done = true;
                    return Ok(None);
                };
                match self.list(token.clone()).await {
                    Ok(mut p) => {
                        p.at = at.min(p.ids.len());
                        self.page = Some(p);
                    }
                    Err(ConnectorError::NotFound(_)) if self.since.is_some() => {
                        tracing::info!("Gmail has no history from the last listing's id any more; listing every message");
                        self.since = None;
                        self.mark = None;
                        self.next = Some((None, 0));
                        continue;
                    }
                    Err(e) => {
                        self.next = Some((token, at));
                        return Err(e);
                    }
                }
            }
            let page = self.page.as_ref().expect("listed");
            let location = format!("Gmail message list page {}", page.token.as_deref().unwrap_or("1"));
            let todo: Vec<String> = page.ids[page.at..].iter().take(BATCH).cloned().collect();
            let mut items = Vec::new();
            let (mut bytes, mut taken) = (0, 0);
            for id in &todo {
                if bytes >= PAGE_BYTES {
                    break;
                }
                taken += 1;
                match self.message(id, &location).await? {
                    None => {}
                    Some(Ok((item, inline))) => {
                        bytes += inline;
                        items.push(Ok(item));
                    }
                    Some(Err(e)) => items.push(Err(e)),
                }
            }
            let page = self.page.as_mut().expect("listed");
            page.at += taken;
            if page.at >= page.ids.len() {
                let p = self.page.take().expect("listed");
                match p.next {
                    Some(t) => self.next = Some((Some(t), 0)),
                    None => self.done = true,
                }
            }
            let cursor = if self.done { None } else { self.cursor() };
            if items.is_empty() {
                if self.done {
                    return Ok(None);
                }
                continue;
            }
            return Ok(Some(Page { items, cursor }));
        }
    }

    fn sync_state(&self) -> Option<String> {
        if self.done { self.mark.clone() } else { None }
    }
}

/// A large message, read again when its content is read, and streamed.
struct RawSource {
    http: Http,
    url: String,
    what: String,
}

#[async_trait]
impl ContentSource for RawSource {
    async fn open(&self) -> std::io::Result<BoxRead> {
        let resp = api::send_patiently(&self.http, &self.what, &|| self.http.request("GET", &self.url), api::Auth::Account)
            .await
            .map_err(api::as_io)?;
        let body = Box::pin(resp.bytes_stream());
        let decoded = futures::stream::try_unfold((body, Some(RawSplit::new())), |(mut body, split)| async move {
            let Some(mut split) = split else { return Ok(None) };
            loop {
                match body.next().await {
                    Some(Ok(chunk)) => {
                        let mut out = Vec::new();
                        split.feed(&chunk, &mut out).map_err(std::io::Error::other)?;
                        if !out.is_empty() {
                            return Ok(Some((Bytes::from(out), (body, Some(split)))));
                        }
                    }
                    // a connection lost mid-answer is worth another try
                    Some(Err(e)) => return Err(std::io::Error::new(std::io::ErrorKind::Interrupted, e)),
                    None => {
                        split.finish().map_err(std::io::Error::other)?;
                        return Ok(None);
                    }
                }
            }
        });
        Ok(Box::pin(tokio_util::io::StreamReader::new(Box::pin(decoded))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_ends_at_its_first_empty_line_either_way() {
        assert_eq!(header_of(b"A: 1\r\nB: 2\r\n\r\nbody\n\nmore"), b"A: 1\r\nB: 2\r\n\r\n");
        assert_eq!(header_of(b"A: 1\nB: 2\n\nbody\r\n\r\n"), b"A: 1\nB: 2\n\n");
        assert_eq!(header_of(b"A: 1"), b"A: 1");
        assert_eq!(header_of(&vec![b'x'; MAX_HEAD * 2]).len(), MAX_HEAD);
    }

    /// A mailbox whose answers are broken in every way but one.
    async fn hostile() -> String {
        use crate::mock::{Answer, serve};
        serve(|r| async move {
            let path = r.path.split('?').next().unwrap_or_default().to_owned();
            let json = |body: &str| Answer::new(200, body).with("Content-Type", "application/json");
            match path.as_str() {
                "/gmail/v1/users/me/profile" => json(r#"{"historyId": "100"}"#),
                "/gmail/v1/users/me/labels" => json(r#"{"labels": [{"id": "INBOX", "name": "INBOX", "type": "system"}]}"#),
                "/gmail/v1/users/me/history" => Answer::new(404, r#"{"error": {"code": 404, "errors": [{"reason": "notFound"}]}}"#),
                "/gmail/v1/users/me/messages" => {
                    json(r#"{"messages": [{"id": "a1"}, {"id": "../x"}, {"id": "b2"}, {"id": "c3"}, {"id": "d4"}, {}]}"#)
                }
                // "From: a\r\n\r\nhi\r\n"
                "/gmail/v1/users/me/messages/a1" => {
                    json(r#"{"id": "a1", "labelIds": ["INBOX", "UNREAD"], "internalDate": "1736150400000", "raw": "RnJvbTogYQ0KDQpoaQ0K"}"#)
                }
                "/gmail/v1/users/me/messages/b2" => json(r#"{"id": "b2", "raw": "RnJv$$$"}"#),
                "/gmail/v1/users/me/messages/c3" => Answer::new(404, r#"{"error": {"code": 404}}"#),
                "/gmail/v1/users/me/messages/d4" => json(r#"{"id": "d4", "labelIds": ["INBOX"]}"#),
                other => Answer::new(500, &format!("unexpected {other}")),
            }
        })
        .await
    }

    #[tokio::test]
    async fn broken_answers_fail_their_message_and_an_expired_history_lists_everything() {
        let api = hostile().await;
        let cfg = Arc::new(GoogleConfig(crate::service::ServiceAddress { account: "me".into(), api: Some(api), scopes: vec![] }));
        let settings = crate::Settings { allow_private_network: true, insecure: true, ..Default::default() };
        let http = Http::new(&settings, "").unwrap();
        let labels = labels(&cfg, &http).await.unwrap();
        // changes since a history id Gmail has forgotten: everything, from a new mark
        let mut pages = MailPages::new(cfg, http, labels, Some("5".into()), None);
        let page = pages.next_page().await.unwrap().unwrap();
        assert!(page.cursor.is_none() && pages.next_page().await.unwrap().is_none());
        assert_eq!(pages.sync_state().as_deref(), Some("100"), "the next listing starts at the profile's id");
        let (ok, failed): (Vec<_>, Vec<_>) = page.items.into_iter().partition(Result::is_ok);
        assert_eq!(ok.len(), 1, "c3 went away meanwhile: not an item, not a failure");
        let item = ok.into_iter().next().unwrap().unwrap();
        assert_eq!((item.id.as_str(), item.container.as_str()), ("a1", "INBOX"));
        let Record::Mail(m) = &item.record else { panic!() };
        assert!(m.flags.is_empty(), "unread: {:?}", m.flags);
        assert_eq!(m.received.unwrap().to_rfc3339(), "2025-01-06T08:00:00+00:00");
        assert_eq!(item.content.unwrap().size, Some(15));
        let reasons: Vec<String> = failed.into_iter().map(|e| e.unwrap_err().to_string()).collect();
        assert_eq!(reasons.len(), 4, "{reasons:?}");
        for needle in ["`../x`", "not base64", "no `raw`", "``"] {
            assert!(reasons.iter().any(|r| r.contains(needle)), "{needle}: {reasons:?}");
        }
    }

    #[test]
    fn a_cursor_says_where_the_listing_was_and_reads_back() {
        let cfg = Arc::new(GoogleConfig(crate::service::ServiceAddress { account: "me".into(), api: None, scopes: vec![] }));
        let http = Http::new(&crate::Settings::default(), "").unwrap();
        let p = MailPages::new(cfg.clone(), http.clone(), HashMap::new(), None, Some("4711:37:tok%3Aen".into()));
        assert_eq!(p.mark.as_deref(), Some("4711"));
        assert_eq!(p.next, Some((Some("tok:en".to_owned()), 37)));
        assert_eq!(p.cursor().as_deref(), Some("full:4711:37:tok%3Aen"));
        // a cursor of another shape starts from the beginning
        let p = MailPages::new(cfg, http, HashMap::new(), Some("9".into()), Some("garbage".into()));
        assert_eq!((p.mark.clone(), p.next.clone()), (None, Some((None, 0))));
        assert_eq!(p.cursor().as_deref(), Some("chg::0:"));
    }
}

//! Gmail as a destination (https://developers.google.com/gmail/api/reference/rest/v1/users.messages/import):
//! each message goes in byte for byte with `messages.import` (`internalDateSource=dateHeader`),
//! in one multipart request up to 5 MB, in a resumable session above; its container and
//! flags become labels (see [`super::gmail`]), made when the mailbox has none of the name.
//! Gmail does not deduplicate, so a message is looked for first: by its Message-ID
//! (`rfc822msgid:`), or, without one, among the messages of the same second (its Date),
//! or without a Date of the same sender and subject, by the SHA-256 of its bytes. A message found is not imported again; the labels it
//! lacks are added (a copy of it in another folder of the source is another label at
//! Gmail), and it is marked read when the source has it read.

use super::api;
use super::config::{GMAIL_INSERT, GMAIL_LABELS, GMAIL_MODIFY, GMAIL_READ, GoogleConfig, MAIL};
use super::gmail::{Target, wanted};
use super::gmail_raw::RawSplit;
use super::upload::{Upload, chunk_size};
use crate::http::{Http, encode_component as enc, request_error};
use ferry_core::content::sha256_hex;
use ferry_core::model::MailMessage;
use ferry_core::{ConnectorError, Content, Item, PutOutcome, Record};
use futures::StreamExt;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use tokio::io::AsyncReadExt;
use tokio::sync::Mutex;

/// Simple and multipart uploads are for "5 MB or less"; larger messages go resumable.
const MULTIPART_MAX: u64 = 5 << 20;
/// "the maximum size of the message is 150MB".
const GMAIL_MAX: u64 = 150 << 20;
/// Messages of the same second compared by their bytes, at most.
const SAME_SECOND: usize = 20;

pub struct MailWriter {
    /// Label name (lower case, as Gmail compares them) -> id, read once.
    labels: Mutex<Option<HashMap<String, String>>>,
}

impl MailWriter {
    pub fn new() -> MailWriter {
        MailWriter { labels: Mutex::new(None) }
    }

    pub async fn put(&self, cfg: &GoogleConfig, http: &Http, item: &Item) -> Result<PutOutcome, ConnectorError> {
        cfg.require(&[GMAIL_MODIFY, MAIL, GMAIL_INSERT], "writing Gmail messages")?;
        cfg.require(&[GMAIL_MODIFY, MAIL, GMAIL_LABELS], "making Gmail labels")?;
        cfg.require(&[GMAIL_MODIFY, MAIL, GMAIL_READ], "looking for the messages Gmail holds already (Gmail does not deduplicate)")?;
        let Record::Mail(m) = &item.record else {
            return Err(ConnectorError::Item(format!("{} items do not go to Gmail", item.vertical())));
        };
        let content = item.content.as_ref().ok_or_else(|| ConnectorError::Item("a message without content".into()))?;
        if content.size.is_some_and(|n| n > GMAIL_MAX) {
            return Err(ConnectorError::Item(format!(
                "Gmail takes messages up to 150 MB; this one is {} bytes",
                content.size.unwrap_or(0)
            )));
        }
        let (targets, mut warnings) = wanted(&item.container, &m.flags);
        let ids = self.label_ids(cfg, http, &targets).await?;
        if let Some(found) = self.find(cfg, http, m, content).await? {
            let changed = self.merge(cfg, http, &found, &ids, &mut warnings).await?;
            return Ok(PutOutcome { dest_id: found, created: changed, warnings, sha256: content.sha256.clone() });
        }
        let (id, sha) = self.import(cfg, http, content, &ids).await?;
        Ok(PutOutcome { dest_id: id, created: true, warnings, sha256: sha.or_else(|| content.sha256.clone()) })
    }

    /// The ids of these labels, each user label made when the mailbox has none of its name.
    async fn label_ids(&self, cfg: &GoogleConfig, http: &Http, targets: &[Target]) -> Result<Vec<String>, ConnectorError> {
        let mut known = self.labels.lock().await;
        if known.is_none() {
            *known = Some(read_labels(cfg, http).await?);
        }
        let mut out = Vec::new();
        for t in targets {
            let name = match t {
                Target::System(id) => {
                    out.push((*id).to_owned());
                    continue;
                }
                Target::User(name) => name,
            };
            let key = name.to_lowercase();
            if let Some(id) = known.as_ref().and_then(|k| k.get(&key)) {
                out.push(id.clone());
                continue;
            }
            let url = cfg.gmail("/gmail/v1/users/me/labels");
            let body = json!({"name": name, "labelListVisibility": "labelShow", "messageListVisibility": "show"});
            let what = format!("making the Gmail label `{name}`");
            let id = match api::json::<Value>(http, &what, &|| api::with_json(http.request("POST", &url), &body)).await {
                Ok(made) => made["id"]
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| ConnectorError::Fatal(format!("{what}: Google's answer has no id")))?,
                // made meanwhile (by another program, or by a request whose answer was lost)
                Err((ConnectorError::Conflict(_), _)) => {
                    let again = read_labels(cfg, http).await?;
                    let id = again
                        .get(&key)
                        .cloned()
                        .ok_or_else(|| ConnectorError::Item(format!("{what}: Gmail says a label of that name exists, yet lists none")))?;
                    *known = Some(again);
                    id
                }
                Err((e, _)) => return Err(e),
            };
            known.get_or_insert_with(HashMap::new).insert(key, id.clone());
            out.push(id);
        }
        Ok(out)
    }

    /// The id of the message Gmail holds already, if it does.
    async fn find(&self, cfg: &GoogleConfig, http: &Http, m: &MailMessage, content: &Content) -> Result<Option<String>, ConnectorError> {
        let mid = m
            .message_id
            .as_deref()
            .map(|s| s.trim().trim_start_matches('<').trim_end_matches('>').trim())
            .filter(|s| !s.is_empty() && !s.contains(|c: char| c.is_whitespace() || c == '"' || c.is_control()));
        if let Some(id) = mid {
            return Ok(search(cfg, http, &format!("rfc822msgid:{id}"), 1).await?.into_iter().next());
        }
        // no Message-ID: the messages that look like it, compared by their bytes
        let Some(q) = lookalikes(m) else { return Ok(None) };
        let candidates = search(cfg, http, &q, SAME_SECOND).await?;
        if candidates.is_empty() {
            return Ok(None);
        }
        let sha = match &content.sha256 {
            Some(s) => s.clone(),
            None => hash(content).await?,
        };
        for c in candidates {
            if raw_sha(cfg, http, &c).await?.as_deref() == Some(sha.as_str()) {
                return Ok(Some(c));
            }
        }
        Ok(None)
    }

    /// Gives a message Gmail holds already the labels it lacks (and marks it read when
    /// the source has it read); whether anything changed.
    async fn merge(
        &self,
        cfg: &GoogleConfig,
        http: &Http,
        id: &str,
        ids: &[String],
        warnings: &mut Vec<String>,
    ) -> Result<bool, ConnectorError> {
        let url = cfg.gmail(&format!("/gmail/v1/users/me/messages/{}?format=minimal", enc(id)));
        let what = format!("reading the labels of Gmail message {id}");
        let have: Value = match api::json(http, &what, &|| http.request("GET", &url)).await {
            Ok(v) => v,
            Err((ConnectorError::NotFound(_), _)) => return Ok(false),
            Err((e, _)) => return Err(e),
        };
        let have: Vec<&str> = have["labelIds"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        let mut add: Vec<&str> = ids.iter().map(String::as_str).filter(|l| !have.contains(l)).collect();
        if add.contains(&"SENT") {
            warnings.push("SENT: Gmail takes it only when a message is imported; the copy Gmail holds stays as it is".into());
            add.retain(|l| *l != "SENT");
        }
        let remove: Vec<&str> = if have.contains(&"UNREAD") && !ids.iter().any(|l| l == "UNREAD") { vec!["UNREAD"] } else { vec![] };
        if add.is_empty() && remove.is_empty() {
            return Ok(false);
        }
        if let Err(e) = cfg.require(&[GMAIL_MODIFY, MAIL], "changing the labels of a message Gmail holds") {
            warnings.push(format!("the labels of the message Gmail holds already are left as they are: {e}"));
            return Ok(false);
        }
        let url = cfg.gmail(&format!("/gmail/v1/users/me/messages/{}/modify", enc(id)));
        let body = json!({"addLabelIds": add, "removeLabelIds": remove});
        let _: Value = api::json(http, &format!("labelling Gmail message {id}"), &|| api::with_json(http.request("POST", &url), &body))
            .await
            .map_err(|(e, _)| e)?;
        Ok(true)
    }

    /// Imports the message: its Gmail id, and its SHA-256 when it was read whole.
    async fn import(
        &self,
        cfg: &GoogleConfig,
        http: &Http,
        content: &Content,
        ids: &[String],
    ) -> Result<(String, Option<String>), ConnectorError> {
        let meta = json!({"labelIds": ids});
        let small = match content.size {
            Some(n) if n > MULTIPART_MAX => None,
            _ => read_up_to(content, MULTIPART_MAX as usize).await?,
        };
        let what = "importing a message into Gmail";
        let (answer, sha): (Value, _) = match small {
            Some(bytes) => {
                let url = cfg.gmail("/upload/gmail/v1/users/me/messages/import?uploadType=multipart&internalDateSource=dateHeader");
                let (boundary, body) = related(&meta, "message/rfc822", &bytes);
                let body = bytes::Bytes::from(body);
                let answer = api::json(http, what, &|| {
                    http.request("POST", &url)
                        .header(reqwest::header::CONTENT_TYPE, format!("multipart/related; boundary={boundary}"))
                        .body(body.clone())
                })
                .await
                .map_err(|(e, _)| e)?;
                (answer, Some(sha256_hex(&bytes)))
            }
            None => {
                let url = cfg.gmail("/upload/gmail/v1/users/me/messages/import?uploadType=resumable&internalDateSource=dateHeader");
                let start = || {
                    let mut r = api::with_json(http.request("POST", &url), &meta).header("X-Upload-Content-Type", "message/rfc822");
                    if let Some(n) = content.size {
                        r = r.header("X-Upload-Content-Length", n);
                    }
                    r
                };
                (Upload { http, what, start: &start, content, chunk: chunk_size() }.run().await?, None)
            }
        };
        let id = answer["id"].as_str().ok_or_else(|| ConnectorError::Fatal(format!("{what}: Google's answer has no message id")))?;
        Ok((id.to_owned(), sha))
    }
}

/// The Gmail search for the messages that may be this one, which has no Message-ID: those
/// of the same second (Gmail's date is the Date header's, as ferry imports), or, without a
/// Date (Gmail then dates a message at its import, so the second says nothing), those of
/// the same sender and subject. None when the message has none of these.
fn lookalikes(m: &MailMessage) -> Option<String> {
    if let Some(date) = m.date {
        let t = date.timestamp();
        return Some(format!("after:{t} before:{}", t + 1));
    }
    let mut terms = Vec::new();
    // the address of `Name <addr>`, or the header as it is when it is an address
    let from = m.from.as_deref().map(|f| f.rsplit_once('<').map_or(f, |(_, a)| a.trim_end_matches('>')).trim());
    if let Some(addr) =
        from.filter(|a| a.contains('@') && !a.contains(|c: char| c.is_whitespace() || c.is_control() || "\"()<>".contains(c)))
    {
        terms.push(format!("from:{addr}"));
    }
    // a phrase search; one holding a quote cannot be one, and blanks say nothing
    let subject = m.subject.as_deref().map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "));
    if let Some(subject) = subject.filter(|s| !s.is_empty() && !s.contains(|c: char| c == '"' || c.is_control())) {
        terms.push(format!("subject:\"{subject}\""));
    }
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// User labels by name (lower case) -> id.
async fn read_labels(cfg: &GoogleConfig, http: &Http) -> Result<HashMap<String, String>, ConnectorError> {
    let all = super::gmail_pages::labels(cfg, http).await?;
    Ok(all.into_iter().filter(|(_, l)| l.user).map(|(id, l)| (l.name.to_lowercase(), id)).collect())
}

/// The ids of up to `n` messages (spam and trash too) that `q` finds.
async fn search(cfg: &GoogleConfig, http: &Http, q: &str, n: usize) -> Result<Vec<String>, ConnectorError> {
    let url = cfg.gmail(&format!("/gmail/v1/users/me/messages?q={}&includeSpamTrash=true&maxResults={n}", enc(q)));
    let answer: Value = api::json(http, "looking for a message in Gmail", &|| http.request("GET", &url)).await.map_err(|(e, _)| e)?;
    Ok(answer["messages"].as_array().into_iter().flatten().filter_map(|m| m["id"].as_str()).map(str::to_owned).collect())
}

/// The SHA-256 of a Gmail message's bytes (none when it is gone), streamed.
async fn raw_sha(cfg: &GoogleConfig, http: &Http, id: &str) -> Result<Option<String>, ConnectorError> {
    let url = cfg.gmail(&format!("/gmail/v1/users/me/messages/{}?format=raw", enc(id)));
    let what = format!("reading Gmail message {id}");
    let resp = match api::send_ok(http, &what, &|| http.request("GET", &url)).await {
        Ok(r) => r,
        Err((ConnectorError::NotFound(_), _)) => return Ok(None),
        Err((e, _)) => return Err(e),
    };
    let (mut split, mut hash, mut out) = (RawSplit::new(), Sha256::new(), Vec::new());
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        out.clear();
        split.feed(&chunk.map_err(|e| request_error(&what, e))?, &mut out).map_err(|e| ConnectorError::Fatal(format!("{what}: {e}")))?;
        hash.update(&out);
    }
    split.finish().map_err(|e| ConnectorError::Fatal(format!("{what}: {e}")))?;
    Ok(Some(hex::encode(hash.finalize())))
}

/// The content's SHA-256, read through.
async fn hash(content: &Content) -> Result<String, ConnectorError> {
    let mut r = content.open_verified().await.map_err(|e| ConnectorError::from_io("reading the message", e))?;
    tokio::io::copy(&mut r, &mut tokio::io::sink()).await.map_err(|e| ConnectorError::from_io("reading the message", e))?;
    Ok(r.finish().map(|(s, _)| s).unwrap_or_default())
}

/// The content whole, if it has at most `max` bytes.
async fn read_up_to(content: &Content, max: usize) -> Result<Option<Vec<u8>>, ConnectorError> {
    let r = content.open_verified().await.map_err(|e| ConnectorError::from_io("reading the message", e))?;
    let mut out = Vec::new();
    let mut limited = r.take(max as u64 + 1);
    limited.read_to_end(&mut out).await.map_err(|e| ConnectorError::from_io("reading the message", e))?;
    Ok((out.len() <= max).then_some(out))
}

/// A `multipart/related` body of JSON metadata and one media part (Google's "multipart
/// upload"), and its boundary (one the media does not hold).
fn related(meta: &Value, media_type: &str, media: &[u8]) -> (String, Vec<u8>) {
    let tag = hex::encode(&Sha256::digest(media)[..12]);
    let boundary = (0..)
        .map(|n| format!("ferry_{n}_{tag}"))
        .find(|b| memchr::memmem::find(media, b.as_bytes()).is_none())
        .expect("some boundary is not in the media");
    let mut body = Vec::with_capacity(media.len() + 512);
    body.extend_from_slice(format!("--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n").as_bytes());
    body.extend_from_slice(meta.to_string().as_bytes());
    body.extend_from_slice(format!("\r\n--{boundary}\r\nContent-Type: {media_type}\r\n\r\n").as_bytes());
    body.extend_from_slice(media);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (boundary, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multipart_body_keeps_the_media_byte_for_byte_under_a_boundary_it_lacks() {
        let media = b"From: a@b\n\n--ferry_0_x\nbody\r\n".to_vec();
        let (boundary, body) = related(&json!({"labelIds": ["INBOX"]}), "message/rfc822", &media);
        assert!(memchr::memmem::find(&media, boundary.as_bytes()).is_none());
        let text = body.clone();
        let start = memchr::memmem::find(&text, b"message/rfc822\r\n\r\n").unwrap() + 18;
        let end = memchr::memmem::rfind(&text, format!("\r\n--{boundary}--").as_bytes()).unwrap();
        assert_eq!(&text[start..end], &media[..]);
        assert!(String::from_utf8_lossy(&body).contains(r#"{"labelIds":["INBOX"]}"#));
    }

    #[test]
    fn a_message_without_message_id_is_searched_for_by_its_second_or_else_its_sender_and_subject() {
        let date = chrono::DateTime::parse_from_rfc3339("2025-01-06T09:00:00Z").unwrap().with_timezone(&chrono::Utc);
        let dated = MailMessage { date: Some(date), subject: Some("x".into()), ..Default::default() };
        assert_eq!(lookalikes(&dated).as_deref(), Some("after:1736154000 before:1736154001"));
        // without a Date, Gmail dates it at its import: by sender and subject
        let undated = MailMessage {
            from: Some("Cron Daemon <cron@example.org>".into()),
            subject: Some(" no  message id ".into()),
            ..Default::default()
        };
        assert_eq!(lookalikes(&undated).as_deref(), Some("from:cron@example.org subject:\"no message id\""));
        let bare = MailMessage { from: Some("x@example.org".into()), subject: Some("say \"hi\"".into()), ..Default::default() };
        assert_eq!(lookalikes(&bare).as_deref(), Some("from:x@example.org"), "a subject with a quote is no phrase");
        assert_eq!(lookalikes(&MailMessage { from: Some("undisclosed".into()), ..Default::default() }), None);
    }
}

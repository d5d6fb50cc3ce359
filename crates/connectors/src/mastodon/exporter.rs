use super::api;
use super::config::MastodonConfig;
use crate::http::Http;
use async_trait::async_trait;
use bytes::Bytes;
use ferry_core::content::Content;
use ferry_core::{Attachment, ConnectorError, Exporter, Item, ItemError, Page, PageStream, Stream, Vertical};
use ferry_verticals::social::{Kind, SOCIAL, Social};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::OnceCell;

/// Reads an account's posts and relations, one stream per kind (its container): each
/// listing is paged by the `Link` headers the server gives.
pub struct MastodonExporter {
    cfg: Arc<MastodonConfig>,
    http: Http,
    /// Media files are fetched without the account's token: they may be on another host.
    media: reqwest::Client,
    me: OnceCell<Me>,
}

/// The account and its server's domain.
#[derive(Clone)]
struct Me {
    id: String,
    /// The account's ActivityPub id (or its profile URL).
    actor: String,
    domain: String,
}

/// The listings: container, API path (`{id}`: the account's), scope needed.
const LISTINGS: [(&str, Kind, &str, &str); 9] = [
    ("outbox", Kind::Post, "/api/v1/accounts/{id}/statuses?limit=40", "read:statuses"),
    ("following", Kind::Following, "/api/v1/accounts/{id}/following?limit=80", "read:accounts"),
    ("followers", Kind::Follower, "/api/v1/accounts/{id}/followers?limit=80", "read:accounts"),
    ("blocks", Kind::Block, "/api/v1/blocks?limit=80", "read:blocks"),
    ("mutes", Kind::Mute, "/api/v1/mutes?limit=80", "read:mutes"),
    ("domain_blocks", Kind::DomainBlock, "/api/v1/domain_blocks?limit=200", "read:blocks"),
    ("likes", Kind::Like, "/api/v1/favourites?limit=40", "read:favourites"),
    ("bookmarks", Kind::Bookmark, "/api/v1/bookmarks?limit=40", "read:bookmarks"),
    ("lists", Kind::List, "/api/v1/lists", "read:lists"),
];

/// The largest media file carried with a post.
const MAX_MEDIA: usize = 256 << 20;

impl MastodonExporter {
    pub fn new(cfg: MastodonConfig, settings: &crate::Settings) -> Result<Self, ConnectorError> {
        Ok(MastodonExporter {
            cfg: Arc::new(cfg),
            http: Http::new(settings, "")?.for_provider("mastodon"),
            media: crate::http::client(settings)?,
            me: OnceCell::new(),
        })
    }

    async fn me(&self) -> Result<Me, ConnectorError> {
        self.me
            .get_or_try_init(|| async {
                let (a, _) =
                    api::get(&self.cfg, &self.http, "reading the account", &self.cfg.url("/api/v1/accounts/verify_credentials")).await?;
                let (i, _) = api::get(&self.cfg, &self.http, "reading the server", &self.cfg.url("/api/v2/instance")).await?;
                let id = a["id"].as_str().ok_or_else(|| ConnectorError::Fatal("the server named no account id".into()))?;
                let domain = i["domain"].as_str().map(str::to_owned).unwrap_or_else(|| self.cfg.address.account.clone());
                Ok::<_, ConnectorError>(Me {
                    id: id.to_owned(),
                    actor: a["uri"].as_str().or(a["url"].as_str()).unwrap_or_default().to_owned(),
                    domain,
                })
            })
            .await
            .cloned()
    }
}

#[async_trait]
impl Exporter for MastodonExporter {
    async fn plan(&self, verticals: &[Vertical]) -> Result<Vec<Stream>, ConnectorError> {
        if !verticals.contains(&SOCIAL) {
            return Ok(Vec::new());
        }
        self.me().await?;
        let mut out = Vec::new();
        for (container, _, _, scope) in LISTINGS {
            self.cfg.require(&[scope, "read"], &format!("reading the account's {container}"))?;
            out.push(Stream { name: container.to_owned(), verticals: vec![SOCIAL] });
        }
        Ok(out)
    }

    async fn pages(&self, stream: &Stream, cursor: Option<String>) -> Result<Box<dyn PageStream>, ConnectorError> {
        let me = self.me().await?;
        let (container, kind, path, _) = LISTINGS
            .iter()
            .find(|l| l.0 == stream.name)
            .copied()
            .ok_or_else(|| ConnectorError::Fatal(format!("`{}` is no stream", stream.name)))?;
        let first = self.cfg.url(&path.replace("{id}", &crate::http::encode_component(&me.id)));
        let next = match cursor {
            Some(c) => {
                self.cfg.own(&c)?;
                c
            }
            None => first,
        };
        Ok(Box::new(Listing {
            cfg: self.cfg.clone(),
            http: self.http.clone(),
            media: self.media.clone(),
            me,
            container,
            kind,
            next: Some(next),
            pages: 0,
        }))
    }

    async fn changes(&self, stream: &Stream, cursor: Option<String>, _since: String) -> Result<Box<dyn PageStream>, ConnectorError> {
        self.pages(stream, cursor).await
    }
}

struct Listing {
    cfg: Arc<MastodonConfig>,
    http: Http,
    media: reqwest::Client,
    me: Me,
    container: &'static str,
    kind: Kind,
    next: Option<String>,
    pages: u32,
}

#[async_trait]
impl PageStream for Listing {
    async fn next_page(&mut self) -> Result<Option<Page>, ConnectorError> {
        let Some(url) = self.next.take() else { return Ok(None) };
        self.pages += 1;
        if self.pages > 100_000 {
            return Err(ConnectorError::Fatal(format!("listing {}: more than 100,000 pages", self.container)));
        }
        let (page, next) = api::get(&self.cfg, &self.http, &format!("listing {}", self.container), &url).await?;
        let entries = page
            .as_array()
            .cloned()
            .ok_or_else(|| ConnectorError::Fatal(format!("listing {}: the answer is not a list", self.container)))?;
        // an empty page ends the listing (Mastodon links one past the last)
        self.next = next.filter(|n| *n != url && !entries.is_empty());
        let items = match self.kind {
            Kind::Post => {
                let mut out = Vec::new();
                for s in &entries {
                    out.push(self.post(s, &url).await);
                }
                out
            }
            Kind::Following | Kind::Mute => self.with_relationships(&entries, &url).await?,
            Kind::List => {
                let mut out = Vec::new();
                for l in &entries {
                    out.push(self.list(l, &url).await?);
                }
                out
            }
            _ => entries.iter().map(|e| self.relation(e, &BTreeMap::new(), &url)).collect(),
        };
        Ok(Some(Page { items, cursor: self.next.clone() }))
    }
}

impl Listing {
    fn fail(&self, id: String, location: &str, reason: String) -> ItemError {
        ItemError { skipped: false, vertical: SOCIAL, id, location: location.to_owned(), reason }
    }

    /// `user` as `user@domain`: local accounts are named without their server.
    fn full(&self, acct: &str) -> String {
        if acct.contains('@') { acct.to_owned() } else { format!("{acct}@{}", self.me.domain) }
    }

    fn relation(&self, e: &Value, options: &BTreeMap<String, String>, location: &str) -> Result<Item, ItemError> {
        let (subject, social) = match self.kind {
            Kind::DomainBlock => {
                let d = e.as_str().or(e["domain"].as_str()).unwrap_or_default().to_owned();
                (d.clone(), Social { kind: Kind::DomainBlock, object: Some(d), ..Default::default() })
            }
            Kind::Like | Kind::Bookmark => {
                let uri = e["uri"].as_str().unwrap_or_default().to_owned();
                let published = e["created_at"]
                    .as_str()
                    .and_then(|p| chrono::DateTime::parse_from_rfc3339(p).ok())
                    .map(|p| p.with_timezone(&chrono::Utc));
                (
                    uri.clone(),
                    Social {
                        kind: self.kind,
                        object: Some(uri),
                        url: e["url"].as_str().map(str::to_owned),
                        published,
                        ..Default::default()
                    },
                )
            }
            _ => {
                let acct = e["acct"].as_str().map(|a| self.full(a)).unwrap_or_default();
                (acct.clone(), Social { kind: self.kind, account: Some(acct), options: options.clone(), ..Default::default() })
            }
        };
        if subject.is_empty() {
            return Err(self.fail(
                format!("({} without a name)", self.container),
                location,
                format!("the server gave an entry of {} that names nothing: {e}", self.container),
            ));
        }
        let id = format!("{}:{subject}", self.container);
        let version = hex::encode(&<sha2::Sha256 as sha2::Digest>::digest(serde_json::to_vec(&social.options).unwrap_or_default())[..8]);
        social.item(&id, self.container, &version).map_err(|r| self.fail(id.clone(), location, r))
    }

    /// Followed and muted accounts, with the options their relationships hold.
    async fn with_relationships(&self, entries: &[Value], location: &str) -> Result<Vec<Result<Item, ItemError>>, ConnectorError> {
        let ids: Vec<&str> = entries.iter().filter_map(|e| e["id"].as_str()).collect();
        let mut rel: BTreeMap<String, Value> = BTreeMap::new();
        for chunk in ids.chunks(40) {
            let query: Vec<String> = chunk.iter().map(|i| format!("id[]={}", crate::http::encode_component(i))).collect();
            let url = self.cfg.url(&format!("/api/v1/accounts/relationships?{}", query.join("&")));
            let (page, _) = api::get(&self.cfg, &self.http, "reading relationships", &url).await?;
            for r in page.as_array().into_iter().flatten() {
                if let Some(id) = r["id"].as_str() {
                    rel.insert(id.to_owned(), r.clone());
                }
            }
        }
        Ok(entries
            .iter()
            .map(|e| {
                let r = e["id"].as_str().and_then(|i| rel.get(i)).cloned().unwrap_or(Value::Null);
                let mut options = BTreeMap::new();
                if self.kind == Kind::Following {
                    options.insert("show_reblogs".into(), r["showing_reblogs"].as_bool().unwrap_or(true).to_string());
                    options.insert("notify".into(), r["notifying"].as_bool().unwrap_or(false).to_string());
                    let langs: Vec<&str> = r["languages"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
                    if !langs.is_empty() {
                        options.insert("languages".into(), langs.join(","));
                    }
                } else {
                    options.insert("hide_notifications".into(), r["muting_notifications"].as_bool().unwrap_or(true).to_string());
                }
                self.relation(e, &options, location)
            })
            .collect())
    }

    async fn list(&self, l: &Value, location: &str) -> Result<Result<Item, ItemError>, ConnectorError> {
        let Some(id) = l["id"].as_str() else {
            return Ok(Err(self.fail("(a list without an id)".into(), location, format!("the server gave a list without an id: {l}"))));
        };
        let url = self.cfg.url(&format!("/api/v1/lists/{}/accounts?limit=0", crate::http::encode_component(id)));
        let members = api::all(&self.cfg, &self.http, "reading a list's members", url).await?;
        let mut members: Vec<String> = members.iter().filter_map(|m| m["acct"].as_str()).map(|a| self.full(a)).collect();
        members.sort();
        let mut options = BTreeMap::new();
        for k in ["replies_policy", "exclusive"] {
            if let Some(v) = l.get(k).filter(|v| !v.is_null()) {
                options.insert(k.to_owned(), v.as_str().map_or_else(|| v.to_string(), str::to_owned));
            }
        }
        let title = l["title"].as_str().unwrap_or_default().to_owned();
        let social = Social { kind: Kind::List, title: Some(title.clone()), members, options, ..Default::default() };
        let version = hex::encode(&<sha2::Sha256 as sha2::Digest>::digest(serde_json::to_vec(&social).unwrap_or_default())[..8]);
        let item_id = format!("lists:{title}");
        Ok(social.item(&item_id, "lists", &version).map_err(|r| self.fail(item_id.clone(), location, r)))
    }

    /// A post as its `Create` (or a boost as its `Announce`) activity, its media attached.
    async fn post(&self, s: &Value, location: &str) -> Result<Item, ItemError> {
        let uri = s["uri"].as_str().unwrap_or_default().to_owned();
        if uri.is_empty() {
            return Err(self.fail(format!("(a post without a URI: {})", s["id"]), location, "the server gave a post without a URI".into()));
        }
        let fail = |reason: String| self.fail(uri.clone(), location, reason);
        let published = s["created_at"].as_str().unwrap_or_default().to_owned();
        let visibility = s["visibility"].as_str().unwrap_or("public").to_owned();
        let public = "https://www.w3.org/ns/activitystreams#Public";
        let followers = format!("{}/followers", self.me.actor);
        let (to, cc) = match visibility.as_str() {
            "public" => (json!([public]), json!([followers])),
            "unlisted" => (json!([followers]), json!([public])),
            "private" => (json!([followers]), json!([])),
            _ => (json!([]), json!([])),
        };
        let version = s["edited_at"].as_str().filter(|e| !e.is_empty()).unwrap_or(&published).to_owned();
        if let Some(r) = s.get("reblog").filter(|r| r.is_object()) {
            let object = r["uri"].as_str().map(str::to_owned);
            let activity = json!({"id": format!("{uri}/activity"), "type": "Announce", "actor": self.me.actor, "published": published,
                "to": to, "cc": cc, "object": object});
            let social =
                Social { kind: Kind::Repost, object, visibility: Some(visibility), activity: Some(activity), ..Default::default() };
            return social.item(&uri, self.container, &version).map_err(fail);
        }
        let mut attachments = Vec::new();
        let mut docs = Vec::new();
        for (n, m) in s["media_attachments"].as_array().into_iter().flatten().enumerate() {
            let Some(url) = m["url"].as_str().or(m["remote_url"].as_str()) else {
                return Err(fail(format!("media {n} of the post has no URL")));
            };
            let ext = url.rsplit('/').next().and_then(|l| l.rsplit_once('.')).map(|(_, e)| e).filter(|e| e.len() <= 5).unwrap_or("bin");
            let name = format!("{}-{n}.{ext}", m["id"].as_str().unwrap_or("media"));
            let (bytes, media_type) = self.fetch(url).await.map_err(|e| fail(format!("its media {url} cannot be read: {e}")))?;
            docs.push(
                json!({"type": "Document", "mediaType": media_type, "url": name, "name": m["description"], "blurhash": m["blurhash"]}),
            );
            attachments.push(Attachment { name, content: Content::from_bytes(media_type, bytes) });
        }
        let in_reply_to = match s["in_reply_to_id"].as_str() {
            Some(parent) => {
                let url = self.cfg.url(&format!("/api/v1/statuses/{}", crate::http::encode_component(parent)));
                match api::get(&self.cfg, &self.http, "reading the post replied to", &url).await {
                    Ok((p, _)) => p["uri"].as_str().map(str::to_owned),
                    // deleted, or not visible any more: the reply says which id it was
                    Err(_) => Some(format!("{}/api/v1/statuses/{parent}", self.cfg.api)),
                }
            }
            None => None,
        };
        let summary = s["spoiler_text"].as_str().filter(|t| !t.is_empty());
        let tags: Vec<Value> = s["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| json!({"type": "Hashtag", "name": format!("#{}", t["name"].as_str().unwrap_or_default()), "href": t["url"]}))
            .collect();
        let activity = json!({"id": format!("{uri}/activity"), "type": "Create", "actor": self.me.actor, "published": published,
            "to": to, "cc": cc,
            "object": {"id": uri, "type": "Note", "attributedTo": self.me.actor, "published": published, "url": s["url"], "to": to, "cc": cc,
                "content": s["content"], "summary": summary, "sensitive": s["sensitive"].as_bool().unwrap_or(false),
                "inReplyTo": in_reply_to, "contentMap": s["language"].as_str().map(|l| json!({l: s["content"]})),
                "attachment": docs, "tag": tags}});
        let social = Social {
            kind: Kind::Post,
            content: s["content"].as_str().map(str::to_owned),
            visibility: Some(visibility),
            in_reply_to,
            url: s["url"].as_str().map(str::to_owned),
            published: chrono::DateTime::parse_from_rfc3339(&published).ok().map(|p| p.with_timezone(&chrono::Utc)),
            activity: Some(activity),
            ..Default::default()
        };
        let mut item = social.item(&uri, self.container, &version).map_err(fail)?;
        if s.get("poll").is_some_and(|p| p.is_object()) {
            item.source_warnings.push("poll: the post's poll (its options and votes) is not carried".into());
        }
        item.attachments = attachments;
        Ok(item)
    }

    /// A media file, without the account's token, bounded.
    async fn fetch(&self, url: &str) -> Result<(Bytes, String), ConnectorError> {
        let resp = self.media.get(url).send().await.map_err(|e| crate::http::request_error("fetching media", e))?;
        if !resp.status().is_success() {
            return Err(crate::http::status_error("fetching media", &resp));
        }
        let media_type = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("application/octet-stream").to_owned();
        let bytes = crate::http::read_bounded("fetching media", resp, MAX_MEDIA).await?;
        Ok((Bytes::from(bytes), media_type))
    }
}

//! Finding the collections, as calendar and address book clients do: the well-known URI
//! (RFC 6764), `current-user-principal` (RFC 5397), the home set, then the collections
//! in it.

use super::DavConfig;
use crate::dav::{self, multistatus::Response};
use crate::http::Http;
use ferry_core::ConnectorError;

#[derive(Debug, Clone)]
pub struct Collection {
    /// Absolute path, ending with `/`.
    pub path: String,
    /// The display name, else the last path segment.
    pub name: String,
}

pub use crate::dav::href_path;

fn with_slash(p: String) -> String {
    if p.ends_with('/') { p } else { format!("{p}/") }
}

async fn props(client: &Http, cfg: &DavConfig, path: &str, depth: u8, props: &str) -> Result<Option<Vec<Response>>, ConnectorError> {
    let body = format!(
        r#"<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:" xmlns:x="{}"><d:prop>{props}</d:prop></d:propfind>"#,
        cfg.kind.namespace()
    );
    dav::request(client, "PROPFIND", &cfg.url(path), Some(depth), &body).await
}

/// The home set: where collections live and new ones are made.
pub async fn home(client: &Http, cfg: &DavConfig) -> Result<String, ConnectorError> {
    let want = format!("<d:current-user-principal/><x:{}/>", cfg.kind.home_set());
    let mut starts = vec![cfg.path.clone()];
    if cfg.path == "/" {
        starts.insert(0, cfg.kind.well_known().to_owned());
    }
    let mut principal = None;
    for start in starts {
        let r = match props(client, cfg, &start, 0, &want).await {
            Ok(Some(r)) => r,
            // a busy server or a lost connection is worth another try, and going on would
            // end at a wrong home set (the server's root), where collections would be made
            // and read that no client ever sees
            Err(e) if e.is_transient() => return Err(e),
            // a well-known URI that redirects or is missing is not an error: go on
            Ok(None) | Err(_) => continue,
        };
        if let Some(home) = r.first().and_then(|r| r.href(cfg.kind.home_set())) {
            return Ok(with_slash(href_path(home)));
        }
        if let Some(p) = r.first().and_then(|r| r.href("current-user-principal")) {
            principal = Some(href_path(p));
            break;
        }
    }
    let principal = principal.unwrap_or_else(|| cfg.path.clone());
    let r = props(client, cfg, &principal, 0, &want).await?.unwrap_or_default();
    Ok(with_slash(r.first().and_then(|r| r.href(cfg.kind.home_set())).map(href_path).unwrap_or(principal)))
}

/// The collections of this kind in the home set.
pub async fn collections(client: &Http, cfg: &DavConfig, home: &str) -> Result<Vec<Collection>, ConnectorError> {
    let r = props(client, cfg, home, 1, "<d:resourcetype/><d:displayname/>").await?.unwrap_or_default();
    let mut out: Vec<Collection> = r
        .into_iter()
        .filter(|r| r.has_child("resourcetype", cfg.kind.collection()))
        .map(|r| {
            let path = with_slash(href_path(&r.href));
            let last = path.trim_end_matches('/').rsplit('/').next().unwrap_or("").to_owned();
            Collection { name: r.text("displayname").map(str::to_owned).unwrap_or(last), path }
        })
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// A collection's resources (path, ETag), sorted, and the sync token that describes
/// them: by `sync-collection` (RFC 6578) where the server has it (one request, and on
/// Radicale a quarter of the CPU of a PROPFIND listing), else by PROPFIND (the token, if
/// any, read before the listing: a change made meanwhile is listed again next time).
pub async fn listing(client: &Http, cfg: &DavConfig, collection: &str) -> Result<(Vec<(String, String)>, Option<String>), ConnectorError> {
    if let Some((all, token)) = sync_collection(client, cfg, collection, "").await? {
        return Ok((all, Some(token)));
    }
    let r = props(client, cfg, collection, 0, "<d:sync-token/>").await?;
    let token = r.as_ref().and_then(|r| r.first()).and_then(|r| r.text("sync-token")).map(|t| t.trim().to_owned());
    Ok((resources(client, cfg, collection).await?, token))
}

/// `sync-collection` from `token` ("" for everything): the resources added or changed
/// since (deletions, which have no ETag, are left out) and the new token. `None` when
/// the server refuses it (no support, or a token it no longer knows). A server that
/// truncates its answer (RFC 6578 section 3.6) is asked again from the token it gave.
pub async fn sync_collection(
    client: &Http,
    cfg: &DavConfig,
    collection: &str,
    token: &str,
) -> Result<Option<(Vec<(String, String)>, String)>, ConnectorError> {
    let (mut out, mut token) = (Vec::new(), token.to_owned());
    // each round moves the token on; a server that keeps truncating is not followed forever
    for _ in 0..1000 {
        let sent = if token.is_empty() {
            "<d:sync-token/>".to_owned()
        } else {
            format!("<d:sync-token>{}</d:sync-token>", quick_xml::escape::escape(&token))
        };
        let body = format!(
            r#"<?xml version="1.0" encoding="utf-8"?><d:sync-collection xmlns:d="DAV:">{sent}<d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"#
        );
        let responses = match dav::request(client, "REPORT", &cfg.url(collection), Some(0), &body).await {
            Ok(Some(r)) => r,
            Err(e) if e.is_transient() => return Err(e),
            Ok(None) | Err(_) => return Ok(None),
        };
        let (mut next, mut truncated) = (None, false);
        for r in responses {
            if r.href.is_empty() {
                next = r.text("sync-token").map(|t| t.trim().to_owned());
                continue;
            }
            let path = href_path(&r.href);
            if with_slash(path.clone()) == collection {
                truncated = true;
            } else if let Some(etag) = r.text("getetag")
                && member(collection, &path)
                && !path.ends_with('/')
            {
                out.push((path, etag.trim().to_owned()));
            }
        }
        // no token in the answer: not a sync-collection answer to trust
        let Some(next) = next else { return Ok(None) };
        if !truncated || next == token {
            out.sort();
            out.dedup_by(|a, b| a.0 == b.0);
            return Ok(Some((out, next)));
        }
        token = next;
    }
    Err(ConnectorError::Fatal(format!("{}: the server truncated its sync-collection answer 1000 times", cfg.url(collection))))
}

/// Whether `path` lies inside `collection` (not the collection itself).
fn member(collection: &str, path: &str) -> bool {
    path.starts_with(collection) && path.len() > collection.len()
}

/// Resource paths and ETags in a collection, by PROPFIND.
pub async fn resources(client: &Http, cfg: &DavConfig, collection: &str) -> Result<Vec<(String, String)>, ConnectorError> {
    let r = props(client, cfg, collection, 1, "<d:getetag/><d:resourcetype/>").await?.unwrap_or_default();
    let mut out: Vec<(String, String)> = r
        .into_iter()
        .filter(|r| !r.has_child("resourcetype", "collection"))
        .map(|r| (href_path(&r.href), r.text("getetag").unwrap_or("").trim().to_owned()))
        .filter(|(p, _)| member(collection, p))
        .collect();
    out.sort();
    Ok(out)
}

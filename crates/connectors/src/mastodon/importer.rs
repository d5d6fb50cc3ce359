use super::api;
use super::config::MastodonConfig;
use crate::http::{Http, encode_component as enc};
use async_trait::async_trait;
use ferry_core::{ConnectorError, Importer, Item, PutOutcome};
use ferry_verticals::social::{Kind, Social};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use tokio::sync::{Mutex, OnceCell};

/// Writes relations through the API: each is looked at first (the relationship, the
/// domain blocks, the list's members), so a rerun changes nothing and a resume after a
/// crash does not repeat a write. Posts cannot be written (Mastodon has no post import).
pub struct MastodonImporter {
    cfg: MastodonConfig,
    http: Http,
    domain: OnceCell<String>,
    /// `user@domain` -> account id here.
    accounts: Mutex<HashMap<String, String>>,
    domain_blocks: OnceCell<Mutex<BTreeSet<String>>>,
    /// List title -> id.
    lists: OnceCell<Mutex<HashMap<String, String>>>,
}

impl MastodonImporter {
    pub fn new(cfg: MastodonConfig, settings: &crate::Settings) -> Result<Self, ConnectorError> {
        Ok(MastodonImporter {
            cfg,
            http: Http::new(settings, "")?.for_provider("mastodon"),
            domain: OnceCell::new(),
            accounts: Mutex::new(HashMap::new()),
            domain_blocks: OnceCell::new(),
            lists: OnceCell::new(),
        })
    }

    async fn domain(&self) -> Result<&str, ConnectorError> {
        self.domain
            .get_or_try_init(|| async {
                let (i, _) = api::get(&self.cfg, &self.http, "reading the server", &self.cfg.url("/api/v2/instance")).await?;
                Ok::<_, ConnectorError>(i["domain"].as_str().map(str::to_owned).unwrap_or_else(|| self.cfg.address.account.clone()))
            })
            .await
            .map(String::as_str)
    }

    async fn full(&self, acct: &str) -> Result<String, ConnectorError> {
        Ok(if acct.contains('@') { acct.to_ascii_lowercase() } else { format!("{}@{}", acct.to_ascii_lowercase(), self.domain().await?) })
    }

    /// The id here of the account `user@domain`: looked up, else searched for (which
    /// makes the server fetch an account of another server it has not seen).
    async fn account(&self, acct: &str) -> Result<String, ConnectorError> {
        let acct = acct.trim_start_matches('@').to_ascii_lowercase();
        if let Some(id) = self.accounts.lock().await.get(&acct) {
            return Ok(id.clone());
        }
        let local = acct.strip_suffix(&format!("@{}", self.domain().await?)).unwrap_or(&acct).to_owned();
        let url = self.cfg.url(&format!("/api/v1/accounts/lookup?acct={}", enc(&local)));
        let found = match api::get(&self.cfg, &self.http, "looking up an account", &url).await {
            Ok((a, _)) => a["id"].as_str().map(str::to_owned),
            Err(ConnectorError::NotFound(_)) => {
                let url = self.cfg.url(&format!("/api/v2/search?q={}&type=accounts&resolve=true&limit=5", enc(&acct)));
                let (r, _) = api::get(&self.cfg, &self.http, "searching for an account", &url).await?;
                let mut hit = None;
                for a in r["accounts"].as_array().into_iter().flatten() {
                    if self.full(a["acct"].as_str().unwrap_or_default()).await? == acct {
                        hit = a["id"].as_str().map(str::to_owned);
                    }
                }
                hit
            }
            Err(e) => return Err(e),
        };
        let id = found.ok_or_else(|| ConnectorError::Item(format!("the account {acct} cannot be found from this server")))?;
        self.accounts.lock().await.insert(acct, id.clone());
        Ok(id)
    }

    async fn relationship(&self, id: &str) -> Result<Value, ConnectorError> {
        let url = self.cfg.url(&format!("/api/v1/accounts/relationships?id[]={}", enc(id)));
        let (r, _) = api::get(&self.cfg, &self.http, "reading a relationship", &url).await?;
        Ok(r[0].clone())
    }

    async fn action(&self, what: &str, path: &str, body: Value) -> Result<Value, ConnectorError> {
        api::post(&self.cfg, &self.http, what, &self.cfg.url(path), &body).await
    }

    /// The status here of a post elsewhere (by its URI), or why there is none.
    async fn status(&self, uri: &str) -> Result<Value, ConnectorError> {
        let url = self.cfg.url(&format!("/api/v2/search?q={}&type=statuses&resolve=true&limit=1", enc(uri)));
        let (r, _) = api::get(&self.cfg, &self.http, "searching for a post", &url).await?;
        r["statuses"]
            .as_array()
            .and_then(|s| s.iter().find(|x| x["uri"] == uri || x["url"] == uri).cloned())
            .ok_or_else(|| ConnectorError::Item(format!("the post {uri} cannot be found from this server")))
    }

    async fn follow(&self, s: &Social, acct: &str) -> Result<bool, ConnectorError> {
        let id = self.account(acct).await?;
        let r = self.relationship(&id).await?;
        let reblogs = s.options.get("show_reblogs").is_none_or(|v| v == "true");
        let notify = s.options.get("notify").is_some_and(|v| v == "true");
        let langs: Vec<&str> = s.options.get("languages").map(|l| l.split(',').filter(|x| !x.is_empty()).collect()).unwrap_or_default();
        let held: Vec<&str> = r["languages"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        let following = r["following"] == true || r["requested"] == true;
        if following && r["showing_reblogs"].as_bool() == Some(reblogs) && r["notifying"].as_bool() == Some(notify) && held == langs {
            return Ok(false);
        }
        let mut body = json!({"reblogs": reblogs, "notify": notify});
        if !langs.is_empty() {
            body["languages"] = langs.into();
        }
        self.action(&format!("following {acct}"), &format!("/api/v1/accounts/{}/follow", enc(&id)), body).await?;
        Ok(true)
    }

    async fn list(&self, s: &Social, warnings: &mut Vec<String>) -> Result<(String, bool), ConnectorError> {
        let title = s.title.clone().filter(|t| !t.trim().is_empty()).ok_or_else(|| ConnectorError::Item("the list has no title".into()))?;
        let lists = self
            .lists
            .get_or_try_init(|| async {
                let (l, _) = api::get(&self.cfg, &self.http, "listing lists", &self.cfg.url("/api/v1/lists")).await?;
                let known = l
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|x| Some((x["title"].as_str()?.to_owned(), x["id"].as_str()?.to_owned())));
                Ok::<_, ConnectorError>(Mutex::new(known.collect()))
            })
            .await?;
        let mut created = false;
        let known = lists.lock().await.get(&title).cloned();
        let id = match known {
            Some(id) => id,
            None => {
                let mut body = json!({"title": title});
                for k in ["replies_policy", "exclusive"] {
                    if let Some(v) = s.options.get(k) {
                        body[k] = if k == "exclusive" { (v == "true").into() } else { v.clone().into() };
                    }
                }
                let made = self.action(&format!("making list `{title}`"), "/api/v1/lists", body).await?;
                let id =
                    made["id"].as_str().ok_or_else(|| ConnectorError::Fatal("the server made a list without an id".into()))?.to_owned();
                lists.lock().await.insert(title.clone(), id.clone());
                created = true;
                id
            }
        };
        let url = self.cfg.url(&format!("/api/v1/lists/{}/accounts?limit=0", enc(&id)));
        let mut held = BTreeSet::new();
        for a in api::all(&self.cfg, &self.http, "reading a list's members", url).await? {
            held.insert(self.full(a["acct"].as_str().unwrap_or_default()).await?);
        }
        let mut add = Vec::new();
        for m in &s.members {
            if held.contains(&m.to_ascii_lowercase()) {
                continue;
            }
            let id = match self.account(m).await {
                Ok(id) => id,
                Err(ConnectorError::Item(e)) => {
                    warnings.push(format!("list `{title}`: {e}; not added"));
                    continue;
                }
                Err(e) => return Err(e),
            };
            // a list holds followed accounts only; the source's list says they were followed
            let r = self.relationship(&id).await?;
            if r["following"] != true {
                self.action(&format!("following {m}"), &format!("/api/v1/accounts/{}/follow", enc(&id)), json!({})).await?;
                warnings.push(format!("list `{title}`: {m} followed, as a list holds only followed accounts"));
            }
            add.push(id);
        }
        if !add.is_empty() {
            self.action(&format!("adding to list `{title}`"), &format!("/api/v1/lists/{}/accounts", enc(&id)), json!({"account_ids": add}))
                .await?;
            created = true;
        }
        Ok((id, created))
    }
}

#[async_trait]
impl Importer for MastodonImporter {
    async fn put(&self, item: &Item) -> Result<PutOutcome, ConnectorError> {
        let s = Social::of(item).map_err(ConnectorError::Item)?;
        let mut warnings = Vec::new();
        let need = |scopes: &[&str], what: &str| self.cfg.require(scopes, what);
        let subject =
            || s.account.clone().or(s.object.clone()).ok_or_else(|| ConnectorError::Item(format!("the {:?} names nothing", s.kind)));
        let (dest, created) = match s.kind {
            Kind::Post | Kind::Repost => {
                return Err(ConnectorError::Item(
                    "not importable through the API: Mastodon has no way to make a post with its date and place in a thread \
                     (Mastodon issue #12423); the post is kept in the package"
                        .into(),
                ));
            }
            Kind::Follower => {
                return Err(ConnectorError::Item(
                    "not importable: a follower follows by itself; Mastodon moves followers when the old account is moved to the new one"
                        .into(),
                ));
            }
            Kind::Following => {
                need(&["write:follows", "write", "follow"], "following accounts")?;
                let acct = subject()?;
                (acct.clone(), self.follow(&s, &acct).await?)
            }
            Kind::Block | Kind::Mute => {
                let block = s.kind == Kind::Block;
                need(
                    if block { &["write:blocks", "write", "follow"] } else { &["write:mutes", "write", "follow"] },
                    "blocking and muting",
                )?;
                let acct = subject()?;
                let id = self.account(&acct).await?;
                let r = self.relationship(&id).await?;
                let (field, verb) = if block { ("blocking", "block") } else { ("muting", "mute") };
                let hide = s.options.get("hide_notifications").is_none_or(|v| v == "true");
                if r[field] == true && (block || r["muting_notifications"].as_bool() == Some(hide)) {
                    (acct, false)
                } else {
                    let body = if block { json!({}) } else { json!({"notifications": hide}) };
                    self.action(&format!("{verb}ing {acct}"), &format!("/api/v1/accounts/{}/{verb}", enc(&id)), body).await?;
                    (acct, true)
                }
            }
            Kind::DomainBlock => {
                need(&["write:blocks", "write", "follow"], "blocking domains")?;
                let domain = subject()?.to_ascii_lowercase();
                let blocks = self
                    .domain_blocks
                    .get_or_try_init(|| async {
                        let all =
                            api::all(&self.cfg, &self.http, "reading blocked domains", self.cfg.url("/api/v1/domain_blocks?limit=200"))
                                .await?;
                        Ok::<_, ConnectorError>(Mutex::new(all.iter().filter_map(|d| d.as_str().map(str::to_ascii_lowercase)).collect()))
                    })
                    .await?;
                if blocks.lock().await.contains(&domain) {
                    (domain, false)
                } else {
                    self.action(&format!("blocking {domain}"), "/api/v1/domain_blocks", json!({"domain": domain})).await?;
                    blocks.lock().await.insert(domain.clone());
                    (domain, true)
                }
            }
            Kind::Like | Kind::Bookmark => {
                let like = s.kind == Kind::Like;
                need(if like { &["write:favourites", "write"] } else { &["write:bookmarks", "write"] }, "liking and bookmarking")?;
                let uri = subject()?;
                let st = self.status(&uri).await?;
                let id = st["id"].as_str().ok_or_else(|| ConnectorError::Item(format!("the post {uri} has no id here")))?;
                let (field, verb) = if like { ("favourited", "favourite") } else { ("bookmarked", "bookmark") };
                if st[field] == true {
                    (id.to_owned(), false)
                } else {
                    self.action(&format!("{verb} {uri}"), &format!("/api/v1/statuses/{}/{verb}", enc(id)), json!({})).await?;
                    (id.to_owned(), true)
                }
            }
            Kind::List => {
                need(&["write:lists", "write"], "making lists")?;
                self.list(&s, &mut warnings).await?
            }
        };
        Ok(PutOutcome { dest_id: dest, created, warnings, sha256: None })
    }

    async fn finish(&self) -> Result<(), ConnectorError> {
        Ok(())
    }
}

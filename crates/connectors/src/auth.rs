//! A side's credential at work. The [`Provider`] holds the credential a job was given and
//! says how to authenticate each request (HTTP Basic, a bearer token, an API key header).
//! For an OAuth 2.0 token set it refreshes the access token (RFC 6749 §6, the
//! `refresh_token` grant) shortly before it expires and again when a server answers 401,
//! once for all the requests in flight: whoever comes second finds the new token. Each new
//! token set is handed to a [`CredentialStore`] (the job service seals it in the job
//! store), so that a resume starts from it. A refresh the authorization server refuses
//! (`invalid_grant`, or 400/401 from the token endpoint) stops the job: the account must
//! be connected again.

use crate::http::request_error;
use async_trait::async_trait;
use ferry_core::{ConnectorError, Credential, CredentialKind, Secret, TokenSet};
use oauth2::TokenResponse;
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// Where a refreshed credential is kept (sealed) in place of the job's.
#[async_trait]
pub trait CredentialStore: Send + Sync {
    async fn save(&self, credential: &Credential) -> Result<(), String>;
}

/// How long before its expiry an access token is refreshed, at most (and at most half
/// of a refreshed token's lifetime).
pub const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// One side's credential, shared by every request of that side.
pub struct Provider {
    /// The credential and its generation (one more with each refresh).
    current: RwLock<(Credential, u64)>,
    /// Held while a refresh runs: the requests that found the token refused wait here.
    refreshing: tokio::sync::Mutex<()>,
    /// Why the authorization server refused to refresh: asked again, nothing is sent.
    refused: Mutex<Option<String>>,
    store: Option<Arc<dyn CredentialStore>>,
    margin: Mutex<Duration>,
    refreshes: AtomicU64,
}

impl Default for Provider {
    fn default() -> Self {
        Provider::new(Credential::None, None)
    }
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider").field("credential", &self.current.read().unwrap_or_else(|e| e.into_inner()).0).finish()
    }
}

/// A header that authenticates one request: sensitive, so that it is never logged.
pub type AuthHeader = (HeaderName, HeaderValue);

impl Provider {
    pub fn new(credential: Credential, store: Option<Arc<dyn CredentialStore>>) -> Provider {
        Provider {
            current: RwLock::new((credential, 0)),
            refreshing: tokio::sync::Mutex::new(()),
            refused: Mutex::new(None),
            store,
            margin: Mutex::new(REFRESH_MARGIN),
            refreshes: AtomicU64::new(0),
        }
    }

    /// The credential as it is now (after any refresh).
    pub fn credential(&self) -> Credential {
        self.current.read().unwrap_or_else(|e| e.into_inner()).0.clone()
    }

    pub fn kind(&self) -> Option<CredentialKind> {
        self.current.read().unwrap_or_else(|e| e.into_inner()).0.kind()
    }

    /// Refreshes done so far.
    pub fn refreshes(&self) -> u64 {
        self.refreshes.load(Ordering::SeqCst)
    }

    fn generation(&self) -> u64 {
        self.current.read().unwrap_or_else(|e| e.into_inner()).1
    }

    /// The header for the next request (none for no credential), with the generation of
    /// the credential it came from. A bearer token about to expire is refreshed first.
    pub async fn authorization(&self, client: &reqwest::Client, user: &str) -> Result<(Option<AuthHeader>, u64), ConnectorError> {
        if let Some(why) = self.refused.lock().unwrap_or_else(|e| e.into_inner()).clone() {
            return Err(ConnectorError::reconnect(why));
        }
        let (expiring, generation) = {
            let cur = self.current.read().unwrap_or_else(|e| e.into_inner());
            let margin = *self.margin.lock().unwrap_or_else(|e| e.into_inner());
            let expiring = match &cur.0 {
                Credential::Bearer(t) => {
                    t.refresh_token.is_some()
                        && t.expires_at.is_some_and(|at| at - chrono::Utc::now() < chrono::Duration::from_std(margin).unwrap_or_default())
                }
                _ => false,
            };
            (expiring, cur.1)
        };
        if expiring {
            self.refresh(client, generation).await?;
        }
        let cur = self.current.read().unwrap_or_else(|e| e.into_inner());
        Ok((header(&cur.0, user)?, cur.1))
    }

    /// After a 401 to a request sent with credential `generation`: whether the request
    /// is worth sending again, with a token refreshed meanwhile (by this call or by
    /// another request's). False when the credential cannot be refreshed.
    pub async fn after_unauthorized(&self, client: &reqwest::Client, generation: u64) -> Result<bool, ConnectorError> {
        let refreshable =
            matches!(&self.current.read().unwrap_or_else(|e| e.into_inner()).0, Credential::Bearer(t) if t.refresh_token.is_some());
        if !refreshable {
            return Ok(false);
        }
        self.refresh(client, generation).await?;
        Ok(true)
    }

    /// Refreshes the token set, unless it is no longer generation `seen` (another request
    /// refreshed it meanwhile): one refresh for everyone waiting.
    async fn refresh(&self, client: &reqwest::Client, seen: u64) -> Result<(), ConnectorError> {
        let _one = self.refreshing.lock().await;
        if let Some(why) = self.refused.lock().unwrap_or_else(|e| e.into_inner()).clone() {
            return Err(ConnectorError::reconnect(why));
        }
        if self.generation() != seen {
            return Ok(());
        }
        let Credential::Bearer(tokens) = self.credential() else { return Ok(()) };
        let fresh = match refresh_token_set(client, &tokens).await {
            Ok(t) => t,
            Err(Refresh::Refused(why)) => {
                tracing::warn!(endpoint = %tokens.token_endpoint, "the authorization server refused to refresh the access token: {why}");
                *self.refused.lock().unwrap_or_else(|e| e.into_inner()) = Some(why.clone());
                return Err(ConnectorError::reconnect(why));
            }
            Err(Refresh::Failed(e)) => return Err(e),
        };
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        if let Some(at) = fresh.expires_at {
            let lifetime = (at - chrono::Utc::now()).to_std().unwrap_or_default();
            *self.margin.lock().unwrap_or_else(|e| e.into_inner()) = REFRESH_MARGIN.min(lifetime / 2);
        }
        let credential = Credential::Bearer(fresh);
        // kept before it is used: a rotated refresh token must not be lost to a crash
        if let Some(store) = &self.store {
            store.save(&credential).await.map_err(|e| ConnectorError::Fatal(format!("cannot keep the refreshed access token: {e}")))?;
        }
        let mut cur = self.current.write().unwrap_or_else(|e| e.into_inner());
        cur.0 = credential;
        cur.1 += 1;
        tracing::info!(endpoint = %tokens.token_endpoint, "access token refreshed");
        Ok(())
    }
}

/// The header a credential puts on a request.
fn header(c: &Credential, uri_user: &str) -> Result<Option<AuthHeader>, ConnectorError> {
    let sensitive = |v: String| {
        let mut v =
            HeaderValue::from_str(&v).map_err(|_| ConnectorError::Fatal("the credential holds characters a header cannot".into()))?;
        v.set_sensitive(true);
        Ok::<_, ConnectorError>(v)
    };
    Ok(match c {
        Credential::None => None,
        Credential::Password { user, secret } => {
            use base64::Engine;
            let user = user.as_deref().unwrap_or(uri_user);
            let pair = Secret(format!("{user}:{}", secret.expose()));
            let encoded = Secret(base64::engine::general_purpose::STANDARD.encode(pair.expose()));
            Some((AUTHORIZATION, sensitive(format!("Basic {}", encoded.expose()))?))
        }
        Credential::Bearer(t) => Some((AUTHORIZATION, sensitive(format!("Bearer {}", t.access_token.expose()))?)),
        Credential::ApiKey { header, value } => {
            let name = HeaderName::from_bytes(header.as_bytes())
                .map_err(|_| ConnectorError::Fatal(format!("`{header}` is not a header name for the API key")))?;
            Some((name, sensitive(value.expose().to_owned())?))
        }
    })
}

enum Refresh {
    /// The authorization server refused: the grant is gone.
    Refused(String),
    /// The refresh could not be done now (network, server error).
    Failed(ConnectorError),
}

/// The refresh_token grant against the token endpoint, through `client` (ferry's guarded
/// HTTP client), with the `oauth2` crate.
async fn refresh_token_set(client: &reqwest::Client, t: &TokenSet) -> Result<TokenSet, Refresh> {
    use oauth2::basic::{BasicClient, BasicErrorResponseType};
    use oauth2::{AuthType, ClientId, ClientSecret, RefreshToken, RequestTokenError, TokenUrl};
    let Some(refresh_token) = &t.refresh_token else { return Err(Refresh::Refused("no refresh token was given".into())) };
    let url = TokenUrl::new(t.token_endpoint.clone())
        .map_err(|e| Refresh::Failed(ConnectorError::Fatal(format!("token endpoint {}: {e}", t.token_endpoint))))?;
    let mut oauth = BasicClient::new(ClientId::new(t.client_id.clone())).set_token_uri(url).set_auth_type(AuthType::BasicAuth);
    if let Some(s) = &t.client_secret {
        oauth = oauth.set_client_secret(ClientSecret::new(s.expose().to_owned()));
        if t.token_endpoint_auth_method.as_deref() == Some("client_secret_post") {
            oauth = oauth.set_auth_type(AuthType::RequestBody);
        }
    } else {
        // a public client names itself in the body
        oauth = oauth.set_auth_type(AuthType::RequestBody);
    }
    // the token endpoint's status, for answers that are not an RFC 6749 error
    let status = Arc::new(Mutex::new(None::<u16>));
    let failure = Arc::new(Mutex::new(None::<ConnectorError>));
    let send = |req: oauth2::HttpRequest| {
        let (client, status, failure) = (client.clone(), status.clone(), failure.clone());
        async move {
            let (parts, body) = req.into_parts();
            let sent = client.request(parts.method, parts.uri.to_string()).headers(parts.headers).body(body).send().await;
            let resp = match sent {
                Ok(r) => r,
                Err(e) => {
                    *failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(request_error("refreshing the access token", e));
                    return Err(Io(std::io::Error::other("the request failed")));
                }
            };
            *status.lock().unwrap_or_else(|p| p.into_inner()) = Some(resp.status().as_u16());
            let mut out = oauth2::HttpResponse::new(Vec::new());
            *out.status_mut() = resp.status();
            *out.headers_mut() = resp.headers().clone();
            let body = crate::dav::read_limited(resp, "the token endpoint", 1 << 20)
                .await
                .map_err(|e| {
                    *failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                    std::io::Error::other("the token endpoint's answer could not be read")
                })
                .map_err(Io)?
                .unwrap_or_default();
            *out.body_mut() = body;
            Ok::<_, Io>(out)
        }
    };
    let token = RefreshToken::new(refresh_token.expose().to_owned());
    let answer = oauth.exchange_refresh_token(&token).request_async(&send).await;
    let status = *status.lock().unwrap_or_else(|p| p.into_inner());
    let by_status = |what: String| match status {
        Some(400 | 401) => Refresh::Refused(format!("the token endpoint answered {}: {what}", status.unwrap_or(0))),
        Some(s) if s == 429 || s >= 500 => {
            Refresh::Failed(ConnectorError::transient(format!("refreshing the access token: the token endpoint answered {s}")))
        }
        Some(s) => Refresh::Failed(ConnectorError::Fatal(format!("refreshing the access token: the token endpoint answered {s}: {what}"))),
        None => Refresh::Failed(ConnectorError::transient(format!("refreshing the access token: {what}"))),
    };
    let resp = match answer {
        Ok(r) => r,
        Err(RequestTokenError::ServerResponse(e)) => {
            let code = e.error().to_string();
            let why = match e.error_description() {
                Some(d) => format!("{code}: {}", d.chars().take(200).collect::<String>()),
                None => code,
            };
            return Err(match e.error() {
                BasicErrorResponseType::InvalidGrant
                | BasicErrorResponseType::InvalidClient
                | BasicErrorResponseType::UnauthorizedClient => Refresh::Refused(why),
                _ => by_status(why),
            });
        }
        Err(RequestTokenError::Request(_)) => {
            let e = failure.lock().unwrap_or_else(|p| p.into_inner()).take();
            return Err(Refresh::Failed(e.unwrap_or_else(|| ConnectorError::transient("refreshing the access token: the request failed"))));
        }
        // the body may hold tokens: it is never shown
        Err(RequestTokenError::Parse(..)) => return Err(by_status("an answer that is not a token response".into())),
        Err(RequestTokenError::Other(m)) => return Err(by_status(m)),
    };
    let now = chrono::Utc::now();
    Ok(TokenSet {
        access_token: Secret(resp.access_token().secret().to_owned()),
        // a server that does not rotate refresh tokens sends none: the old one stays good
        refresh_token: resp.refresh_token().map(|r| Secret(r.secret().to_owned())).or_else(|| t.refresh_token.clone()),
        expires_at: resp.expires_in().map(|d| now + chrono::Duration::from_std(d).unwrap_or_else(|_| chrono::Duration::days(3650))),
        token_endpoint: t.token_endpoint.clone(),
        client_id: t.client_id.clone(),
        client_secret: t.client_secret.clone(),
        scopes: resp.scopes().map(|s| s.iter().map(|s| s.to_string()).collect()).unwrap_or_else(|| t.scopes.clone()),
        revocation_endpoint: t.revocation_endpoint.clone(),
        token_endpoint_auth_method: t.token_endpoint_auth_method.clone(),
    })
}

/// Revokes a token set at its authorization server (RFC 7009): the refresh token, which
/// ends the grant at servers that tie the two, and the access token. A set without a
/// revocation endpoint is left as it is (`Ok(false)`).
pub async fn revoke(client: &reqwest::Client, t: &TokenSet) -> Result<bool, ConnectorError> {
    let Some(endpoint) = &t.revocation_endpoint else { return Ok(false) };
    let tokens = [(t.refresh_token.as_ref(), "refresh_token"), (Some(&t.access_token), "access_token")];
    for (token, hint) in tokens {
        let Some(token) = token else { continue };
        let mut form = vec![("token", token.expose()), ("token_type_hint", hint)];
        let mut req = client.post(endpoint);
        match &t.client_secret {
            Some(secret) => req = req.basic_auth(&t.client_id, Some(secret.expose())),
            None => form.push(("client_id", &t.client_id)),
        }
        let body: String = form.iter().map(|(k, v)| format!("{k}={}", crate::http::encode_component(v))).collect::<Vec<_>>().join("&");
        let resp = req
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| request_error("revoking the token", e))?;
        // 200 whether or not the token was still good (RFC 7009 §2.2)
        if !resp.status().is_success() {
            return Err(ConnectorError::Fatal(format!("revoking the token: the revocation endpoint answered {}", resp.status())));
        }
    }
    Ok(true)
}

/// [`revoke`] through a client made with `settings` (its TLS trust and the private
/// network rule apply to the revocation endpoint too).
pub async fn revoke_with(settings: &crate::Settings, t: &TokenSet) -> Result<bool, ConnectorError> {
    let Some(endpoint) = &t.revocation_endpoint else { return Ok(false) };
    let url = reqwest::Url::parse(endpoint).map_err(|e| ConnectorError::Fatal(format!("revocation endpoint {endpoint}: {e}")))?;
    crate::http::check_url(&url, settings)?;
    revoke(&crate::http::client(settings)?, t).await
}

/// An HTTP client made with `settings` (TLS trust, timeouts), for talking to an
/// authorization server.
pub fn client(settings: &crate::Settings) -> Result<reqwest::Client, ConnectorError> {
    crate::http::client(settings)
}

/// The io error oauth2 sees from the HTTP call (what went wrong is kept apart).
#[derive(Debug)]
struct Io(std::io::Error);

impl std::fmt::Display for Io {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Io {}

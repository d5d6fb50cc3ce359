//! OAuth 2.0 account connections. Providers are configuration (`[providers.NAME]` in the
//! server's file): a client, endpoints (or an issuer whose RFC 8414 / OpenID Connect
//! metadata gives them), scopes per direction and data type, and the connector and
//! address the account is used with. A person connects an account with the authorization
//! code flow and PKCE; the `state` is bound to their session and used once; the token set
//! goes sealed into the store as an account of theirs, and from there into the job that
//! uses it (refreshed mid-transfer, revoked when the job ends).

use crate::access::{Session, session_of};
use crate::config::ProviderConfig;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use ferry_connectors::{Credential, Secret};
use ferry_core::TokenSet;
use ferry_jobs::Account;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
    TokenUrl,
};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a person has to come back from the provider.
const PENDING_FOR: Duration = Duration::from_secs(600);

/// The endpoints of a provider, configured or discovered.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub authorization: String,
    pub token: String,
    pub revocation: Option<String>,
    /// RFC 8628, where the provider offers the device authorization grant.
    pub device: Option<String>,
}

/// Authorizations under way, by `state`: each is taken once.
#[derive(Default)]
pub struct Pending(Mutex<HashMap<String, Started>>);

struct Started {
    session: String,
    provider: String,
    role: String,
    verifier: String,
    redirect: String,
    /// The client registered for this connection, where the provider asks each client to
    /// register (Mastodon): the code is traded with its id and secret.
    registered: Option<Box<ProviderConfig>>,
    at: Instant,
}

impl Pending {
    fn put(&self, state: String, s: Started) {
        let mut map = self.0.lock().unwrap();
        map.retain(|_, v| v.at.elapsed() < PENDING_FOR);
        map.insert(state, s);
    }

    fn take(&self, state: &str) -> Option<Started> {
        self.0.lock().unwrap().remove(state).filter(|s| s.at.elapsed() < PENDING_FOR)
    }
}

/// The provider's endpoints: configured ones, else its metadata (RFC 8414, then OpenID
/// Connect discovery).
pub async fn endpoints(state: &AppState, p: &ProviderConfig) -> ApiResult<Endpoints> {
    discover(&state.run.settings, p).await
}

/// [`endpoints`], with the network settings given (for the command line).
pub async fn discover(settings: &ferry_connectors::Settings, p: &ProviderConfig) -> ApiResult<Endpoints> {
    if let (Some(a), Some(t)) = (&p.authorization_endpoint, &p.token_endpoint) {
        return Ok(Endpoints {
            authorization: a.clone(),
            token: t.clone(),
            revocation: p.revocation_endpoint.clone(),
            device: p.device_authorization_endpoint.clone(),
        });
    }
    let Some(issuer) = &p.issuer else {
        return Err(ApiError::internal("the provider is configured with neither endpoints nor an issuer"));
    };
    let client = ferry_connectors::auth::client(settings).map_err(|e| ApiError::internal(e.to_string()))?;
    let issuer = issuer.trim_end_matches('/');
    for well_known in ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"] {
        let Ok(resp) = client.get(format!("{issuer}{well_known}")).send().await else { continue };
        if !resp.status().is_success() {
            continue;
        }
        let Ok(body) = resp.bytes().await else { continue };
        let Ok(meta) = serde_json::from_slice::<serde_json::Value>(&body[..body.len().min(1 << 20)]) else { continue };
        let get = |k: &str| meta[k].as_str().map(str::to_owned);
        if let (Some(a), Some(t)) = (get("authorization_endpoint"), get("token_endpoint")) {
            return Ok(Endpoints {
                authorization: p.authorization_endpoint.clone().unwrap_or(a),
                token: p.token_endpoint.clone().unwrap_or(t),
                revocation: p.revocation_endpoint.clone().or_else(|| get("revocation_endpoint")),
                device: p.device_authorization_endpoint.clone().or_else(|| get("device_authorization_endpoint")),
            });
        }
    }
    Err(ApiError::new(
        StatusCode::BAD_GATEWAY,
        "unavailable",
        format!("the provider's metadata could not be read from {issuer}; try again later"),
    ))
}

/// The data types the provider's connector carries as a `role`.
fn carried(p: &ProviderConfig, role: &str) -> Vec<String> {
    let connector = ferry_connectors::all().iter().find(|s| s.capabilities.name == p.connector);
    connector
        .map(|s| if role == "source" { s.capabilities.exports } else { s.capabilities.imports })
        .unwrap_or_default()
        .iter()
        .map(|v| v.as_str().to_owned())
        .collect()
}

/// The scopes to ask for: the direction's, and each data type's for that direction.
pub fn scopes(p: &ProviderConfig, role: &str, verticals: &[String]) -> Vec<String> {
    let dir = if role == "source" { "read" } else { "write" };
    let mut out: Vec<String> = p.scopes.get(dir).cloned().unwrap_or_default();
    for v in verticals {
        out.extend(p.scopes.get(&format!("{v}:{dir}")).cloned().unwrap_or_default());
    }
    out.sort();
    out.dedup();
    out
}

#[derive(Deserialize)]
pub struct ConnectQuery {
    #[serde(default)]
    role: String,
}

/// `GET /connect/{provider}?role=source|destination`: off to the provider.
pub async fn connect(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(provider): Path<String>,
    Query(q): Query<ConnectQuery>,
) -> Response {
    match start(&state, &headers, &provider, &q.role).await {
        Ok((url, cookie)) => {
            let mut res = Redirect::to(&url).into_response();
            if let Some(c) = cookie.and_then(|c| axum::http::HeaderValue::from_str(&c).ok()) {
                res.headers_mut().insert(axum::http::header::SET_COOKIE, c);
            }
            res
        }
        Err(e) => e.into_response(),
    }
}

async fn start(state: &AppState, headers: &HeaderMap, provider: &str, role: &str) -> ApiResult<(String, Option<String>)> {
    let p = state.cfg.providers.get(provider).ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such provider"))?;
    if role != "source" && role != "destination" {
        return Err(ApiError::bad_request("role must be source or destination"));
    }
    let (session, cookie) = match session_of(headers, &state.keys) {
        Some(s) => (s, None),
        None => {
            let s = Session::new(state.cfg.session_hours);
            let c = s.set_cookie(&state.keys);
            (s, Some(c))
        }
    };
    let e = endpoints(state, p).await?;
    let redirect = format!("{}/oauth/callback", state.public_url);
    // a server that wants each client registered gets one for this connection
    let registered = match p.app_registration {
        Some(_) => Some(Box::new(register_app(&state.run.settings, p, &redirect).await?)),
        None => None,
    };
    let client = registered.as_deref().unwrap_or(p);
    let (url, csrf, verifier) = authorize_url(client, &e, &redirect, role)?;
    state.pending.put(
        csrf,
        Started {
            session: session.id.clone(),
            provider: provider.to_owned(),
            role: role.to_owned(),
            verifier,
            redirect,
            registered,
            at: Instant::now(),
        },
    );
    Ok((url, cookie))
}

/// The authorization request for `role` (`source` or `destination`): its URL, `state`
/// and PKCE verifier. The scopes are the direction's and those of every data type the
/// provider's connector carries that way.
/// Registers ferry as an app where the provider asks each client to (Mastodon's
/// `POST /api/v1/apps`), for `redirect`, with every scope the provider's table names (the
/// authorization then asks no wider than the job needs): the provider with that app's
/// client id and secret.
pub async fn register_app(net: &ferry_connectors::Settings, p: &ProviderConfig, redirect: &str) -> ApiResult<ProviderConfig> {
    let Some(url) = &p.app_registration else { return Ok(p.clone()) };
    let mut all: Vec<String> = p.scopes.values().flatten().cloned().collect();
    all.sort();
    all.dedup();
    let body = serde_json::json!({"client_name": "ferry", "redirect_uris": redirect, "scopes": all.join(" "),
        "website": "https://github.com/ferry-data/ferry"});
    // the same client as discovery: the network guard and --insecure apply
    let client = ferry_connectors::auth::client(net).map_err(|e| ApiError::internal(e.to_string()))?;
    let failed = |why: String| ApiError::new(StatusCode::BAD_GATEWAY, "registration_failed", format!("registering ferry at {url}: {why}"));
    let resp = client
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| failed(e.to_string()))?;
    let status = resp.status();
    let bytes = resp.bytes().await.map_err(|e| failed(e.to_string()))?;
    let answer: serde_json::Value = serde_json::from_slice(&bytes[..bytes.len().min(1 << 20)]).unwrap_or(serde_json::Value::Null);
    let (Some(id), true) = (answer["client_id"].as_str(), status.is_success()) else {
        return Err(failed(format!("{status} {}", answer["error"].as_str().unwrap_or_default())));
    };
    let mut out = p.clone();
    out.client_id = id.to_owned();
    out.client_secret = answer["client_secret"].as_str().map(str::to_owned);
    out.client_secret_file = None;
    Ok(out)
}

pub fn authorize_url(p: &ProviderConfig, e: &Endpoints, redirect: &str, role: &str) -> ApiResult<(String, String, String)> {
    let client = BasicClient::new(ClientId::new(p.client_id.clone()))
        .set_auth_uri(AuthUrl::new(e.authorization.clone()).map_err(|x| ApiError::internal(x.to_string()))?)
        .set_redirect_uri(RedirectUrl::new(redirect.to_owned()).map_err(|x| ApiError::internal(x.to_string()))?);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let verticals = carried(p, role);
    let mut req = client.authorize_url(CsrfToken::new_random).set_pkce_challenge(challenge);
    for s in scopes(p, role, &verticals) {
        req = req.add_scope(Scope::new(s));
    }
    for (k, v) in &p.extra_authorization_params {
        req = req.add_extra_param(k.clone(), v.clone());
    }
    let (url, csrf) = req.url();
    Ok((url.to_string(), csrf.secret().clone(), verifier.secret().clone()))
}

#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /oauth/callback`: back from the provider with a code (or a refusal).
pub async fn callback(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<Callback>) -> Response {
    match finish(&state, &headers, q).await {
        Ok((role, provider, id)) => Redirect::to(&format!("/?{role}_connector={provider}&{role}_account={id}")).into_response(),
        Err(e) => crate::web::error_page(e.status, "The account was not connected", &e.body.message),
    }
}

async fn finish(state: &AppState, headers: &HeaderMap, q: Callback) -> ApiResult<(String, String, String)> {
    let refused = |m: &str| ApiError::new(StatusCode::FORBIDDEN, "forbidden", m.to_owned());
    let pending = q.state.as_deref().and_then(|s| state.pending.take(s)).ok_or_else(|| {
        refused("this answer from the provider is not one this server is waiting for (it was used already, or is too old); connect again")
    })?;
    let session = session_of(headers, &state.keys).ok_or_else(|| refused("your session has ended; connect again"))?;
    if session.id != pending.session {
        return Err(refused("this connection was started in another browser session; connect again from this one"));
    }
    if let Some(e) = q.error {
        let e: String = e.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(64).collect();
        return Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", format!("the provider did not connect the account ({e})")));
    }
    let code = q.code.ok_or_else(|| ApiError::bad_request("the provider sent no code"))?;
    let configured =
        state.cfg.providers.get(&pending.provider).ok_or_else(|| ApiError::internal("the provider is no longer configured"))?;
    let p = pending.registered.as_deref().unwrap_or(configured);
    let e = endpoints(state, p).await?;
    let set = exchange(&state.run.settings, p, e, code, pending.verifier, &pending.redirect).await?;
    let account = new_account(&state.data_dir, Some(session.owner()), &pending.provider, format!("your {} account", p.title), set)?;
    let id = account.id.clone();
    state.service.store().put_account(&account).await?;
    tracing::info!(provider = %pending.provider, account = %id, "account connected");
    Ok((pending.role, pending.provider, id))
}

/// Trades an authorization code (with its PKCE verifier) for a token set.
pub async fn exchange(
    settings: &ferry_connectors::Settings,
    p: &ProviderConfig,
    e: Endpoints,
    code: String,
    verifier: String,
    redirect: &str,
) -> ApiResult<TokenSet> {
    let mut client = BasicClient::new(ClientId::new(p.client_id.clone()))
        .set_token_uri(TokenUrl::new(e.token.clone()).map_err(|x| ApiError::internal(x.to_string()))?)
        .set_redirect_uri(RedirectUrl::new(redirect.to_owned()).map_err(|x| ApiError::internal(x.to_string()))?);
    let secret = p.client_secret();
    if let Some(s) = &secret {
        client = client.set_client_secret(ClientSecret::new(s.clone()));
        if p.token_endpoint_auth_method.as_deref() == Some("client_secret_post") {
            client = client.set_auth_type(oauth2::AuthType::RequestBody);
        }
    } else {
        client = client.set_auth_type(oauth2::AuthType::RequestBody);
    }
    let http = ferry_connectors::auth::client(settings).map_err(|x| ApiError::internal(x.to_string()))?;
    let send = sender(http);
    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(PkceCodeVerifier::new(verifier))
        .request_async(&send)
        .await
        .map_err(|_| {
            ApiError::new(StatusCode::BAD_GATEWAY, "failed", "the provider refused to give the account's tokens; connect again")
        })?;
    Ok(token_set(p, e, secret, &token))
}

type Sent = std::pin::Pin<Box<dyn std::future::Future<Output = Result<oauth2::HttpResponse, reqwest::Error>> + Send>>;

/// oauth2's HTTP calls, through ferry's client.
fn sender(http: reqwest::Client) -> impl Fn(oauth2::HttpRequest) -> Sent {
    move |req: oauth2::HttpRequest| {
        let http = http.clone();
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let resp = http.request(parts.method, parts.uri.to_string()).headers(parts.headers).body(body).send().await?;
            let mut out = oauth2::HttpResponse::new(Vec::new());
            *out.status_mut() = resp.status();
            *out.headers_mut() = resp.headers().clone();
            *out.body_mut() = resp.bytes().await?.to_vec();
            Ok(out)
        })
    }
}

fn token_set(p: &ProviderConfig, e: Endpoints, secret: Option<String>, token: &oauth2::basic::BasicTokenResponse) -> TokenSet {
    let now = chrono::Utc::now();
    TokenSet {
        access_token: Secret(token.access_token().secret().clone()),
        refresh_token: token.refresh_token().map(|r| Secret(r.secret().clone())),
        expires_at: token.expires_in().and_then(|d| chrono::Duration::from_std(d).ok()).map(|d| now + d),
        token_endpoint: e.token,
        client_id: p.client_id.clone(),
        client_secret: secret.map(Secret),
        scopes: token.scopes().map(|s| s.iter().map(|s| s.to_string()).collect()).unwrap_or_default(),
        revocation_endpoint: e.revocation,
        token_endpoint_auth_method: p.token_endpoint_auth_method.clone(),
    }
}

/// The device authorization grant (RFC 8628), for a terminal with no browser: `tell` is
/// given the page to visit, the code to enter there and the page with the code in it;
/// then the token endpoint is asked, at the interval the provider sets, until the person
/// has allowed it (or refused, or the code expired).
pub async fn device(
    settings: &ferry_connectors::Settings,
    p: &ProviderConfig,
    e: Endpoints,
    role: &str,
    tell: impl FnOnce(&str, &str, Option<&str>),
) -> ApiResult<TokenSet> {
    use oauth2::{DeviceAuthorizationUrl, StandardDeviceAuthorizationResponse};
    let Some(device) = e.device.clone() else {
        return Err(ApiError::bad_request("this provider offers no device authorization; connect with the browser link instead"));
    };
    let mut client = BasicClient::new(ClientId::new(p.client_id.clone()))
        .set_token_uri(TokenUrl::new(e.token.clone()).map_err(|x| ApiError::internal(x.to_string()))?)
        .set_device_authorization_url(DeviceAuthorizationUrl::new(device).map_err(|x| ApiError::internal(x.to_string()))?);
    let secret = p.client_secret();
    if let Some(s) = &secret {
        client = client.set_client_secret(ClientSecret::new(s.clone()));
        if p.token_endpoint_auth_method.as_deref() == Some("client_secret_post") {
            client = client.set_auth_type(oauth2::AuthType::RequestBody);
        }
    } else {
        client = client.set_auth_type(oauth2::AuthType::RequestBody);
    }
    let http = ferry_connectors::auth::client(settings).map_err(|x| ApiError::internal(x.to_string()))?;
    let send = sender(http);
    let verticals = carried(p, role);
    let mut req = client.exchange_device_code();
    for s in scopes(p, role, &verticals) {
        req = req.add_scope(Scope::new(s));
    }
    let details: StandardDeviceAuthorizationResponse = req
        .request_async(&send)
        .await
        .map_err(|_| ApiError::new(StatusCode::BAD_GATEWAY, "failed", "the provider refused the device authorization request"))?;
    tell(
        details.verification_uri().as_str(),
        details.user_code().secret(),
        details.verification_uri_complete().map(|u| u.secret().as_str()),
    );
    let token = client
        .exchange_device_access_token(&details)
        .request_async(&send, tokio::time::sleep, None)
        .await
        .map_err(|e| ApiError::new(StatusCode::FORBIDDEN, "failed", format!("the account was not connected: {e}")))?;
    Ok(token_set(p, e, secret, &token))
}

/// An account of `owner` holding `tokens`, sealed under the data directory's key.
pub fn new_account(
    data_dir: &std::path::Path,
    owner: Option<String>,
    provider: &str,
    label: String,
    tokens: TokenSet,
) -> ApiResult<Account> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let key = ferry_store::secrets::SecretKey::load(data_dir).map_err(|e| ApiError::internal(e.to_string()))?;
    let json = zeroize::Zeroizing::new(serde_json::to_vec(&Credential::Bearer(tokens)).map_err(|e| ApiError::internal(e.to_string()))?);
    let (nonce, ciphertext) = key.seal(&json, &format!("account/{id}"));
    Ok(Account { id, owner, provider: provider.to_owned(), label, created_at: chrono::Utc::now(), nonce, ciphertext })
}

/// The token set of an account, opened with the data directory's key.
pub fn open_account(data_dir: &std::path::Path, a: &Account) -> ApiResult<Credential> {
    let key = ferry_store::secrets::SecretKey::load(data_dir).map_err(|e| ApiError::internal(e.to_string()))?;
    let plain = key.open(&a.nonce, &a.ciphertext, &format!("account/{}", a.id)).map_err(|e| ApiError::internal(e.to_string()))?;
    serde_json::from_slice(&plain).map_err(|e| ApiError::internal(format!("a connected account cannot be read: {e}")))
}

/// The credential of an account `owner` connected, for a job.
pub async fn credential_of(state: &AppState, owner: &str, id: &str, provider: &str) -> ApiResult<Credential> {
    let not_yours = || ApiError::bad_request("no such connected account among yours; connect the account again");
    let a = state.service.store().account(id).await?.ok_or_else(not_yours)?;
    if a.owner.as_deref() != Some(owner) || a.provider != provider {
        return Err(not_yours());
    }
    open_account(&state.data_dir, &a)
}

/// Whether the account `id` is `owner`'s and of `provider` (for showing it connected).
pub async fn is_theirs(state: &AppState, owner: &str, id: &str, provider: &str) -> bool {
    matches!(state.service.store().account(id).await, Ok(Some(a)) if a.owner.as_deref() == Some(owner) && a.provider == provider)
}

/// Makes an account's credential the job's: the account is used once, by the job that
/// it was connected for, and is forgotten once the job has it (the job revokes the tokens
/// when it ends).
pub async fn hand_over(state: &AppState, id: &str) {
    if let Err(e) = state.service.store().delete_account(id).await {
        tracing::warn!(account = %id, "a connected account could not be forgotten: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_those_of_the_direction_and_the_data_types_only() {
        let p: ProviderConfig = toml::from_str(
            r#"
title = "T"
connector = "webdav"
address = "webdavs://x/"
issuer = "https://as"
client_id = "c"
[scopes]
read = ["openid", "offline_access"]
write = ["openid", "offline_access", "write"]
"files:read" = ["files.read"]
"files:write" = ["files.write"]
"contacts:read" = ["contacts.read"]
"#,
        )
        .unwrap();
        assert_eq!(scopes(&p, "source", &carried(&p, "source")), ["files.read", "offline_access", "openid"]);
        assert_eq!(scopes(&p, "destination", &carried(&p, "destination")), ["files.write", "offline_access", "openid", "write"]);
        assert_eq!(scopes(&p, "source", &["mail".into()]), ["offline_access", "openid"], "no scope of a type not moved");
    }
}

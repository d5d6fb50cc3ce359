//! Who may do what. Three kinds of caller:
//!
//! - an **operator**, with an API token (`Authorization: Bearer …`, made by `ferry admin
//!   token create`; the store keeps only its SHA-256): sees and controls every job;
//! - a **person**, with the session cookie the web app (or `POST /api/session`) gives: an
//!   HttpOnly, Secure, SameSite=Strict cookie, signed by the server, naming a random id;
//!   sees and controls only the jobs they created. Requests that change something must
//!   carry the session's CSRF token (header `X-CSRF-Token`, or the form field `csrf`);
//! - a holder of a **job key** (`X-Ferry-Job-Key`), the capability a job's creator is
//!   given once: that one job, from anywhere (another device, a script).
//!
//! Everything signed here is signed with keys derived from the store's secret key, so a
//! restart or a second server on the same store and key accepts what the first signed.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::{HeaderMap, Method, request::Parts};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ferry_jobs::Job;
use ferry_store::secrets::SecretKey;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

pub const SESSION_COOKIE: &str = "ferry_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const JOB_KEY_HEADER: &str = "x-ferry-job-key";

/// The keys the server signs with, one per purpose.
pub struct Keys {
    session: Zeroizing<[u8; 32]>,
    csrf: Zeroizing<[u8; 32]>,
    job: Zeroizing<[u8; 32]>,
    link: Zeroizing<[u8; 32]>,
    /// Download links of a request's answer.
    answer: Zeroizing<[u8; 32]>,
    /// A person's link to their request's page.
    request_page: Zeroizing<[u8; 32]>,
    /// Staff's sign-in cookie.
    staff: Zeroizing<[u8; 32]>,
}

impl Keys {
    pub fn new(secret: &SecretKey) -> Keys {
        Keys {
            session: secret.derive("serve session cookie"),
            csrf: secret.derive("serve csrf token"),
            job: secret.derive("serve job key"),
            link: secret.derive("serve download link"),
            answer: secret.derive("serve answer link"),
            request_page: secret.derive("serve request page"),
            staff: secret.derive("serve staff cookie"),
        }
    }
}

pub(crate) fn sign(key: &[u8; 32], message: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
    mac.update(message.as_bytes());
    B64.encode(mac.finalize().into_bytes())
}

/// Compares a signature in constant time.
pub(crate) fn verify(key: &[u8; 32], message: &str, signature: &str) -> bool {
    let Ok(sig) = B64.decode(signature) else { return false };
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
    mac.update(message.as_bytes());
    mac.verify_slice(&sig).is_ok()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A person's session: a random id, signed, with when it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    pub expires: i64,
}

impl Session {
    pub fn new(hours: u32) -> Session {
        Session { id: hex::encode(rand::random::<[u8; 16]>()), expires: now() + i64::from(hours) * 3600 }
    }

    /// The cookie's value: `ID.EXPIRES.SIGNATURE`.
    pub fn cookie_value(&self, keys: &Keys) -> String {
        let body = format!("{}.{}", self.id, self.expires);
        format!("{body}.{}", sign(&keys.session, &body))
    }

    /// The `Set-Cookie` header that gives this session to a browser.
    pub fn set_cookie(&self, keys: &Keys) -> String {
        let max_age = (self.expires - now()).max(0);
        format!("{SESSION_COOKIE}={}; Path=/; Max-Age={max_age}; HttpOnly; Secure; SameSite=Strict", self.cookie_value(keys))
    }

    pub fn parse(value: &str, keys: &Keys) -> Option<Session> {
        let (body, sig) = value.rsplit_once('.')?;
        let (id, expires) = body.split_once('.')?;
        if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) || !verify(&keys.session, body, sig) {
            return None;
        }
        let expires: i64 = expires.parse().ok()?;
        (expires > now()).then(|| Session { id: id.to_owned(), expires })
    }

    /// The token a request that changes something must carry with this session.
    pub fn csrf(&self, keys: &Keys) -> String {
        sign(&keys.csrf, &self.id)
    }

    pub fn owner(&self) -> String {
        format!("person:{}", self.id)
    }
}

/// The session cookie a request carries, if it is valid.
pub fn session_of(headers: &HeaderMap, keys: &Keys) -> Option<Session> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .filter(|(name, _)| *name == SESSION_COOKIE)
        .find_map(|(_, value)| Session::parse(value, keys))
}

/// A job's key: the capability to see and control that one job.
pub fn job_key(keys: &Keys, job: &str) -> String {
    sign(&keys.job, job)
}

/// A link token that lets its holder download job `job`'s package until `expires`.
pub fn link_token(keys: &Keys, job: &str, expires: i64) -> String {
    expiring(&keys.link, job, expires)
}

/// The job a link token names, if it is genuine; `Err(())` when it has expired.
pub fn check_link(keys: &Keys, token: &str) -> Option<Result<String, ()>> {
    check_expiring(&keys.link, token)
}

/// A token naming `subject` (no `.` in it) until `expires`, signed with `key`: `SUBJECT.EXPIRES.SIGNATURE`.
fn expiring(key: &[u8; 32], subject: &str, expires: i64) -> String {
    let body = format!("{subject}.{expires}");
    format!("{body}.{}", sign(key, &body))
}

/// The subject of an [`expiring`] token, if it is genuine; `Err(())` when it has expired.
fn check_expiring(key: &[u8; 32], token: &str) -> Option<Result<String, ()>> {
    let (body, sig) = token.rsplit_once('.')?;
    let (subject, expires) = body.rsplit_once('.')?;
    if !verify(key, body, sig) {
        return None;
    }
    let expires: i64 = expires.parse().ok()?;
    Some(if expires > now() { Ok(subject.to_owned()) } else { Err(()) })
}

/// A link token to one file of a request's answer (`REQUEST:FILE`) until `expires`.
pub fn answer_token(keys: &Keys, request: &str, file: &str, expires: i64) -> String {
    expiring(&keys.answer, &format!("{request}:{file}"), expires)
}

/// The request and file an answer link names, if genuine; `Err(())` when it has expired.
pub fn check_answer(keys: &Keys, token: &str) -> Option<Result<(String, String), ()>> {
    Some(check_expiring(&keys.answer, token)?.map(|s| {
        let (r, f) = s.split_once(':').unwrap_or((&s, ""));
        (r.to_owned(), f.to_owned())
    }))
}

/// The capability to see a request's page and answer its code: given to the person
/// when they make the request.
pub fn request_key(keys: &Keys, request: &str) -> String {
    sign(&keys.request_page, request)
}

pub fn check_request_key(keys: &Keys, request: &str, key: &str) -> bool {
    verify(&keys.request_page, request, key)
}

/// The staff cookie's value: the API token's hash (hex), until `expires`, signed.
pub fn staff_cookie(keys: &Keys, token_hash_hex: &str, expires: i64) -> String {
    expiring(&keys.staff, token_hash_hex, expires)
}

/// The token hash a staff cookie carries, if it is genuine and current.
pub fn check_staff_cookie(keys: &Keys, value: &str) -> Option<String> {
    check_expiring(&keys.staff, value)?.ok()
}

/// The CSRF token of staff forms, bound to the staff cookie.
pub fn staff_csrf(keys: &Keys, cookie: &str) -> String {
    sign(&keys.csrf, &format!("staff:{cookie}"))
}

pub fn check_staff_csrf(keys: &Keys, cookie: &str, token: &str) -> bool {
    verify(&keys.csrf, &format!("staff:{cookie}"), token)
}

/// The SHA-256 an API token is kept and looked up by.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A new API token: `ferry_` and 256 random bits.
pub fn new_token() -> String {
    format!("ferry_{}", B64.encode(rand::random::<[u8; 32]>()))
}

/// Who makes a request.
#[derive(Debug, Clone)]
pub enum Caller {
    Operator {
        token: String,
    },
    Person(Session),
    /// A job key, not yet checked against a job: [`Caller::may`] does.
    JobKey(String),
}

impl Caller {
    /// Who a job this caller creates belongs to.
    pub fn owner(&self) -> Option<String> {
        match self {
            Caller::Operator { token } => Some(format!("operator:{token}")),
            Caller::Person(s) => Some(s.owner()),
            Caller::JobKey(_) => None,
        }
    }

    /// Whether this caller may see and control `job`.
    pub fn may(&self, job: &Job, keys: &Keys) -> bool {
        match self {
            Caller::Operator { .. } => true,
            Caller::Person(s) => job.spec.owner.as_deref() == Some(s.owner().as_str()),
            Caller::JobKey(k) => verify(&keys.job, &job.id, k),
        }
    }

    pub fn is_operator(&self) -> bool {
        matches!(self, Caller::Operator { .. })
    }
}

/// Whether a request may change something as the session `s`: it carries the session's
/// CSRF token in the header (the web app's forms send it as a field, checked by their
/// handlers), and, if the browser says where it comes from, it comes from this service.
pub fn csrf_ok(headers: &HeaderMap, s: &Session, keys: &Keys, public_url: &str) -> bool {
    verify_csrf(headers, s, keys, public_url, None)
}

/// [`csrf_ok`], with the token taken from a form's field when the header has none.
pub fn verify_csrf(headers: &HeaderMap, s: &Session, keys: &Keys, public_url: &str, field: Option<&str>) -> bool {
    let origin_ok = match headers.get("origin").and_then(|o| o.to_str().ok()) {
        None => true,
        Some(o) => o.trim_end_matches('/') == public_url,
    };
    let token = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).or(field);
    origin_ok && token.is_some_and(|t| verify(&keys.csrf, &s.id, t))
}

fn is_safe(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    /// One credential is used (an API token first, then a job key, then the session), and
    /// every other one the request carries must be valid too: a request with a stale or
    /// forged credential beside a good one is refused, not half-trusted.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let has_cookie = parts.headers.get_all(COOKIE).iter().any(|v| v.to_str().is_ok_and(|v| v.contains(SESSION_COOKIE)));
        if has_cookie && session_of(&parts.headers, &state.keys).is_none() {
            return Err(ApiError::new(
                axum::http::StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "your session has ended or its cookie was altered; open the web app again, or POST /api/session",
            ));
        }
        if let Some(auth) = parts.headers.get(AUTHORIZATION) {
            if parts.headers.contains_key(JOB_KEY_HEADER) {
                return Err(ApiError::new(
                    axum::http::StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "send one credential: an API token or a job key, not both",
                ));
            }
            let token = auth.to_str().ok().and_then(|a| a.strip_prefix("Bearer ")).map(str::trim).unwrap_or_default();
            if token.is_empty() {
                return Err(ApiError::unauthenticated());
            }
            return match state.service.store().api_token(&token_hash(token)).await? {
                Some(t) => Ok(Caller::Operator { token: t.id }),
                None => Err(ApiError::new(
                    axum::http::StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "this API token is unknown or was revoked; ask the operator for a new one",
                )),
            };
        }
        if let Some(k) = parts.headers.get(JOB_KEY_HEADER) {
            return Ok(Caller::JobKey(k.to_str().unwrap_or_default().to_owned()));
        }
        let Some(session) = session_of(&parts.headers, &state.keys) else { return Err(ApiError::unauthenticated()) };
        if !is_safe(&parts.method) && !csrf_ok(&parts.headers, &session, &state.keys, &state.public_url) {
            return Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "csrf",
                "this request did not carry the page's CSRF token (header X-CSRF-Token); reload the page and try again",
            ));
        }
        Ok(Caller::Person(session))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Keys {
        let dir = tempfile::tempdir().unwrap();
        Keys::new(&SecretKey::load(dir.path()).unwrap())
    }

    #[test]
    fn sessions_and_links_are_refused_when_forged_altered_or_expired() {
        let k = keys();
        let s = Session::new(1);
        let v = s.cookie_value(&k);
        assert_eq!(Session::parse(&v, &k), Some(s.clone()));
        let other = keys();
        assert_eq!(Session::parse(&v, &other), None, "another key's cookie");
        let (body, sig) = v.rsplit_once('.').unwrap();
        let later = body.replace(&s.expires.to_string(), &(s.expires + 9999).to_string());
        assert_eq!(Session::parse(&format!("{later}.{sig}"), &k), None, "a prolonged cookie");
        let old = Session { id: s.id.clone(), expires: now() - 1 };
        assert_eq!(Session::parse(&old.cookie_value(&k), &k), None, "an expired one");
        for junk in ["", ".", "..", "a.b.c", &"x".repeat(100_000)] {
            assert_eq!(Session::parse(junk, &k), None);
        }
        let t = link_token(&k, "job1", now() + 60);
        assert_eq!(check_link(&k, &t), Some(Ok("job1".into())));
        assert_eq!(check_link(&k, &t.replace("job1", "job2")), None);
        assert_eq!(check_link(&k, &link_token(&k, "job1", now() - 1)), Some(Err(())));
        assert!(verify(&k.job, "job1", &job_key(&k, "job1")));
        assert!(!verify(&k.job, "job2", &job_key(&k, "job1")));
        assert!(!verify(&k.csrf, &s.id, &job_key(&k, &s.id)), "keys are per purpose");
    }
}

//! How a connector proves who it is: nothing, a password, an OAuth 2.0 token set, or an
//! API key. Every secret in here is a [`Secret`]: never printed (`Debug` shows `***`),
//! zeroed when dropped. The job service keeps a job's credentials sealed in its store
//! (serialized as JSON), so that a resume needs none given again.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

/// A secret string that never prints, zeroed when dropped.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A connector's credential. `Debug` never shows a secret.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Credential {
    #[default]
    None,
    /// A password (HTTP Basic, IMAP LOGIN); the user name is the URI's unless given here.
    Password {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user: Option<String>,
        secret: Secret,
    },
    /// An OAuth 2.0 token set (RFC 6749), refreshed by ferry before it expires.
    Bearer(TokenSet),
    /// A key sent in a header of its own on every request.
    ApiKey { header: String, value: Secret },
}

/// The kinds of credential, as connectors declare which they take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    Password,
    Bearer,
    ApiKey,
}

impl CredentialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Password => "password",
            CredentialKind::Bearer => "bearer",
            CredentialKind::ApiKey => "api_key",
        }
    }
}

impl Credential {
    pub fn password(secret: impl Into<String>) -> Credential {
        Credential::Password { user: None, secret: Secret(secret.into()) }
    }

    /// `None` for [`Credential::None`].
    pub fn kind(&self) -> Option<CredentialKind> {
        match self {
            Credential::None => None,
            Credential::Password { .. } => Some(CredentialKind::Password),
            Credential::Bearer(_) => Some(CredentialKind::Bearer),
            Credential::ApiKey { .. } => Some(CredentialKind::ApiKey),
        }
    }

    pub fn is_none(&self) -> bool {
        matches!(self, Credential::None)
    }

    /// The password, for a password credential.
    pub fn password_secret(&self) -> Option<&Secret> {
        match self {
            Credential::Password { secret, .. } => Some(secret),
            _ => None,
        }
    }
}

/// An OAuth 2.0 token set and what is needed to refresh it (RFC 6749 §6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenSet {
    pub access_token: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    /// When the access token expires, if the server said (`expires_in`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// The authorization server's token endpoint.
    pub token_endpoint: String,
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<Secret>,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The authorization server's revocation endpoint (RFC 7009), if it has one: the
    /// tokens are revoked there when the job that holds them ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
    /// How the client authenticates at the token endpoint (RFC 7591's names):
    /// `client_secret_basic` (the default, HTTP Basic) or `client_secret_post` (in the
    /// form, as Microsoft's identity platform asks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<String>,
}

/// A token file as people write it: RFC 6749's token response (`access_token`,
/// `refresh_token`, `expires_in` or `expires_at`, `scope`) with the client's
/// `token_endpoint`, `client_id` and `client_secret`.
#[derive(Deserialize)]
struct TokenFile {
    access_token: Secret,
    #[serde(default)]
    refresh_token: Option<Secret>,
    #[serde(default)]
    expires_in: Option<i64>,
    #[serde(default)]
    expires_at: Option<DateTime<Utc>>,
    token_endpoint: String,
    client_id: String,
    #[serde(default)]
    client_secret: Option<Secret>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    revocation_endpoint: Option<String>,
    #[serde(default)]
    token_endpoint_auth_method: Option<String>,
}

impl TokenSet {
    /// Reads a token file's JSON; `expires_in` counts from `now`.
    pub fn from_json(text: &str, now: DateTime<Utc>) -> Result<TokenSet, String> {
        let f: TokenFile = serde_json::from_str(text).map_err(|e| format!("not a token set: {e}"))?;
        if let Some(t) = &f.token_type
            && !t.eq_ignore_ascii_case("bearer")
        {
            return Err(format!("token_type is `{t}`; ferry uses bearer tokens"));
        }
        if f.access_token.0.is_empty() {
            return Err("access_token is empty".into());
        }
        if !(f.token_endpoint.starts_with("https://") || f.token_endpoint.starts_with("http://")) {
            return Err(format!("token_endpoint `{}` is not an http(s) URL", f.token_endpoint));
        }
        let expires_at = f.expires_at.or_else(|| f.expires_in.map(|s| now + chrono::Duration::seconds(s.clamp(0, 10 * 365 * 86_400))));
        let mut scopes = f.scopes;
        scopes.extend(f.scope.iter().flat_map(|s| s.split_whitespace().map(str::to_owned)));
        Ok(TokenSet {
            access_token: f.access_token,
            refresh_token: f.refresh_token.filter(|r| !r.0.is_empty()),
            expires_at,
            token_endpoint: f.token_endpoint,
            client_id: f.client_id,
            client_secret: f.client_secret.filter(|s| !s.0.is_empty()),
            scopes,
            revocation_endpoint: f.revocation_endpoint.filter(|e| e.starts_with("https://") || e.starts_with("http://")),
            token_endpoint_auth_method: match f.token_endpoint_auth_method.as_deref() {
                None | Some("client_secret_basic") | Some("client_secret_post") | Some("none") => f.token_endpoint_auth_method,
                Some(m) => {
                    return Err(format!("token_endpoint_auth_method `{m}`: ferry knows client_secret_basic, client_secret_post and none"));
                }
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bearer() -> Credential {
        Credential::Bearer(TokenSet {
            access_token: Secret("at-SECRET-1".into()),
            refresh_token: Some(Secret("rt-SECRET-2".into())),
            expires_at: None,
            token_endpoint: "https://as.example/token".into(),
            client_id: "ferry".into(),
            client_secret: Some(Secret("cs-SECRET-3".into())),
            scopes: vec!["files".into()],
            revocation_endpoint: None,
            token_endpoint_auth_method: None,
        })
    }

    #[test]
    fn debug_never_shows_a_secret() {
        for c in [
            bearer(),
            Credential::password("pw-SECRET-4"),
            Credential::ApiKey { header: "X-Api-Key".into(), value: Secret("key-SECRET-5".into()) },
        ] {
            for shown in [format!("{c:?}"), format!("{c:#?}")] {
                assert!(!shown.contains("SECRET"), "{shown}");
                assert!(shown.contains("***"), "{shown}");
            }
        }
        assert!(format!("{:?}", bearer()).contains("as.example"), "what is not secret shows");
    }

    #[test]
    fn serializes_and_back() {
        for c in [bearer(), Credential::password("pw"), Credential::None] {
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(serde_json::from_str::<Credential>(&json).unwrap(), c, "{json}");
        }
    }

    #[test]
    fn reads_a_token_file() {
        let now = DateTime::parse_from_rfc3339("2025-01-06T09:00:00Z").unwrap().with_timezone(&Utc);
        let t = TokenSet::from_json(
            r#"{"access_token":"a","refresh_token":"r","expires_in":300,"token_type":"Bearer","scope":"openid offline_access",
                "token_endpoint":"https://as.example/token","client_id":"c"}"#,
            now,
        )
        .unwrap();
        assert_eq!(t.expires_at, Some(now + chrono::Duration::seconds(300)));
        assert_eq!(t.scopes, ["openid", "offline_access"]);
        assert!(t.client_secret.is_none());
        assert!(TokenSet::from_json(r#"{"access_token":"a","token_endpoint":"ftp://x","client_id":"c"}"#, now).is_err());
        assert!(
            TokenSet::from_json(r#"{"access_token":"a","token_type":"mac","token_endpoint":"https://x","client_id":"c"}"#, now).is_err()
        );
        assert!(TokenSet::from_json("garbage", now).is_err());
    }
}

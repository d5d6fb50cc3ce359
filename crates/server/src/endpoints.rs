//! What a person may name as a source or destination on a server, and the URI a job gets
//! for it. The server decides what is on its own disk: the example account, packages it
//! writes for download, and (only when the operator gives a `files_root`) folders below
//! that root. Every other connector is a service on the network, named by its address,
//! with its password given apart from the address and never kept in it.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use ferry_connectors::{Credential, Secret};
use ferry_core::{Endpoint, Vertical};
use serde::{Deserialize, Serialize};
use std::path::{Component, Path, PathBuf};
use utoipa::ToSchema;

/// The built-in example account, a source only.
pub const EXAMPLE: &str = "example";

/// One side of a transfer, as a person chooses it.
#[derive(Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointInput {
    /// A connector's name, from `GET /api/connectors` (which says which this server
    /// offers, and as which side).
    #[schema(example = "example", pattern = "^[a-z0-9-]{1,64}$")]
    pub connector: String,
    /// Its address, in the form the connector describes (a URL for a service, a folder
    /// below the server's files root for `dir`); none for `example` and `package`.
    #[serde(default)]
    pub address: String,
    /// The password for a connector that takes one; kept sealed until the job ends.
    #[serde(default)]
    #[schema(format = Password, write_only)]
    pub password: Option<String>,
    /// For a provider's connector: the account connected through it
    /// (`GET /connect/{provider}`), used by this job alone.
    #[serde(default)]
    pub account: Option<String>,
}

/// Shown without its password, should it ever be logged.
impl std::fmt::Debug for EndpointInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let password = if self.password.is_some() { "(given)" } else { "(none)" };
        write!(f, "{} {} password {password} account {:?}", self.connector, self.address, self.account)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Source,
    Destination,
}

/// A connector as the server offers it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConnectorView {
    pub name: String,
    pub description: String,
    /// How its address is written; empty when it takes none.
    pub address: String,
    /// Data types it can read, as a source (empty: not offered as a source here).
    pub exports: Vec<String>,
    /// Data types it can write, as a destination (empty: not offered as one here).
    pub imports: Vec<String>,
    /// Whether a later job can move only what changed.
    pub incremental: bool,
    /// The form to connect it: a JSON Schema of the fields of [`EndpointInput`] it takes.
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
}

fn names(vs: &[Vertical]) -> Vec<String> {
    vs.iter().map(|v| v.as_str().to_owned()).collect()
}

/// The connectors this server offers, with their forms.
pub fn offered(state: &AppState) -> Vec<ConnectorView> {
    let mut out = vec![ConnectorView {
        name: EXAMPLE.into(),
        description: "The example account: a few contacts, events, tasks, messages, photos and files to try ferry with".into(),
        address: String::new(),
        exports: names(ferry_connectors::dir::CAPABILITIES.exports),
        imports: vec![],
        incremental: false,
        config: schema(&[]),
    }];
    for spec in ferry_connectors::all() {
        let c = spec.capabilities;
        let (exports, imports, address) = match c.name {
            "package" => (vec![], names(c.imports), String::new()),
            "dir" if state.cfg.files_root.is_none() => continue,
            "dir" => (names(c.exports), names(c.imports), "a folder below the server's files folder, such as `me/backup`".into()),
            _ => (names(c.exports), names(c.imports), c.address.to_owned()),
        };
        let mut fields: Vec<(&str, serde_json::Value)> = Vec::new();
        if !address.is_empty() {
            let title = if c.local { "Folder" } else { "Address" };
            fields.push(("address", serde_json::json!({"type": "string", "title": title, "description": address, "minLength": 1})));
        }
        if c.credentials.contains(&ferry_core::CredentialKind::Password) {
            fields.push(("password", serde_json::json!({"type": "string", "title": "Password", "format": "password", "writeOnly": true})));
        }
        out.push(ConnectorView {
            name: c.name.to_owned(),
            description: match c.name {
                "package" => "A ferry package (ZIP) this server writes for you to download".to_owned(),
                _ => c.description.to_owned(),
            },
            address,
            exports,
            imports,
            incremental: c.incremental,
            config: schema(&fields),
        });
    }
    for (name, p) in &state.cfg.providers {
        let Some(spec) = ferry_connectors::all().iter().find(|s| s.capabilities.name == p.connector) else { continue };
        let c = spec.capabilities;
        let account = serde_json::json!({
            "type": "string", "title": format!("Your {} account", p.title),
            "description": format!("Connect it at /connect/{name}?role=source (or destination); the account id comes back with you"),
        });
        out.push(ConnectorView {
            name: name.clone(),
            description: format!("Your {} account, connected with its own sign-in (OAuth 2.0)", p.title),
            address: String::new(),
            exports: names(c.exports),
            imports: names(c.imports),
            incremental: c.incremental,
            config: serde_json::json!({"type": "object", "properties": {"account": account}, "required": ["account"], "additionalProperties": false}),
        });
    }
    out
}

fn schema(fields: &[(&str, serde_json::Value)]) -> serde_json::Value {
    let required: Vec<&str> = fields.iter().filter(|(n, _)| *n == "address").map(|(n, _)| *n).collect();
    let properties: serde_json::Map<String, serde_json::Value> = fields.iter().map(|(n, v)| ((*n).to_owned(), v.clone())).collect();
    serde_json::json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
}

/// The URI and credential of one side of a new job, for `owner`.
pub async fn resolve(state: &AppState, owner: &str, input: &EndpointInput, role: Role) -> ApiResult<(String, Option<Credential>)> {
    if let Some(p) = state.cfg.providers.get(&input.connector) {
        let Some(account) = input.account.as_deref().filter(|a| !a.is_empty()) else {
            return Err(ApiError::bad_request(format!("connect your {} account first (/connect/{})", p.title, input.connector)));
        };
        let credential = crate::oauth::credential_of(state, owner, account, &input.connector).await?;
        return Ok((p.address.clone(), Some(credential)));
    }
    if input.account.is_some() {
        return Err(ApiError::bad_request(format!("{} takes no connected account", input.connector)));
    }
    resolve_plain(state, input, role)
}

fn resolve_plain(state: &AppState, input: &EndpointInput, role: Role) -> ApiResult<(String, Option<Credential>)> {
    let bad = |m: String| Err(ApiError::bad_request(m));
    let none_expected = |what: &str| -> ApiResult<()> {
        if !input.address.trim().is_empty() || input.password.as_deref().is_some_and(|p| !p.is_empty()) {
            return Err(ApiError::bad_request(format!("{what} takes no address and no password")));
        }
        Ok(())
    };
    match (input.connector.as_str(), role) {
        (EXAMPLE, Role::Source) => {
            none_expected("the example account")?;
            Ok((format!("dir:{}", state.example_dir.display()), None))
        }
        (EXAMPLE, Role::Destination) => bad("the example account is a source only; choose a destination such as `package`".into()),
        ("package", Role::Destination) => {
            none_expected("a package")?;
            let name = format!("{}.zip", uuid::Uuid::new_v4().simple());
            Ok((format!("package:{}", state.packages_dir.join(name).display()), None))
        }
        ("package", Role::Source) => bad("reading a package is not offered by this server; use `ferry import` on your machine".into()),
        ("dir", _) => {
            let Some(root) = &state.cfg.files_root else {
                return bad("folders on this server are not offered (its operator has set no files root)".into());
            };
            let path = below(root, input.address.trim()).map_err(ApiError::bad_request)?;
            Ok((format!("dir:{}", path.display()), None))
        }
        (name, _) => {
            let Some(spec) = ferry_connectors::all().iter().find(|s| s.capabilities.name == name) else {
                return bad(format!("no connector `{name}`; GET /api/connectors lists them"));
            };
            let c = spec.capabilities;
            let e = Endpoint::parse(input.address.trim()).map_err(ApiError::bad_request)?;
            if !c.schemes.contains(&e.scheme.as_str()) {
                return bad(format!("an address for {name} is written {}", c.address));
            }
            if let Some(authority) = e.path().split('/').next()
                && authority.rsplit_once('@').is_some_and(|(user, _)| user.contains(':'))
            {
                return bad("give the password in its own field: an address never holds one".into());
            }
            let password = input.password.clone().filter(|p| !p.is_empty());
            let credential = password.map(|p| Credential::Password { user: None, secret: Secret(p) });
            Ok((e.to_string(), credential))
        }
    }
}

/// `rel` below `root`: a relative path without `..`, and no link on the way that leads
/// out of `root`.
fn below(root: &Path, rel: &str) -> Result<PathBuf, String> {
    if rel.is_empty() {
        return Err("give a folder below the files folder, such as `me/backup`".into());
    }
    let p = Path::new(rel);
    if !p.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(format!("`{rel}` must be a folder below the files folder: no leading `/`, no `..`"));
    }
    let root = root.canonicalize().map_err(|e| format!("the server's files folder cannot be used: {e}"))?;
    let full = root.join(p);
    // the deepest part that exists must still be below the root once links are followed
    let mut existing = full.as_path();
    while !existing.exists() {
        existing = existing.parent().unwrap_or(&root);
    }
    let real = existing.canonicalize().map_err(|e| format!("`{rel}`: {e}"))?;
    if !real.starts_with(&root) {
        return Err(format!("`{rel}` leads out of the files folder"));
    }
    Ok(full)
}

/// How a job's side is shown to people: the server's own paths are not.
pub fn describe(state: &AppState, uri: &str) -> String {
    let Ok(e) = Endpoint::parse(uri) else { return uri.to_owned() };
    let path = Path::new(e.path());
    match e.scheme.as_str() {
        "dir" if path == state.example_dir => "the example account".into(),
        "package" if path.starts_with(&state.packages_dir) => "a package to download".into(),
        // the root was made canonical once, when the server started
        "dir" => match state.cfg.files_root.as_ref().and_then(|r| path.strip_prefix(r).ok()) {
            Some(rel) => format!("folder {}", rel.display()),
            None => "a folder on the server".into(),
        },
        _ => uri.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_stay_below_the_root() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("files");
        std::fs::create_dir_all(root.join("me")).unwrap();
        std::os::unix::fs::symlink("/etc", root.join("me/out")).unwrap();
        assert!(below(&root, "me/backup").unwrap().ends_with("files/me/backup"));
        for bad in ["", "/etc", "../x", "me/../../x", "me/out", "me/out/deeper", "./me"] {
            assert!(below(&root, bad).is_err(), "{bad}");
        }
    }
}

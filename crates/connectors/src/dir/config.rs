use ferry_codecs::mbox::Flavor;
use ferry_core::{ConnectorError, Endpoint};
use std::path::PathBuf;

/// `dir:PATH[?mbox=mboxo]`. `mbox=mboxo` reads mbox files written by mboxo tools
/// (one level of `>From ` unescaped); the default is mboxrd.
#[derive(Debug, Clone)]
pub struct DirConfig {
    pub root: PathBuf,
    pub mbox: Flavor,
}

impl DirConfig {
    pub fn from_endpoint(e: &Endpoint) -> Result<Self, ConnectorError> {
        let (path, query) = match e.path().split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (e.path(), None),
        };
        let mut mbox = Flavor::Mboxrd;
        for kv in query.unwrap_or("").split('&').filter(|s| !s.is_empty()) {
            match kv {
                "mbox=mboxo" => mbox = Flavor::Mboxo,
                "mbox=mboxrd" => mbox = Flavor::Mboxrd,
                other => return Err(ConnectorError::Fatal(format!("dir: unknown option `{other}` (known: mbox=mboxo, mbox=mboxrd)"))),
            }
        }
        if path.is_empty() {
            return Err(ConnectorError::Fatal("dir: needs a path, as in dir:./export".into()));
        }
        Ok(DirConfig { root: PathBuf::from(path), mbox })
    }
}

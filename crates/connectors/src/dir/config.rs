use ferry_codecs::mbox::Flavor;
use ferry_codecs::vcard::WriteVersion;
use ferry_core::{ConnectorError, Endpoint};
use std::path::PathBuf;

/// `dir:PATH[?mbox=mboxo][&vcard=3.0|4.0]`. `mbox=mboxo` reads mbox files written by
/// mboxo tools (one level of `>From ` unescaped; the default is mboxrd). `vcard=3.0` or
/// `vcard=4.0` converts contacts to that version when writing (the default keeps each
/// vCard byte for byte as the source had it).
#[derive(Debug, Clone)]
pub struct DirConfig {
    pub root: PathBuf,
    pub mbox: Flavor,
    pub vcard: Option<WriteVersion>,
}

impl DirConfig {
    pub fn from_endpoint(e: &Endpoint) -> Result<Self, ConnectorError> {
        let (path, query) = match e.path().split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (e.path(), None),
        };
        let mut mbox = Flavor::Mboxrd;
        let mut vcard = None;
        for kv in query.unwrap_or("").split('&').filter(|s| !s.is_empty()) {
            match kv {
                "mbox=mboxo" => mbox = Flavor::Mboxo,
                "mbox=mboxrd" => mbox = Flavor::Mboxrd,
                "vcard=3.0" => vcard = Some(WriteVersion::V3),
                "vcard=4.0" => vcard = Some(WriteVersion::V4),
                other => {
                    return Err(ConnectorError::Fatal(format!(
                        "dir: unknown option `{other}` (known: mbox=mboxo, mbox=mboxrd, vcard=3.0, vcard=4.0)"
                    )));
                }
            }
        }
        if path.is_empty() {
            return Err(ConnectorError::Fatal("dir: needs a path, as in dir:./export".into()));
        }
        Ok(DirConfig { root: PathBuf::from(path), mbox, vcard })
    }
}

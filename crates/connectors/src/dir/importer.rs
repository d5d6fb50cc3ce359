use super::config::DirConfig;
use async_trait::async_trait;
use ferry_codecs::maildir;
use ferry_codecs::media::Sidecar;
use ferry_codecs::vcard::{WriteVersion, build_v4, convert};
use ferry_core::content::sha256_hex;
use ferry_core::{ConnectorError, Importer, Item, PutOutcome, Record, Vertical};
use ferry_package::layout::{safe_container, safe_segment};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Writes items as ordinary files under the root. Every name is derived from the item,
/// so writing an item again replaces it rather than adding a copy.
pub struct DirImporter {
    root: PathBuf,
    vcard: Option<WriteVersion>,
    /// Per maildir: unique name -> current file name (flags may change).
    maildirs: Mutex<HashMap<PathBuf, HashMap<String, String>>>,
    /// Media and file names taken in this run: path hash -> item id hash.
    claimed: Mutex<HashMap<u64, u64>>,
}

fn short_hash(s: &str) -> u64 {
    u64::from_le_bytes(Sha256::digest(s.as_bytes())[..8].try_into().expect("8 bytes"))
}

fn io(ctx: &str, e: std::io::Error) -> ConnectorError {
    ConnectorError::from_io(ctx, e)
}

impl DirImporter {
    pub fn new(cfg: DirConfig) -> Result<Self, ConnectorError> {
        std::fs::create_dir_all(&cfg.root).map_err(|e| io(&format!("dir: cannot create {}", cfg.root.display()), e))?;
        Ok(DirImporter { root: cfg.root, vcard: cfg.vcard, maildirs: Mutex::new(HashMap::new()), claimed: Mutex::new(HashMap::new()) })
    }

    fn container_dir(&self, v: Vertical, container: &str, default: &str) -> PathBuf {
        let c = if container.is_empty() { default.to_owned() } else { safe_container(container) };
        self.root.join(v.as_str()).join(c)
    }

    /// Writes `bytes` to `path` unless it already holds exactly them.
    /// One blocking task for the whole check-and-write: a small file costs a handful of
    /// system calls, and a thread hand-off for each would cost more than they do.
    async fn write_if_changed(&self, path: &Path, bytes: Vec<u8>) -> Result<bool, ConnectorError> {
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || {
            if std::fs::read(&path).is_ok_and(|existing| existing == bytes) {
                return Ok(false);
            }
            let dir = path.parent().expect("has a parent");
            std::fs::create_dir_all(dir).map_err(|e| io("dir: creating folder", e))?;
            let tmp = path.with_file_name(format!(".{}.ferry-tmp", path.file_name().unwrap().to_string_lossy()));
            let what = format!("dir: writing {}", path.display());
            std::fs::write(&tmp, &bytes).map_err(|e| io(&what, e))?;
            std::fs::rename(&tmp, &path).map_err(|e| io(&what, e))?;
            Ok(true)
        })
        .await
        .map_err(|e| ConnectorError::Item(format!("dir: writing: {e}")))?
    }

    async fn put_text(&self, item: &Item, default: &str, ext: &str) -> Result<PutOutcome, ConnectorError> {
        let v = item.vertical();
        let mut warnings = Vec::new();
        let bytes = match (&item.original, &item.record) {
            (Some(o), Record::Contact(_)) if self.vcard.is_some() => {
                let c = convert(&o.bytes, self.vcard.expect("checked"))
                    .map_err(|e| ConnectorError::Item(format!("cannot convert the vCard: {e}")))?;
                warnings = c.warnings;
                c.text.into_bytes()
            }
            (Some(o), _) => o.bytes.to_vec(),
            (None, Record::Contact(c)) => build_v4(c).into_bytes(),
            (None, _) => return Err(ConnectorError::Item("no iCalendar data to write".into())),
        };
        let name = item_file_name(&item.id, ext);
        let path = self.container_dir(v, &item.container, default).join(name);
        let sha256 = Some(sha256_hex(&bytes));
        let created = self.write_if_changed(&path, bytes).await?;
        Ok(PutOutcome { dest_id: rel(&self.root, &path), created, warnings, sha256 })
    }

    async fn put_mail(&self, item: &Item) -> Result<PutOutcome, ConnectorError> {
        let Record::Mail(m) = &item.record else { unreachable!() };
        let content = item.content.as_ref().ok_or_else(|| ConnectorError::Item("message without content".into()))?;
        let dir = self.container_dir(Vertical::Mail, &item.container, "INBOX");
        for sub in ["cur", "new", "tmp"] {
            tokio::fs::create_dir_all(dir.join(sub)).await.map_err(|e| io("dir: creating maildir", e))?;
        }
        let unique = hex::encode(&Sha256::digest(item.id.as_bytes())[..16]);
        let wanted = format!("{unique}{}", maildir::flag_suffix(&m.flags));
        let existing = self.maildir_lookup(&dir, &unique)?;
        let mut bytes = Vec::new();
        content
            .open_verified()
            .await
            .map_err(|e| io("reading message", e))?
            .read_to_end(&mut bytes)
            .await
            .map_err(|e| ConnectorError::Item(format!("message content: {e}")))?;
        let sha = sha256_hex(&bytes);
        let cur = dir.join("cur");
        let path = cur.join(&wanted);
        let mut created = true;
        if let Some(name) = existing {
            let old = cur.join(&name);
            if tokio::fs::read(&old).await.ok().as_deref() == Some(&bytes[..]) {
                created = false;
                if name != wanted {
                    // same message, new flags
                    tokio::fs::rename(&old, &path).await.map_err(|e| io("dir: renaming message", e))?;
                }
            } else {
                let _ = tokio::fs::remove_file(&old).await;
            }
        }
        if created {
            let tmp = dir.join("tmp").join(&unique);
            write_file(&tmp, &bytes).await?;
            if let Some(t) = m.received {
                let f = std::fs::File::options().write(true).open(&tmp).map_err(|e| io("dir: setting time", e))?;
                let _ = f.set_modified(t.into());
            }
            tokio::fs::rename(&tmp, &path).await.map_err(|e| io("dir: storing message", e))?;
        }
        self.maildirs.lock().unwrap().get_mut(&dir).expect("loaded").insert(unique, wanted);
        let warnings =
            maildir::unrepresentable(&m.flags).into_iter().map(|k| format!("keyword {k} not kept: maildir has no keywords")).collect();
        Ok(PutOutcome { dest_id: rel(&self.root, &path), created, warnings, sha256: Some(sha) })
    }

    fn maildir_lookup(&self, dir: &Path, unique: &str) -> Result<Option<String>, ConnectorError> {
        let mut all = self.maildirs.lock().unwrap();
        if !all.contains_key(dir) {
            let mut index = HashMap::new();
            for sub in ["new", "cur"] {
                for e in std::fs::read_dir(dir.join(sub)).map_err(|e| io("dir: reading maildir", e))?.flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if sub == "new" {
                        // a message in new/ is moved to cur/ so that there is one place to look
                        let _ = std::fs::rename(e.path(), dir.join("cur").join(&name));
                    }
                    let (u, _) = maildir::parse_name(&name);
                    index.insert(u.to_owned(), name.clone());
                }
            }
            all.insert(dir.to_owned(), index);
        }
        Ok(all[dir].get(unique).cloned())
    }

    /// Media and files: the file under its own name, or, if another item already has
    /// that name, under the name with a short id hash added.
    async fn put_file(&self, item: &Item) -> Result<PutOutcome, ConnectorError> {
        let v = item.vertical();
        let content = item.content.as_ref().ok_or_else(|| ConnectorError::Item("no content".into()))?;
        let (name, modified, mode) = match &item.record {
            Record::Media(m) => (m.file_name.clone(), None, None),
            Record::File(f) => (f.name.clone(), f.modified, f.mode),
            _ => unreachable!(),
        };
        let dir = if item.container.is_empty() {
            self.root.join(v.as_str())
        } else {
            self.root.join(v.as_str()).join(safe_container(&item.container))
        };
        tokio::fs::create_dir_all(&dir).await.map_err(|e| io("dir: creating folder", e))?;
        let name = safe_segment(&name);
        let alt = {
            let tag = &hex::encode(Sha256::digest(item.id.as_bytes()))[..8];
            match name.rsplit_once('.') {
                Some((s, e)) if !s.is_empty() => format!("{s} ({tag}).{e}"),
                _ => format!("{name} ({tag})"),
            }
        };
        let expected = content.sha256.clone();
        let candidates = [dir.join(&name), dir.join(&alt)];
        if let Some(sha) = &expected {
            for c in &candidates {
                if file_sha(c).await.as_ref() == Some(sha) {
                    return self.present(item, c, expected.clone()).await;
                }
            }
        }
        // write beside the target first, hashing as the bytes go by
        let tmp = dir.join(format!(".{alt}.ferry-tmp"));
        let mut reader = content.open_verified().await.map_err(|e| io("reading content", e))?;
        let mut f = tokio::fs::File::create(&tmp).await.map_err(|e| io("dir: writing", e))?;
        // a network source yields a TLS record (16 KiB) per read: the buffer is filled
        // before each write, so that a write (a hand-off to a blocking thread) moves 1 MiB
        let mut buf = vec![0u8; 1024 * 1024];
        loop {
            let mut n = 0;
            while n < buf.len() {
                match reader.read(&mut buf[n..]).await {
                    Ok(0) => break,
                    Ok(k) => n += k,
                    Err(e) => {
                        let _ = tokio::fs::remove_file(&tmp).await;
                        return Err(ConnectorError::from_io("reading content", e));
                    }
                }
            }
            if n == 0 {
                break;
            }
            f.write_all(&buf[..n]).await.map_err(|e| io("dir: writing", e))?;
        }
        f.flush().await.map_err(|e| io("dir: writing", e))?;
        let f = f.into_std().await;
        let digest = reader.finish().map(|(s, _)| s);
        if expected.is_none() {
            for c in &candidates {
                if file_sha(c).await == digest {
                    let _ = tokio::fs::remove_file(&tmp).await;
                    return self.present(item, c, digest).await;
                }
            }
        }
        if let Some(t) = modified {
            let _ = f.set_modified(t.into());
        }
        if let Some(mode) = mode {
            use std::os::unix::fs::PermissionsExt;
            let _ = f.set_permissions(std::fs::Permissions::from_mode(mode & 0o777 | 0o600));
        }
        drop(f);
        // the plain name, unless another item of this run took it
        let target = {
            let mut claimed = self.claimed.lock().unwrap();
            let me = short_hash(&item.id);
            let key = short_hash(&candidates[0].to_string_lossy());
            match claimed.get(&key) {
                Some(owner) if *owner != me => candidates[1].clone(),
                _ => {
                    claimed.insert(key, me);
                    candidates[0].clone()
                }
            }
        };
        tokio::fs::rename(&tmp, &target).await.map_err(|e| io("dir: writing", e))?;
        let warnings = self.write_sidecar(item, &target).await?;
        Ok(PutOutcome { dest_id: rel(&self.root, &target), created: true, warnings, sha256: digest })
    }

    async fn present(&self, item: &Item, path: &Path, sha256: Option<String>) -> Result<PutOutcome, ConnectorError> {
        self.claimed.lock().unwrap().insert(short_hash(&path.to_string_lossy()), short_hash(&item.id));
        let warnings = self.write_sidecar(item, path).await?;
        Ok(PutOutcome { dest_id: rel(&self.root, path), created: false, warnings, sha256 })
    }

    async fn write_sidecar(&self, item: &Item, target: &Path) -> Result<Vec<String>, ConnectorError> {
        let Record::Media(m) = &item.record else { return Ok(vec![]) };
        if let Some(sidecar) = Sidecar::from_item(m) {
            let path = target.with_file_name(format!("{}.json", target.file_name().unwrap().to_string_lossy()));
            let json = serde_json::to_vec_pretty(&sidecar).expect("json");
            self.write_if_changed(&path, json).await?;
        }
        Ok(vec![])
    }
}

#[async_trait]
impl Importer for DirImporter {
    async fn put(&self, item: &Item) -> Result<PutOutcome, ConnectorError> {
        match item.vertical() {
            Vertical::Contacts => self.put_text(item, "default", "vcf").await,
            Vertical::Calendar => self.put_text(item, "default", "ics").await,
            Vertical::Tasks => self.put_text(item, "default", "ics").await,
            Vertical::Mail => self.put_mail(item).await,
            Vertical::Media | Vertical::Files => self.put_file(item).await,
        }
    }

    async fn finish(&self) -> Result<(), ConnectorError> {
        Ok(())
    }
}

/// A file name for an item, readable when the id allows it, always unique per id.
fn item_file_name(id: &str, ext: &str) -> String {
    let last = id.rsplit('/').next().unwrap_or(id);
    let readable: String = last.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@')).take(80).collect();
    let tag = &hex::encode(Sha256::digest(id.as_bytes()))[..12];
    if readable.is_empty() { format!("{tag}.{ext}") } else { format!("{readable}-{tag}.{ext}") }
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap_or(p).to_string_lossy().into_owned()
}

async fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ConnectorError> {
    tokio::fs::write(path, bytes).await.map_err(|e| io(&format!("dir: writing {}", path.display()), e))
}

async fn file_sha(path: &Path) -> Option<String> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut f = std::fs::File::open(&path).ok()?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = f.read(&mut buf).ok()?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        Some(hex::encode(h.finalize()))
    })
    .await
    .ok()
    .flatten()
}

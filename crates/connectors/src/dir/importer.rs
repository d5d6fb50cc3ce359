use super::config::DirConfig;
use super::safe::{create_temp, make_dirs, not_regular, open_regular, place_new, read_bounded, remove_leftover_temps};
use async_trait::async_trait;
use ferry_codecs::maildir;
use ferry_codecs::media::Sidecar;
use ferry_codecs::vcard::{WriteVersion, build_v4, convert};
use ferry_core::content::{HashingReader, sha256_hex};
use ferry_core::{Attachment, ConnectorError, Importer, Item, PutOutcome, Record, Vertical};
use ferry_package::layout::{safe_container, safe_segment};
use ferry_verticals::{Codec, StandardForm};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::io::AsyncReadExt;
use tokio::sync::OnceCell;

/// Writes items as ordinary files under the root. Every name is derived from the item,
/// so writing an item again replaces it rather than adding a copy. A file ferry did not
/// name is never replaced: an item whose plain name is taken goes under a name with a
/// hash of its id added.
pub struct DirImporter {
    root: PathBuf,
    vcard: Option<WriteVersion>,
    /// Per maildir: unique name -> current place (`cur/NAME` or `new/NAME`; flags change).
    maildirs: Mutex<HashMap<PathBuf, HashMap<String, String>>>,
    /// Folders cleared of an interrupted run's temporary files (once each, before this run
    /// writes its own there).
    swept: Mutex<HashMap<PathBuf, Arc<OnceCell<()>>>>,
}

/// A lock that a panic elsewhere does not poison for every later item (the maps it
/// guards stay valid between statements).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn io(ctx: &str, e: std::io::Error) -> ConnectorError {
    ConnectorError::from_io(ctx, e)
}

fn join_err(e: tokio::task::JoinError) -> ConnectorError {
    ConnectorError::Item(format!("dir: writing: {e}"))
}

/// Whether `path` holds exactly `bytes` (read without following a link, and no more
/// than `bytes.len() + 1` bytes of it).
fn holds(path: &Path, bytes: &[u8]) -> bool {
    read_bounded(path, bytes.len() as u64).is_ok_and(|existing| existing == bytes)
}

impl DirImporter {
    pub fn new(cfg: DirConfig) -> Result<Self, ConnectorError> {
        std::fs::create_dir_all(&cfg.root).map_err(|e| io(&format!("dir: cannot create {}", cfg.root.display()), e))?;
        Ok(DirImporter { root: cfg.root, vcard: cfg.vcard, maildirs: Mutex::new(HashMap::new()), swept: Mutex::new(HashMap::new()) })
    }

    /// Removes what an interrupted run left in `dir`, the first time this run writes there;
    /// a write into `dir` waits for that to be done, so that no temporary file of this run
    /// is taken for a leftover.
    async fn sweep(&self, dir: &Path) -> Result<(), ConnectorError> {
        let cell = lock(&self.swept).entry(dir.to_owned()).or_default().clone();
        cell.get_or_try_init(|| {
            let d = dir.to_owned();
            async move { tokio::task::spawn_blocking(move || remove_leftover_temps(&d)).await.map_err(join_err) }
        })
        .await?;
        Ok(())
    }

    /// Makes `dir` below the destination's root, never through a link ([`make_dirs`]).
    async fn make_dirs(&self, dir: &Path) -> Result<(), ConnectorError> {
        let (root, d) = (self.root.clone(), dir.to_owned());
        tokio::task::spawn_blocking(move || make_dirs(&root, &d))
            .await
            .map_err(join_err)?
            .map_err(|e| ConnectorError::Item(format!("dir: creating folder: {e}")))
    }

    fn container_dir(&self, v: Vertical, container: &str, default: &str) -> PathBuf {
        let c = if container.is_empty() { default.to_owned() } else { safe_container(container) };
        self.root.join(v.as_str()).join(c)
    }

    /// Writes `bytes` to `path` unless it already holds exactly them; `Ok(None)` when a
    /// different file is there and `replace` is false (it is kept). With `replace`, a
    /// regular file at `path` is replaced: only for names that carry a hash of the item's
    /// id, which ferry alone gives. A link or special file there is never replaced.
    /// One blocking task for the whole check-and-write: a small file costs a handful of
    /// system calls, and a thread hand-off for each would cost more than they do.
    async fn write_if_changed(&self, path: &Path, bytes: Vec<u8>, replace: bool) -> Result<Option<bool>, ConnectorError> {
        let parent = path.parent().expect("has a parent");
        self.make_dirs(parent).await?;
        self.sweep(parent).await?;
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || {
            if holds(&path, &bytes) {
                return Ok(Some(false));
            }
            let what = format!("dir: writing {}", path.display());
            if let Some(kind) = not_regular(&path) {
                return Err(ConnectorError::Item(format!("{what}: {kind} is at that name; it is left alone")));
            }
            let dir = path.parent().expect("has a parent");
            let stem = path.file_name().unwrap().to_string_lossy().into_owned();
            let (mut f, tmp) = create_temp(dir, &stem, 0o666).map_err(|e| io(&what, e))?;
            let written = f.write_all(&bytes).and_then(|_| f.sync_data());
            drop(f);
            let placed = written.and_then(|_| if replace { std::fs::rename(&tmp, &path).map(|_| true) } else { place_new(&tmp, &path) });
            match placed {
                Ok(true) => Ok(Some(true)),
                Ok(false) => {
                    let _ = std::fs::remove_file(&tmp);
                    Ok(None)
                }
                Err(e) => {
                    let _ = std::fs::remove_file(&tmp);
                    Err(io(&what, e))
                }
            }
        })
        .await
        .map_err(join_err)?
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
            (Some(o), _) => {
                // a time zone used but defined nowhere: the times cannot be placed exactly
                if matches!(item.record, Record::Event(_) | Record::Task(_)) {
                    warnings = ferry_codecs::ical::timezone_warnings(&o.bytes);
                }
                o.bytes.to_vec()
            }
            (None, Record::Contact(c)) => build_v4(c).into_bytes(),
            (None, _) => return Err(ConnectorError::Item("no iCalendar data to write".into())),
        };
        let name = item_file_name(&item.id, ext);
        let path = self.container_dir(v, &item.container, default).join(name);
        let sha256 = Some(sha256_hex(&bytes));
        let created = self.write_if_changed(&path, bytes, true).await?.unwrap_or(true);
        Ok(PutOutcome { dest_id: rel(&self.root, &path), created, warnings, sha256 })
    }

    /// A later vertical's item as its module's standard file (a note's Markdown), in
    /// `VERTICAL/CONTAINER/`, named from its id (with a hash of it: ferry's own name).
    async fn put_standard(&self, item: &Item, codec: Codec, form: StandardForm) -> Result<PutOutcome, ConnectorError> {
        let standard = match &item.standard {
            Some(s) => s.clone(),
            None => (codec.write)(item).map_err(ConnectorError::Item)?,
        };
        let name = crate::standard_files::item_file_name(item, form.extension);
        let path = self.container_dir(item.vertical(), &item.container, "default").join(&name);
        // attached files: in a folder beside it, named after it (`idea-TAG.attachments/`)
        if !item.attachments.is_empty() {
            let stem = name.strip_suffix(&format!(".{}", form.extension)).unwrap_or(&name);
            let dir = path.with_file_name(format!("{stem}.attachments"));
            for a in &item.attachments {
                self.put_attachment(&dir, a).await?;
            }
        }
        let bytes = standard.text.into_bytes();
        let sha256 = Some(sha256_hex(&bytes));
        let created = self.write_if_changed(&path, bytes, true).await?.unwrap_or(true);
        Ok(PutOutcome { dest_id: rel(&self.root, &path), created, warnings: standard.warnings, sha256 })
    }

    /// One attached file into its item's own folder (named with a hash of the item's id:
    /// ferry's). A file of that name holding other bytes is replaced, a link or special
    /// file never.
    async fn put_attachment(&self, dir: &Path, a: &Attachment) -> Result<(), ConnectorError> {
        self.make_dirs(dir).await?;
        let target = dir.join(safe_segment(&a.name));
        if a.content.sha256.is_some() && file_sha(&target).await == a.content.sha256 {
            return Ok(());
        }
        self.sweep(dir).await?;
        let reader = a.content.open_verified().await.map_err(|e| io("reading an attached file", e))?;
        let (tmp, digest) = stream_to_temp(dir, &safe_segment(&a.name), 0o666, None, reader).await?;
        if file_sha(&target).await.as_ref() == Some(&digest) {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Ok(());
        }
        let (t, p) = (tmp.clone(), target.clone());
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            if place_new(&t, &p)? {
                return Ok(());
            }
            match not_regular(&p) {
                None => std::fs::rename(&t, &p),
                Some(kind) => {
                    let _ = std::fs::remove_file(&t);
                    Err(std::io::Error::other(format!("{kind} is at {}; it is left alone", p.display())))
                }
            }
        })
        .await
        .map_err(join_err)?
        .map_err(|e| ConnectorError::Item(format!("attached file {}: {e}", a.name)))
    }

    async fn put_mail(&self, item: &Item) -> Result<PutOutcome, ConnectorError> {
        let Record::Mail(m) = &item.record else { unreachable!() };
        let content = item.content.as_ref().ok_or_else(|| ConnectorError::Item("message without content".into()))?;
        let dir = self.container_dir(Vertical::Mail, &item.container, "INBOX");
        for sub in ["cur", "new", "tmp"] {
            self.make_dirs(&dir.join(sub)).await?;
        }
        // the unique part is a hash of the item's id: a file of that name is ferry's
        let unique = hex::encode(&Sha256::digest(item.id.as_bytes())[..16]);
        let wanted = format!("{unique}{}", maildir::flag_suffix(&m.flags));
        let existing = self.maildir_lookup(&dir, &unique).await?;
        // the message streams to tmp/, hashed on the way (never whole in memory)
        self.sweep(&dir.join("tmp")).await?;
        let reader = content.open_verified().await.map_err(|e| io("reading message", e))?;
        let (tmp, sha) = stream_to_temp(&dir.join("tmp"), &unique, 0o600, m.received.map(Into::into), reader).await?;
        let path = dir.join("cur").join(&wanted);
        let mut created = true;
        if let Some(place) = &existing {
            let old = dir.join(place);
            if file_sha(&old).await.as_ref() == Some(&sha) {
                created = false;
                let _ = tokio::fs::remove_file(&tmp).await;
                if old != path {
                    // same message, new flags
                    tokio::fs::rename(&old, &path).await.map_err(|e| io("dir: renaming message", e))?;
                }
            }
        }
        if created {
            tokio::fs::rename(&tmp, &path).await.map_err(|e| io("dir: storing message", e))?;
            if let Some(place) = &existing
                && dir.join(place) != path
            {
                // the earlier copy of this item (a name only ferry gives), now replaced
                let _ = tokio::fs::remove_file(dir.join(place)).await;
            }
        }
        lock(&self.maildirs).entry(dir.clone()).or_default().insert(unique, format!("cur/{wanted}"));
        let warnings =
            maildir::unrepresentable(&m.flags).into_iter().map(|k| format!("keyword {k} not kept: maildir has no keywords")).collect();
        Ok(PutOutcome { dest_id: rel(&self.root, &path), created, warnings, sha256: Some(sha) })
    }

    /// Where the maildir holds the message with this unique name, if it does. The folder
    /// is listed once, on a blocking thread, with no lock held while it is read.
    async fn maildir_lookup(&self, dir: &Path, unique: &str) -> Result<Option<String>, ConnectorError> {
        if let Some(index) = lock(&self.maildirs).get(dir) {
            return Ok(index.get(unique).cloned());
        }
        let d = dir.to_owned();
        let index = tokio::task::spawn_blocking(move || -> Result<HashMap<String, String>, ConnectorError> {
            let mut index = HashMap::new();
            for sub in ["new", "cur"] {
                for e in std::fs::read_dir(d.join(sub)).map_err(|e| io("dir: reading maildir", e))?.flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    let (u, _) = maildir::parse_name(&name);
                    index.insert(u.to_owned(), format!("{sub}/{name}"));
                }
            }
            Ok(index)
        })
        .await
        .map_err(join_err)??;
        let mut all = lock(&self.maildirs);
        let index = all.entry(dir.to_owned()).or_insert(index);
        Ok(index.get(unique).cloned())
    }

    /// Media and files: the file under its own name, or, if that name is taken (by another
    /// item, or by a file ferry did not write), under the name with a short id hash added.
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
        self.make_dirs(&dir).await?;
        let name = safe_segment(&name);
        let alt = {
            let tag = &hex::encode(Sha256::digest(item.id.as_bytes()))[..8];
            match name.rsplit_once('.') {
                Some((s, e)) if !s.is_empty() => format!("{s} ({tag}).{e}"),
                _ => format!("{name} ({tag})"),
            }
        };
        let expected = content.sha256.clone();
        let [plain, tagged] = [dir.join(&name), dir.join(&alt)];
        if let Some(sha) = &expected {
            for c in [&plain, &tagged] {
                if file_sha(c).await.as_ref() == Some(sha) {
                    return self.present(item, c, c == &tagged, expected.clone()).await;
                }
            }
        }
        // permissions as the source had them (never set-id or sticky bits), masked by the
        // umask as the file is created; the owner can always read and write it
        let mode = mode.map_or(0o666, |m| (m & 0o777) | 0o600);
        self.sweep(&dir).await?;
        let reader = content.open_verified().await.map_err(|e| io("reading content", e))?;
        let (tmp, digest) = stream_to_temp(&dir, &alt, mode, modified.map(Into::into), reader).await?;
        if expected.is_none() {
            for c in [&plain, &tagged] {
                if file_sha(c).await.as_ref() == Some(&digest) {
                    let _ = tokio::fs::remove_file(&tmp).await;
                    return self.present(item, c, c == &tagged, Some(digest)).await;
                }
            }
        }
        let (t, p, a) = (tmp.clone(), plain.clone(), tagged.clone());
        let placed = tokio::task::spawn_blocking(move || -> std::io::Result<PathBuf> {
            if place_new(&t, &p)? {
                return Ok(p);
            }
            if place_new(&t, &a)? {
                return Ok(a);
            }
            // the tagged name holds an earlier version of this very item: replaced
            match not_regular(&a) {
                None => std::fs::rename(&t, &a).map(|_| a),
                Some(kind) => Err(std::io::Error::other(format!("{kind} is at {}; it is left alone", a.display()))),
            }
        })
        .await
        .map_err(join_err)?;
        let target = match placed {
            Ok(t) => t,
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                return Err(io("dir: writing", e));
            }
        };
        let warnings = self.write_sidecar(item, &target, target == tagged).await?;
        Ok(PutOutcome { dest_id: rel(&self.root, &target), created: true, warnings, sha256: Some(digest) })
    }

    async fn present(&self, item: &Item, path: &Path, ours: bool, sha256: Option<String>) -> Result<PutOutcome, ConnectorError> {
        let warnings = self.write_sidecar(item, path, ours).await?;
        Ok(PutOutcome { dest_id: rel(&self.root, path), created: false, warnings, sha256 })
    }

    /// A Takeout sidecar beside a photo with a title or description. Beside a file under
    /// its plain name, a different sidecar already there is kept (it may be the user's).
    async fn write_sidecar(&self, item: &Item, target: &Path, replace: bool) -> Result<Vec<String>, ConnectorError> {
        let Record::Media(m) = &item.record else { return Ok(vec![]) };
        if let Some(sidecar) = Sidecar::from_item(m) {
            let path = target.with_file_name(format!("{}.json", target.file_name().unwrap().to_string_lossy()));
            let json = serde_json::to_vec_pretty(&sidecar).expect("json");
            if self.write_if_changed(&path, json, replace).await?.is_none() {
                return Ok(vec![format!(
                    "title and description not written: {} already exists and ferry did not write it",
                    rel(&self.root, &path)
                )]);
            }
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
            v => match ferry_verticals::find(v).and_then(|d| d.codec.zip(d.standard)) {
                Some((codec, form)) => self.put_standard(item, codec, form).await,
                None => Err(ConnectorError::Item(format!("a folder cannot hold {v} items: this ferry has no file format for them"))),
            },
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

/// Streams `reader` into a new temporary file in `dir` (see [`create_temp`]), with its
/// modification time set; returns the file and the SHA-256 of what was written.
async fn stream_to_temp(
    dir: &Path,
    stem: &str,
    mode: u32,
    modified: Option<std::time::SystemTime>,
    mut reader: HashingReader,
) -> Result<(PathBuf, String), ConnectorError> {
    let (d, s) = (dir.to_owned(), stem.to_owned());
    let (f, tmp) =
        tokio::task::spawn_blocking(move || create_temp(&d, &s, mode)).await.map_err(join_err)?.map_err(|e| io("dir: writing", e))?;
    let mut f = tokio::fs::File::from_std(f);
    let result: Result<(), ConnectorError> = async {
        use tokio::io::AsyncWriteExt;
        // a network source yields a TLS record (16 KiB) per read: the buffer is filled
        // before each write, so that a write (a hand-off to a blocking thread) moves 1 MiB
        let mut buf = vec![0u8; 1024 * 1024];
        loop {
            let mut n = 0;
            while n < buf.len() {
                match reader.read(&mut buf[n..]).await {
                    Ok(0) => break,
                    Ok(k) => n += k,
                    Err(e) => return Err(ConnectorError::from_io("reading content", e)),
                }
            }
            if n == 0 {
                break;
            }
            f.write_all(&buf[..n]).await.map_err(|e| io("dir: writing", e))?;
        }
        f.flush().await.map_err(|e| io("dir: writing", e))
    }
    .await;
    let f = f.into_std().await;
    if let Err(e) = result {
        drop(f);
        let _ = tokio::fs::remove_file(&tmp).await;
        return Err(e);
    }
    if let Some(t) = modified {
        let _ = f.set_modified(t);
    }
    drop(f);
    let digest = reader.finish().map(|(s, _)| s).ok_or_else(|| ConnectorError::Item("content not read to its end".into()))?;
    Ok((tmp, digest))
}

/// SHA-256 of a regular file (never through a link); `None` if there is none.
async fn file_sha(path: &Path) -> Option<String> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        let (mut f, _) = open_regular(&path).ok()?;
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

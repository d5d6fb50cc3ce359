use super::config::ArchiveConfig;
use super::file_set::FileSet;
use super::found::{beside, read_all};
use super::fs::ArchiveFs;
use super::layouts::{LAYOUTS, Meta, Reader, recognise};
use super::walk::Walk;
use super::{assistants, facebook, fit, glob, instagram, linkedin, mastodon, messenger, photos, slack, spotify, statements, takeout, x};
use crate::pager;
use async_trait::async_trait;
use ferry_core::{ConnectorError, Exporter, PageStream, Stream, Vertical};
use ferry_package::UnpackLimits;
use ferry_verticals::web::{self, WEB};
use std::sync::Arc;

pub struct ArchiveExporter {
    cfg: ArchiveConfig,
    limits: UnpackLimits,
}

impl ArchiveExporter {
    pub fn new(cfg: ArchiveConfig, settings: &crate::Settings) -> Self {
        ArchiveExporter { cfg, limits: settings.unpack_limits }
    }
}

#[async_trait]
impl Exporter for ArchiveExporter {
    /// The archive is read in one pass, whatever is asked.
    async fn plan(&self, verticals: &[Vertical]) -> Result<Vec<Stream>, ConnectorError> {
        Ok(Stream::one("archive", verticals, super::CAPABILITIES.exports))
    }

    async fn pages(&self, stream: &Stream, cursor: Option<String>) -> Result<Box<dyn PageStream>, ConnectorError> {
        let (path, limits) = (self.cfg.path.clone(), self.limits);
        let verticals = stream.verticals.clone();
        // opened (every part checked) before the first page, so a damaged or hostile
        // archive stops the job with its reason
        let fs = tokio::task::spawn_blocking(move || ArchiveFs::open(&path, limits))
            .await
            .map_err(|e| ConnectorError::Fatal(format!("archive: {e}")))?
            .map_err(|e| ConnectorError::Fatal(format!("archive: {e}")))?;
        let layout = recognise(|sign| {
            let sign = glob::Glob::new(sign);
            fs.entries.keys().any(|p| sign.matches(&p))
        })
        .ok_or_else(|| unknown(&fs))?;
        let fs = Arc::new(fs);
        Ok(pager::spawn(cursor, move |emit| Walk::new(fs, layout, verticals, emit).run(read)))
    }
}

/// Hands a rule's files (by number, see `Entries::position`) to its reader: Google
/// Photos' as numbers (a Takeout holds more of them than of anything else), files taken
/// as they are one path at a time, the others' as paths.
fn read(w: &mut Walk, reader: Reader, numbers: FileSet) {
    let fs = w.fs.clone();
    let path = |i: usize| fs.entries.path(i);
    match reader {
        Reader::GooglePhotos => return photos::read(w, numbers),
        // files taken as they are: one path at a time, not all at once
        Reader::Files => {
            for i in numbers.iter() {
                let f = path(i);
                if !w.wants(Vertical::Files) {
                    if !w.skipped(&f, "a file; not kept, since the files vertical is not asked for".into()) {
                        return;
                    }
                } else if let Some(item) = w.file_item(&f)
                    && !w.send(Ok(item))
                {
                    return;
                }
            }
            return;
        }
        Reader::Repeat(what) => {
            for i in numbers.iter() {
                if !w.skipped(&path(i), format!("repeats what the archive holds elsewhere: {what}")) {
                    return;
                }
            }
            return;
        }
        Reader::Kept(what) => {
            for i in numbers.iter() {
                if !w.keep_file(&path(i), format!("kept as a file: {what}")) {
                    return;
                }
            }
            return;
        }
        _ => {}
    }
    let files: Vec<String> = numbers.iter().map(path).collect();
    drop(numbers);
    match reader {
        Reader::Contacts => takeout::contacts(w, files),
        Reader::Calendar => takeout::calendar(w, files),
        Reader::GmailMbox => takeout::gmail_mbox(w, files),
        Reader::GooglePhotos | Reader::Files | Reader::Repeat(_) | Reader::Kept(_) => unreachable!("read above"),
        Reader::Keep => takeout::keep(w, files),
        Reader::GoogleTasks => takeout::tasks(w, files),
        Reader::FitSessions => fit::sessions(w, files),
        Reader::FitDaily => fit::daily(w, files),
        Reader::ChromeBookmarks => read_all(w, files, WEB, |i, each| web::read_chrome_bookmarks(i, each), &beside),
        Reader::ChromeReadingList => read_all(w, files, WEB, |i, each| web::read_chrome_reading_list(i, each), &beside),
        Reader::ChromeHistory => read_all(w, files, WEB, |i, each| web::read_chrome_history(i, each), &beside),
        Reader::MastodonOutbox => mastodon::outbox(w, files),
        Reader::MastodonCollection(kind) => mastodon::collection(w, files, kind),
        Reader::MastodonCsv(kind) => mastodon::csv(w, files, kind),
        Reader::XTweets => x::tweets(w, files),
        Reader::XLikes => x::likes(w, files),
        Reader::XAccounts(kind) => x::accounts(w, files, kind),
        Reader::XDirectMessages => x::direct_messages(w, files),
        Reader::ChatGpt => assistants::chatgpt(w, files),
        Reader::Claude => assistants::claude(w, files),
        Reader::Slack => slack::read(w, files),
        Reader::SpotifyPlaylists => spotify::playlists(w, files),
        Reader::SpotifyLibrary => spotify::library(w, files),
        Reader::AppleHealth => statements::apple_health(w, files),
        Reader::Ofx => statements::ofx(w, files),
        Reader::Camt => statements::camt(w, files),
        Reader::BankCsv => statements::bank_csv(w, files),
        Reader::OrderCsv => statements::orders_csv(w, files),
        Reader::MetaPosts(Meta::Facebook) => facebook::posts(w, files),
        Reader::MetaPosts(Meta::Instagram) => instagram::posts(w, files),
        Reader::MetaThreads(meta) => messenger::threads(w, files, meta),
        Reader::FacebookComments => facebook::comments(w, files),
        Reader::FacebookReactions => facebook::reactions(w, files),
        Reader::FacebookFriends => facebook::friends(w, files),
        Reader::InstagramAccounts(kind) => instagram::accounts(w, files, kind),
        Reader::InstagramLikes => instagram::likes(w, files),
        Reader::LinkedIn(file) => linkedin::read(w, files, file),
    }
}

/// The archive is none that ferry knows: says which it knows and what this one holds.
fn unknown(fs: &ArchiveFs) -> ConnectorError {
    let mut top: Vec<String> = fs.entries.keys().map(|p| p.split('/').next().unwrap_or(&p).to_owned()).collect();
    top.dedup();
    let shown: Vec<&str> = top.iter().take(8).map(String::as_str).collect();
    let known: Vec<String> = LAYOUTS.iter().map(|l| format!("{} ({})", l.platform, l.variant)).collect();
    ConnectorError::Fatal(format!(
        "archive: {} is not an archive ferry recognises (it holds {}{}); ferry reads: {}",
        fs.label,
        if shown.is_empty() { "no files".to_owned() } else { shown.join(", ") },
        if top.len() > shown.len() { ", ..." } else { "" },
        known.join(", ")
    ))
}

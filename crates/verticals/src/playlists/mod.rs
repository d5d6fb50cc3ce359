//! `playlists`: a playlist and its tracks (title, artists, album, duration, ISRC when
//! known, the service's URI or the file's location, position, added time). A playlist is
//! one item with its tracks inside; an account's saved tracks are one playlist-like item
//! too ("Liked Songs", `kind: library`). Its standard file is XSPF (one `.xspf` per
//! playlist); a package also holds an `.m3u8` beside it, and the records as JSON Lines.
//! In a folder: `playlists/CONTAINER/*.xspf`. Readers: Spotify's account data
//! ([`spotify`]).

pub mod m3u;
pub mod spotify;
pub mod xspf;

use crate::def::{Codec, Def, DirFile, ItemFile, Per, StandardForm};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use ferry_core::content::sha256_hex;
use ferry_core::{Item, ItemError, Original, OtherRecord, Record, Standard, Vertical};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub const PLAYLISTS: Vertical = Vertical::new("playlists");

/// XSPF's media type (https://www.xspf.org/spec).
pub const XSPF_MEDIA_TYPE: &str = "application/xspf+xml";

pub const DEF: Def = Def {
    vertical: PLAYLISTS,
    record_type: "playlist",
    schema: || serde_json::to_value(schemars::schema_for!(Playlist)).expect("a schema is JSON"),
    records_path: "playlists/playlists.jsonl",
    standard: Some(StandardForm { media_type: XSPF_MEDIA_TYPE, extension: "xspf", per: Per::Item }),
    recognises,
    codec: Some(Codec { write, read }),
    tables: &[],
    item_files: &[ItemFile { media_type: "audio/x-mpegurl", extension: "m3u8", write: m3u::of_record }],
};

/// The most tracks a playlist may hold when read (Spotify allows 10,000 in a playlist; a
/// library's saved tracks may be more): past it, the rest is reported, not kept.
pub const MAX_TRACKS: usize = 100_000;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Playlist {
    pub title: String,
    #[serde(default)]
    pub kind: PlaylistKind,
    /// Its description as the service gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<DateTime<Utc>>,
    /// Last changed (Spotify gives a date: midnight UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followers: Option<u64>,
    /// Who else may change it, as the service names them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub collaborators: Vec<String>,
    #[serde(default)]
    pub tracks: Vec<Track>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlaylistKind {
    /// A playlist the account made or follows.
    #[default]
    Playlist,
    /// What the account saved in its library ("Liked Songs", "Your Episodes"): a
    /// destination likes or saves these rather than making a playlist of them.
    Library,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Track {
    /// Its place in the playlist, from 1. A gap is an entry the source held but ferry
    /// could not read (reported with the playlist).
    pub position: u32,
    #[serde(default)]
    pub kind: TrackKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Its artists, each as the service names them (an episode's: none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artists: Vec<String>,
    /// Its album (an episode's: its show; an audiobook chapter's: its book).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub album: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isrc: Option<String>,
    /// The service's own identifier (`spotify:track:…`, `spotify:local:…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Where its file is (a URL or a path), for a track that is a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// When it was added to the playlist (Spotify gives a date: midnight UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrackKind {
    /// A track of the service's catalogue.
    #[default]
    Track,
    /// A podcast episode.
    Episode,
    /// An audiobook (or a chapter of one).
    Audiobook,
    /// A file of the account's own, which the service only knows by its tags.
    Local,
}

impl TrackKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TrackKind::Track => "track",
            TrackKind::Episode => "episode",
            TrackKind::Audiobook => "audiobook",
            TrackKind::Local => "local",
        }
    }

    pub fn parse(s: &str) -> Option<TrackKind> {
        [TrackKind::Track, TrackKind::Episode, TrackKind::Audiobook, TrackKind::Local].into_iter().find(|k| k.as_str() == s)
    }
}

impl Playlist {
    pub fn of(item: &Item) -> Result<Playlist, String> {
        match &item.record {
            Record::Other(r) if r.vertical == PLAYLISTS => r.typed(),
            _ => Err(format!("{} is not a playlist", item.id)),
        }
    }
}

/// A playlist a reader found, ready to travel (see the archive connector's contract).
pub type Found = crate::found::Found<Playlist>;

impl crate::found::Typed for Playlist {
    const VERTICAL: Vertical = PLAYLISTS;
    const RECORD_TYPE: &'static str = "playlist";
}

fn recognises(f: &DirFile) -> bool {
    f.top() == Some("playlists") && f.extension().as_deref() == Some("xspf")
}

/// The playlist's XSPF file: the original as it was read, if it was XSPF, else made
/// from the record.
fn write(item: &Item) -> Result<Standard, String> {
    if let Some(o) = &item.original
        && o.media_type == XSPF_MEDIA_TYPE
        && let Ok(text) = std::str::from_utf8(&o.bytes)
    {
        return Ok(Standard { text: text.to_owned(), warnings: vec![] });
    }
    Ok(Standard { text: xspf::render(&Playlist::of(item)?), warnings: vec![] })
}

fn read(id: &str, container: &str, bytes: &[u8]) -> Result<Item, ItemError> {
    let err = |reason: String| ItemError { skipped: false, vertical: PLAYLISTS, id: id.to_owned(), location: id.to_owned(), reason };
    let mut playlist = xspf::parse(bytes).map_err(err)?;
    if playlist.title.is_empty() {
        let last = id.rsplit('/').next().unwrap_or(id);
        playlist.title = last.rsplit_once('.').map_or(last, |(s, _)| s).to_owned();
    }
    let record = OtherRecord::new(PLAYLISTS, "playlist", &playlist).map_err(err)?;
    Ok(Item {
        id: id.to_owned(),
        container: container.to_owned(),
        version: sha256_hex(bytes),
        record: Record::Other(record),
        original: Some(Original { media_type: XSPF_MEDIA_TYPE.into(), bytes: Bytes::copy_from_slice(bytes) }),
        content: None,
        standard: None,
        attachments: vec![],
        references: vec![],
        source_warnings: vec![],
    })
}

/// A date as exporters write one: RFC 3339, or a bare `YYYY-MM-DD` (midnight UTC).
pub(crate) fn date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(d) = chrono::NaiveDateTime::parse_from_str(s.trim_end_matches('Z'), "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(d.and_utc());
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|d| d.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> Playlist {
        Playlist {
            title: "Road trip & <friends> \"2024\"".into(),
            kind: PlaylistKind::Playlist,
            description: Some("Songs for the A7 — ünïcödé, 🎵".into()),
            created: None,
            updated: date("2024-05-01"),
            followers: Some(3),
            collaborators: vec!["anna".into()],
            tracks: vec![
                Track {
                    position: 1,
                    title: Some("Tyler's Song, Part 1".into()),
                    artists: vec!["Tyler, The Creator".into(), "Other".into()],
                    album: Some("Album".into()),
                    duration_ms: Some(210_500),
                    isrc: Some("USAT21234567".into()),
                    uri: Some("spotify:track:4uLU6hMCjMI75M1A2tKUQC".into()),
                    added: date("2024-04-30"),
                    ..Default::default()
                },
                Track {
                    position: 3,
                    kind: TrackKind::Episode,
                    title: Some("Episode 12".into()),
                    album: Some("A Show".into()),
                    uri: Some("spotify:episode:0Q86acNRm6V9GYx55SXKwf".into()),
                    ..Default::default()
                },
                Track {
                    position: 4,
                    kind: TrackKind::Local,
                    title: Some("Demo".into()),
                    artists: vec!["Me".into()],
                    location: Some("file:///music/demo%201.mp3".into()),
                    ..Default::default()
                },
            ],
        }
    }

    #[test]
    fn a_playlist_survives_its_record_its_file_and_the_codec() {
        let p = sample();
        let found = Found { id: "Road trip".into(), container: "".into(), record: p.clone(), files: vec![], warnings: vec!["w".into()] };
        let item = found.clone().into_item();
        assert_eq!(Playlist::of(&item).unwrap(), p);
        assert_eq!(item.source_warnings, ["w"]);
        assert_eq!(item.version, found.into_item().version, "the same record, the same version");
        let json = serde_json::to_string(&item.record).unwrap();
        assert!(json.contains(r#""type":"playlist""#) && json.contains(r#""vertical":"playlists""#), "{json}");
        // through its XSPF file and back
        let text = write(&item).unwrap().text;
        let back = read("playlists/Road trip.xspf", "", text.as_bytes()).unwrap();
        assert_eq!(Playlist::of(&back).unwrap(), p, "{text}");
        // read from a file, written back as it was
        assert_eq!(write(&back).unwrap().text, text);
    }

    #[test]
    fn xspf_files_under_playlists_are_recognised() {
        let f = |rel: &'static str| DirFile { rel, name: rel.rsplit('/').next().unwrap(), head: b"" };
        assert!(recognises(&f("playlists/a.xspf")) && recognises(&f("playlists/Mine/b.XSPF")));
        assert!(!recognises(&f("a.xspf")) && !recognises(&f("playlists/a.m3u8")) && !recognises(&f("files/playlists/a.xspf")));
        // a file without a title is titled after its name
        let item = read(
            "playlists/Mine/Night drive.xspf",
            "Mine",
            br#"<playlist version="1" xmlns="http://xspf.org/ns/0/"><trackList/></playlist>"#,
        )
        .unwrap();
        assert_eq!(Playlist::of(&item).unwrap().title, "Night drive");
        let e = read("playlists/x.xspf", "", b"<html>").unwrap_err();
        assert!(e.vertical == PLAYLISTS && e.reason.contains("XSPF"), "{e}");
    }

    #[test]
    fn the_m3u8_is_declared_beside_the_xspf() {
        let also = DEF.item_files;
        assert_eq!(also.len(), 1);
        assert_ne!(also[0].extension, DEF.standard.unwrap().extension);
        let item = Found { id: "x".into(), container: "".into(), record: sample(), files: vec![], warnings: vec![] }.into_item();
        let text = (also[0].write)(&item.record).unwrap();
        assert!(text.starts_with("#EXTM3U\n"), "{text}");
        assert_eq!(
            (also[0].write)(&Record::Other(OtherRecord::new(Vertical::new("notes"), "note", &serde_json::json!({})).unwrap())),
            None
        );
    }
}

//! Spotify's account data ("Download your data"): `Playlist1.json` (and `Playlist2.json`…)
//! and `YourLibrary.json`, read element by element (a playlist at a time; a library entry
//! at a time), never whole.
//!
//! `PlaylistN.json`: `{"playlists": [{"name", "lastModifiedDate", "collaborators",
//! "description", "numberOfFollowers", "items": [{"track": {"trackName", "artistName",
//! "albumName", "trackUri"}, "episode": {"episodeName", "showName", "episodeUri"},
//! "audiobook": {…}, "localTrack": {"uri"}, "addedDate"}]}]}`: each item is one of track,
//! episode, audiobook or local file (the others null); dates are `YYYY-MM-DD`. The export
//! has no playlist ids, no ISRCs and no durations (a local file's URI carries its
//! duration: `spotify:local:ARTIST:ALBUM:TITLE:SECONDS`).
//!
//! `YourLibrary.json`: `{"tracks": [{"artist", "album", "track", "uri"}], "episodes":
//! [{"name", "show", "uri"}], "albums", "shows", "artists", "bannedTracks", …}`: the saved
//! tracks are one item, "Liked Songs"; the saved episodes another, "Your Episodes"
//! (both `kind: library`). Saved albums, followed artists and shows and banned entries
//! are not playlists: they are counted in the warnings, not kept.

use super::{Found, MAX_TRACKS, Playlist, PlaylistKind, Track, TrackKind, date};
use crate::json_stream::{self, Event};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::io::Read;

/// The largest playlist (one element of `playlists`) read: 10,000 tracks are ~3 MiB.
pub const MAX_ELEMENT: usize = 64 << 20;

/// The ids given so far, so that playlists of the same name (in one file, or in several
/// files of one archive read with the same `SpotifyIds`) get ids of their own.
#[derive(Debug, Default)]
pub struct SpotifyIds {
    used: HashSet<String>,
}

impl SpotifyIds {
    /// The playlist's name (`/` as `_`), with ` (2)`, ` (3)`… for a name met again: the same
    /// input gives the same ids.
    fn next(&mut self, name: &str) -> String {
        let base: String = name.trim().chars().map(|c| if c == '/' || c.is_control() { '_' } else { c }).collect();
        let base = if base.is_empty() { "Untitled playlist".to_owned() } else { base };
        let mut id = base.clone();
        let mut n = 1;
        while !self.used.insert(id.clone()) {
            n += 1;
            id = format!("{base} ({n})");
        }
        id
    }
}

/// Reads a Spotify `PlaylistN.json`, handing each playlist to `each` as soon as it is read
/// (`each` returns false to stop). A playlist that cannot be read is handed as Err(why)
/// and reading goes on; a file that is not a playlists file, or is cut short, is the Err.
pub fn read_spotify_playlists(input: impl Read, each: &mut dyn FnMut(Result<Found, String>) -> bool) -> Result<(), String> {
    read_spotify_playlists_with(input, &mut SpotifyIds::default(), each)
}

/// [`read_spotify_playlists`], with ids kept unique across the files read with `ids`.
pub fn read_spotify_playlists_with(
    input: impl Read,
    ids: &mut SpotifyIds,
    each: &mut dyn FnMut(Result<Found, String>) -> bool,
) -> Result<(), String> {
    let mut seen = false;
    let mut go_on = true;
    json_stream::read(input, MAX_ELEMENT, &mut |e| {
        go_on = match e {
            Event::Element { key: "playlists", index, bytes } => {
                seen = true;
                each(playlist(index, bytes, ids))
            }
            Event::TooLarge { key: "playlists", index, size } => {
                seen = true;
                each(Err(format!("playlist {} is {size} bytes, over the {MAX_ELEMENT} byte limit: not read", index + 1)))
            }
            Event::End { key: "playlists", .. } => {
                seen = true;
                true
            }
            _ => true,
        };
        go_on
    })
    .map_err(|e| format!("Spotify playlists file: {e}"))?;
    if !seen && go_on {
        return Err("not a Spotify playlists file: it has no `playlists`".into());
    }
    Ok(())
}

/// A value read leniently: what does not fit the type is kept as why.
struct Lenient<T>(Result<T, String>);

impl<'de, T: DeserializeOwned> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Ok(Lenient(serde_json::from_value(v).map_err(|e| e.to_string())))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpPlaylist {
    name: Option<String>,
    last_modified_date: Option<String>,
    description: Option<String>,
    number_of_followers: Option<Value>,
    #[serde(default)]
    collaborators: Option<Vec<Value>>,
    #[serde(default)]
    items: Option<Vec<Lenient<SpItem>>>,
    #[serde(flatten)]
    rest: BTreeMap<String, Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpItem {
    track: Option<SpTrack>,
    episode: Option<SpEpisode>,
    audiobook: Option<BTreeMap<String, Value>>,
    local_track: Option<SpTrack>,
    added_date: Option<String>,
    #[serde(flatten)]
    rest: BTreeMap<String, Value>,
}

/// A track, or a local file (which has a `uri` and may have the track's names).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpTrack {
    track_name: Option<String>,
    artist_name: Option<String>,
    album_name: Option<String>,
    #[serde(alias = "uri")]
    track_uri: Option<String>,
    #[serde(flatten)]
    rest: BTreeMap<String, Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpEpisode {
    episode_name: Option<String>,
    show_name: Option<String>,
    #[serde(alias = "uri")]
    episode_uri: Option<String>,
    #[serde(flatten)]
    rest: BTreeMap<String, Value>,
}

/// What a playlist's reading could not keep, said once per kind (not once per track).
#[derive(Default)]
struct Unkept {
    /// Fields the model has no place for: their path, and how many times.
    fields: BTreeMap<String, usize>,
    other: Vec<String>,
    /// What was not said past [`MAX_WARNINGS`].
    more: usize,
}

/// The most warnings one item carries (and the most kinds of field not kept): past them,
/// how many more.
const MAX_WARNINGS: usize = 1000;

impl Unkept {
    fn note(&mut self, warning: String) {
        if self.other.len() < MAX_WARNINGS {
            self.other.push(warning);
        } else {
            self.more += 1;
        }
    }

    fn fields(&mut self, at: &str, rest: &BTreeMap<String, Value>) {
        for (k, v) in rest {
            if v.is_null() {
                continue;
            }
            let path = format!("{at}{k}");
            if self.fields.contains_key(&path) || self.fields.len() < MAX_WARNINGS {
                *self.fields.entry(path).or_default() += 1;
            } else {
                self.more += 1;
            }
        }
    }

    fn into_warnings(self, file: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .fields
            .into_iter()
            .map(|(f, n)| format!("{file}: `{f}` not kept ({n}×): the playlist model has no place for it"))
            .collect();
        out.extend(self.other);
        if self.more > 0 {
            out.push(format!("{file}: {} more like these not said", self.more));
        }
        out
    }
}

fn text(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn playlist(index: usize, bytes: &[u8], ids: &mut SpotifyIds) -> Result<Found, String> {
    let sp: SpPlaylist =
        serde_json::from_slice(bytes).map_err(|e| format!("playlist {}: not a playlist as Spotify writes one ({e})", index + 1))?;
    let name = sp.name.clone().unwrap_or_default();
    let mut unkept = Unkept::default();
    unkept.fields("", &sp.rest);
    let mut p = Playlist { title: name.trim().to_owned(), description: text(sp.description), ..Default::default() };
    if let Some(d) = text(sp.last_modified_date) {
        p.updated = date(&d);
        if p.updated.is_none() {
            unkept.note(format!("lastModifiedDate {d:?} is not a date: not kept"));
        }
    }
    p.followers = match &sp.number_of_followers {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok())) {
            Some(n) => Some(n),
            None => {
                unkept.note(format!("numberOfFollowers {v} is not a count: not kept"));
                None
            }
        },
    };
    for c in sp.collaborators.unwrap_or_default() {
        match c {
            Value::String(s) => p.collaborators.push(s),
            Value::Object(o) if o.get("name").and_then(Value::as_str).is_some() => {
                p.collaborators.push(o["name"].as_str().expect("checked").to_owned())
            }
            Value::Null => {}
            other => unkept.note(format!("collaborator {other} is not a name: not kept")),
        }
    }
    for (i, item) in sp.items.unwrap_or_default().into_iter().enumerate() {
        let position = i as u32 + 1;
        if p.tracks.len() >= MAX_TRACKS {
            unkept.other.push(format!("more than {MAX_TRACKS} tracks: those from position {position} on not kept"));
            break;
        }
        match item.0 {
            Ok(item) => match track(position, item, &mut unkept) {
                Some(t) => p.tracks.push(t),
                None => unkept.note(format!("item {position} is empty (no track, episode, audiobook or local file): not kept")),
            },
            Err(e) => unkept.note(format!("item {position} is not an item as Spotify writes one ({e}): not kept")),
        }
    }
    let mut warnings = unkept.into_warnings(&format!("playlist {:?}", p.title));
    warnings.dedup();
    Ok(Found { id: ids.next(&name), container: String::new(), record: p, files: vec![], warnings })
}

fn track(position: u32, item: SpItem, unkept: &mut Unkept) -> Option<Track> {
    unkept.fields("items[].", &item.rest);
    let mut t = Track { position, ..Default::default() };
    if let Some(d) = text(item.added_date) {
        t.added = date(&d);
        if t.added.is_none() {
            unkept.note(format!("item {position}: addedDate {d:?} is not a date: not kept"));
        }
    }
    if let Some(s) = item.track {
        unkept.fields("items[].track.", &s.rest);
        t.title = text(s.track_name);
        t.artists = text(s.artist_name).into_iter().collect();
        t.album = text(s.album_name);
        t.uri = text(s.track_uri);
    } else if let Some(e) = item.episode {
        unkept.fields("items[].episode.", &e.rest);
        t.kind = TrackKind::Episode;
        t.title = text(e.episode_name);
        t.album = text(e.show_name);
        t.uri = text(e.episode_uri);
    } else if let Some(mut a) = item.audiobook {
        t.kind = TrackKind::Audiobook;
        let mut take =
            |keys: &[&str]| keys.iter().find_map(|k| a.remove(*k).and_then(|v| v.as_str().map(str::to_owned))).and_then(|s| text(Some(s)));
        t.title = take(&["audiobookName", "chapterName", "name"]);
        t.artists = take(&["authorName", "author"]).into_iter().collect();
        t.uri = take(&["audiobookUri", "chapterUri", "uri"]);
        unkept.fields("items[].audiobook.", &a);
    } else if let Some(l) = item.local_track {
        unkept.fields("items[].localTrack.", &l.rest);
        t.kind = TrackKind::Local;
        t.uri = text(l.track_uri);
        // the names the URI carries, where the item does not give them
        let (artist, album, title, seconds) = t.uri.as_deref().map(local_uri).unwrap_or_default();
        t.title = text(l.track_name).or(title);
        t.artists = text(l.artist_name).or(artist).into_iter().collect();
        t.album = text(l.album_name).or(album);
        t.duration_ms = seconds.map(|s| s * 1000);
    } else {
        return None;
    }
    Some(t)
}

/// A local file's URI, `spotify:local:ARTIST:ALBUM:TITLE:SECONDS` (each part URL-encoded,
/// `+` for a space, any part possibly empty), as its parts.
fn local_uri(uri: &str) -> (Option<String>, Option<String>, Option<String>, Option<u64>) {
    let Some(rest) = uri.strip_prefix("spotify:local:") else { return Default::default() };
    let parts: Vec<&str> = rest.split(':').collect();
    if parts.len() != 4 {
        return Default::default();
    }
    let decode = |s: &str| text(Some(percent_decode(&s.replace('+', " "))));
    (decode(parts[0]), decode(parts[1]), decode(parts[2]), parts[3].parse().ok())
}

/// `%XX` escapes as the UTF-8 bytes they stand for (a broken escape is kept as written).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Deserialize)]
struct LibTrack {
    artist: Option<String>,
    album: Option<String>,
    track: Option<String>,
    uri: Option<String>,
    #[serde(flatten)]
    rest: BTreeMap<String, Value>,
}

#[derive(Deserialize)]
struct LibEpisode {
    name: Option<String>,
    show: Option<String>,
    uri: Option<String>,
    #[serde(flatten)]
    rest: BTreeMap<String, Value>,
}

/// One more entry of a part of the library that is not kept (at most `MAX_PARTS` parts
/// are named; the rest are counted together).
fn count(others: &mut BTreeMap<String, usize>, key: &str) {
    const MAX_PARTS: usize = 100;
    let key = if others.contains_key(key) || others.len() < MAX_PARTS { key } else { "(other parts)" };
    *others.entry(key.to_owned()).or_default() += 1;
}

/// What the library's entries other than tracks and episodes are, for the warnings.
fn library_part(key: &str) -> String {
    match key {
        "albums" => "saved albums".into(),
        "artists" => "followed artists".into(),
        "shows" => "followed shows (podcasts)".into(),
        "bannedTracks" => "banned (hidden) tracks".into(),
        "bannedArtists" => "banned (hidden) artists".into(),
        "audiobooks" => "saved audiobooks".into(),
        "(other parts)" => "entries of yet other parts".into(),
        other => format!("`{other}` entries"),
    }
}

/// One of the library's two playlist-like items as it is being read.
struct Collecting {
    id: &'static str,
    playlist: Playlist,
    unkept: Unkept,
    entries: usize,
    full: bool,
}

impl Collecting {
    fn new(id: &'static str, title: &str) -> Self {
        Collecting {
            id,
            playlist: Playlist { title: title.into(), kind: PlaylistKind::Library, ..Default::default() },
            unkept: Unkept::default(),
            entries: 0,
            full: false,
        }
    }

    fn add(&mut self, entry: Result<Option<Track>, String>) {
        self.entries += 1;
        let position = self.entries as u32;
        match entry {
            _ if self.playlist.tracks.len() >= MAX_TRACKS => {
                if !self.full {
                    self.full = true;
                    self.unkept.other.push(format!("more than {MAX_TRACKS} entries: those from {position} on not kept"));
                }
            }
            Ok(Some(mut t)) => {
                t.position = position;
                self.playlist.tracks.push(t)
            }
            Ok(None) => self.unkept.note(format!("entry {position} is empty: not kept")),
            Err(e) => self.unkept.note(format!("entry {position}: {e}: not kept")),
        }
    }

    fn found(self, more: Vec<String>) -> Found {
        let mut warnings = self.unkept.into_warnings(&format!("YourLibrary.json {:?}", self.playlist.title));
        warnings.extend(more);
        Found { id: self.id.into(), container: String::new(), record: self.playlist, files: vec![], warnings }
    }
}

/// Reads a Spotify `YourLibrary.json`: its saved tracks as one item ("Liked Songs", id
/// `library/liked-songs`) and its saved episodes as another ("Your Episodes", id
/// `library/your-episodes`), each handed to `each` at the end of the file; what else the
/// library holds (albums, artists, shows, banned entries) is counted in their warnings
/// (or, with neither, handed as Err: nothing is dropped unsaid). Memory: the two lists
/// (at most [`MAX_TRACKS`] entries each), one entry read at a time.
pub fn read_spotify_library(input: impl Read, each: &mut dyn FnMut(Result<Found, String>) -> bool) -> Result<(), String> {
    let mut liked: Option<Collecting> = None;
    let mut episodes: Option<Collecting> = None;
    // each other part of the library, and how many entries it has
    let mut others: BTreeMap<String, usize> = BTreeMap::new();
    json_stream::read(input, MAX_ELEMENT, &mut |e| {
        match e {
            Event::Element { key: "tracks", bytes, .. } => {
                let entry = serde_json::from_slice::<LibTrack>(bytes).map_err(|e| format!("not a saved track ({e})"));
                let c = liked.get_or_insert_with(|| Collecting::new("library/liked-songs", "Liked Songs"));
                let entry = entry.map(|t| {
                    c.unkept.fields("tracks[].", &t.rest);
                    let t = Track {
                        title: text(t.track),
                        artists: text(t.artist).into_iter().collect(),
                        album: text(t.album),
                        uri: text(t.uri),
                        ..Default::default()
                    };
                    (t.title.is_some() || t.uri.is_some()).then_some(t)
                });
                c.add(entry);
            }
            Event::Element { key: "episodes", bytes, .. } => {
                let entry = serde_json::from_slice::<LibEpisode>(bytes).map_err(|e| format!("not a saved episode ({e})"));
                let c = episodes.get_or_insert_with(|| Collecting::new("library/your-episodes", "Your Episodes"));
                let entry = entry.map(|t| {
                    c.unkept.fields("episodes[].", &t.rest);
                    let t = Track {
                        kind: TrackKind::Episode,
                        title: text(t.name),
                        album: text(t.show),
                        uri: text(t.uri),
                        ..Default::default()
                    };
                    (t.title.is_some() || t.uri.is_some()).then_some(t)
                });
                c.add(entry);
            }
            Event::TooLarge { key: key @ ("tracks" | "episodes"), size, .. } => {
                let c = if key == "tracks" {
                    liked.get_or_insert_with(|| Collecting::new("library/liked-songs", "Liked Songs"))
                } else {
                    episodes.get_or_insert_with(|| Collecting::new("library/your-episodes", "Your Episodes"))
                };
                c.add(Err(format!("{size} bytes, over the {MAX_ELEMENT} byte limit")));
            }
            Event::End { key: "tracks", .. } => {
                liked.get_or_insert_with(|| Collecting::new("library/liked-songs", "Liked Songs"));
            }
            Event::Element { key, .. } | Event::TooLarge { key, .. } => count(&mut others, key),
            Event::Value { key, bytes } if bytes != Some(b"null") => count(&mut others, key),
            _ => {}
        }
        true
    })
    .map_err(|e| format!("Spotify library file: {e}"))?;
    if liked.is_none() && episodes.is_none() && others.is_empty() {
        return Err("not a Spotify library file: it has no `tracks`, `episodes` or other saved entries".into());
    }
    let mut more: Vec<String> = others
        .into_iter()
        .map(|(k, n)| format!("YourLibrary.json: {n} {} not kept: the playlists vertical holds tracks and episodes", library_part(&k)))
        .collect();
    let mut go_on = true;
    for c in [liked, episodes].into_iter().flatten() {
        if go_on {
            go_on = each(Ok(c.found(std::mem::take(&mut more))));
        }
    }
    if go_on {
        for m in more {
            if !each(Err(m)) {
                break;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(json: &str) -> (Vec<Result<Found, String>>, Result<(), String>) {
        let mut out = Vec::new();
        let r = read_spotify_playlists(json.as_bytes(), &mut |f| {
            out.push(f);
            true
        });
        (out, r)
    }

    /// A `Playlist1.json` as Spotify writes it (Jackson's ` : ` spacing), with each kind of
    /// item, an empty one, unicode, a number as a string, a field ferry has no place for.
    const PLAYLISTS: &str = r##"{
  "playlists" : [ {
    "name" : "Sommer ☀️ 2023",
    "lastModifiedDate" : "2023-08-01",
    "collaborators" : [ ],
    "items" : [ {
      "track" : {
        "trackName" : "Çà et là",
        "artistName" : "Tyler, The Creator",
        "albumName" : "Flower Boy",
        "trackUri" : "spotify:track:6h9Qte2xMwUfmvpaYWzHbG"
      },
      "episode" : null,
      "audiobook" : null,
      "localTrack" : null,
      "addedDate" : "2023-07-14"
    }, {
      "track" : null,
      "episode" : {
        "episodeName" : "#112 Die Folge",
        "showName" : "Ein Podcast",
        "episodeUri" : "spotify:episode:5Xt5DXGzch68nYYamXrNxZ"
      },
      "audiobook" : null,
      "localTrack" : null,
      "addedDate" : "2023-07-15"
    }, {
      "track" : null,
      "episode" : null,
      "audiobook" : null,
      "localTrack" : {
        "uri" : "spotify:local:Die+%C3%84rzte:Geräusch:Unrockbar%3A+Live:215"
      },
      "addedDate" : "sometime"
    }, {
      "track" : null, "episode" : null, "audiobook" : null, "localTrack" : null, "addedDate" : "2023-07-16"
    }, {
      "localTrack" : { "trackName" : "Voice memo", "artistName" : "Me" },
      "addedDate" : "2023-07-18T09:30:00Z"
    }, {
      "track" : { "trackName" : "No URI, no album", "artistName" : "Someone" },
      "addedDate" : "2023-07-17",
      "color" : "blue"
    } ],
    "description" : "Für den <b>Sommer</b>",
    "numberOfFollowers" : "12"
  }, {
    "name" : "Sommer ☀️ 2023",
    "lastModifiedDate" : "2021-01-01",
    "items" : [ ],
    "description" : null,
    "numberOfFollowers" : 0
  }, {
    "name" : "Broken",
    "items" : "not a list"
  }, {
    "name" : "Unreadable item",
    "items" : [ { "track" : { "trackName" : 42 } }, { "track" : { "trackName" : "ok" } } ]
  } ]
}"##;

    #[test]
    fn each_playlist_with_each_kind_of_item() {
        let (found, r) = read_all(PLAYLISTS);
        r.unwrap();
        assert_eq!(found.len(), 4);
        let p = found[0].as_ref().unwrap();
        assert_eq!((p.id.as_str(), p.container.as_str()), ("Sommer ☀️ 2023", ""));
        let rec = &p.record;
        assert_eq!(rec.updated, date("2023-08-01"));
        assert_eq!((rec.followers, rec.description.as_deref()), (Some(12), Some("Für den <b>Sommer</b>")));
        assert_eq!(rec.tracks.iter().map(|t| t.position).collect::<Vec<_>>(), [1, 2, 3, 5, 6], "the empty item leaves its gap");
        let t = &rec.tracks[0];
        assert_eq!((t.kind, t.title.as_deref(), t.album.as_deref()), (TrackKind::Track, Some("Çà et là"), Some("Flower Boy")));
        assert_eq!(t.artists, ["Tyler, The Creator"], "an artist's name with a comma stays one artist");
        assert_eq!(
            (t.uri.as_deref(), t.added, t.isrc.as_deref()),
            (Some("spotify:track:6h9Qte2xMwUfmvpaYWzHbG"), date("2023-07-14"), None)
        );
        let e = &rec.tracks[1];
        assert_eq!((e.kind, e.title.as_deref(), e.album.as_deref()), (TrackKind::Episode, Some("#112 Die Folge"), Some("Ein Podcast")));
        let l = &rec.tracks[2];
        assert_eq!(l.kind, TrackKind::Local);
        assert_eq!(
            (l.title.as_deref(), l.artists.as_slice(), l.album.as_deref()),
            (Some("Unrockbar: Live"), &["Die Ärzte".to_owned()][..], Some("Geräusch"))
        );
        assert_eq!((l.duration_ms, l.added), (Some(215_000), None));
        let v = &rec.tracks[3];
        assert_eq!(
            (v.kind, v.uri.as_deref(), v.title.as_deref(), v.artists.as_slice()),
            (TrackKind::Local, None, Some("Voice memo"), &["Me".to_owned()][..])
        );
        assert_eq!(v.added, date("2023-07-18T09:30:00Z"), "a full time as well as a bare date");
        let n = &rec.tracks[4];
        assert_eq!((n.uri.as_deref(), n.album.as_deref(), n.title.as_deref()), (None, None, Some("No URI, no album")));
        let w = p.warnings.join("\n");
        assert!(w.contains("item 4 is empty"), "{w}");
        assert!(w.contains("addedDate \"sometime\" is not a date"), "{w}");
        assert!(w.contains("`items[].color` not kept (1×)"), "{w}");
        // the same name again: its own id; an unreadable playlist is an Err, reading goes on
        let again = found[1].as_ref().unwrap();
        assert_eq!((again.id.as_str(), again.record.followers, again.record.tracks.len()), ("Sommer ☀️ 2023 (2)", Some(0), 0));
        assert!(found[2].as_ref().unwrap_err().contains("playlist 3: not a playlist"), "{:?}", found[2]);
        let u = found[3].as_ref().unwrap();
        assert_eq!(u.record.tracks.iter().map(|t| t.position).collect::<Vec<_>>(), [2]);
        assert!(u.warnings.iter().any(|w| w.contains("item 1 is not an item")), "{:?}", u.warnings);
    }

    #[test]
    fn ids_stay_unique_across_files_and_the_same_input_gives_the_same_ids() {
        let file = r#"{"playlists": [{"name": "Mix", "items": []}, {"name": "Mix (2)", "items": []}, {"name": "Mix", "items": []}, {"name": " a/b ", "items": []}, {"name": "", "items": []}]}"#;
        let ids = |ids: &mut SpotifyIds| {
            let mut out = Vec::new();
            read_spotify_playlists_with(file.as_bytes(), ids, &mut |f| {
                out.push(f.unwrap().id);
                true
            })
            .unwrap();
            out
        };
        let first = ids(&mut SpotifyIds::default());
        assert_eq!(first, ["Mix", "Mix (2)", "Mix (3)", "a_b", "Untitled playlist"]);
        assert_eq!(ids(&mut SpotifyIds::default()), first);
        let mut shared = SpotifyIds::default();
        ids(&mut shared);
        assert_eq!(ids(&mut shared)[0], "Mix (4)", "a second file read with the same ids");
    }

    #[test]
    fn not_a_playlists_file_truncated_or_hostile() {
        assert!(read_all(r#"{"tracks": []}"#).1.unwrap_err().contains("no `playlists`"));
        assert!(read_all("[1, 2]").1.unwrap_err().contains("no `playlists`"));
        assert!(read_all("<html>").1.unwrap_err().contains("Spotify playlists file: not a JSON object or array"));
        // cut short: the whole playlists before the cut are handed, then the Err
        let cut = &PLAYLISTS[..PLAYLISTS.find("\"Broken\"").unwrap()];
        let (found, r) = read_all(cut);
        assert_eq!(found.len(), 2);
        assert!(r.unwrap_err().contains("cut short"));
        // a playlist over the limit is an Err record, not an allocation; the next is read
        let huge = format!(
            r#"{{"playlists": [{{"name": "big", "description": "{}"}}, {{"name": "next", "items": []}}]}}"#,
            "x".repeat(MAX_ELEMENT + 1)
        );
        let (found, r) = read_all(&huge);
        r.unwrap();
        assert!(found[0].as_ref().unwrap_err().contains("over the"), "{:?}", found[0].as_ref().err());
        assert_eq!(found[1].as_ref().unwrap().id, "next");
        // deep nesting is refused by the element's parser, not by a stack overflow
        let deep = format!(r#"{{"playlists": [{{"name": "d", "x": {}{}}}]}}"#, "[".repeat(100_000), "]".repeat(100_000));
        let (found, r) = read_all(&deep);
        r.unwrap();
        assert!(found[0].is_err());
        // stopping stops
        let mut n = 0;
        read_spotify_playlists(PLAYLISTS.as_bytes(), &mut |_| {
            n += 1;
            false
        })
        .unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn a_playlist_of_more_than_the_most_tracks_keeps_the_first_and_says_so() {
        let item = r#"{"track": {"trackName": "t", "artistName": "a", "trackUri": "spotify:track:x"}, "addedDate": "2020-01-01"}"#;
        let json = format!(r#"{{"playlists": [{{"name": "long", "items": [{}]}}]}}"#, vec![item; MAX_TRACKS + 2].join(","));
        let (found, r) = read_all(&json);
        r.unwrap();
        let p = found[0].as_ref().unwrap();
        assert_eq!(p.record.tracks.len(), MAX_TRACKS);
        assert!(p.warnings.iter().any(|w| w.contains(&format!("from position {} on not kept", MAX_TRACKS + 1))), "{:?}", p.warnings);
    }

    #[test]
    fn the_library_is_liked_songs_and_your_episodes_and_says_what_else_it_held() {
        let lib = "\u{feff}{\r\n  \"tracks\" : [ {\r\n    \"artist\" : \"Sigur Rós\",\r\n    \"album\" : \"()\",\r\n    \"track\" : \"Untitled #1\",\r\n    \"uri\" : \"spotify:track:1\"\r\n  }, {\"artist\": \"x\"}, {\"track\": \"t\", \"uri\": \"spotify:track:2\", \"addedAt\": \"2020\"}, 7 ],\r\n  \"albums\" : [ {\"artist\": \"a\", \"album\": \"b\", \"uri\": \"spotify:album:1\"} ],\r\n  \"shows\" : [ ], \"artists\" : [ {\"name\": \"n\", \"uri\": \"u\"}, {\"name\": \"m\", \"uri\": \"v\"} ],\r\n  \"episodes\" : [ {\"name\": \"Ep\", \"show\": \"Show\", \"uri\": \"spotify:episode:1\"} ],\r\n  \"bannedTracks\" : [ ], \"other\" : [ \"x\" ]\r\n}\r\n";
        let mut out = Vec::new();
        read_spotify_library(lib.as_bytes(), &mut |f| {
            out.push(f);
            true
        })
        .unwrap();
        assert_eq!(out.len(), 2);
        let liked = out[0].as_ref().unwrap();
        assert_eq!(
            (liked.id.as_str(), liked.record.title.as_str(), liked.record.kind),
            ("library/liked-songs", "Liked Songs", PlaylistKind::Library)
        );
        assert_eq!(liked.record.tracks.iter().map(|t| t.position).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(liked.record.tracks[0].artists, ["Sigur Rós"]);
        assert_eq!(liked.record.tracks[0].album.as_deref(), Some("()"));
        let w = liked.warnings.join("\n");
        for says in [
            "entry 2 is empty",
            "entry 4: not a saved track",
            "`tracks[].addedAt` not kept",
            "1 saved albums not kept",
            "2 followed artists not kept",
            "1 `other` entries",
        ] {
            assert!(w.contains(says), "{says}: {w}");
        }
        assert!(!w.contains("shows"), "an empty part is not reported: {w}");
        let eps = out[1].as_ref().unwrap();
        assert_eq!(eps.id, "library/your-episodes");
        assert_eq!((eps.record.tracks[0].kind, eps.record.tracks[0].album.as_deref()), (TrackKind::Episode, Some("Show")));
        assert!(eps.warnings.is_empty(), "{:?}", eps.warnings);
    }

    #[test]
    fn warnings_are_bounded_however_many_entries_are_bad() {
        let json = format!(
            r#"{{"tracks": [{}], {}}}"#,
            vec!["{}"; 5000].join(","),
            (0..300).map(|i| format!("\"part{i}\": [1]")).collect::<Vec<_>>().join(",")
        );
        let mut out = Vec::new();
        read_spotify_library(json.as_bytes(), &mut |f| {
            out.push(f.unwrap());
            true
        })
        .unwrap();
        let w = &out[0].warnings;
        assert_eq!(w.len(), MAX_WARNINGS + 1 + 101, "the first warnings, how many more, the parts named and the rest together");
        assert!(w.iter().any(|w| w.contains("4000 more like these not said")), "{:?}", &w[w.len() - 5..]);
        assert!(w.iter().any(|w| w.contains("200 entries of yet other parts not kept")), "{:?}", &w[w.len() - 5..]);
    }

    #[test]
    fn a_library_without_tracks_hands_what_it_held_as_errors() {
        let mut out = Vec::new();
        read_spotify_library(r#"{"albums": [{"album": "a"}], "artists": []}"#.as_bytes(), &mut |f| {
            out.push(f);
            true
        })
        .unwrap();
        assert_eq!(out.len(), 1);
        assert!(out[0].as_ref().unwrap_err().contains("1 saved albums not kept"));
        let mut none = |_: Result<Found, String>| true;
        assert!(read_spotify_library(&b"{}"[..], &mut none).unwrap_err().contains("no `tracks`"));
        assert!(read_spotify_library(&br#"{"tracks": [{"track": "a"}, "#[..], &mut none).unwrap_err().contains("cut short"));
        // an empty `tracks`: an empty Liked Songs (the library was read, it holds none)
        let mut out = Vec::new();
        read_spotify_library(&br#"{"tracks": []}"#[..], &mut |f| {
            out.push(f.unwrap());
            true
        })
        .unwrap();
        assert_eq!((out.len(), out[0].record.tracks.len()), (1, 0));
    }

    #[test]
    fn local_file_uris_are_taken_apart() {
        assert_eq!(local_uri("spotify:local:A+B:%C3%A9t%C3%A9::123"), (Some("A B".into()), Some("été".into()), None, Some(123)));
        assert_eq!(local_uri("spotify:local:only:three:parts"), Default::default());
        assert_eq!(local_uri("spotify:track:x"), Default::default());
        assert_eq!(percent_decode("100%+%zz%4"), "100%+%zz%4");
    }
}

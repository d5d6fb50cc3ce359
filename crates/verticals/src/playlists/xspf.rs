//! XSPF ("XML Shareable Playlist Format", https://www.xspf.org/spec), both ways. What
//! XSPF has no element for (an ISRC, when a track was added, a playlist's followers,
//! each of several artists) is written as `<meta rel="https://ferry.dev/ns#NAME">`, which
//! XSPF readers that do not know it pass over.

use super::{MAX_TRACKS, Playlist, PlaylistKind, Track, TrackKind, date};
use chrono::{DateTime, SecondsFormat, Utc};
use quick_xml::events::Event;

/// XSPF's namespace.
pub const NS: &str = "http://xspf.org/ns/0/";
/// ferry's `meta` names: this prefix and the field's name.
pub const FERRY_NS: &str = "https://ferry.dev/ns#";

/// A playlist as an XSPF document.
pub fn render(p: &Playlist) -> String {
    let mut out = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<playlist version=\"1\" xmlns=\"{NS}\">\n");
    element(&mut out, 1, "title", &p.title);
    if let Some(d) = &p.description {
        element(&mut out, 1, "annotation", d);
    }
    if let Some(d) = p.created {
        element(&mut out, 1, "date", &time(d));
    }
    if p.kind == PlaylistKind::Library {
        meta(&mut out, 1, "kind", "library");
    }
    if let Some(d) = p.updated {
        meta(&mut out, 1, "updated", &time(d));
    }
    if let Some(f) = p.followers {
        meta(&mut out, 1, "followers", &f.to_string());
    }
    for c in &p.collaborators {
        meta(&mut out, 1, "collaborator", c);
    }
    if p.tracks.is_empty() {
        out.push_str("  <trackList/>\n</playlist>\n");
        return out;
    }
    out.push_str("  <trackList>\n");
    for (i, t) in p.tracks.iter().enumerate() {
        out.push_str("    <track>\n");
        if let Some(l) = &t.location {
            element(&mut out, 3, "location", l);
        }
        if let Some(u) = &t.uri {
            element(&mut out, 3, "identifier", u);
        }
        if let Some(v) = &t.title {
            element(&mut out, 3, "title", v);
        }
        if !t.artists.is_empty() {
            element(&mut out, 3, "creator", &t.artists.join(", "));
        }
        if let Some(v) = &t.album {
            element(&mut out, 3, "album", v);
        }
        if let Some(d) = t.duration_ms {
            element(&mut out, 3, "duration", &d.to_string());
        }
        // several artists: each, as `creator` joins them
        if t.artists.len() > 1 {
            for a in &t.artists {
                meta(&mut out, 3, "artist", a);
            }
        }
        if t.kind != TrackKind::Track {
            meta(&mut out, 3, "kind", t.kind.as_str());
        }
        if let Some(v) = &t.isrc {
            meta(&mut out, 3, "isrc", v);
        }
        if let Some(d) = t.added {
            meta(&mut out, 3, "added", &time(d));
        }
        // the position, where the order alone does not say it (a gap)
        if t.position as usize != i + 1 {
            meta(&mut out, 3, "position", &t.position.to_string());
        }
        out.push_str("    </track>\n");
    }
    out.push_str("  </trackList>\n</playlist>\n");
    out
}

fn time(d: DateTime<Utc>) -> String {
    d.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn element(out: &mut String, depth: usize, name: &str, text: &str) {
    out.push_str(&format!("{}<{name}>{}</{name}>\n", "  ".repeat(depth), escape(text)));
}

fn meta(out: &mut String, depth: usize, name: &str, text: &str) {
    out.push_str(&format!("{}<meta rel=\"{FERRY_NS}{name}\">{}</meta>\n", "  ".repeat(depth), escape(text)));
}

/// Text as XML 1.0 holds it: escaped, and without the control characters it cannot hold
/// at all (each becomes U+FFFD).
fn escape(s: &str) -> String {
    let clean: String = s.chars().map(|c| if c.is_control() && !matches!(c, '\t' | '\n' | '\r') { '\u{fffd}' } else { c }).collect();
    quick_xml::escape::escape(&clean).into_owned()
}

/// Reads an XSPF document (as ferry writes it, and as other players do: VLC, foobar2000,
/// Strawberry). Elements XSPF has and ferry does not model (`image`, `link`, `extension`)
/// are passed over; a document that is not XSPF, or breaks off, is refused.
pub fn parse(bytes: &[u8]) -> Result<Playlist, String> {
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut p = Playlist::default();
    let mut stack: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut rel: Option<String> = None;
    let mut track: Option<Track> = None;
    // a track's artists given one by one (`meta rel=…#artist`), which win over `creator`
    let mut artists: Vec<String> = Vec::new();
    let mut seen_playlist = false;
    let mut buf = Vec::new();
    loop {
        let ev =
            reader.read_event_into(&mut buf).map_err(|e| format!("not XSPF: broken XML at byte {} ({e})", reader.buffer_position()))?;
        let opens = matches!(ev, Event::Start(_));
        match ev {
            Event::Start(e) | Event::Empty(e) if stack.is_empty() => {
                if e.local_name().as_ref() != b"playlist" {
                    return Err(format!(
                        "not XSPF: the document is a <{}>, not a <playlist>",
                        String::from_utf8_lossy(e.local_name().as_ref())
                    ));
                }
                seen_playlist = true;
                if opens {
                    stack.push("playlist".into());
                }
            }
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if name == "track" && stack.last().is_some_and(|s| s == "trackList") {
                    if p.tracks.len() >= MAX_TRACKS {
                        return Err(format!("more than {MAX_TRACKS} tracks: not a playlist ferry reads"));
                    }
                    track = Some(Track { position: p.tracks.len() as u32 + 1, ..Default::default() });
                    artists.clear();
                }
                rel = (name == "meta")
                    .then(|| e.try_get_attribute("rel").ok().flatten().and_then(|a| a.unescape_value().ok().map(|v| v.into_owned())))
                    .flatten();
                text.clear();
                stack.push(name);
            }
            Event::Text(t) => {
                let raw = t.decode().map_err(|e| format!("not XSPF: {e}"))?;
                text.push_str(&quick_xml::escape::unescape(&raw).map(|c| c.into_owned()).unwrap_or_else(|_| raw.into_owned()));
            }
            Event::CData(c) => text.push_str(&String::from_utf8_lossy(&c.into_inner())),
            Event::GeneralRef(r) => match r.resolve_char_ref() {
                Ok(Some(c)) => text.push(c),
                _ => text.push_str(match r.as_ref() {
                    b"lt" => "<",
                    b"gt" => ">",
                    b"amp" => "&",
                    b"quot" => "\"",
                    b"apos" => "'",
                    _ => "\u{fffd}",
                }),
            },
            Event::End(_) => {
                let Some(name) = stack.pop() else { continue };
                let value = std::mem::take(&mut text).trim().to_owned();
                let parent = stack.last().map(String::as_str);
                match (parent, track.as_mut()) {
                    (Some("track"), Some(t)) => set_track(t, &name, rel.as_deref(), value, &mut artists),
                    (Some("trackList"), Some(_)) if name == "track" => {
                        let mut t = track.take().expect("just matched");
                        if !artists.is_empty() {
                            t.artists = std::mem::take(&mut artists);
                        }
                        p.tracks.push(t);
                    }
                    (Some("playlist"), _) => set_playlist(&mut p, &name, rel.as_deref(), value),
                    _ => {}
                }
                if name == "meta" {
                    rel = None;
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !seen_playlist {
        return Err("not XSPF: no <playlist> in it".into());
    }
    if !stack.is_empty() {
        return Err(format!("not XSPF: the document breaks off inside <{}>", stack.join("><")));
    }
    // positions must go up: a file with them out of order is read in its order
    if p.tracks.windows(2).any(|w| w[0].position >= w[1].position) {
        for (i, t) in p.tracks.iter_mut().enumerate() {
            t.position = i as u32 + 1;
        }
    }
    Ok(p)
}

fn ferry_name(rel: Option<&str>) -> Option<&str> {
    rel.and_then(|r| r.strip_prefix(FERRY_NS))
}

fn set_playlist(p: &mut Playlist, name: &str, rel: Option<&str>, value: String) {
    match name {
        "title" => p.title = value,
        "annotation" => p.description = Some(value),
        "date" => p.created = date(&value),
        "meta" => match ferry_name(rel) {
            Some("kind") if value == "library" => p.kind = PlaylistKind::Library,
            Some("updated") => p.updated = date(&value),
            Some("followers") => p.followers = value.parse().ok(),
            Some("collaborator") => p.collaborators.push(value),
            _ => {}
        },
        _ => {}
    }
}

fn set_track(t: &mut Track, name: &str, rel: Option<&str>, value: String, artists: &mut Vec<String>) {
    let first = |slot: &mut Option<String>| {
        if slot.is_none() && !value.is_empty() {
            *slot = Some(value.clone());
        }
    };
    match name {
        "location" => first(&mut t.location),
        "identifier" => first(&mut t.uri),
        "title" => first(&mut t.title),
        "album" => first(&mut t.album),
        "creator" if !value.is_empty() => t.artists = vec![value],
        "duration" => t.duration_ms = value.parse().ok(),
        "meta" => match ferry_name(rel) {
            Some("artist") => artists.push(value),
            Some("kind") => t.kind = TrackKind::parse(&value).unwrap_or_default(),
            Some("isrc") => first(&mut t.isrc),
            Some("added") => t.added = date(&value),
            Some("position") => t.position = value.parse().unwrap_or(t.position),
            _ => {}
        },
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_players_write_are_read() {
        // as VLC writes one: locations, a vlc extension, entities, a CDATA title
        let vlc = r#"<?xml version="1.0" encoding="UTF-8"?>
<playlist xmlns="http://xspf.org/ns/0/" xmlns:vlc="http://www.videolan.org/vlc/playlist/ns/0/" version="1">
	<title>Wiedergabeliste</title>
	<trackList>
		<track>
			<location>file:///home/u/Music/Caf%C3%A9%20del%20Mar.flac</location>
			<title><![CDATA[Café <del> Mar]]></title>
			<creator>Björk &amp; Friends</creator>
			<duration>245000</duration>
			<extension application="http://www.videolan.org/vlc/playlist/0"><vlc:id>0</vlc:id></extension>
		</track>
		<track><location>https://radio.example/stream?a=1&amp;b=2</location><image>x.png</image></track>
	</trackList>
	<extension application="http://www.videolan.org/vlc/playlist/0"><vlc:item tid="0"/></extension>
</playlist>"#;
        let p = parse(vlc.as_bytes()).unwrap();
        assert_eq!(p.title, "Wiedergabeliste");
        assert_eq!(p.tracks.len(), 2);
        let t = &p.tracks[0];
        assert_eq!(t.title.as_deref(), Some("Café <del> Mar"));
        assert_eq!(t.artists, ["Björk & Friends"]);
        assert_eq!((t.duration_ms, t.position), (Some(245_000), 1));
        assert_eq!(p.tracks[1].location.as_deref(), Some("https://radio.example/stream?a=1&b=2"));
        assert_eq!(p.tracks[1].position, 2);
    }

    #[test]
    fn ferrys_own_meta_carries_what_xspf_has_no_element_for() {
        let mut p = super::super::tests::sample();
        assert!(render(&p).contains("<title>Road trip &amp; &lt;friends&gt;"), "{}", render(&p));
        p.kind = PlaylistKind::Library;
        p.created = date("2020-01-02T03:04:05Z");
        p.title = "bell\u{7} and tab\t".into();
        let text = render(&p);
        assert!(text.contains(&format!("<meta rel=\"{FERRY_NS}isrc\">USAT21234567</meta>")), "{text}");
        assert!(text.contains("<creator>Tyler, The Creator, Other</creator>"), "{text}");
        let back = parse(text.as_bytes()).unwrap();
        assert_eq!(back.title, "bell\u{fffd} and tab", "control characters XML cannot hold are replaced");
        p.title = back.title.clone();
        assert_eq!(back, p);
    }

    #[test]
    fn bad_documents_are_refused_with_why() {
        for (doc, says) in [
            (&b"not xml at all"[..], "no <playlist>"),
            (b"<rss version=\"2.0\"><channel/></rss>", "<rss>"),
            (b"<playlist version=\"1\"><trackList><track><title>cut", "breaks off"),
            (b"<playlist><title>a</titl></playlist>", "broken XML"),
            (b"", "no <playlist>"),
        ] {
            let e = parse(doc).unwrap_err();
            assert!(e.contains(says), "{}: {e}", String::from_utf8_lossy(doc));
        }
        let many = format!("<playlist><trackList>{}</trackList></playlist>", "<track/>".repeat(10));
        assert_eq!(parse(many.as_bytes()).unwrap().tracks.len(), 0, "empty tracks (<track/>) hold nothing");
        let many = format!("<playlist><trackList>{}</trackList></playlist>", "<track></track>".repeat(MAX_TRACKS + 1));
        assert!(parse(many.as_bytes()).unwrap_err().contains("more than"));
    }
}

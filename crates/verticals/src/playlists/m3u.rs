//! A playlist as an extended M3U file in UTF-8 (`.m3u8`), the list most players open:
//! `#EXTM3U`, `#PLAYLIST:` its title, then per track `#EXTINF:SECONDS,ARTISTS - TITLE`,
//! `#EXTALB:` its album and its location (the file's, else the service's URI). A track
//! with neither has no line to be played from and is left out (the `.xspf` keeps it).

use super::{PLAYLISTS, Playlist};
use ferry_core::Record;

/// The `.m3u8` of a playlist record; none for another record.
pub fn of_record(record: &Record) -> Option<String> {
    match record {
        Record::Other(r) if r.vertical == PLAYLISTS => r.typed::<Playlist>().ok().map(|p| render(&p)),
        _ => None,
    }
}

pub fn render(p: &Playlist) -> String {
    let mut out = format!("#EXTM3U\n#PLAYLIST:{}\n", line(&p.title));
    for t in &p.tracks {
        let Some(location) = t.location.as_deref().or(t.uri.as_deref()).filter(|l| !line(l).is_empty()) else { continue };
        let seconds = t.duration_ms.map_or(-1, |ms| (ms.saturating_add(500) / 1000) as i64);
        let title = t.title.as_deref().unwrap_or_default();
        let name = match (t.artists.is_empty(), title.is_empty()) {
            (false, false) => format!("{} - {title}", t.artists.join(", ")),
            (false, true) => t.artists.join(", "),
            (true, _) => title.to_owned(),
        };
        out.push_str(&format!("#EXTINF:{seconds},{}\n", line(&name)));
        if let Some(a) = &t.album {
            out.push_str(&format!("#EXTALB:{}\n", line(a)));
        }
        out.push_str(&line(location));
        out.push('\n');
    }
    out
}

/// Text as one line of the file: line breaks (which would start a new entry) become spaces.
fn line(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>().trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playlists::Track;

    #[test]
    fn each_playable_track_is_an_entry() {
        let text = render(&crate::playlists::tests::sample());
        assert_eq!(
            text,
            "#EXTM3U\n#PLAYLIST:Road trip & <friends> \"2024\"\n\
             #EXTINF:211,Tyler, The Creator, Other - Tyler's Song, Part 1\n#EXTALB:Album\nspotify:track:4uLU6hMCjMI75M1A2tKUQC\n\
             #EXTINF:-1,Episode 12\n#EXTALB:A Show\nspotify:episode:0Q86acNRm6V9GYx55SXKwf\n\
             #EXTINF:-1,Me - Demo\nfile:///music/demo%201.mp3\n"
        );
    }

    #[test]
    fn line_breaks_cannot_start_an_entry_and_unplayable_tracks_are_left_out() {
        let p = Playlist {
            title: "two\nlines".into(),
            tracks: vec![
                Track {
                    position: 1,
                    title: Some("evil\r\n#EXTINF:1,injected".into()),
                    uri: Some("spotify:track:a\nb".into()),
                    ..Default::default()
                },
                Track { position: 2, title: Some("nowhere".into()), ..Default::default() },
                Track { position: 3, title: Some("blank".into()), location: Some(" \n ".into()), ..Default::default() },
            ],
            ..Default::default()
        };
        let text = render(&p);
        assert_eq!(text, "#EXTM3U\n#PLAYLIST:two lines\n#EXTINF:-1,evil  #EXTINF:1,injected\nspotify:track:a b\n");
        assert_eq!(text.lines().filter(|l| l.starts_with("#EXTINF")).count(), 1);
    }
}

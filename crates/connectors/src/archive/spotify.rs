//! Spotify's account data: `PlaylistN.json` (the playlists, ids unique across the files)
//! and `YourLibrary.json` (liked songs and saved episodes, as two playlists).

use super::found::{beside, emit, read_all, skip_all};
use super::walk::{Walk, fail};
use ferry_verticals::playlists::PLAYLISTS;
use ferry_verticals::playlists::spotify::{SpotifyIds, read_spotify_library, read_spotify_playlists_with};

pub fn playlists(w: &mut Walk, files: Vec<String>) {
    if !w.wants(PLAYLISTS) {
        return skip_all(w, files, PLAYLISTS);
    }
    let mut ids = SpotifyIds::default();
    for file in files {
        let mut n = 0usize;
        let r = w.fs.open_file(&file).and_then(|input| {
            read_spotify_playlists_with(input, &mut ids, &mut |found| {
                n += 1;
                emit(w, &file, PLAYLISTS, n, found, &beside)
            })
        });
        if let Err(e) = r
            && !w.send(Err(fail(PLAYLISTS, &file, &file, format!("{e} (after {n} playlists)"))))
        {
            return;
        }
        if !w.open {
            return;
        }
    }
}

pub fn library(w: &mut Walk, files: Vec<String>) {
    read_all(w, files, PLAYLISTS, |i, each| read_spotify_library(i, each), &beside);
}

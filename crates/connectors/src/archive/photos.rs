//! Google Photos in a Takeout: year folders (`Photos from 2021`, localized) and album
//! folders, each photo or video with a JSON sidecar named in one of several ways, and the
//! same file in an album and in its year folder. One item per distinct file (same name,
//! size and CRC-32), in its first album, with every album it is in; an edited copy
//! (`IMG-edited.jpg`) is an item of its own and shares its original's sidecar. Capture
//! time and place come from the sidecar, then EXIF, then the file name.

use super::walk::{Walk, fail};
use ferry_codecs::media::{Sidecar, media_type, read_exif_bounded};
use ferry_core::model::MediaItem;
use ferry_core::{Item, Record, Vertical};
use serde_json::Value;
use std::collections::HashMap;

/// Year folders, as Takeout names them in English, German, French and Spanish.
const YEAR_FOLDER_PREFIXES: [&str; 4] = ["Photos from ", "Fotos von ", "Photos de ", "Fotos de "];
/// An album's own metadata file, by its localized name.
const ALBUM_METADATA: [&str; 5] = ["metadata.json", "metadaten.json", "métadonnées.json", "metadatos.json", "metadati.json"];
/// What Takeout appends to an edited copy's name, localized.
const EDITED: [&str; 5] = ["-edited", "-bearbeitet", "-modifié", "-editado", "-modificato"];
/// The sidecar name's suffix since 2024, cut to any prefix when the name is too long.
const SUPPLEMENTAL: &str = ".supplemental-metadata";
/// Takeout cuts a sidecar's name (without `.json`) to this many characters.
const CUT_AT: usize = 46;
/// Largest sidecar read (they are a few kilobytes).
const SIDECAR_LIMIT: u64 = 1 << 20;
/// Sidecar fields that the media record holds (the rest are reported, not dropped silently).
const CARRIED: [&str; 6] = ["title", "description", "photoTakenTime", "geoData", "geoDataExif", "creationTime"];

fn split(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or(("", path))
}

fn is_year_folder(folder: &str) -> bool {
    let name = split(folder).1;
    YEAR_FOLDER_PREFIXES.iter().any(|p| name.strip_prefix(p).is_some_and(|y| y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit())))
}

/// A trailing `(N)` of a name: (`IMG`, Some(1)) for `IMG(1)`.
fn counter(s: &str) -> (&str, Option<u32>) {
    if let Some(open) = s.strip_suffix(')').and_then(|t| t.rfind('('))
        && let Ok(n) = s[open + 1..s.len() - 1].parse::<u32>()
    {
        return (&s[..open], Some(n));
    }
    (s, None)
}

/// The sidecars of one folder, by the name they describe (cut as Takeout cuts it, lower
/// case) and the duplicate counter Takeout moved to their end. Held as a hash of those and
/// the sidecar's file number (16 bytes each, however long the names), sorted once all are
/// added; a hit is checked against the sidecar's own name.
#[derive(Default)]
struct Sidecars(Vec<(u64, u32)>);

fn key_hash(s: &impl std::hash::Hash) -> u64 {
    use std::hash::Hasher;
    let mut h = std::hash::DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

/// The name a sidecar describes, in lower case, and its moved counter.
fn described(path: &str) -> (String, Option<u32>) {
    let name = split(path).1;
    let (base, n) = counter(&name[..name.len() - 5]);
    (base.to_lowercase(), n)
}

impl Sidecars {
    /// Adds sidecar number `i`, at `path` (a `.json` file).
    fn add(&mut self, i: u32, path: &str) {
        self.0.push((key_hash(&described(path)), i));
    }

    /// Sorts what was added, so that [`Sidecars::of`] can search it.
    fn seal(&mut self) {
        self.0.sort_unstable();
        self.0.shrink_to_fit();
    }

    /// The sidecar of media file `name`, in any of Takeout's namings: its number.
    fn of(&self, name: &str, path_of: impl Fn(usize) -> String) -> Option<usize> {
        let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
        let (bare, n) = counter(stem);
        let dotted = |s: &str| if ext.is_empty() { s.to_owned() } else { format!("{s}.{ext}") };
        // the name as it is, with its counter moved to the sidecar's end, and (for an
        // edited copy) its original's name
        let mut names = vec![(name.to_owned(), None), (dotted(bare), n)];
        if let Some(orig) = EDITED.iter().find_map(|e| bare.strip_suffix(e)) {
            names.push((dotted(orig), n));
        }
        for (candidate, n) in names {
            let full = format!("{candidate}{SUPPLEMENTAL}").to_lowercase();
            let len = candidate.to_lowercase().len();
            for (cut, _) in full.char_indices().rev().chain(std::iter::once((full.len(), ' '))) {
                // the whole name, a cut of the suffix after it, or a name cut at Takeout's length
                let ok = cut >= len || cut >= CUT_AT.min(len);
                if !ok || cut == 0 {
                    continue;
                }
                let want = (full[..cut].to_owned(), n);
                let key = key_hash(&want);
                // of two sidecars that describe one name (`IMG.JPG.json`, `img.jpg.json`), the first
                let from = self.0.partition_point(|&(k, _)| k < key);
                for &(_, i) in self.0[from..].iter().take_while(|&&(k, _)| k == key) {
                    if described(&path_of(i as usize)) == want {
                        return Some(i as usize);
                    }
                }
            }
        }
        None
    }
}

/// The sidecar of the media file at `path`: its number.
fn sidecar_of(w: &Walk, sidecars: &HashMap<String, Sidecars>, path: &str) -> Option<usize> {
    let (folder, name) = split(path);
    sidecars.get(folder)?.of(name, |i| w.fs.entries.path(i))
}

/// A photo or video by what makes two files one item: its name (a hash of it, checked
/// when the files are grouped), size and CRC-32; then whether it is in a year folder (album
/// folders first), and its number (24 bytes: a Takeout holds hundreds of thousands).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Same {
    name: u64,
    size: u64,
    crc32: u32,
    /// Whether the CRC-32 is known (bit 31), whether the file is in a year folder (bit
    /// 30), and its number (below).
    at: u32,
}

const KNOWN: u32 = 1 << 31;
const IN_YEAR: u32 = 1 << 30;

impl Same {
    fn new(name: &str, size: u64, crc32: Option<u32>, in_year: bool, i: usize) -> Same {
        let i = u32::try_from(i).ok().filter(|i| *i < IN_YEAR).expect("an archive holds under 2^30 files (its limit is lower)");
        let at = i | if crc32.is_some() { KNOWN } else { 0 } | if in_year { IN_YEAR } else { 0 };
        Same { name: key_hash(&name), size, crc32: crc32.unwrap_or(0), at }
    }

    fn i(&self) -> usize {
        (self.at & (IN_YEAR - 1)) as usize
    }

    /// Where its item goes among the others: album folders first, then by number.
    fn order(&self) -> u32 {
        self.at & !KNOWN
    }

    fn copy_of(&self, other: &Same) -> bool {
        (self.name, self.size, self.crc32, self.at & KNOWN) == (other.name, other.size, other.crc32, other.at & KNOWN)
    }
}

/// Files by their number in the archive (`Entries::position`): the photos of a Takeout
/// are the most files it has, so they are held as numbers, not paths.
pub fn read(w: &mut Walk, files: Vec<u32>) {
    let fs = w.fs.clone();
    let path = |i: usize| fs.entries.path(i);
    // folders: their media (with what tells copies apart: see below), their JSON files
    // counted first, so that the list is made once at its size (growing it by doubling
    // held both the old and the new list for a moment: megabytes at 200,000 photos)
    let count = files.iter().filter(|&&i| media_type(split(&path(i as usize)).1).is_some()).count();
    let mut media: Vec<Same> = Vec::with_capacity(count);
    let mut sidecars: HashMap<String, Sidecars> = HashMap::new();
    let mut album_titles: HashMap<String, String> = HashMap::new();
    for i in files {
        let i = i as usize;
        let f = &path(i);
        let (folder, name) = split(f);
        let lower = name.to_lowercase();
        if ALBUM_METADATA.contains(&lower.as_str()) {
            if let Ok(bytes) = fs.read_bounded(f, SIDECAR_LIMIT)
                && let Ok(v) = serde_json::from_slice::<Value>(&bytes)
            {
                if let Some(t) = v["title"].as_str().filter(|t| !t.is_empty()) {
                    album_titles.insert(folder.to_owned(), t.to_owned());
                }
                continue; // claimed: its title is the album's name
            }
            w.unclaim(f);
        } else if lower.ends_with(".json") {
            let i = u32::try_from(i).expect("an archive holds under 2^32 files");
            match sidecars.get_mut(folder) {
                Some(s) => s.add(i, f),
                None => sidecars.entry(folder.to_owned()).or_default().add(i, f),
            }
            w.unclaim(f); // claimed when a photo takes it
        } else if media_type(name).is_some() {
            let e = fs.entries.nth(i);
            media.push(Same::new(name, e.size(), e.crc32(), is_year_folder(folder), i));
        } else {
            w.unclaim(f);
        }
    }
    sidecars.values_mut().for_each(Sidecars::seal);
    // the same file (name, size, CRC-32) in several folders is one item, its paths album
    // folders first: after sorting, each item's files lie together, as (start, count)
    media.sort_unstable();
    let mut groups: Vec<(u32, u32)> = Vec::with_capacity(media.len());
    for (at, m) in media.iter().enumerate() {
        match groups.last_mut() {
            // the name's hash, checked against the name itself
            Some((start, count))
                if media[*start as usize].copy_of(m) && split(&path(media[*start as usize].i())).1 == split(&path(m.i())).1 =>
            {
                *count += 1
            }
            _ => groups.push((at as u32, 1)),
        }
    }
    // the items in the order of their first paths, album folders first
    groups.sort_unstable_by_key(|&(start, _)| media[start as usize].order());
    let members = |&(start, count): &(u32, u32)| media[start as usize..(start + count) as usize].iter().map(Same::i);
    if !w.wants(Vertical::Media) {
        for g in &groups {
            for p in members(g) {
                if !w.skipped(&path(p), "a photo or video; the media vertical was not asked for".into()) {
                    return;
                }
            }
        }
        return;
    }
    // copies (a later path of an item) and the item's first path
    let mut copies: Vec<(u32, u32)> = Vec::new();
    for g in &groups {
        let numbers: Vec<usize> = members(g).collect();
        let paths: Vec<String> = numbers.iter().map(|&i| path(i)).collect();
        let item = photo_item(w, &paths, &sidecars, &album_titles);
        if !w.send(item) {
            return;
        }
        for (other, &i) in paths[1..].iter().zip(&numbers[1..]) {
            let why = format!("the same file as {} (one item, in every album it is in)", paths[0]);
            if !w.skipped(other, why) {
                return;
            }
            copies.push((i as u32, numbers[0] as u32));
        }
    }
    drop((groups, media));
    // a copy's own sidecar repeats the one its item read, unless another item (an edited
    // copy beside it) read it
    for (copy, first) in copies {
        let (copy, first) = (copy as usize, first as usize);
        if let Some(sc) = sidecar_of(w, &sidecars, &path(copy)).map(path)
            && !w.is_claimed(&sc)
        {
            w.claim(&sc);
            let why = format!("the sidecar of {}, a copy of {}: repeats the one read with it", path(copy), path(first));
            if !w.skipped(&sc, why) {
                return;
            }
        }
    }
}

fn album_of(folder: &str, titles: &HashMap<String, String>) -> String {
    titles.get(folder).cloned().unwrap_or_else(|| split(folder).1.to_owned())
}

/// The item of one distinct file, from every path it has (album folders first).
fn photo_item(
    w: &mut Walk,
    paths: &[String],
    sidecars: &HashMap<String, Sidecars>,
    titles: &HashMap<String, String>,
) -> Result<Item, ferry_core::ItemError> {
    let path = paths[0].as_str();
    let (folder, name) = split(path);
    let mut record = MediaItem { file_name: name.to_owned(), ..Default::default() };
    let albums: Vec<String> = paths.iter().map(|p| split(p).0).filter(|f| !is_year_folder(f)).map(|f| album_of(f, titles)).collect();
    let container = albums.first().cloned().unwrap_or_else(|| album_of(folder, titles));
    if albums.len() > 1 {
        record.albums = albums;
    }
    let mut warnings = Vec::new();
    let e = w.fs.entries.get(path).expect("an item's path is a file of the archive");
    let mut version = format!("{}-{:08x}", e.size(), e.crc32().unwrap_or(0));
    // the sidecar beside any copy of the file
    let fs = w.fs.clone();
    let sidecar = paths.iter().find_map(|p| sidecar_of(w, sidecars, p)).map(|i| fs.entries.path(i));
    if let Some(sc) = sidecar.as_deref() {
        w.claim(sc);
        let bytes = w.fs.read_bounded(sc, SIDECAR_LIMIT).map_err(|e| fail(Vertical::Media, path, sc, e))?;
        Sidecar::parse(&bytes).map_err(|e| fail(Vertical::Media, path, sc, e))?.apply(&mut record);
        if let Ok(Value::Object(o)) = serde_json::from_slice::<Value>(&bytes) {
            let left: Vec<String> = o
                .iter()
                .filter(|(k, v)| !CARRIED.contains(&k.as_str()) && !v.is_null() && *v != &Value::String(String::new()))
                .map(|(k, v)| format!("{k} = {}", v.to_string().chars().take(200).collect::<String>()))
                .collect();
            if !left.is_empty() {
                warnings.push(format!("sidecar fields the media record has no place for: {}", left.join("; ")));
            }
        }
        version.push_str(&format!("+{}", ferry_core::content::sha256_hex(&bytes)));
    }
    // still no time or place: the file's own EXIF, then its name
    if record.taken_at.is_none() || record.location.is_none() {
        let mut exif = MediaItem::default();
        if let Ok(r) = w.fs.open_file(path) {
            read_exif_bounded(r, &mut exif);
        }
        record.taken_at = record.taken_at.or(exif.taken_at);
        record.location = record.location.or(exif.location);
        record.camera = record.camera.or(exif.camera);
        record.width = record.width.or(exif.width);
        record.height = record.height.or(exif.height);
    }
    if record.taken_at.is_none() {
        record.taken_at = time_from_name(name);
    }
    Ok(Item {
        id: path.to_owned(),
        container,
        version,
        record: Record::Media(record),
        original: None,
        content: Some(w.fs.content(path, media_type(name).unwrap_or("application/octet-stream"))),
        standard: None,
        attachments: vec![],
        references: vec![],
        source_warnings: warnings,
    })
}

/// A capture time a camera or phone wrote into the file name: `IMG_20210704_183005`,
/// `PXL_20230405_101112345`, `Screenshot_2020-01-31-12-00-00`, `VID-20190101-WA0001`
/// (a date only: midnight).
pub fn time_from_name(name: &str) -> Option<chrono::NaiveDateTime> {
    let digits: Vec<(usize, u8)> = name.bytes().enumerate().filter(|(_, b)| b.is_ascii_digit()).collect();
    // the first run of 8 digits that is a date (with -, _ or nothing between its parts)
    let compact: String = digits.iter().map(|(_, b)| *b as char).collect();
    for start in 0..compact.len().saturating_sub(7) {
        let Ok(date) = chrono::NaiveDate::parse_from_str(&compact[start..start + 8], "%Y%m%d") else { continue };
        let year = date.format("%Y").to_string().parse::<i32>().unwrap_or(0);
        if !(1990..=2100).contains(&year) {
            continue;
        }
        let time = compact
            .get(start + 8..start + 14)
            .and_then(|t| chrono::NaiveTime::parse_from_str(t, "%H%M%S").ok())
            .unwrap_or(chrono::NaiveTime::MIN);
        return Some(date.and_time(time));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sidecars(names: &[&str]) -> (Sidecars, Vec<String>) {
        let mut s = Sidecars::default();
        let paths: Vec<String> = names.iter().map(|n| format!("Takeout/Google Photos/Trip/{n}")).collect();
        for (i, p) in paths.iter().enumerate() {
            s.add(i as u32, p);
        }
        s.seal();
        (s, paths)
    }

    fn found((s, paths): &(Sidecars, Vec<String>), photo: &str) -> Option<String> {
        s.of(photo, |i| paths[i].clone()).map(|i| split(&paths[i]).1.to_owned())
    }

    /// Two files are one item only with the same name, size and CRC-32 (a known CRC-32
    /// never equals an unknown one, even 0); sorted, an item's files lie together, album
    /// folders before year folders, and items go by their first file's place.
    #[test]
    fn copies_sort_together_album_folders_first() {
        let album = Same::new("a.jpg", 10, Some(0), false, 7);
        let year = Same::new("a.jpg", 10, Some(0), true, 2);
        assert!(album.copy_of(&year));
        assert!(!album.copy_of(&Same::new("a.jpg", 10, None, true, 3)));
        assert!(!album.copy_of(&Same::new("a.jpg", 11, Some(0), true, 3)));
        assert!(!album.copy_of(&Same::new("b.jpg", 10, Some(0), true, 3)));
        let mut all = [year, Same::new("b.jpg", 1, Some(5), true, 1), album];
        all.sort_unstable();
        let a: Vec<usize> = all.iter().filter(|m| m.copy_of(&album)).map(Same::i).collect();
        assert_eq!(a, [7, 2]);
        assert!(album.order() > Same::new("z.jpg", 1, None, false, 3).order());
        assert!(album.order() < year.order());
        assert_eq!((album.i(), year.i()), (7, 2));
        assert_eq!(std::mem::size_of::<Same>(), 24);
    }

    #[test]
    fn every_sidecar_naming_finds_its_photo() {
        let s = sidecars(&[
            "IMG_0001.jpg.json",
            "IMG_0002.jpg.supplemental-metadata.json",
            "IMG_20230405_101112345_LONG_NAME.jpg.supplemen.json",
            "IMG_0003.jpg(1).json",
            "IMG_0004.jpg.supplemental-metadata(1).json",
            "Screenshot_2020-01-31-12-00-00-123_com.example.json",
        ]);
        assert_eq!(found(&s, "IMG_0001.jpg").as_deref(), Some("IMG_0001.jpg.json"));
        assert_eq!(found(&s, "IMG_0002.jpg").as_deref(), Some("IMG_0002.jpg.supplemental-metadata.json"));
        assert_eq!(
            found(&s, "IMG_20230405_101112345_LONG_NAME.jpg").as_deref(),
            Some("IMG_20230405_101112345_LONG_NAME.jpg.supplemen.json")
        );
        assert_eq!(found(&s, "IMG_0003(1).jpg").as_deref(), Some("IMG_0003.jpg(1).json"));
        assert_eq!(found(&s, "IMG_0004(1).jpg").as_deref(), Some("IMG_0004.jpg.supplemental-metadata(1).json"));
        // a name longer than Takeout keeps: the sidecar's name is cut inside the photo's
        assert_eq!(
            found(&s, "Screenshot_2020-01-31-12-00-00-123_com.example.app.png").as_deref(),
            Some("Screenshot_2020-01-31-12-00-00-123_com.example.json")
        );
        // an edited copy shares its original's sidecar; (1) does not match the plain one
        assert_eq!(found(&s, "IMG_0001-edited.jpg").as_deref(), Some("IMG_0001.jpg.json"));
        assert_eq!(found(&s, "IMG_0001(1).jpg"), None);
        // a short prefix of another name is not a match
        assert_eq!(found(&sidecars(&["IMG.json"]), "IMG.jpeg"), None);
        assert_eq!(found(&s, "IMG_0009.jpg"), None);
    }

    #[test]
    fn times_are_read_from_camera_names() {
        let t = |n| time_from_name(n).map(|t| t.to_string());
        assert_eq!(t("IMG_20210704_183005.jpg").as_deref(), Some("2021-07-04 18:30:05"));
        assert_eq!(t("PXL_20230405_101112345.jpg").as_deref(), Some("2023-04-05 10:11:12"));
        assert_eq!(t("Screenshot_2020-01-31-12-00-00.png").as_deref(), Some("2020-01-31 12:00:00"));
        assert_eq!(t("VID-20190101-WA0001.mp4").as_deref(), Some("2019-01-01 00:00:00"));
        assert_eq!(t("holiday.jpg"), None);
        assert_eq!(t("12345678.jpg"), None);
    }

    #[test]
    fn year_folders_are_told_from_albums() {
        assert!(is_year_folder("Takeout/Google Photos/Photos from 2021"));
        assert!(is_year_folder("Takeout/Google Fotos/Fotos von 1999"));
        assert!(!is_year_folder("Takeout/Google Photos/Photos from the trip"));
        assert!(!is_year_folder("Takeout/Google Photos/Trip 2021"));
    }
}

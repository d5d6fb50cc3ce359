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

/// The sidecars of a Takeout's photo folders, by their folder, the name they describe (cut
/// as Takeout cuts it, lower case) and the duplicate counter Takeout moved to their end.
/// Held as a 32-bit hash of those and the sidecar's file number (8 bytes each, however
/// long the names and however many folders), sorted once all are added; a hit is checked
/// against the sidecar's own path, so two names with one hash cost a second look, not a
/// wrong match.
#[derive(Default)]
struct Sidecars(Vec<(u32, u32)>);

/// A 32-bit hash (the two halves of a 64-bit one folded): lists of hundreds of thousands
/// of files keep these, and every hit is checked against the name itself.
fn key_hash32(s: &impl std::hash::Hash) -> u32 {
    use std::hash::Hasher;
    let mut h = std::hash::DefaultHasher::new();
    s.hash(&mut h);
    let h = h.finish();
    (h ^ (h >> 32)) as u32
}

/// A name in lower case, for comparing sidecar names with photo names. A final sigma is
/// folded as any sigma: `to_lowercase` writes `ς` at a word's end and `σ` inside it, and a
/// sidecar's name cut right after one would otherwise not match its photo's.
fn fold(s: &str) -> String {
    s.to_lowercase().replace('ς', "σ")
}

/// The name a sidecar describes, in lower case, and its moved counter.
fn described(path: &str) -> (String, Option<u32>) {
    let name = split(path).1;
    let (base, n) = counter(&name[..name.len() - 5]);
    (fold(base), n)
}

fn sidecar_key(folder: &str, described: &(String, Option<u32>)) -> u32 {
    key_hash32(&(folder, described))
}

impl Sidecars {
    fn with_capacity(n: usize) -> Sidecars {
        Sidecars(Vec::with_capacity(n))
    }

    /// Adds sidecar number `i`, at `path` (a `.json` file).
    fn add(&mut self, i: u32, path: &str) {
        self.0.push((sidecar_key(split(path).0, &described(path)), i));
    }

    /// Sorts what was added, so that [`Sidecars::of`] can search it.
    fn seal(&mut self) {
        self.0.sort_unstable();
        self.0.shrink_to_fit();
    }

    /// The sidecar beside the media file at `path`, in any of Takeout's namings: its number.
    fn of(&self, path: &str, path_of: impl Fn(usize) -> String) -> Option<usize> {
        let (folder, name) = split(path);
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
            let full = fold(&format!("{candidate}{SUPPLEMENTAL}"));
            let len = fold(&candidate).len();
            for (cut, _) in full.char_indices().rev().chain(std::iter::once((full.len(), ' '))) {
                // the whole name, a cut of the suffix after it, or a name cut at Takeout's length
                let ok = cut >= len || cut >= CUT_AT.min(len);
                if !ok || cut == 0 {
                    continue;
                }
                let want = (full[..cut].to_owned(), n);
                let key = sidecar_key(folder, &want);
                // of two sidecars that describe one name (`IMG.JPG.json`, `img.jpg.json`), the first
                let from = self.0.partition_point(|&(k, _)| k < key);
                for &(_, i) in self.0[from..].iter().take_while(|&&(k, _)| k == key) {
                    let at = path_of(i as usize);
                    if split(&at).0 == folder && described(&at) == want {
                        return Some(i as usize);
                    }
                }
            }
        }
        None
    }
}

/// The sidecar of the media file at `path`: its number.
fn sidecar_of(w: &Walk, sidecars: &Sidecars, path: &str) -> Option<usize> {
    sidecars.of(path, |i| w.fs.entries.path(i))
}

/// A photo or video by what makes two files one item: its name (a 32-bit hash of it,
/// checked when the files are grouped), size and CRC-32; then whether it is in a year
/// folder (album folders first), and its number. 20 bytes: a Takeout holds hundreds of
/// thousands, so the size is two halves rather than a `u64` that would pad it to 24.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Same {
    /// The name's hash; once grouped, the item's place (its first file's [`Same::order`]).
    name: u32,
    size_hi: u32,
    size_lo: u32,
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
        Same { name: key_hash32(&name), size_hi: (size >> 32) as u32, size_lo: size as u32, crc32: crc32.unwrap_or(0), at }
    }

    fn i(&self) -> usize {
        (self.at & (IN_YEAR - 1)) as usize
    }

    /// Where its item goes among the others: album folders first, then by number.
    fn order(&self) -> u32 {
        self.at & !KNOWN
    }

    fn copy_of(&self, other: &Same) -> bool {
        (self.name, self.size_hi, self.size_lo, self.crc32, self.at & KNOWN)
            == (other.name, other.size_hi, other.size_lo, other.crc32, other.at & KNOWN)
    }
}

/// Puts the same file (name, size, CRC-32) in several folders together as one item, its
/// files album folders first, and the items in the order of their first files; afterwards
/// an item's files are a run of equal [`Same::name`]. `name_of` gives a file's name by its
/// number, to check the hashes. Returns how many files are copies (not an item's first).
///
/// Done in place, in the list itself: sorted once, each run's `name` is overwritten with
/// its first file's place, and sorted again. Two names with one hash, size and CRC-32
/// that interleave split an item in two: it is sent twice, never lost.
fn group(media: &mut [Same], name_of: impl Fn(usize) -> String) -> usize {
    media.sort_unstable();
    let mut copies = 0;
    let mut start: Option<(Same, String)> = None;
    for m in media.iter_mut() {
        let name = name_of(m.i());
        match &start {
            Some((first, first_name)) if first.copy_of(m) && *first_name == name => copies += 1,
            _ => start = Some((*m, name)),
        }
        m.name = start.as_ref().expect("set above").0.order();
    }
    media.sort_unstable();
    copies
}

/// Files by their number in the archive (`Entries::position`): the photos of a Takeout
/// are the most files it has, so they are held as numbers, not paths.
pub fn read(w: &mut Walk, files: Vec<u32>) {
    let fs = w.fs.clone();
    let path = |i: usize| fs.entries.path(i);
    // the media (with what tells copies apart: see below) and the JSON files are counted
    // first, so that their lists are made once at their size (growing one by doubling
    // holds both the old and the new list for a moment: megabytes at 200,000 photos)
    let (mut media_count, mut json_count) = (0, 0);
    for &i in &files {
        let f = path(i as usize);
        let name = split(&f).1;
        let lower = name.to_lowercase();
        if media_type(name).is_some() {
            media_count += 1;
        } else if lower.ends_with(".json") && !ALBUM_METADATA.contains(&lower.as_str()) {
            json_count += 1;
        }
    }
    let mut media: Vec<Same> = Vec::with_capacity(media_count);
    let mut sidecars = Sidecars::with_capacity(json_count);
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
            sidecars.add(u32::try_from(i).expect("an archive holds under 2^32 files"), f);
            w.unclaim(f); // claimed when a photo takes it
        } else if media_type(name).is_some() {
            let e = fs.entries.nth(i);
            media.push(Same::new(name, e.size(), e.crc32(), is_year_folder(folder), i));
        } else {
            w.unclaim(f);
        }
    }
    sidecars.seal();
    let copy_count = group(&mut media, |i| split(&path(i)).1.to_owned());
    let items = || media.chunk_by(|a, b| a.name == b.name);
    if !w.wants(Vertical::Media) {
        for item in items() {
            for m in item {
                if !w.skipped(&path(m.i()), "a photo or video; the media vertical was not asked for".into()) {
                    return;
                }
            }
        }
        return;
    }
    // copies (a later path of an item) and the item's first path
    let mut copies: Vec<(u32, u32)> = Vec::with_capacity(copy_count);
    for item in items() {
        let paths: Vec<String> = item.iter().map(|m| path(m.i())).collect();
        let photo = photo_item(w, &paths, &sidecars, &album_titles);
        if !w.send(photo) {
            return;
        }
        for (other, m) in paths[1..].iter().zip(&item[1..]) {
            let why = format!("the same file as {} (one item, in every album it is in)", paths[0]);
            if !w.skipped(other, why) {
                return;
            }
            copies.push((m.i() as u32, item[0].i() as u32));
        }
    }
    drop(media);
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
    sidecars: &Sidecars,
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

    /// Sidecars with `names` in an album folder `Trip`, and the same names in `Other`
    /// (added first: of two equal keys the lower number is tried first).
    fn sidecars(names: &[&str]) -> (Sidecars, Vec<String>) {
        let paths: Vec<String> =
            ["Other", "Trip"].iter().flat_map(|f| names.iter().map(move |n| format!("Takeout/Google Photos/{f}/{n}"))).collect();
        let mut s = Sidecars::with_capacity(paths.len());
        for (i, p) in paths.iter().enumerate() {
            s.add(i as u32, p);
        }
        s.seal();
        (s, paths)
    }

    /// The sidecar found for `photo` in `Trip`: its name (and it is in `Trip`).
    fn found((s, paths): &(Sidecars, Vec<String>), photo: &str) -> Option<String> {
        let hit = s.of(&format!("Takeout/Google Photos/Trip/{photo}"), |i| paths[i].clone())?;
        let (folder, name) = split(&paths[hit]);
        assert_eq!(folder, "Takeout/Google Photos/Trip", "{photo} took a sidecar of another folder");
        Some(name.to_owned())
    }

    /// Two files are one item only with the same name, size and CRC-32 (a known CRC-32
    /// never equals an unknown one, even 0; sizes that differ by 4 GiB differ); grouped,
    /// an item's files lie together, album folders before year folders, and items go by
    /// their first file's place.
    #[test]
    fn copies_group_together_album_folders_first() {
        let files = [
            ("a.jpg", 10, Some(0), true),             // 0: a year-folder copy of 6
            ("b.jpg", 10, Some(0), false),            // 1
            ("c.jpg", 5, Some(9), true),              // 2: a copy of 7
            ("a.jpg", 10, None, true),                // 3: its CRC-32 unknown: not 6
            ("a.jpg", 11, Some(0), true),             // 4: another size
            ("a.jpg", 10 + (1 << 32), Some(0), true), // 5: 4 GiB more
            ("a.jpg", 10, Some(0), false),            // 6: the item, in an album
            ("c.jpg", 5, Some(9), false),             // 7
            ("a.jpg", 10, Some(0), false),            // 8: in a second album
            ("d.jpg", 1, None, false),                // 9
            ("a.jpg", 10, Some(1), false),            // 10: another CRC-32
            ("a.jpg", 10, Some(0), true),             // 11: a second year folder
            ("A.jpg", 10, Some(0), false),            // 12: another name
        ];
        let mut media: Vec<Same> = files.iter().enumerate().map(|(i, &(n, size, crc, year))| Same::new(n, size, crc, year, i)).collect();
        let copies = group(&mut media, |i| files[i].0.to_owned());
        let items: Vec<Vec<usize>> = media.chunk_by(|a, b| a.name == b.name).map(|g| g.iter().map(Same::i).collect()).collect();
        assert_eq!(items, [vec![1], vec![6, 8, 0, 11], vec![7, 2], vec![9], vec![10], vec![12], vec![3], vec![4], vec![5]]);
        assert_eq!(copies, 4);
        assert_eq!(std::mem::size_of::<Same>(), 20);
    }

    /// Two names with one hash (forced here) are told apart by the names themselves: when
    /// their files interleave, an item is split (sent twice), and nothing is dropped.
    #[test]
    fn names_with_one_hash_are_not_one_item() {
        // by number: a.jpg and b.jpg in an album, then each again in a year folder
        let names = ["a.jpg", "b.jpg", "a.jpg", "b.jpg"];
        let same = |i: usize| Same { name: 7, ..Same::new(names[i], 10, Some(4), i >= 2, i) };
        let mut media: Vec<Same> = [3, 2, 1, 0].map(same).to_vec();
        let copies = group(&mut media, |i| names[i].to_owned());
        let items: Vec<Vec<usize>> = media.chunk_by(|a, b| a.name == b.name).map(|g| g.iter().map(Same::i).collect()).collect();
        // sorted a b a b: every file its own item (a.jpg sent twice), none lost
        assert_eq!(items, [vec![0], vec![1], vec![2], vec![3]]);
        assert_eq!(copies, 0);
        // not interleaved, the copies of one name are one item
        let mut media: Vec<Same> = [2, 0].map(same).to_vec();
        assert_eq!(group(&mut media, |i| names[i].to_owned()), 1);
        assert_eq!(media.chunk_by(|a, b| a.name == b.name).count(), 1);
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
        // a sidecar of the same name in another folder only is not this photo's
        let (other, paths) = sidecars(&["IMG_0010.jpg.json"]);
        let only_other = (other, paths[..1].to_vec());
        assert_eq!(only_other.1, ["Takeout/Google Photos/Other/IMG_0010.jpg.json"]);
        let mut s = Sidecars::with_capacity(1);
        s.add(0, &only_other.1[0]);
        s.seal();
        assert_eq!(found(&(s, only_other.1), "IMG_0010.jpg"), None);
        // a Greek name cut right after a sigma inside a word (lower-cased as a final
        // sigma in the cut name, as a plain one in the photo's)
        let greek = format!("{}ΣΤΟ.jpg", "Α".repeat(30));
        let cut = format!("{}Σ", "Α".repeat(30));
        let s = sidecars(&[&format!("{cut}.json")]);
        assert_eq!(found(&s, &greek), Some(format!("{cut}.json")));
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

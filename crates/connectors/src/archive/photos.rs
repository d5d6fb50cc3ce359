//! Google Photos in a Takeout: year folders (`Photos from 2021`, localized) and album
//! folders, each photo or video with a JSON sidecar named in one of several ways, and the
//! same file in an album and in its year folder. One item per distinct file (same name and
//! bytes: size and CRC-32, or the bytes compared where no CRC-32 is known), in its first
//! album, with every album it is in; an edited copy (`IMG-edited.jpg`) is an item of its
//! own and shares its original's sidecar. Capture time and place come from the sidecar,
//! then EXIF, then the file name.

use super::file_set::FileSet;
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

/// A photo or video by what makes two files one item: a 64-bit hash of its name, size and
/// CRC-32 (checked against the files themselves when they are grouped); then whether it
/// is in a year folder (album folders first), and its number. 12 bytes: a Takeout holds
/// hundreds of thousands, so the hash is two halves rather than a `u64` that would pad it
/// to 16.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Same {
    /// The hash; once grouped, the item's place (its first file's [`Same::order`]) and
    /// then the file's own sidecar ([`Same::sidecar`]).
    key: [u32; 2],
    /// Whether the file is in a year folder (bit 30), and its number (below).
    at: u32,
}

const IN_YEAR: u32 = 1 << 30;

impl Same {
    fn new(name: &str, size: u64, crc32: Option<u32>, in_year: bool, i: usize) -> Same {
        let i = u32::try_from(i).ok().filter(|i| *i < IN_YEAR).expect("an archive holds under 2^30 files (its limit is lower)");
        use std::hash::{Hash, Hasher};
        let mut h = std::hash::DefaultHasher::new();
        (name, size, crc32).hash(&mut h);
        let h = h.finish();
        Same { key: [(h >> 32) as u32, h as u32], at: i | if in_year { IN_YEAR } else { 0 } }
    }

    fn i(&self) -> usize {
        (self.at & (IN_YEAR - 1)) as usize
    }

    /// Where its item goes among the others: album folders first, then by number.
    fn order(&self) -> u32 {
        self.at
    }

    /// Once grouped, files of one item have one `key[0]`.
    fn one_item(&self, other: &Same) -> bool {
        self.key[0] == other.key[0]
    }

    /// The number of the file's own sidecar, once [`with_sidecars`] found it.
    fn sidecar(&self) -> Option<usize> {
        self.key[1].checked_sub(1).map(|s| s as usize)
    }
}

/// Puts the same file (name and bytes) in several folders together as one item, its files
/// album folders first, and the items in the order of their first files; afterwards an
/// item's files are a run of [`Same::one_item`]. `same_file(i, j)` tells whether files `i`
/// and `j` have one name and the same bytes; it is asked only of files with one hash.
///
/// Done in place, in the list itself: sorted once, each run's `key` is overwritten with
/// its first file's place, and sorted again. A file is compared with its run's first
/// file only: two files with one hash that interleave, or (in a folder, where the bytes
/// decide) a copy that comes after a file of the same name and size with other bytes,
/// split an item in two: it is sent twice, never lost.
fn group(media: &mut [Same], same_file: impl Fn(usize, usize) -> bool) {
    media.sort_unstable();
    let mut first: Option<Same> = None;
    for m in media.iter_mut() {
        if !first.is_some_and(|f| f.key == m.key && same_file(f.i(), m.i())) {
            first = Some(*m);
        }
        m.key = [first.expect("set above").order(), 0];
    }
    media.sort_unstable();
}

/// Finds each grouped file's own sidecar (`path_of` gives a file's path by its number)
/// and keeps its number in the half of the key that grouping left free, so that the
/// sidecars' list is gone before the items are sent.
fn with_sidecars(media: &mut [Same], sidecars: Sidecars, path_of: impl Fn(usize) -> String) {
    for m in media.iter_mut() {
        let found = sidecars.of(&path_of(m.i()), &path_of);
        m.key[1] = found.map_or(0, |s| u32::try_from(s + 1).expect("under 2^30 files"));
    }
}

/// What a file of a photo folder is to the reader.
enum Kind {
    /// An album's `metadata.json`.
    Album,
    /// Any other JSON file: a sidecar.
    Sidecar,
    Media,
    Other,
}

fn kind(name: &str) -> Kind {
    let lower = name.to_lowercase();
    if ALBUM_METADATA.contains(&lower.as_str()) {
        Kind::Album
    } else if lower.ends_with(".json") {
        Kind::Sidecar
    } else if media_type(name).is_some() {
        Kind::Media
    } else {
        Kind::Other
    }
}

/// Files by their number in the archive (`Entries::position`): the photos of a Takeout
/// are the most files it has, so they are held as numbers, not paths.
pub fn read(w: &mut Walk, files: FileSet) {
    let fs = w.fs.clone();
    let path = |i: usize| fs.entries.path(i);
    // the media (with what tells copies apart: see below) and the sidecars are counted
    // first, so that their lists are made once at their size (growing one by doubling
    // holds both the old and the new list for a moment: megabytes at 200,000 photos)
    let (mut media_count, mut json_count) = (0, 0);
    for i in files.iter() {
        match kind(split(&path(i)).1) {
            Kind::Media => media_count += 1,
            Kind::Sidecar => json_count += 1,
            Kind::Album | Kind::Other => {}
        }
    }
    let mut media: Vec<Same> = Vec::with_capacity(media_count);
    let mut sidecars = Sidecars::with_capacity(json_count);
    let mut album_titles: HashMap<String, String> = HashMap::new();
    for i in files.iter() {
        let f = &path(i);
        let (folder, name) = split(f);
        match kind(name) {
            Kind::Album => {
                if let Ok(bytes) = fs.read_bounded(f, SIDECAR_LIMIT)
                    && let Ok(v) = serde_json::from_slice::<Value>(&bytes)
                {
                    if let Some(t) = v["title"].as_str().filter(|t| !t.is_empty()) {
                        album_titles.insert(folder.to_owned(), t.to_owned());
                    }
                    continue; // claimed: its title is the album's name
                }
                w.unclaim(f);
            }
            Kind::Sidecar => {
                sidecars.add(u32::try_from(i).expect("an archive holds under 2^32 files"), f);
                w.unclaim(f); // claimed when a photo takes it
            }
            Kind::Media => {
                let e = fs.entries.nth(i);
                media.push(Same::new(name, e.size(), e.crc32(), is_year_folder(folder), i));
            }
            Kind::Other => w.unclaim(f),
        }
    }
    drop(files);
    sidecars.seal();
    // not asked for: listed, not grouped (in a folder, grouping reads the copies' bytes)
    if !w.wants(Vertical::Media) {
        for m in &media {
            if !w.skipped(&path(m.i()), "a photo or video; the media vertical was not asked for".into()) {
                return;
            }
        }
        return;
    }
    group(&mut media, |i, j| {
        let (a, b) = (path(i), path(j));
        split(&a).1 == split(&b).1 && fs.same_bytes(&a, &b)
    });
    with_sidecars(&mut media, sidecars, path);
    for item in media.chunk_by(Same::one_item) {
        let paths: Vec<String> = item.iter().map(|m| path(m.i())).collect();
        // the sidecar beside any copy of the file
        let sidecar = item.iter().find_map(Same::sidecar).map(path);
        let photo = photo_item(w, &paths, sidecar.as_deref(), &album_titles);
        if !w.send(photo) {
            return;
        }
        for other in &paths[1..] {
            let why = format!("the same file as {} (one item, in every album it is in)", paths[0]);
            if !w.skipped(other, why) {
                return;
            }
        }
    }
    // a copy's own sidecar repeats the one its item read, unless another item (an edited
    // copy beside it) read it
    for item in media.chunk_by(Same::one_item) {
        for copy in &item[1..] {
            if let Some(sc) = copy.sidecar().map(path)
                && !w.is_claimed(&sc)
            {
                w.claim(&sc);
                let why = format!("the sidecar of {}, a copy of {}: repeats the one read with it", path(copy.i()), path(item[0].i()));
                if !w.skipped(&sc, why) {
                    return;
                }
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
    sidecar: Option<&str>,
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
    if let Some(sc) = sidecar {
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
        // an unknown CRC-32 (here) stands for bytes that differ
        let same_file =
            |i: usize, j: usize| files[i].2.is_some() && (files[i].0, files[i].1, files[i].2) == (files[j].0, files[j].1, files[j].2);
        group(&mut media, same_file);
        let items: Vec<Vec<usize>> = media.chunk_by(Same::one_item).map(|g| g.iter().map(Same::i).collect()).collect();
        assert_eq!(items, [vec![1], vec![6, 8, 0, 11], vec![7, 2], vec![9], vec![10], vec![12], vec![3], vec![4], vec![5]]);
        assert_eq!(std::mem::size_of::<Same>(), 12);
    }

    /// Two files with one hash (forced here) are told apart by the files themselves: when
    /// they interleave, an item is split (sent twice), and nothing is dropped.
    #[test]
    fn names_with_one_hash_are_not_one_item() {
        // by number: a.jpg and b.jpg in an album, then each again in a year folder
        let names = ["a.jpg", "b.jpg", "a.jpg", "b.jpg"];
        let same = |i: usize| Same { key: [0, 7], ..Same::new(names[i], 10, Some(4), i >= 2, i) };
        let same_file = |i: usize, j: usize| names[i] == names[j];
        let mut media: Vec<Same> = [3, 2, 1, 0].map(same).to_vec();
        group(&mut media, same_file);
        let items: Vec<Vec<usize>> = media.chunk_by(Same::one_item).map(|g| g.iter().map(Same::i).collect()).collect();
        // sorted a b a b: every file its own item (a.jpg sent twice), none lost
        assert_eq!(items, [vec![0], vec![1], vec![2], vec![3]]);
        // not interleaved, the copies of one name are one item
        let mut media: Vec<Same> = [2, 0].map(same).to_vec();
        group(&mut media, same_file);
        assert_eq!(media.chunk_by(Same::one_item).count(), 1);
    }

    /// Once grouped, each file keeps its own sidecar's number (none is 0, not file 0).
    #[test]
    fn grouped_files_keep_their_own_sidecars() {
        let paths: Vec<String> = ["Trip/a.jpg.json", "Trip/a.jpg", "Photos from 2021/a.jpg", "Photos from 2021/a.jpg.json", "Trip/b.jpg"]
            .map(|p| format!("Takeout/Google Photos/{p}"))
            .to_vec();
        let mut sidecars = Sidecars::with_capacity(2);
        for i in [0, 3] {
            sidecars.add(i as u32, &paths[i]);
        }
        sidecars.seal();
        let mut media: Vec<Same> = [4, 2, 1].map(|i| Same::new(split(&paths[i]).1, 7, Some(1), i == 2, i)).to_vec();
        group(&mut media, |i, j| split(&paths[i]).1 == split(&paths[j]).1);
        with_sidecars(&mut media, sidecars, |i| paths[i].clone());
        let items: Vec<Vec<(usize, Option<usize>)>> =
            media.chunk_by(Same::one_item).map(|g| g.iter().map(|m| (m.i(), m.sidecar())).collect()).collect();
        assert_eq!(items, [vec![(1, Some(0)), (2, Some(3))], vec![(4, None)]]);
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
        let other = vec!["Takeout/Google Photos/Other/IMG_0010.jpg.json".to_owned()];
        let mut s = Sidecars::with_capacity(1);
        s.add(0, &other[0]);
        s.seal();
        assert_eq!(found(&(s, other), "IMG_0010.jpg"), None);
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

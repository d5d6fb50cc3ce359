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
use std::collections::{BTreeMap, HashMap};

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

/// The sidecars of one folder, by the name they describe (cut as Takeout cuts it) and
/// the duplicate counter Takeout moved to their end.
#[derive(Default)]
struct Sidecars(HashMap<(String, Option<u32>), String>);

impl Sidecars {
    fn add(&mut self, path: &str) {
        let name = split(path).1;
        let base = &name[..name.len() - 5];
        let (base, n) = counter(base);
        self.0.entry((base.to_lowercase(), n)).or_insert_with(|| path.to_owned());
    }

    /// The sidecar of media file `name`, in any of Takeout's namings.
    fn of(&self, name: &str) -> Option<&String> {
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
                if let Some(p) = self.0.get(&(full[..cut].to_owned(), n)) {
                    return Some(p);
                }
            }
        }
        None
    }
}

/// One distinct file and where the archive holds it.
struct Photo {
    /// Every path of the same file, album folders first.
    paths: Vec<String>,
}

pub fn read(w: &mut Walk, files: Vec<String>) {
    // folders: their media, their JSON files
    let mut media: Vec<String> = Vec::new();
    let mut sidecars: HashMap<String, Sidecars> = HashMap::new();
    let mut album_titles: HashMap<String, String> = HashMap::new();
    for f in &files {
        let (folder, name) = split(f);
        let lower = name.to_lowercase();
        if ALBUM_METADATA.contains(&lower.as_str()) {
            if let Ok(bytes) = w.fs.read_bounded(f, SIDECAR_LIMIT)
                && let Ok(v) = serde_json::from_slice::<Value>(&bytes)
            {
                if let Some(t) = v["title"].as_str().filter(|t| !t.is_empty()) {
                    album_titles.insert(folder.to_owned(), t.to_owned());
                }
                continue; // claimed: its title is the album's name
            }
            w.unclaim(f);
        } else if lower.ends_with(".json") {
            sidecars.entry(folder.to_owned()).or_default().add(f);
            w.unclaim(f); // claimed when a photo takes it
        } else if media_type(name).is_some() {
            media.push(f.clone());
        } else {
            w.unclaim(f);
        }
    }
    // the same file in several folders: one item, album folders before year folders
    let mut groups: BTreeMap<(String, u64, Option<u32>), Photo> = BTreeMap::new();
    let mut order: Vec<(String, u64, Option<u32>)> = Vec::new();
    media.sort_by_key(|p| (is_year_folder(split(p).0), p.clone()));
    for p in media {
        let e = &w.fs.entries[&p];
        let key = (split(&p).1.to_owned(), e.size, e.crc32);
        let g = groups.entry(key.clone()).or_insert_with(|| {
            order.push(key.clone());
            Photo { paths: vec![] }
        });
        g.paths.push(p);
    }
    if !w.wants(Vertical::Media) {
        for key in order {
            for p in &groups[&key].paths {
                if !w.skipped(p, "a photo or video; the media vertical was not asked for".into()) {
                    return;
                }
            }
        }
        return;
    }
    for key in order {
        let photo = &groups[&key];
        let item = photo_item(w, photo, &sidecars, &album_titles);
        if !w.send(item) {
            return;
        }
        for other in &photo.paths[1..] {
            let why = format!("the same file as {} (one item, in every album it is in)", photo.paths[0]);
            if !w.skipped(other, why) {
                return;
            }
            // the copy's own sidecar repeats the one the item read
            let (folder, name) = split(other);
            if let Some(sc) = sidecars.get(folder).and_then(|s| s.of(name)).cloned()
                && !w.is_claimed(&sc)
            {
                w.claim(&sc);
                if !w.skipped(&sc, format!("the sidecar of {other}, a copy of {}: repeats the one read with it", photo.paths[0])) {
                    return;
                }
            }
        }
    }
}

fn album_of(folder: &str, titles: &HashMap<String, String>) -> String {
    titles.get(folder).cloned().unwrap_or_else(|| split(folder).1.to_owned())
}

fn photo_item(
    w: &mut Walk,
    photo: &Photo,
    sidecars: &HashMap<String, Sidecars>,
    titles: &HashMap<String, String>,
) -> Result<Item, ferry_core::ItemError> {
    let path = &photo.paths[0];
    let (folder, name) = split(path);
    let mut record = MediaItem { file_name: name.to_owned(), ..Default::default() };
    let albums: Vec<String> = photo.paths.iter().map(|p| split(p).0).filter(|f| !is_year_folder(f)).map(|f| album_of(f, titles)).collect();
    let container = albums.first().cloned().unwrap_or_else(|| album_of(folder, titles));
    if albums.len() > 1 {
        record.albums = albums;
    }
    let mut warnings = Vec::new();
    let mut version = format!("{}-{:08x}", w.fs.entries[path].size, w.fs.entries[path].crc32.unwrap_or(0));
    // the sidecar beside any copy of the file
    let sidecar = photo.paths.iter().find_map(|p| {
        let (f, n) = split(p);
        sidecars.get(f).and_then(|s| s.of(n)).cloned()
    });
    if let Some(sc) = sidecar {
        w.claim(&sc);
        let bytes = w.fs.read_bounded(&sc, SIDECAR_LIMIT).map_err(|e| fail(Vertical::Media, path, &sc, e))?;
        Sidecar::parse(&bytes).map_err(|e| fail(Vertical::Media, path, &sc, e))?.apply(&mut record);
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
        id: path.clone(),
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

    fn sidecars(names: &[&str]) -> Sidecars {
        let mut s = Sidecars::default();
        for n in names {
            s.add(&format!("Takeout/Google Photos/Trip/{n}"));
        }
        s
    }

    fn found(s: &Sidecars, photo: &str) -> Option<String> {
        s.of(photo).map(|p| split(p).1.to_owned())
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

//! Photo and video metadata: capture time and position from EXIF, title and description
//! from Google-Takeout-style sidecars (`IMG_0001.jpg.json`), media types by extension.

use chrono::{DateTime, NaiveDateTime};
use ferry_core::model::{GeoPosition, MediaItem};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Read, Seek};

/// Media type of a photo or video file, by extension; `None` for anything else.
pub fn media_type(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "heic" => "image/heic",
        "heif" => "image/heif",
        "webp" => "image/webp",
        "tif" | "tiff" => "image/tiff",
        "dng" => "image/x-adobe-dng",
        "mp4" | "m4v" => "video/mp4",
        "mov" => "video/quicktime",
        "avi" => "video/x-msvideo",
        "mkv" => "video/x-matroska",
        "webm" => "video/webm",
        "3gp" => "video/3gpp",
        _ => return None,
    })
}

/// Media type of any file, by extension.
pub fn file_media_type(name: &str) -> &'static str {
    if let Some(m) = media_type(name) {
        return m;
    }
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "txt" | "text" => "text/plain",
        "md" => "text/markdown",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        "json" => "application/json",
        "jsonl" => "application/jsonl",
        "pdf" => "application/pdf",
        "vcf" => "text/vcard",
        "ics" => "text/calendar",
        "eml" => "message/rfc822",
        "mbox" => "application/mbox",
        "zip" => "application/zip",
        "xml" => "application/xml",
        _ => "application/octet-stream",
    }
}

/// How much of a photo or video is read for its metadata: EXIF sits at the start of
/// every format ferry reads it from, and a 1.5 GB TIFF or DNG must not be read whole.
pub const EXIF_WINDOW: u64 = 8 << 20;

/// What is read of a photo first: a JPEG's EXIF (one APP1 segment, at most 64 KiB, before
/// the image data) always lies within it.
const FIRST_WINDOW: u64 = 256 << 10;

/// [`read_exif`] on the start of `input`: the first 256 KiB, and more (up to
/// [`EXIF_WINDOW`] bytes) only while what was read ends inside the metadata. Memory and
/// reading stay bounded whatever the file's size (or if it never ends), and a photo is
/// not read whole to learn that it holds no EXIF.
pub fn read_exif_bounded(mut input: impl Read, item: &mut MediaItem) {
    let mut head = Vec::new();
    let mut window = FIRST_WINDOW;
    loop {
        if (&mut input).take(window - head.len() as u64).read_to_end(&mut head).is_err() {
            return;
        }
        let ended = (head.len() as u64) < window;
        if jpeg_without_exif(&head) {
            return;
        }
        let read = exif::Reader::new().continue_on_error(true).read_from_container(&mut std::io::Cursor::new(&head));
        match read {
            // cut off by the window (or partly read), in a file that goes on: read further
            Err(exif::Error::Io(_) | exif::Error::InvalidFormat(_) | exif::Error::PartialResult(_)) if !ended && window < EXIF_WINDOW => {
                window = (window * 8).min(EXIF_WINDOW);
            }
            read => return apply_exif(read, item),
        }
    }
}

/// Whether `head` is the start of a JPEG whose image data begins (SOS) with no EXIF
/// segment before it: the EXIF reader would read the whole file to say so.
fn jpeg_without_exif(head: &[u8]) -> bool {
    if !head.starts_with(&[0xff, 0xd8]) {
        return false;
    }
    let mut at = 2;
    loop {
        // a marker: 0xFF (and fill bytes), then its code
        while head.get(at) == Some(&0xff) && head.get(at + 1) == Some(&0xff) {
            at += 1;
        }
        let (Some(0xff), Some(&code)) = (head.get(at), head.get(at + 1)) else { return false };
        at += 2;
        match code {
            0xda => return true,
            // markers with no segment
            0x01 | 0xd0..=0xd7 => continue,
            0xd8 | 0xd9 => return false,
            _ => {}
        }
        let Some(len) = head.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]]) as usize) else { return false };
        if code == 0xe1 && head.get(at + 2..at + 8).is_none_or(|id| id == b"Exif\0\0") {
            return false;
        }
        at += len;
    }
}

/// Reads what EXIF says into `item`. A file without EXIF leaves the fields empty, and
/// slightly broken EXIF (a bad IFD link, as some writers make) gives what could be read:
/// metadata is never a reason to lose the photo.
pub fn read_exif(input: &mut (impl BufRead + Seek), item: &mut MediaItem) {
    apply_exif(exif::Reader::new().continue_on_error(true).read_from_container(input), item)
}

fn apply_exif(read: Result<exif::Exif, exif::Error>, item: &mut MediaItem) {
    let Ok(exif) = read.or_else(|e| e.distill_partial_result(|_ignored| {})) else { return };
    use exif::{In, Tag, Value};
    let text = |tag: Tag| exif.get_field(tag, In::PRIMARY).map(|f| f.display_value().to_string().trim_matches('"').trim().to_owned());
    let taken = [Tag::DateTimeOriginal, Tag::DateTimeDigitized, Tag::DateTime]
        .into_iter()
        .filter_map(|t| exif.get_field(t, In::PRIMARY))
        .find_map(|f| match &f.value {
            Value::Ascii(v) => v.first().and_then(|b| exif::DateTime::from_ascii(b).ok()),
            _ => None,
        });
    if let Some(d) = taken {
        item.taken_at = chrono::NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into())
            .and_then(|day| day.and_hms_opt(d.hour.into(), d.minute.into(), d.second.into()));
    }
    let make = text(Tag::Make).unwrap_or_default();
    let model = text(Tag::Model).unwrap_or_default();
    let camera = if model.starts_with(&make) { model } else { format!("{make} {model}").trim().to_owned() };
    if !camera.is_empty() {
        item.camera = Some(camera);
    }
    let dim = |tags: [Tag; 2]| tags.into_iter().find_map(|t| exif.get_field(t, In::PRIMARY).and_then(|f| f.value.get_uint(0)));
    item.width = dim([Tag::PixelXDimension, Tag::ImageWidth]);
    item.height = dim([Tag::PixelYDimension, Tag::ImageLength]);
    let coord = |tag: Tag, reference: Tag, negative: &str| -> Option<f64> {
        let f = exif.get_field(tag, In::PRIMARY)?;
        let Value::Rational(r) = &f.value else { return None };
        if r.len() < 3 || r.iter().any(|x| x.denom == 0) {
            return None;
        }
        let v = r[0].to_f64() + r[1].to_f64() / 60.0 + r[2].to_f64() / 3600.0;
        let sign = match exif.get_field(reference, In::PRIMARY).map(|f| f.display_value().to_string()) {
            Some(s) if s.contains(negative) => -1.0,
            _ => 1.0,
        };
        Some(sign * v)
    };
    if let (Some(lat), Some(lon)) = (coord(Tag::GPSLatitude, Tag::GPSLatitudeRef, "S"), coord(Tag::GPSLongitude, Tag::GPSLongitudeRef, "W"))
    {
        let altitude = exif.get_field(Tag::GPSAltitude, In::PRIMARY).and_then(|f| match &f.value {
            Value::Rational(r) if !r.is_empty() && r[0].denom != 0 => {
                let below = exif.get_field(Tag::GPSAltitudeRef, In::PRIMARY).and_then(|f| f.value.get_uint(0)) == Some(1);
                Some(if below { -r[0].to_f64() } else { r[0].to_f64() })
            }
            _ => None,
        });
        if lat.abs() <= 90.0 && lon.abs() <= 180.0 {
            item.location = Some(GeoPosition { latitude: lat, longitude: lon, altitude });
        }
    }
}

/// A Google Takeout photo sidecar. Only the fields ferry reads and writes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sidecar {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo_taken_time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo_data: Option<GeoData>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Timestamp {
    /// Seconds since the epoch, as a string (Takeout writes it so).
    pub timestamp: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GeoData {
    pub latitude: f64,
    pub longitude: f64,
    #[serde(default)]
    pub altitude: f64,
}

impl Sidecar {
    pub fn parse(bytes: &[u8]) -> Result<Sidecar, String> {
        serde_json::from_slice(bytes).map_err(|e| format!("not a photo sidecar: {e}"))
    }

    /// Sidecar values win over EXIF, since a person wrote them.
    pub fn apply(&self, item: &mut MediaItem) {
        if let Some(t) = self.title.as_ref().filter(|t| !t.is_empty() && **t != item.file_name) {
            item.title = Some(t.clone());
        }
        if let Some(d) = self.description.as_ref().filter(|d| !d.is_empty()) {
            item.description = Some(d.clone());
        }
        if item.taken_at.is_none()
            && let Some(ts) = self.photo_taken_time.as_ref().and_then(|t| t.timestamp.parse::<i64>().ok())
        {
            item.taken_at = DateTime::from_timestamp(ts, 0).map(|d| d.naive_utc());
        }
        if let Some(g) = &self.geo_data
            && (g.latitude != 0.0 || g.longitude != 0.0)
        {
            item.location = Some(GeoPosition {
                latitude: g.latitude,
                longitude: g.longitude,
                altitude: if g.altitude != 0.0 { Some(g.altitude) } else { None },
            });
        }
    }

    /// The sidecar for what a record holds beyond the file itself, or `None` if nothing.
    pub fn from_item(item: &MediaItem) -> Option<Sidecar> {
        if item.title.is_none() && item.description.is_none() {
            return None;
        }
        Some(Sidecar {
            title: item.title.clone(),
            description: item.description.clone(),
            photo_taken_time: item.taken_at.map(|t: NaiveDateTime| Timestamp { timestamp: t.and_utc().timestamp().to_string() }),
            geo_data: item.location.map(|g| GeoData { latitude: g.latitude, longitude: g.longitude, altitude: g.altitude.unwrap_or(0.0) }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_by_extension() {
        assert_eq!(media_type("a.JPG"), Some("image/jpeg"));
        assert_eq!(media_type("clip.mov"), Some("video/quicktime"));
        assert_eq!(media_type("notes.txt"), None);
        assert_eq!(file_media_type("notes.txt"), "text/plain");
    }

    #[test]
    fn no_exif_leaves_fields_empty() {
        let mut item = MediaItem { file_name: "x.jpg".into(), ..Default::default() };
        read_exif(&mut std::io::Cursor::new(b"\xff\xd8\xff\xd9".to_vec()), &mut item);
        assert!(item.taken_at.is_none() && item.location.is_none());
        read_exif(&mut std::io::Cursor::new(b"garbage".to_vec()), &mut item);
        assert!(item.camera.is_none());
    }

    /// Counts what is read from an endless TIFF-looking stream.
    struct Endless {
        read: u64,
    }

    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let head = b"II*\0\x08\0\0\0";
            for (i, b) in buf.iter_mut().enumerate() {
                let at = self.read as usize + i;
                *b = if at < head.len() { head[at] } else { 0 };
            }
            self.read += buf.len() as u64;
            Ok(buf.len())
        }
    }

    #[test]
    fn exif_reads_only_the_first_megabytes() {
        let mut input = Endless { read: 0 };
        let mut item = MediaItem { file_name: "huge.dng".into(), ..Default::default() };
        read_exif_bounded(&mut input, &mut item);
        assert!(input.read <= EXIF_WINDOW + 64 * 1024, "read {} bytes", input.read);
        assert!(item.taken_at.is_none());
    }

    /// A reader that counts what is taken from it.
    struct Counted<R> {
        inner: R,
        read: u64,
    }

    impl<R: Read> Read for Counted<R> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.read += n as u64;
            Ok(n)
        }
    }

    #[test]
    fn a_photo_without_exif_is_not_read_whole_and_exif_further_in_is_still_found() {
        // a JPEG with no APP1 segment, then 4 MiB of image data: the first window only
        let mut jpeg =
            b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00".to_vec();
        jpeg.resize(4 << 20, 0x55);
        let mut input = Counted { inner: std::io::Cursor::new(jpeg), read: 0 };
        let mut item = MediaItem::default();
        read_exif_bounded(&mut input, &mut item);
        assert!(input.read <= FIRST_WINDOW + 64 * 1024, "read {} bytes", input.read);
        assert!(item.taken_at.is_none());

        // a TIFF whose first IFD lies past the first window: read further, and found
        let at = (FIRST_WINDOW + 4096) as usize;
        let mut tiff = vec![0u8; at];
        tiff[..4].copy_from_slice(b"II*\0");
        tiff[4..8].copy_from_slice(&(at as u32).to_le_bytes());
        let text_at = (at + 2 + 12 + 4) as u32;
        tiff.extend_from_slice(&1u16.to_le_bytes()); // one entry: DateTime, ASCII, 20 bytes
        tiff.extend_from_slice(&0x0132u16.to_le_bytes());
        tiff.extend_from_slice(&2u16.to_le_bytes());
        tiff.extend_from_slice(&20u32.to_le_bytes());
        tiff.extend_from_slice(&text_at.to_le_bytes());
        tiff.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
        tiff.extend_from_slice(b"2021:07:04 18:30:05\0");
        tiff.resize(tiff.len() + (1 << 20), 0);
        let mut item = MediaItem::default();
        read_exif_bounded(std::io::Cursor::new(tiff), &mut item);
        assert_eq!(item.taken_at.map(|t| t.to_string()).as_deref(), Some("2021-07-04 18:30:05"));
    }

    #[test]
    fn sidecar_round_trip() {
        let s = Sidecar::parse(br#"{"title":"Beach","description":"Sunset","photoTakenTime":{"timestamp":"1736150400"},"geoData":{"latitude":48.1,"longitude":11.5,"altitude":520.0},"other":1}"#).unwrap();
        let mut item = MediaItem { file_name: "a.jpg".into(), ..Default::default() };
        s.apply(&mut item);
        assert_eq!(item.title.as_deref(), Some("Beach"));
        assert_eq!(item.taken_at.unwrap().to_string(), "2025-01-06 08:00:00");
        assert_eq!(item.location.unwrap().altitude, Some(520.0));
        let back = Sidecar::from_item(&item).unwrap();
        let mut again = MediaItem { file_name: "a.jpg".into(), ..Default::default() };
        back.apply(&mut again);
        assert_eq!(again, item);
        assert!(Sidecar::parse(b"{not json").is_err());
    }
}

#[cfg(test)]
mod example_tests {
    /// The example photos were written by piexif, whose IFD links kamadak-exif calls
    /// invalid; their capture time and position must still be read.
    #[test]
    fn example_photo_exif_is_read() {
        let p = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/account/media/Holidays 2025/IMG_0002.jpg");
        let mut item = ferry_core::model::MediaItem::default();
        super::read_exif(&mut std::io::BufReader::new(std::fs::File::open(p).unwrap()), &mut item);
        assert!(item.taken_at.is_some(), "{item:?}");
        assert!(item.location.is_some() && item.camera.is_some(), "{item:?}");
    }
}

//! Tars and gzip streams written here byte by byte (a hostile archive is one no tar tool
//! would write), then opened and read as the archive connector does.

use super::TarPart;
use ferry_package::UnpackLimits;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;

/// A tar being written.
#[derive(Default)]
struct Tar(Vec<u8>);

fn octal(field: &mut [u8], v: u64) {
    let n = field.len() - 1;
    field[..n].copy_from_slice(format!("{v:0n$o}").as_bytes());
    field[n] = 0;
}

/// A ustar header; `size` as tar writes it (base-256 when it does not fit in octal).
fn header(name: &str, kind: u8, size: u64, link: &str) -> [u8; 512] {
    let mut h = [0u8; 512];
    assert!(name.len() <= 100 && link.len() <= 100, "use a long name entry");
    h[..name.len()].copy_from_slice(name.as_bytes());
    octal(&mut h[100..108], 0o644);
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    if size < 8u64.pow(11) {
        octal(&mut h[124..136], size);
    } else {
        h[124] = 0x80;
        h[128..136].copy_from_slice(&size.to_be_bytes());
    }
    octal(&mut h[136..148], 1_700_000_000);
    h[156] = kind;
    h[157..157 + link.len()].copy_from_slice(link.as_bytes());
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|b| *b as u32).sum();
    h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    h
}

impl Tar {
    /// An entry: its header, its bytes, the padding to 512.
    fn raw(&mut self, name: &str, kind: u8, data: &[u8], link: &str) -> &mut Self {
        self.0.extend_from_slice(&header(name, kind, data.len() as u64, link));
        self.0.extend_from_slice(data);
        self.0.resize(self.0.len().div_ceil(512) * 512, 0);
        self
    }

    fn file(&mut self, name: &str, data: &[u8]) -> &mut Self {
        self.raw(name, b'0', data, "")
    }

    /// A name of any length, as GNU tar writes it: a `L` entry before the file's.
    fn gnu_long(&mut self, name: &str, data: &[u8]) -> &mut Self {
        let mut n = name.as_bytes().to_vec();
        n.push(0);
        self.raw("././@LongLink", b'L', &n, "");
        self.raw(&name[..100], b'0', data, "")
    }

    /// A name of any length, as pax writes it: a `path` record before the file's header.
    fn pax_long(&mut self, name: &str, data: &[u8]) -> &mut Self {
        self.raw("PaxHeaders/x", b'x', pax_record("path", name).as_bytes(), "");
        self.raw("truncated-name", b'0', data, "")
    }

    fn finish(&mut self) -> Vec<u8> {
        let mut out = self.0.clone();
        out.extend_from_slice(&[0u8; 1024]);
        out
    }
}

/// A pax record: `LEN key=value\n`, LEN counting itself.
fn pax_record(key: &str, value: &str) -> String {
    let body = format!(" {key}={value}\n");
    let mut len = body.len() + 1;
    while format!("{len}{body}").len() != len {
        len += 1;
    }
    format!("{len}{body}")
}

/// One gzip member (with a file name and an extra field in its header, as some writers
/// put there), compressed at `level` (0: stored).
fn member(data: &[u8], level: u8) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0x04 | 0x08, 0, 0, 0, 0, 0, 3];
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(b"ab\x00\x00");
    out.extend_from_slice(b"takeout.tar\0");
    out.extend_from_slice(&miniz_oxide::deflate::compress_to_vec(data, level));
    out.extend_from_slice(&crc32fast::hash(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    member(data, 6)
}

/// Bytes that do not compress, the same for the same seed.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Opened as the connector opens it.
fn open(p: &Path) -> Result<TarPart, String> {
    TarPart::open(p, UnpackLimits::default(), super::CHECKPOINT_MIN, &AtomicU64::new(super::HELD))
}

/// Opened with a checkpoint every `every` bytes and no small file held: every read goes
/// through a decompressor.
fn open_every(p: &Path, every: u64) -> TarPart {
    TarPart::open(p, UnpackLimits::default(), every, &AtomicU64::new(0)).unwrap()
}

fn read(part: &TarPart, path: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    part.open_file(path)?.read_to_end(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

fn refused(tar: &[u8]) -> String {
    let t = tempfile::tempdir().unwrap();
    match open(&write(t.path(), "x.tgz", &gzip(tar))) {
        Ok(p) => panic!("opened: {:?}", p.files.keys().collect::<Vec<_>>()),
        Err(e) => e,
    }
}

#[test]
fn a_tar_lists_its_files_with_sizes_and_crcs_and_reads_them() {
    let t = tempfile::tempdir().unwrap();
    let long = format!("Takeout/Google Photos/Photos from 2021/{}.jpg", "Screenshot_2021-02-03-11-22-33-456_com.example.app".repeat(2));
    let pax = format!("Takeout/Mail/{}.mbox", "Alle E-Mails einschließlich Spam und Papierkorb ".repeat(3));
    let tar = Tar::default()
        .raw("./", b'5', b"", "")
        .raw("./Takeout/", b'5', b"", "")
        .file("./Takeout/archive_browser.html", b"<html>index</html>")
        .file("Takeout/empty.txt", b"")
        .gnu_long(&long, &noise(1, 5000))
        .pax_long(&pax, b"From x\nSubject: hi\n\nbody\n")
        .raw("/tmp/GlobalHead.1234.1", b'g', pax_record("comment", "a global header, not a file").as_bytes(), "")
        .finish();
    let part = open(&write(t.path(), "a.tgz", &gzip(&tar))).unwrap();
    let names: Vec<&str> = part.files.keys().map(String::as_str).collect();
    let mut want = vec![long.as_str(), pax.as_str(), "Takeout/archive_browser.html", "Takeout/empty.txt"];
    want.sort();
    assert_eq!(names, want);
    assert_eq!(read(&part, "Takeout/archive_browser.html").unwrap(), b"<html>index</html>");
    assert_eq!(read(&part, &long).unwrap(), noise(1, 5000));
    assert_eq!(part.files[&long].crc32, crc32fast::hash(&noise(1, 5000)));
    assert_eq!(part.files[&long].size, 5000);
    assert_eq!(read(&part, &pax).unwrap(), b"From x\nSubject: hi\n\nbody\n");
    assert_eq!(read(&part, "Takeout/empty.txt").unwrap(), b"");
    assert!(read(&part, "Takeout/none").unwrap_err().contains("no such file"));
}

#[test]
fn hostile_entries_are_refused_with_their_reason() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (Tar::default().file("ok.json", b"{}").file("../x", b"evil").finish(), "unsafe path"),
        (Tar::default().file("Takeout/../../x", b"evil").finish(), "unsafe path"),
        (Tar::default().file("/etc/x", b"evil").finish(), "absolute path"),
        (Tar::default().file("C:/x", b"evil").finish(), "drive letter"),
        (Tar::default().raw("link", b'2', b"", "/etc/passwd").finish(), "symbolic link"),
        (Tar::default().file("a", b"x").raw("b", b'1', b"", "a").finish(), "hard link"),
        (Tar::default().raw("dev/sda", b'4', b"", "").finish(), "device"),
        (Tar::default().raw("dev/tty", b'3', b"", "").finish(), "device"),
        (Tar::default().raw("pipe", b'6', b"", "").finish(), "named pipe"),
        (Tar::default().raw("sparse", b'S', b"", "").finish(), "sparse"),
        (Tar::default().raw("odd", b'Z', b"", "").finish(), "type 'Z'"),
        (Tar::default().file("a.json", b"1").file("a.json", b"2").finish(), "holds this name twice"),
    ];
    for (tar, why) in cases {
        let e = refused(&tar);
        assert!(e.contains(why), "{why}: {e}");
    }
    // a name that is not UTF-8
    let mut tar = Tar::default().file("a\u{fe}.json", b"1").finish();
    let at = tar.windows(2).position(|w| w == "\u{fe}".as_bytes()).unwrap();
    tar[at] = 0xff;
    tar[at + 1] = b'x';
    let sum: u32 = tar[..512].iter().enumerate().map(|(i, b)| if (148..156).contains(&i) { 32 } else { *b as u32 }).sum();
    tar[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    assert!(refused(&tar).contains("not UTF-8"));
}

#[test]
fn a_huge_declared_size_is_refused_before_its_bytes_are_read() {
    let mut tar = Tar::default();
    tar.0.extend_from_slice(&header("big.bin", b'0', 1 << 50, ""));
    tar.0.extend_from_slice(&[0u8; 4096]);
    let e = refused(&tar.0);
    assert!(e.contains("tar bomb") && e.contains("more than"), "{e}");
}

#[test]
fn a_tar_bomb_is_refused_by_its_ratio() {
    // the whole part: 64 MiB of zeros in a gzip of some 64 KiB
    let t = tempfile::tempdir().unwrap();
    let tar = Tar::default().file("likes.json", &vec![b' '; 64 << 20]).finish();
    let e = open(&write(t.path(), "bomb.tgz", &gzip(&tar))).err().expect("refused");
    assert!(e.contains("tar bomb"), "{e}");
    // one file among files that do not compress: its own ratio
    let limits = UnpackLimits { ratio_floor: 64 << 10, ..UnpackLimits::default() };
    let tar = Tar::default().file("a.jpg", &noise(3, 2 << 20)).file("b.json", &vec![b' '; 4 << 20]).finish();
    let e = TarPart::open(&write(t.path(), "one.tgz", &gzip(&tar)), limits, 1 << 20, &AtomicU64::new(0)).err().expect("refused");
    assert!(e.contains("b.json") && e.contains("expands"), "{e}");
    // the stream past the tar: zeros that unpack to more than the ratio allows
    let mut tar = Tar::default().file("a.json", b"{}").finish();
    tar.resize(64 << 20, 0);
    let e = open(&write(t.path(), "pad.tgz", &gzip(&tar))).err().expect("refused");
    assert!(e.contains("tar bomb"), "{e}");
}

#[test]
fn a_long_name_over_the_header_bound_is_refused_without_holding_it() {
    let mut tar = Tar::default();
    tar.raw("././@LongLink", b'L', &vec![b'a'; 2 << 20], "");
    tar.file("x", b"1");
    let e = refused(&tar.finish());
    assert!(e.contains("long name") && e.contains("1048576"), "{e}");
}

#[test]
fn a_truncated_or_damaged_gzip_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let tar = Tar::default().file("a.jpg", &noise(4, 200_000)).file("b.json", b"{}").finish();
    let gz = gzip(&tar);
    let e = open(&write(t.path(), "cut.tgz", &gz[..gz.len() / 2])).err().expect("refused");
    assert!(e.contains("truncated"), "{e}");
    // only the trailer missing: the tar is whole, the gzip is not
    let e = open(&write(t.path(), "cut8.tgz", &gz[..gz.len() - 8])).err().expect("refused");
    assert!(e.contains("truncated"), "{e}");
    // a wrong check sum in the trailer
    let mut bad = gz.clone();
    let n = bad.len();
    bad[n - 8] ^= 0xff;
    let e = open(&write(t.path(), "crc.tgz", &bad)).err().expect("refused");
    assert!(e.contains("check sum"), "{e}");
    // damaged inside the compressed data
    let mut bad = gz.clone();
    for b in &mut bad[40..60] {
        *b = 0xff;
    }
    let e = open(&write(t.path(), "bad.tgz", &bad)).err().expect("refused");
    assert!(e.contains("damaged") || e.contains("check sum") || e.contains("tar"), "{e}");
    assert!(open(&write(t.path(), "plain.tgz", &tar)).err().expect("refused").contains("not a gzip file"));
    assert!(open(&write(t.path(), "empty.tgz", b"")).err().expect("refused").contains("empty file"));
    // the gzip whole, the tar cut inside a file
    let e = open(&write(t.path(), "tarcut.tgz", &gzip(&tar[..100_000]))).err().expect("refused");
    assert!(e.contains("a.jpg") && e.contains("truncated"), "{e}");
}

#[test]
fn what_follows_the_tar_is_checked() {
    let t = tempfile::tempdir().unwrap();
    let tar = Tar::default().file("a.json", b"{}").finish();
    // zeros after the gzip stream: padding, accepted
    let mut padded = gzip(&tar);
    padded.extend_from_slice(&[0u8; 700]);
    assert!(open(&write(t.path(), "padded.tgz", &padded)).is_ok());
    // garbage after it is not
    let mut junk = gzip(&tar);
    junk.extend_from_slice(b"junk");
    assert!(open(&write(t.path(), "junk.tgz", &junk)).err().expect("refused").contains("after the end of the gzip"));
    // a second tar after the first one's end (cat a.tar b.tar): its files would be lost
    let mut two = tar.clone();
    two.extend_from_slice(&Tar::default().file("b.json", b"{}").finish());
    assert!(open(&write(t.path(), "two.tgz", &gzip(&two))).err().expect("refused").contains("two archives joined"));
}

/// Files of a few sizes, text and noise, and a tar of them.
fn many_files(n: usize) -> (Vec<(String, Vec<u8>)>, Vec<u8>) {
    let files: Vec<(String, Vec<u8>)> = (0..n)
        .map(|i| {
            let bytes = if i % 3 == 0 {
                format!("{{\"n\": {i}, \"text\": \"{}\"}}", "words that compress ".repeat(i % 50)).into_bytes()
            } else {
                noise(i as u64, 1000 + (i * 7919) % 20_000)
            };
            (format!("Takeout/f/{i:04}.bin"), bytes)
        })
        .collect();
    let mut tar = Tar::default();
    for (name, bytes) in &files {
        tar.file(name, bytes);
    }
    (files, tar.finish())
}

#[test]
fn files_read_in_archive_order_cost_one_pass() {
    let t = tempfile::tempdir().unwrap();
    let (files, tar) = many_files(200);
    let part = open_every(&write(t.path(), "a.tgz", &gzip(&tar)), super::CHECKPOINT_MIN);
    for (name, bytes) in &files {
        assert_eq!(&read(&part, name).unwrap(), bytes, "{name}");
    }
    let (started, skipped, _) = part.stream.cost();
    assert_eq!(started, 1, "one decompressor for all");
    assert!(skipped <= 200 * 1024, "only the headers and padding are skipped: {skipped}");
    assert_eq!(part.stream.pooled().len(), 1);
    // a file read in part (a photo's EXIF), then the next: the same decompressor goes on
    let (a, b) = (&files[10].0, &files[11].0);
    let mut r = part.open_file(a).unwrap();
    let mut head = [0u8; 100];
    r.read_exact(&mut head).unwrap();
    drop(r);
    assert_eq!(&read(&part, b).unwrap(), &files[11].1);
    assert_eq!(part.stream.cost().0, 2, "one more for going back to file 10, none for file 11");
}

#[test]
fn files_read_out_of_order_start_from_the_nearest_checkpoint_and_read_right() {
    let t = tempfile::tempdir().unwrap();
    let (files, tar) = many_files(300);
    let p = write(t.path(), "a.tgz", &gzip(&tar));
    // a checkpoint every 16 KiB of the file
    let part = open_every(&p, 16 << 10);
    assert!(part.stream.cost().2 > 50, "{:?}", part.stream.cost());
    // in a shuffled order, the bytes are each file's own
    let mut order: Vec<usize> = (0..files.len()).collect();
    let mut x = 7u64;
    for i in (1..order.len()).rev() {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        order.swap(i, (x >> 33) as usize % (i + 1));
    }
    for i in order {
        assert_eq!(read(&part, &files[i].0).unwrap(), files[i].1, "{}", files[i].0);
    }
    // the last file first: from a checkpoint, not from the beginning
    let fresh = open_every(&p, 16 << 10);
    let last = &files[files.len() - 1];
    assert_eq!(read(&fresh, &last.0).unwrap(), last.1);
    let skipped = fresh.stream.cost().1;
    assert!(skipped < 200 << 10, "skipped {skipped} of {} bytes", tar.len());
    // without checkpoints the same read decompresses all that comes before it
    let none = open_every(&p, u64::MAX);
    assert_eq!(none.stream.cost().2, 0);
    assert_eq!(read(&none, &last.0).unwrap(), last.1);
    assert!(none.stream.cost().1 as usize > tar.len() * 9 / 10);
}

#[test]
fn readers_on_several_threads_each_read_their_file() {
    let t = tempfile::tempdir().unwrap();
    let (files, tar) = many_files(120);
    let part = std::sync::Arc::new(open_every(&write(t.path(), "a.tgz", &gzip(&tar)), 8 << 10));
    let files = std::sync::Arc::new(files);
    let threads: Vec<_> = (0..4)
        .map(|k| {
            let (part, files) = (part.clone(), files.clone());
            std::thread::spawn(move || {
                for (i, (name, bytes)) in files.iter().enumerate() {
                    if i % 4 == k {
                        assert_eq!(&read(&part, name).unwrap(), bytes, "{name}");
                    }
                }
            })
        })
        .collect();
    for th in threads {
        th.join().unwrap();
    }
    assert!(part.stream.pooled().len() <= super::read::POOL);
}

#[test]
fn a_gzip_of_several_members_reads_as_one_stream() {
    // as pigz and concatenated gzip files write it: a file across the members' seam
    let t = tempfile::tempdir().unwrap();
    let (files, tar) = many_files(60);
    let cut = tar.len() / 3 + 100;
    let mut gz = member(&tar[..cut], 6);
    gz.extend_from_slice(&member(&tar[cut..cut * 2], 0));
    gz.extend_from_slice(&member(&tar[cut * 2..], 9));
    let p = write(t.path(), "m.tgz", &gz);
    for every in [u64::MAX, 4 << 10] {
        let part = open_every(&p, every);
        for (name, bytes) in files.iter().rev() {
            assert_eq!(&read(&part, name).unwrap(), bytes, "{name}");
        }
    }
    // a damaged check sum in a later member is found
    let mut bad = member(&tar[..cut], 6);
    let mut second = member(&tar[cut..], 6);
    let n = second.len();
    second[n - 6] ^= 1;
    bad.extend_from_slice(&second);
    assert!(open(&write(t.path(), "bad.tgz", &bad)).err().expect("refused").contains("check sum"));
}

#[test]
fn a_file_changed_after_opening_is_not_read_as_the_archive() {
    // stored blocks: a changed byte still decompresses, to other bytes
    let t = tempfile::tempdir().unwrap();
    let data = noise(9, 50_000);
    let tar = Tar::default().file("a.jpg", &data).file("b.json", b"{}").finish();
    let gz = member(&tar, 0);
    let p = write(t.path(), "a.tgz", &gz);
    let part = open_every(&p, u64::MAX);
    let at = gz.windows(64).position(|w| w == &data[20_000..20_064]).unwrap();
    let mut changed = gz.clone();
    changed[at] ^= 1;
    std::fs::write(&p, &changed).unwrap();
    let e = read(&part, "a.jpg").unwrap_err();
    assert!(e.contains("a.jpg") && e.contains("changed"), "{e}");
}

#[test]
fn small_files_are_held_from_the_opening_pass_while_the_budget_lasts() {
    let t = tempfile::tempdir().unwrap();
    let (files, tar) = many_files(40);
    let p = write(t.path(), "a.tgz", &gzip(&tar));
    // a budget for some of the files of two parts
    let budget = AtomicU64::new(files[..10].iter().map(|(_, b)| b.len() as u64).sum::<u64>());
    let first = TarPart::open(&p, UnpackLimits::default(), u64::MAX, &budget).unwrap();
    let second = TarPart::open(&p, UnpackLimits::default(), u64::MAX, &budget).unwrap();
    assert_eq!(first.held.len(), 10, "the first ten fit");
    assert!(second.held.is_empty(), "the budget is the archive's, not each part's");
    for (name, bytes) in &files[..10] {
        assert_eq!(&read(&first, name).unwrap(), bytes);
    }
    assert_eq!(first.stream.cost().0, 0, "held files need no decompressor");
    assert_eq!(read(&first, &files[20].0).unwrap(), files[20].1);
    assert_eq!(first.stream.cost().0, 1);
    // a file over the size held is never held, whatever the budget
    let big = Tar::default().file("big.bin", &noise(5, super::index::HOLD_MAX as usize + 1)).file("small.json", b"{}").finish();
    let part = open(&write(t.path(), "b.tgz", &gzip(&big))).unwrap();
    assert_eq!(part.held.keys().collect::<Vec<_>>(), vec!["small.json"]);
}

#[test]
fn tar_paths_are_made_archive_paths() {
    use super::index::archive_path;
    assert_eq!(archive_path(b"./Takeout/a.json").unwrap().as_deref(), Some("Takeout/a.json"));
    assert_eq!(archive_path(b"././a").unwrap().as_deref(), Some("a"));
    assert_eq!(archive_path(b"./").unwrap(), None);
    assert_eq!(archive_path(b".").unwrap(), None);
    assert_eq!(archive_path(b"Takeout/").unwrap().as_deref(), Some("Takeout/"));
    assert!(archive_path(b"./../a").unwrap_err().contains("unsafe path"));
    assert!(archive_path(b"a/./b").unwrap_err().contains("unsafe path"));
    assert!(archive_path(b"a\\b").unwrap_err().contains("backslash"));
}

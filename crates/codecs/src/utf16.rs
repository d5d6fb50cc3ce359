//! UTF-16 input (Outlook writes `.ics` and `.vcf` files in UTF-16 with a byte order mark)
//! decoded to UTF-8 while it streams, in fixed memory, so that the line readers above see
//! UTF-8 only.
//!
//! A UTF-16 unit that cannot be decoded (an unpaired surrogate, an odd last byte) comes out
//! as the byte 0xFF, which is never valid UTF-8: the record holding it is then refused as
//! "not valid UTF-8" with its line, instead of being changed silently.

use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};

/// The byte order a UTF-16 byte order mark at the start of `head` announces.
pub fn utf16_bom(head: &[u8]) -> Option<Endian> {
    match head {
        [0xFF, 0xFE, 0, 0, ..] => None, // UTF-32LE, not UTF-16
        [0xFF, 0xFE, ..] => Some(Endian::Little),
        [0xFE, 0xFF, ..] => Some(Endian::Big),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endian {
    Little,
    Big,
}

/// Output bytes between two points where decoding can restart (see [`Seek`]).
const CHECKPOINT_EVERY: u64 = 64 * 1024;
const INPUT_CHUNK: usize = 8 * 1024;

/// Reads UTF-16 bytes (byte order mark included, which becomes U+FEFF) and yields UTF-8.
/// With a seekable input it is seekable too, in UTF-8 positions: it notes where decoding
/// can restart every 64 KiB of output, so a seek decodes at most that much again.
pub struct Utf16Reader<R> {
    inner: R,
    endian: Endian,
    input: Box<[u8]>,
    in_start: usize,
    in_end: usize,
    eof: bool,
    /// UTF-8 bytes of the last decoded character not yet handed out.
    out: [u8; 4],
    out_start: usize,
    out_end: usize,
    /// UTF-8 bytes handed out (or decoded into `out`) so far, and input bytes consumed.
    out_pos: u64,
    in_pos: u64,
    /// (output position, input position) pairs where decoding restarts cleanly.
    checkpoints: Vec<(u64, u64)>,
}

impl<R: Read> Utf16Reader<R> {
    pub fn new(inner: R, endian: Endian) -> Self {
        Utf16Reader {
            inner,
            endian,
            input: vec![0; INPUT_CHUNK].into_boxed_slice(),
            in_start: 0,
            in_end: 0,
            eof: false,
            out: [0; 4],
            out_start: 0,
            out_end: 0,
            out_pos: 0,
            in_pos: 0,
            checkpoints: vec![(0, 0)],
        }
    }

    /// Makes sure at least `n` (1 or 2) input bytes are buffered unless the input ends.
    fn want(&mut self, n: usize) -> io::Result<usize> {
        while self.in_end - self.in_start < n && !self.eof {
            if self.in_start > 0 {
                self.input.copy_within(self.in_start..self.in_end, 0);
                self.in_end -= self.in_start;
                self.in_start = 0;
            }
            match self.inner.read(&mut self.input[self.in_end..]) {
                Ok(0) => self.eof = true,
                Ok(k) => self.in_end += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self.in_end - self.in_start)
    }

    fn unit(&mut self) -> u16 {
        let b = [self.input[self.in_start], self.input[self.in_start + 1]];
        self.in_start += 2;
        self.in_pos += 2;
        match self.endian {
            Endian::Little => u16::from_le_bytes(b),
            Endian::Big => u16::from_be_bytes(b),
        }
    }

    /// Decodes the next character into `out`. False at the end of the input.
    fn decode_one(&mut self) -> io::Result<bool> {
        if self.out_pos >= self.checkpoints.last().map_or(0, |c| c.0) + CHECKPOINT_EVERY {
            self.checkpoints.push((self.out_pos, self.in_pos));
        }
        let avail = self.want(2)?;
        if avail == 0 {
            return Ok(false);
        }
        if avail == 1 {
            // an odd last byte
            self.in_start += 1;
            self.in_pos += 1;
            return Ok(self.emit_invalid());
        }
        let u = self.unit();
        let c = match u {
            0xD800..=0xDBFF => {
                if self.want(2)? < 2 {
                    return Ok(self.emit_invalid());
                }
                let b = [self.input[self.in_start], self.input[self.in_start + 1]];
                let low = match self.endian {
                    Endian::Little => u16::from_le_bytes(b),
                    Endian::Big => u16::from_be_bytes(b),
                };
                if !(0xDC00..=0xDFFF).contains(&low) {
                    // the next unit is read on its own
                    return Ok(self.emit_invalid());
                }
                self.unit();
                char::from_u32(0x10000 + (((u as u32) - 0xD800) << 10) + (low as u32 - 0xDC00))
            }
            0xDC00..=0xDFFF => None,
            _ => char::from_u32(u as u32),
        };
        match c {
            Some(c) => {
                let n = c.encode_utf8(&mut self.out).len();
                self.out_start = 0;
                self.out_end = n;
                self.out_pos += n as u64;
                Ok(true)
            }
            None => Ok(self.emit_invalid()),
        }
    }

    fn emit_invalid(&mut self) -> bool {
        self.out[0] = 0xFF;
        self.out_start = 0;
        self.out_end = 1;
        self.out_pos += 1;
        true
    }
}

impl<R: Read> Read for Utf16Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut n = 0;
        while n < buf.len() {
            if self.out_start == self.out_end && !self.decode_one()? {
                break;
            }
            let k = (self.out_end - self.out_start).min(buf.len() - n);
            buf[n..n + k].copy_from_slice(&self.out[self.out_start..self.out_start + k]);
            self.out_start += k;
            n += k;
        }
        Ok(n)
    }
}

impl<R: Read + Seek> Seek for Utf16Reader<R> {
    /// Only `SeekFrom::Start` is supported (positions are in UTF-8 output bytes).
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let SeekFrom::Start(target) = pos else {
            return Err(io::Error::new(io::ErrorKind::Unsupported, "UTF-16 input: only seeks from the start"));
        };
        let here = self.out_pos - (self.out_end - self.out_start) as u64;
        if target < here || target > here + CHECKPOINT_EVERY {
            let i = self.checkpoints.partition_point(|c| c.0 <= target).saturating_sub(1);
            let (out_pos, in_pos) = self.checkpoints[i];
            self.inner.seek(SeekFrom::Start(in_pos))?;
            self.in_start = 0;
            self.in_end = 0;
            self.eof = false;
            self.out_start = 0;
            self.out_end = 0;
            self.out_pos = out_pos;
            self.in_pos = in_pos;
        }
        // decode forward to the target
        let mut skip = target - (self.out_pos - (self.out_end - self.out_start) as u64);
        let mut scratch = [0u8; 4096];
        while skip > 0 {
            let k = self.read(&mut scratch[..skip.min(4096) as usize])?;
            if k == 0 {
                break;
            }
            skip -= k as u64;
        }
        Ok(target - skip)
    }
}

/// A buffered input that is passed through as it is, or decoded from UTF-16 when it starts
/// with a UTF-16 byte order mark (looked at on the first read).
pub struct Decoded<R> {
    state: State<R>,
}

enum State<R> {
    Fresh(R),
    Plain(R),
    Utf16(BufReader<Utf16Reader<R>>),
    Gone,
}

impl<R: BufRead> Decoded<R> {
    pub fn new(inner: R) -> Self {
        Decoded { state: State::Fresh(inner) }
    }

    fn settle(&mut self) -> io::Result<()> {
        if let State::Fresh(inner) = &mut self.state {
            let bom = utf16_bom(inner.fill_buf()?);
            let State::Fresh(inner) = std::mem::replace(&mut self.state, State::Gone) else { unreachable!() };
            self.state = match bom {
                Some(endian) => State::Utf16(BufReader::with_capacity(INPUT_CHUNK, Utf16Reader::new(inner, endian))),
                None => State::Plain(inner),
            };
        }
        Ok(())
    }
}

impl<R: BufRead> Read for Decoded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = {
            let available = self.fill_buf()?;
            let n = available.len().min(buf.len());
            buf[..n].copy_from_slice(&available[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Decoded<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.settle()?;
        match &mut self.state {
            State::Plain(r) => r.fill_buf(),
            State::Utf16(r) => r.fill_buf(),
            State::Fresh(_) | State::Gone => Ok(&[]),
        }
    }

    fn consume(&mut self, amt: usize) {
        match &mut self.state {
            State::Plain(r) => r.consume(amt),
            State::Utf16(r) => r.consume(amt),
            State::Fresh(_) | State::Gone => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn utf16le(s: &str) -> Vec<u8> {
        let mut v = vec![0xFF, 0xFE];
        for u in s.encode_utf16() {
            v.extend_from_slice(&u.to_le_bytes());
        }
        v
    }

    #[test]
    fn decodes_both_byte_orders_and_surrogate_pairs() {
        let text = "BEGIN:VCARD\r\nFN:Zoë 😀\r\nEND:VCARD\r\n";
        let mut out = String::new();
        Decoded::new(&utf16le(text)[..]).read_to_string(&mut out).unwrap();
        assert_eq!(out, format!("\u{FEFF}{text}"));
        let mut be = vec![0xFE, 0xFF];
        for u in text.encode_utf16() {
            be.extend_from_slice(&u.to_be_bytes());
        }
        out.clear();
        Decoded::new(&be[..]).read_to_string(&mut out).unwrap();
        assert_eq!(out, format!("\u{FEFF}{text}"));
    }

    #[test]
    fn plain_input_passes_through() {
        let mut out = Vec::new();
        Decoded::new(&b"\xEF\xBB\xBFBEGIN:VCARD\n\xE9"[..]).read_to_end(&mut out).unwrap();
        assert_eq!(out, b"\xEF\xBB\xBFBEGIN:VCARD\n\xE9");
    }

    #[test]
    fn broken_units_become_invalid_utf8() {
        let mut v = utf16le("a");
        v.extend_from_slice(&0xD800u16.to_le_bytes()); // a high surrogate alone
        v.extend_from_slice(&(b'b' as u16).to_le_bytes());
        v.push(b'c'); // an odd byte
        let mut out = Vec::new();
        Utf16Reader::new(&v[2..], Endian::Little).read_to_end(&mut out).unwrap();
        assert_eq!(out, b"a\xFFb\xFF");
    }

    #[test]
    fn seeks_in_utf8_positions() {
        let text: String = (0..40_000).map(|i| format!("{i}:ü€😀\n")).collect();
        let data = utf16le(&text);
        let mut r = Utf16Reader::new(Cursor::new(data), Endian::Little);
        let mut all = Vec::new();
        r.read_to_end(&mut all).unwrap();
        assert_eq!(&all[3..], text.as_bytes());
        for target in [all.len() as u64 - 10, 5, 200_000, 3, 600_000, 70_000] {
            assert_eq!(r.seek(SeekFrom::Start(target)).unwrap(), target);
            let mut got = [0u8; 7];
            r.read_exact(&mut got).unwrap();
            assert_eq!(got, all[target as usize..target as usize + 7], "at {target}");
        }
    }
}

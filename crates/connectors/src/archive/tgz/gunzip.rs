//! A gzip file read forward as one stream of bytes (every member, one after the other),
//! from its start or from a [`Checkpoint`] an earlier pass took: the whole state of the
//! decompressor at a point (its 32 KiB window with it), so that a later reader starts
//! there instead of at the beginning. Read from its start, each member's CRC-32 and
//! length are checked against its trailer.

use miniz_oxide::inflate::stream::{InflateState, MinReset, inflate};
use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::sync::Arc;

const INPUT_BUFFER: usize = 64 * 1024;

/// Where a reader can start again: the decompressor as it was there.
pub struct Checkpoint {
    /// Offset in the decompressed stream.
    pub out: u64,
    /// Offset in the file of the first byte the decompressor had not taken.
    input: u64,
    state: Box<InflateState>,
}

#[derive(PartialEq)]
enum Phase {
    /// Before a member's header (`first`: the file's first).
    Header {
        first: bool,
    },
    Body,
    Done,
}

pub struct Gunzip {
    file: Arc<File>,
    len: u64,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    /// File offset of `buf[end]`.
    file_pos: u64,
    state: Box<InflateState>,
    phase: Phase,
    out: u64,
    /// CRC-32 and length of the member's output so far, when it was read from its start.
    check: Option<(crc32fast::Hasher, u64)>,
}

fn damaged(why: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why.into())
}

fn truncated() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "the gzip stream ends early: the file is truncated")
}

impl Gunzip {
    /// At the start of the file.
    pub fn new(file: Arc<File>) -> io::Result<Gunzip> {
        Gunzip::at(file, 0, InflateState::new_boxed(DataFormat::Raw), Phase::Header { first: true }, 0)
    }

    /// Where `at` was taken (its members' trailers are not checked: their start is not read).
    pub fn resume(file: Arc<File>, at: &Checkpoint) -> io::Result<Gunzip> {
        Gunzip::at(file, at.input, at.state.clone(), Phase::Body, at.out)
    }

    fn at(file: Arc<File>, file_pos: u64, state: Box<InflateState>, phase: Phase, out: u64) -> io::Result<Gunzip> {
        let len = file.metadata()?.len();
        Ok(Gunzip { file, len, buf: vec![0; INPUT_BUFFER].into_boxed_slice(), start: 0, end: 0, file_pos, state, phase, out, check: None })
    }

    /// Offset in the decompressed stream of the next byte read.
    pub fn position(&self) -> u64 {
        self.out
    }

    /// True once the last member is read.
    pub fn finished(&self) -> bool {
        self.phase == Phase::Done
    }

    /// Offset in the file of the next byte the decompressor takes.
    pub fn input_position(&self) -> u64 {
        self.file_pos - (self.end - self.start) as u64
    }

    /// The state here, inside a member (elsewhere `None`: a member's start costs nothing).
    pub fn checkpoint(&self) -> Option<Checkpoint> {
        (self.phase == Phase::Body).then(|| Checkpoint { out: self.out, input: self.input_position(), state: self.state.clone() })
    }

    /// Reads and drops `n` bytes; fails if the stream ends first.
    pub fn skip(&mut self, mut n: u64) -> io::Result<()> {
        let mut scratch = vec![0u8; 64 * 1024];
        while n > 0 {
            let want = n.min(scratch.len() as u64) as usize;
            let got = self.read(&mut scratch[..want])?;
            if got == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the archive ends before a file it lists"));
            }
            n -= got as u64;
        }
        Ok(())
    }

    /// Reads more of the file into the buffer, keeping what is not taken yet; false at
    /// the end of the file.
    fn refill(&mut self) -> io::Result<bool> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() || self.file_pos >= self.len {
            return Ok(false);
        }
        let n = self.file.read_at(&mut self.buf[self.end..], self.file_pos)?;
        self.end += n;
        self.file_pos += n as u64;
        Ok(n > 0)
    }

    /// At least `n` bytes in the buffer (`n` at most its size); false if the file ends first.
    fn fill(&mut self, n: usize) -> io::Result<bool> {
        while self.end - self.start < n {
            if !self.refill()? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn byte(&mut self) -> io::Result<u8> {
        if !self.fill(1)? {
            return Err(truncated());
        }
        self.start += 1;
        Ok(self.buf[self.start - 1])
    }

    /// Reads a member's header (RFC 1952, 2.3); false when the file has no more members.
    fn header(&mut self, first: bool) -> io::Result<bool> {
        if !self.fill(2)? && self.end == self.start {
            return if first { Err(damaged("an empty file, not a gzip file")) } else { Ok(false) };
        }
        if self.end - self.start < 2 || self.buf[self.start..self.start + 2] != [0x1f, 0x8b] {
            if first {
                return Err(damaged("not a gzip file"));
            }
            // what some writers pad a file with: zeros after the last member
            return self.only_zeros_left().map(|()| false);
        }
        if !self.fill(10)? {
            return Err(truncated());
        }
        let h = &self.buf[self.start..self.start + 10];
        if h[2] != 8 {
            return Err(damaged(format!("a gzip member compressed with method {}, not deflate", h[2])));
        }
        let flags = h[3];
        if flags & 0xe0 != 0 {
            return Err(damaged("a gzip header with reserved flags set"));
        }
        self.start += 10;
        if flags & 0x04 != 0 {
            let n = u16::from_le_bytes([self.byte()?, self.byte()?]);
            for _ in 0..n {
                self.byte()?;
            }
        }
        // the file name, then the comment: each ends with a zero byte
        for flag in [0x08, 0x10] {
            if flags & flag != 0 {
                while self.byte()? != 0 {}
            }
        }
        if flags & 0x02 != 0 {
            self.byte()?;
            self.byte()?;
        }
        self.state.reset_as(MinReset);
        self.check = Some((crc32fast::Hasher::new(), 0));
        Ok(true)
    }

    fn only_zeros_left(&mut self) -> io::Result<()> {
        loop {
            if self.buf[self.start..self.end].iter().any(|b| *b != 0) {
                return Err(damaged("data after the end of the gzip stream"));
            }
            self.start = self.end;
            if !self.refill()? {
                return Ok(());
            }
        }
    }

    /// Reads a member's trailer: its CRC-32 and length, checked when it was read whole.
    fn trailer(&mut self) -> io::Result<()> {
        if !self.fill(8)? {
            return Err(truncated());
        }
        let t = &self.buf[self.start..self.start + 8];
        let (crc, len) = (u32::from_le_bytes([t[0], t[1], t[2], t[3]]), u32::from_le_bytes([t[4], t[5], t[6], t[7]]));
        self.start += 8;
        if let Some((h, n)) = self.check.take()
            && (h.finalize() != crc || n as u32 != len)
        {
            return Err(damaged("the gzip stream is damaged: its check sum does not match what it holds"));
        }
        Ok(())
    }
}

impl Read for Gunzip {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            match self.phase {
                Phase::Done => return Ok(0),
                Phase::Header { first } => {
                    self.phase = if self.header(first)? { Phase::Body } else { Phase::Done };
                }
                Phase::Body => {
                    if self.start == self.end {
                        self.refill()?;
                    }
                    let at_end = self.start == self.end;
                    let r = inflate(&mut self.state, &self.buf[self.start..self.end], out, MZFlush::None);
                    self.start += r.bytes_consumed;
                    let n = r.bytes_written;
                    if let Some((h, len)) = &mut self.check {
                        h.update(&out[..n]);
                        *len += n as u64;
                    }
                    self.out += n as u64;
                    match r.status {
                        Ok(MZStatus::StreamEnd) => {
                            self.trailer()?;
                            self.phase = Phase::Header { first: false };
                        }
                        // no progress: more input, or the file ended inside the member
                        Ok(_) | Err(MZError::Buf) => {
                            if n == 0 && r.bytes_consumed == 0 && (at_end || !self.refill()?) {
                                return Err(truncated());
                            }
                        }
                        Err(e) => return Err(damaged(format!("the gzip stream is damaged ({e:?})"))),
                    }
                    if n > 0 {
                        return Ok(n);
                    }
                }
            }
        }
    }
}

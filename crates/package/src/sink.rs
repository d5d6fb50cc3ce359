//! Where the final package's files go, hashing each as it is written: a folder, a ZIP
//! file, or a ZIP streamed straight into the age encryptor (no plaintext ZIP on disk).

use crate::PackageError;
use crate::crypt::Encryption;
use crate::manifest::FileEntry;
use crate::staging::create_new_private;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

type AgeOut = age::stream::StreamWriter<BufWriter<File>>;

enum Out {
    Dir(PathBuf),
    Zip(Box<zip::ZipWriter<BufWriter<File>>>),
    AgeZip(Box<zip::ZipWriter<zip::write::StreamWriter<AgeOut>>>),
}

/// Runs `$body` with `$z` bound to whichever ZIP writer `$out` holds.
macro_rules! with_zip {
    ($out:expr, $z:ident => $body:expr) => {
        match $out {
            Out::Zip($z) => {
                let $z = &mut **$z;
                $body
            }
            Out::AgeZip($z) => {
                let $z = &mut **$z;
                $body
            }
            Out::Dir(_) => unreachable!("not a ZIP"),
        }
    };
}

struct Open {
    path: String,
    media_type: String,
    hasher: Sha256,
    size: u64,
    file: Option<BufWriter<File>>,
}

pub(crate) struct Sink {
    out: Out,
    /// Modification time of ZIP entries: the package's creation time.
    pub time: zip::DateTime,
    open: Option<Open>,
    pub entries: Vec<FileEntry>,
}

fn io_err(ctx: impl Into<String>) -> impl FnOnce(io::Error) -> PackageError {
    let ctx = ctx.into();
    move |e| PackageError::io(ctx, e)
}

fn zip_err(ctx: &str) -> impl FnOnce(zip::result::ZipError) -> PackageError + '_ {
    move |e| PackageError::io(ctx, io::Error::other(e))
}

impl Sink {
    /// A folder package built in `root` (which must not exist yet).
    pub fn dir(root: &Path) -> Result<Sink, PackageError> {
        crate::staging::private_dir(root)?;
        Ok(Sink { out: Out::Dir(root.to_owned()), time: zip::DateTime::default(), open: None, entries: Vec::new() })
    }

    /// A ZIP written to `path`, created exclusively; with `encryption`, the ZIP is streamed
    /// into the age encryptor and only ciphertext reaches the disk.
    pub fn zip(path: &Path, encryption: Option<&Encryption>) -> Result<Sink, PackageError> {
        let f = create_new_private(path).map_err(io_err(format!("cannot create {}", path.display())))?;
        let buffered = BufWriter::with_capacity(1 << 20, f);
        let out = match encryption {
            None => Out::Zip(Box::new(zip::ZipWriter::new(buffered))),
            Some(enc) => Out::AgeZip(Box::new(zip::ZipWriter::new_stream(crate::crypt::encrypting(enc, buffered)?))),
        };
        Ok(Sink { out, time: zip::DateTime::default(), open: None, entries: Vec::new() })
    }

    pub fn start_stream(&mut self, path: &str, media_type: &str, compress: bool) -> Result<(), PackageError> {
        assert!(self.open.is_none(), "one package file at a time");
        let file = match &mut self.out {
            Out::Dir(root) => {
                let p = root.join(path);
                crate::staging::private_dir(p.parent().unwrap())?;
                Some(BufWriter::with_capacity(1 << 20, create_new_private(&p).map_err(io_err(path))?))
            }
            out => {
                let method = if compress { zip::CompressionMethod::Deflated } else { zip::CompressionMethod::Stored };
                // level 1: text compresses almost as well, several times faster
                let opts = zip::write::SimpleFileOptions::default()
                    .compression_method(method)
                    .compression_level(compress.then_some(1))
                    .large_file(true)
                    .unix_permissions(0o644)
                    .last_modified_time(self.time);
                with_zip!(out, z => z.start_file(path, opts).map_err(zip_err(path))?);
                None
            }
        };
        self.open = Some(Open { path: path.into(), media_type: media_type.into(), hasher: Sha256::new(), size: 0, file });
        Ok(())
    }

    fn write_raw(&mut self, buf: &[u8]) -> io::Result<()> {
        let open = self.open.as_mut().ok_or_else(|| io::Error::other("no package file is open"))?;
        open.hasher.update(buf);
        open.size += buf.len() as u64;
        match (&mut self.out, &mut open.file) {
            (Out::Dir(_), Some(f)) => f.write_all(buf),
            (Out::Dir(_), None) => unreachable!("a folder file is open"),
            (out, _) => with_zip!(out, z => z.write_all(buf)),
        }
    }

    pub fn write_stream(&mut self, buf: &[u8]) -> Result<(), PackageError> {
        let path = self.open.as_ref().map(|o| o.path.clone()).unwrap_or_default();
        self.write_raw(buf).map_err(io_err(path))
    }

    pub fn end_stream(&mut self) -> Result<(), PackageError> {
        let open = self.open.take().expect("a file is open");
        if let Some(mut f) = open.file {
            f.flush().map_err(io_err(&open.path))?;
        }
        self.entries.push(FileEntry {
            path: open.path,
            size: open.size,
            media_type: open.media_type,
            sha256: hex::encode(open.hasher.finalize()),
        });
        Ok(())
    }

    pub fn add_bytes(&mut self, path: &str, media_type: &str, bytes: &[u8]) -> Result<(), PackageError> {
        self.start_stream(path, media_type, true)?;
        self.write_stream(bytes)?;
        self.end_stream()
    }

    /// Adds a staged content file whose hash is known. A folder package gets a hard link
    /// to the staged copy (which is ferry's own, never a source file).
    pub fn add_staged(
        &mut self,
        path: &str,
        media_type: &str,
        staged: &Path,
        size: u64,
        sha: &str,
        compress: bool,
    ) -> Result<(), PackageError> {
        if let Out::Dir(root) = &self.out {
            let p = root.join(path);
            crate::staging::private_dir(p.parent().unwrap())?;
            if std::fs::hard_link(staged, &p).is_err() {
                let mut from = File::open(staged).map_err(io_err(path))?;
                let mut to = create_new_private(&p).map_err(io_err(path))?;
                io::copy(&mut from, &mut to).map_err(io_err(path))?;
            }
            self.entries.push(FileEntry { path: path.into(), size, media_type: media_type.into(), sha256: sha.into() });
            return Ok(());
        }
        // the hash is known from staging: copy without hashing again, but check the size
        self.start_stream(path, media_type, compress)?;
        let mut f = File::open(staged).map_err(io_err(path))?;
        let copied = with_zip!(&mut self.out, z => io::copy(&mut f, z).map_err(io_err(path))?);
        self.open = None;
        if copied != size {
            return Err(PackageError::invalid(path, format!("staged content is {copied} bytes, expected {size}")));
        }
        self.entries.push(FileEntry { path: path.into(), size, media_type: media_type.into(), sha256: sha.into() });
        Ok(())
    }

    /// A sink for one part of the package, written on another thread while other parts
    /// are: a folder package's part writes into the same folder; a ZIP package's part is a
    /// ZIP of its own, `dir/name` (created exclusively), that [`Sink::absorb`] then copies
    /// into this one without compressing it again.
    pub fn part(&self, dir: &Path, name: &str) -> Result<Sink, PackageError> {
        let out = match &self.out {
            Out::Dir(root) => Out::Dir(root.clone()),
            Out::Zip(_) | Out::AgeZip(_) => {
                let path = dir.join(name);
                // read back by `absorb`
                let f = create_new_private(&path).map_err(io_err(format!("cannot create {}", path.display())))?;
                // smaller buffers than the package's own: several parts are written at once
                Out::Zip(Box::new(zip::ZipWriter::new(BufWriter::with_capacity(256 << 10, f))))
            }
        };
        Ok(Sink { out, time: self.time, open: None, entries: Vec::new() })
    }

    /// Adds a finished part (see [`Sink::part`]) after what this sink holds.
    pub fn absorb(&mut self, part: Sink) -> Result<(), PackageError> {
        assert!(self.open.is_none() && part.open.is_none(), "no package file is open");
        self.entries.extend(part.entries);
        let file = match part.out {
            Out::Dir(_) => return Ok(()),
            Out::Zip(z) => (*z).finish().map_err(zip_err("finishing a part"))?,
            Out::AgeZip(_) => unreachable!("parts are plain ZIPs"),
        };
        let mut file = file.into_inner().map_err(|e| PackageError::io("finishing a part", e.into_error()))?;
        io::Seek::rewind(&mut file).map_err(io_err("reading a part"))?;
        let archive = zip::ZipArchive::new(io::BufReader::with_capacity(256 << 10, file)).map_err(zip_err("reading a part"))?;
        with_zip!(&mut self.out, z => z.merge_archive(archive).map_err(zip_err("adding a part"))?);
        Ok(())
    }

    /// Completes the ZIP (and the encryption) and flushes it to the disk.
    pub fn finish(self) -> Result<(), PackageError> {
        let file = match self.out {
            Out::Dir(_) => return Ok(()),
            Out::Zip(z) => (*z).finish().map_err(zip_err("finishing ZIP"))?,
            Out::AgeZip(z) => {
                let z = *z;
                let age = z.finish().map_err(zip_err("finishing ZIP"))?.into_inner();
                age.finish().map_err(io_err("encrypting"))?
            }
        };
        let mut file = file;
        file.flush().map_err(io_err("finishing ZIP"))?;
        file.get_ref().sync_all().map_err(io_err("finishing ZIP"))
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_raw(buf).map(|_| buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

//! Credentials at rest: sealed with ChaCha20-Poly1305 under a 256-bit key that is either
//! the operator's (`FERRY_SECRET_KEY`: 64 hex digits, or a passphrase stretched with
//! Argon2id) or a random key kept in `secret.key` in the data directory (mode 0600).
//! The job id and the secret's name are bound in as associated data, so a sealed value
//! cannot be moved to another job.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use rand::RngCore;
use std::path::Path;
use zeroize::{Zeroize, Zeroizing};

pub struct SecretKey(Zeroizing<[u8; 32]>);

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("secret key: {0}")]
    Key(String),
    #[error("a stored credential cannot be opened with this key (was FERRY_SECRET_KEY changed?)")]
    Open,
}

impl SecretKey {
    /// The operator's key from `FERRY_SECRET_KEY`, else the data directory's key file
    /// (created on first use).
    pub fn load(data_dir: &Path) -> Result<SecretKey, SecretError> {
        if let Ok(mut v) = std::env::var("FERRY_SECRET_KEY") {
            let key = Self::from_operator(&v, data_dir);
            v.zeroize();
            return key;
        }
        let path = data_dir.join("secret.key");
        match std::fs::read(&path) {
            Ok(mut bytes) if bytes.len() == 32 => {
                let mut k = Zeroizing::new([0u8; 32]);
                k.copy_from_slice(&bytes);
                bytes.zeroize();
                Ok(SecretKey(k))
            }
            Ok(_) => Err(SecretError::Key(format!("{} is not a 32-byte key", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut k = Zeroizing::new([0u8; 32]);
                rand::rngs::OsRng.fill_bytes(&mut *k);
                // a concurrent first run may have written its key first: that one wins
                let kept = write_once(data_dir, "secret.key", &*k)?;
                if kept.len() != 32 {
                    return Err(SecretError::Key(format!("{} is not a 32-byte key", path.display())));
                }
                k.copy_from_slice(&kept);
                Ok(SecretKey(k))
            }
            Err(e) => Err(SecretError::Key(format!("{}: {e}", path.display()))),
        }
    }

    /// A key for one purpose (signing cookies, links), derived from this one with
    /// HMAC-SHA-256 so that it reveals nothing of it.
    pub fn derive(&self, purpose: &str) -> Zeroizing<[u8; 32]> {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&*self.0).expect("any key length");
        mac.update(b"ferry derived key\0");
        mac.update(purpose.as_bytes());
        Zeroizing::new(mac.finalize().into_bytes().into())
    }

    fn from_operator(v: &str, data_dir: &Path) -> Result<SecretKey, SecretError> {
        let mut k = Zeroizing::new([0u8; 32]);
        if v.len() == 64 && v.chars().all(|c| c.is_ascii_hexdigit()) {
            hex::decode_to_slice(v, &mut *k).map_err(|e| SecretError::Key(e.to_string()))?;
            return Ok(SecretKey(k));
        }
        if v.len() < 12 {
            return Err(SecretError::Key("FERRY_SECRET_KEY must be 64 hex digits or a passphrase of 12 characters or more".into()));
        }
        // a per-installation salt, so equal passphrases give different keys
        let salt_path = data_dir.join("secret.salt");
        let salt = match std::fs::read(&salt_path) {
            Ok(s) if s.len() >= 16 => s,
            Ok(_) => return Err(SecretError::Key(format!("{} is shorter than 16 bytes", salt_path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut s = vec![0u8; 16];
                rand::rngs::OsRng.fill_bytes(&mut s);
                write_once(data_dir, "secret.salt", &s)?.to_vec()
            }
            Err(e) => return Err(SecretError::Key(format!("{}: {e}", salt_path.display()))),
        };
        argon2::Argon2::default().hash_password_into(v.as_bytes(), &salt, &mut *k).map_err(|e| SecretError::Key(e.to_string()))?;
        Ok(SecretKey(k))
    }

    pub fn seal(&self, plaintext: &[u8], aad: &str) -> (Vec<u8>, Vec<u8>) {
        let cipher = ChaCha20Poly1305::new((&*self.0).into());
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct =
            cipher.encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: aad.as_bytes() }).expect("encryption does not fail");
        (nonce.to_vec(), ct)
    }

    pub fn open(&self, nonce: &[u8], ciphertext: &[u8], aad: &str) -> Result<Zeroizing<Vec<u8>>, SecretError> {
        if nonce.len() != 12 {
            return Err(SecretError::Open);
        }
        let cipher = ChaCha20Poly1305::new((&*self.0).into());
        cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: aad.as_bytes() })
            .map(Zeroizing::new)
            .map_err(|_| SecretError::Open)
    }
}

/// Writes `name` in `dir` once, atomically: the bytes go to a private temporary file
/// created exclusively, which is then hard-linked to its name. When another process got
/// there first, its file is kept and returned, so concurrent first runs agree on one key.
fn write_once(dir: &Path, name: &str, bytes: &[u8]) -> Result<Zeroizing<Vec<u8>>, SecretError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let err = |e: std::io::Error| SecretError::Key(format!("{}: {e}", dir.join(name).display()));
    std::fs::create_dir_all(dir).map_err(err)?;
    let tmp = dir.join(format!(".{name}.{}.tmp", hex::encode(rand::random::<[u8; 8]>())));
    let mut f =
        std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).custom_flags(libc::O_NOFOLLOW).open(&tmp).map_err(err)?;
    let written = f.write_all(bytes).and_then(|_| f.sync_all());
    drop(f);
    let linked = written.and_then(|_| std::fs::hard_link(&tmp, dir.join(name)));
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(Zeroizing::new(bytes.to_vec())),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => std::fs::read(dir.join(name)).map(Zeroizing::new).map_err(err),
        Err(e) => Err(err(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_tamper() {
        let d = tempfile::tempdir().unwrap();
        let k = SecretKey::load(d.path()).unwrap();
        let (n, c) = k.seal(b"hunter2", "job1/source");
        assert!(!c.windows(7).any(|w| w == b"hunter2"));
        assert_eq!(&*k.open(&n, &c, "job1/source").unwrap(), b"hunter2");
        assert!(k.open(&n, &c, "job2/source").is_err(), "bound to its job");
        let mut bad = c.clone();
        bad[0] ^= 1;
        assert!(k.open(&n, &bad, "job1/source").is_err());
        // the same key comes back from the key file
        let again = SecretKey::load(d.path()).unwrap();
        assert_eq!(&*again.open(&n, &c, "job1/source").unwrap(), b"hunter2");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(d.path().join("secret.key")).unwrap().permissions().mode() & 0o777, 0o600);
    }
}

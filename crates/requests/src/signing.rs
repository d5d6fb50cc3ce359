//! Signed requests between two ferries, for the direct transfer of a package from one
//! company to another (GDPR Article 20(2)).
//!
//! The sending ferry keeps an Ed25519 key of its own ([`SigningKey`], in
//! `data_dir/transfer.key`) and gives its public half, base64, to the receiving company
//! out of band. Each request then carries four headers:
//!
//! | header                   | value                                             |
//! |--------------------------|---------------------------------------------------|
//! | `X-Ferry-Sender`         | the sender's id, as the receiver knows it          |
//! | `X-Ferry-Date`           | when it was signed, RFC 3339 in UTC                |
//! | `X-Ferry-Content-SHA256` | the SHA-256 of the body, lowercase hex             |
//! | `X-Ferry-Signature`      | base64 Ed25519 signature over the canonical string |
//!
//! The canonical string is these lines joined by `\n`: `ferry-transfer-v1`, the method
//! in capitals, the path (with its query, as sent), the date header as sent, the sender,
//! the body hash. The receiver ([`verify`]) looks the sender up in its
//! [`TrustedSenders`], checks the signature, then that the body is the one signed, then
//! that the date is within [`MAX_SKEW`] of its clock. Only an authentic request learns
//! more than "bad signature".

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::{Signature, Signer, VerifyingKey};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

pub const SENDER: &str = "X-Ferry-Sender";
pub const DATE: &str = "X-Ferry-Date";
pub const CONTENT_SHA256: &str = "X-Ferry-Content-SHA256";
pub const SIGNATURE: &str = "X-Ferry-Signature";

/// How far a request's date may be from the receiver's clock, either way.
pub const MAX_SKEW: chrono::Duration = chrono::Duration::minutes(5);

/// The first line of every canonical string: the scheme and its version.
const DOMAIN: &str = "ferry-transfer-v1";

/// The key file's name in the data directory.
pub const KEY_FILE: &str = "transfer.key";

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("the request has no {0} header")]
    MissingHeader(&'static str),
    #[error("the request has more than one {0} header")]
    DuplicateHeader(&'static str),
    #[error("sender `{0}` is not a trusted sender")]
    UnknownSender(String),
    #[error("the signature does not verify with sender `{0}`'s key")]
    BadSignature(String),
    #[error("the body is not the one signed: its SHA-256 is {actual}, the signed one {signed}")]
    BodyMismatch { signed: String, actual: String },
    #[error("the date `{0}` is not an RFC 3339 timestamp")]
    BadDate(String),
    #[error("the request was signed at {date}, more than 5 minutes from now ({now})")]
    DateOutOfWindow { date: DateTime<Utc>, now: DateTime<Utc> },
    #[error("{0}")]
    BadInput(String),
    #[error("the key of trusted sender `{id}` cannot be used: {reason}")]
    BadKey { id: String, reason: String },
    #[error("trusted sender `{0}` is listed twice")]
    DuplicateSender(String),
    #[error("transfer key {path}: {reason}")]
    KeyFile { path: PathBuf, reason: String },
}

/// This ferry's transfer signing key.
pub struct SigningKey {
    key: ed25519_dalek::SigningKey,
}

impl SigningKey {
    /// A new random key.
    pub fn generate() -> SigningKey {
        let mut seed: [u8; 32] = rand::random();
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        seed.fill(0);
        SigningKey { key }
    }

    /// The key in `data_dir/transfer.key`, made there first if there is none: the file is
    /// created exclusively with mode 0600, and never read through a symbolic link nor when
    /// others may read it.
    pub fn load_or_create(data_dir: &Path) -> Result<SigningKey, SignError> {
        let path = data_dir.join(KEY_FILE);
        let err = |reason: String| SignError::KeyFile { path: path.clone(), reason };
        // O_CREAT|O_EXCL: fails on any existing name, a symbolic link included
        match OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path) {
            Ok(mut file) => {
                let key = SigningKey::generate();
                let text = format!("{}\n", STANDARD.encode(key.key.to_bytes()));
                if let Err(e) = file.write_all(text.as_bytes()).and_then(|()| file.sync_all()) {
                    // no half-written key left to be loaded later
                    let _ = std::fs::remove_file(&path);
                    return Err(err(format!("writing: {e}")));
                }
                Ok(key)
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => SigningKey::load(&path),
            Err(e) => Err(err(format!("creating: {e}"))),
        }
    }

    fn load(path: &Path) -> Result<SigningKey, SignError> {
        let err = |reason: String| SignError::KeyFile { path: path.to_path_buf(), reason };
        let before = std::fs::symlink_metadata(path).map_err(|e| err(e.to_string()))?;
        if before.file_type().is_symlink() {
            return Err(err("is a symbolic link; refusing to follow it".into()));
        }
        if !before.is_file() {
            return Err(err("is not a regular file".into()));
        }
        let file = File::open(path).map_err(|e| err(format!("opening: {e}")))?;
        let meta = file.metadata().map_err(|e| err(e.to_string()))?;
        // the file opened is the one looked at (no link swapped in between)
        if meta.dev() != before.dev() || meta.ino() != before.ino() {
            return Err(err("changed while being opened".into()));
        }
        if meta.mode() & 0o077 != 0 {
            return Err(err(format!("may be read by others (mode {:o}); make it 0600", meta.mode() & 0o777)));
        }
        let mut text = String::new();
        file.take(1024).read_to_string(&mut text).map_err(|e| err(format!("reading: {e}")))?;
        let bytes = STANDARD.decode(text.trim()).map_err(|_| err("does not hold a base64 key".into()))?;
        let seed: [u8; 32] = bytes.try_into().map_err(|_| err("does not hold a 32-byte Ed25519 key".into()))?;
        Ok(SigningKey { key: ed25519_dalek::SigningKey::from_bytes(&seed) })
    }

    /// The public key, base64, to give to the companies that receive from this ferry.
    pub fn public_key_base64(&self) -> String {
        STANDARD.encode(self.key.verifying_key().as_bytes())
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.public_key_base64())
    }
}

/// The senders a ferry accepts transfers from: id and Ed25519 public key.
#[derive(Debug, Clone, Default)]
pub struct TrustedSenders {
    keys: BTreeMap<String, VerifyingKey>,
}

impl TrustedSenders {
    /// From `(id, base64 public key)` pairs; a key that is not base64, not 32 bytes or
    /// not a valid Ed25519 point is an error naming its sender, as is an id given twice.
    pub fn new<I, S, K>(senders: I) -> Result<TrustedSenders, SignError>
    where
        I: IntoIterator<Item = (S, K)>,
        S: AsRef<str>,
        K: AsRef<str>,
    {
        let mut keys = BTreeMap::new();
        for (id, key) in senders {
            let id = id.as_ref().trim().to_string();
            check_field("sender id", &id)?;
            let key = parse_key(key.as_ref()).map_err(|reason| SignError::BadKey { id: id.clone(), reason })?;
            if keys.insert(id.clone(), key).is_some() {
                return Err(SignError::DuplicateSender(id));
            }
        }
        Ok(TrustedSenders { keys })
    }

    /// The key of sender `id`.
    pub fn get(&self, id: &str) -> Option<&VerifyingKey> {
        self.keys.get(id)
    }
}

/// An Ed25519 public key from base64.
pub(crate) fn parse_key(text: &str) -> Result<VerifyingKey, String> {
    let bytes = STANDARD.decode(text.trim()).map_err(|_| "the public key is not base64".to_string())?;
    let bytes: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| format!("the public key is {} bytes, not 32", b.len()))?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| "the public key is not a valid Ed25519 key".to_string())
}

/// A header value or id must be one non-empty line.
fn check_field(what: &str, value: &str) -> Result<(), SignError> {
    if value.is_empty() || value.len() > 1024 || value.chars().any(char::is_control) {
        return Err(SignError::BadInput(format!("the {what} must be one non-empty line of at most 1024 bytes")));
    }
    Ok(())
}

fn check_hash(hash: &str) -> Result<(), SignError> {
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(SignError::BadInput(format!("`{hash}` is not a SHA-256 in lowercase hex")));
    }
    Ok(())
}

fn canonical(method: &str, path: &str, date: &str, sender: &str, body_sha256_hex: &str) -> String {
    [DOMAIN, &method.to_ascii_uppercase(), path, date, sender, body_sha256_hex].join("\n")
}

/// The headers of a request from `sender_id`, signed with `key` at `date`.
pub fn sign(
    key: &SigningKey,
    sender_id: &str,
    method: &str,
    path: &str,
    body_sha256_hex: &str,
    date: DateTime<Utc>,
) -> Result<Vec<(&'static str, String)>, SignError> {
    check_field("sender id", sender_id)?;
    check_field("method", method)?;
    check_field("path", path)?;
    check_hash(body_sha256_hex)?;
    let date = date.to_rfc3339_opts(SecondsFormat::Secs, true);
    let signature = key.key.sign(canonical(method, path, &date, sender_id, body_sha256_hex).as_bytes());
    Ok(vec![
        (SENDER, sender_id.to_string()),
        (DATE, date),
        (CONTENT_SHA256, body_sha256_hex.to_string()),
        (SIGNATURE, STANDARD.encode(signature.to_bytes())),
    ])
}

/// The one value of header `name` (names compared without case).
fn header<'a>(headers: &'a [(String, String)], name: &'static str) -> Result<&'a str, SignError> {
    let mut found = headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name));
    let (_, value) = found.next().ok_or(SignError::MissingHeader(name))?;
    if found.next().is_some() {
        return Err(SignError::DuplicateHeader(name));
    }
    Ok(value.trim())
}

/// Checks a request's signature headers against the request as received (`method`,
/// `path`, the SHA-256 of its body) and the `trusted` senders at `now`: the sender's id.
pub fn verify(
    headers: &[(String, String)],
    method: &str,
    path: &str,
    body_sha256_hex: &str,
    trusted: &TrustedSenders,
    now: DateTime<Utc>,
) -> Result<String, SignError> {
    let sender = header(headers, SENDER)?;
    let date = header(headers, DATE)?;
    let signed_hash = header(headers, CONTENT_SHA256)?;
    let signature = header(headers, SIGNATURE)?;
    let key = trusted.get(sender).ok_or_else(|| SignError::UnknownSender(sender.to_string()))?;
    let bad = || SignError::BadSignature(sender.to_string());
    let signature: [u8; 64] = STANDARD.decode(signature).ok().and_then(|b| b.try_into().ok()).ok_or_else(bad)?;
    let message = canonical(method, path, date, sender, signed_hash);
    key.verify_strict(message.as_bytes(), &Signature::from_bytes(&signature)).map_err(|_| bad())?;
    if !signed_hash.eq_ignore_ascii_case(body_sha256_hex) {
        return Err(SignError::BodyMismatch { signed: signed_hash.to_string(), actual: body_sha256_hex.to_string() });
    }
    let date = DateTime::parse_from_rfc3339(date).map_err(|_| SignError::BadDate(date.to_string()))?.with_timezone(&Utc);
    if (date - now).abs() > MAX_SKEW {
        return Err(SignError::DateOutOfWindow { date, now });
    }
    Ok(sender.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use sha2::{Digest, Sha256};

    const PATH: &str = "/v1/import";

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
    }

    fn hash(body: &[u8]) -> String {
        hex::encode(Sha256::digest(body))
    }

    fn setup() -> (SigningKey, TrustedSenders) {
        let key = SigningKey::generate();
        let trusted = TrustedSenders::new([("acme", key.public_key_base64())]).unwrap();
        (key, trusted)
    }

    fn owned(headers: Vec<(&'static str, String)>) -> Vec<(String, String)> {
        headers.into_iter().map(|(n, v)| (n.to_string(), v)).collect()
    }

    fn signed(key: &SigningKey, method: &str, path: &str, body: &[u8], at: DateTime<Utc>) -> Vec<(String, String)> {
        owned(sign(key, "acme", method, path, &hash(body), at).unwrap())
    }

    #[test]
    fn a_signed_request_verifies_with_its_sender() {
        let (key, trusted) = setup();
        let headers = signed(&key, "POST", PATH, b"package", now());
        let names: Vec<&str> = headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, [SENDER, DATE, CONTENT_SHA256, SIGNATURE]);
        assert_eq!(headers[1].1, "2026-03-01T12:00:00Z");
        assert_eq!(verify(&headers, "POST", PATH, &hash(b"package"), &trusted, now()).unwrap(), "acme");
        // header names are compared without case, the method too
        let lower: Vec<_> = headers.iter().map(|(n, v)| (n.to_lowercase(), v.clone())).collect();
        assert_eq!(verify(&lower, "post", PATH, &hash(b"package"), &trusted, now()).unwrap(), "acme");
    }

    #[test]
    fn another_path_or_method_is_refused() {
        let (key, trusted) = setup();
        let headers = signed(&key, "POST", PATH, b"package", now());
        let body = hash(b"package");
        assert!(
            matches!(verify(&headers, "POST", "/v1/import?x=1", &body, &trusted, now()), Err(SignError::BadSignature(s)) if s == "acme")
        );
        assert!(matches!(verify(&headers, "PUT", PATH, &body, &trusted, now()), Err(SignError::BadSignature(_))));
    }

    #[test]
    fn an_unknown_sender_is_refused() {
        let (key, _) = setup();
        let other = TrustedSenders::new([("globex", SigningKey::generate().public_key_base64())]).unwrap();
        let headers = signed(&key, "POST", PATH, b"p", now());
        assert!(matches!(verify(&headers, "POST", PATH, &hash(b"p"), &other, now()), Err(SignError::UnknownSender(s)) if s == "acme"));
    }

    #[test]
    fn a_key_not_the_senders_is_refused() {
        let (_, trusted) = setup();
        let impostor = SigningKey::generate();
        let headers = signed(&impostor, "POST", PATH, b"p", now());
        assert!(matches!(verify(&headers, "POST", PATH, &hash(b"p"), &trusted, now()), Err(SignError::BadSignature(_))));
    }

    #[test]
    fn a_changed_header_or_body_is_refused() {
        let (key, trusted) = setup();
        let headers = signed(&key, "POST", PATH, b"package", now());
        // the body received is not the one signed
        assert!(matches!(
            verify(&headers, "POST", PATH, &hash(b"other"), &trusted, now()),
            Err(SignError::BodyMismatch { signed, actual }) if signed == hash(b"package") && actual == hash(b"other")
        ));
        // the hash header changed to match another body
        let mut swapped = headers.clone();
        swapped[2].1 = hash(b"other");
        assert!(matches!(verify(&swapped, "POST", PATH, &hash(b"other"), &trusted, now()), Err(SignError::BadSignature(_))));
        // a date moved
        let mut moved = headers.clone();
        moved[1].1 = "2026-03-01T12:01:00Z".into();
        assert!(matches!(verify(&moved, "POST", PATH, &hash(b"package"), &trusted, now()), Err(SignError::BadSignature(_))));
        // a signature that is not base64, or is cut short
        let mut garbled = headers.clone();
        garbled[3].1 = "!!".into();
        assert!(matches!(verify(&garbled, "POST", PATH, &hash(b"package"), &trusted, now()), Err(SignError::BadSignature(_))));
        let mut short = headers;
        short[3].1 = STANDARD.encode([0u8; 10]);
        assert!(matches!(verify(&short, "POST", PATH, &hash(b"package"), &trusted, now()), Err(SignError::BadSignature(_))));
    }

    #[test]
    fn the_date_must_be_within_five_minutes() {
        let (key, trusted) = setup();
        let body = hash(b"p");
        let at = |m: i64| now() + chrono::Duration::minutes(m);
        for ok in [-5, 0, 5] {
            let headers = signed(&key, "POST", PATH, b"p", at(ok));
            assert!(verify(&headers, "POST", PATH, &body, &trusted, now()).is_ok(), "{ok} minutes");
        }
        for late in [-6, 6, -600] {
            let headers = signed(&key, "POST", PATH, b"p", at(late));
            assert!(
                matches!(verify(&headers, "POST", PATH, &body, &trusted, now()), Err(SignError::DateOutOfWindow { .. })),
                "{late} minutes"
            );
        }
    }

    #[test]
    fn missing_or_repeated_headers_are_named() {
        let (key, trusted) = setup();
        let headers = signed(&key, "POST", PATH, b"p", now());
        for (i, name) in [SENDER, DATE, CONTENT_SHA256, SIGNATURE].into_iter().enumerate() {
            let mut h = headers.clone();
            h.remove(i);
            assert!(matches!(verify(&h, "POST", PATH, &hash(b"p"), &trusted, now()), Err(SignError::MissingHeader(n)) if n == name));
        }
        let mut twice = headers.clone();
        twice.push(("x-ferry-sender".into(), "globex".into()));
        assert!(matches!(verify(&twice, "POST", PATH, &hash(b"p"), &trusted, now()), Err(SignError::DuplicateHeader(SENDER))));
    }

    #[test]
    fn bad_input_to_sign_is_refused() {
        let key = SigningKey::generate();
        assert!(matches!(sign(&key, "acme", "POST", PATH, "abc", now()), Err(SignError::BadInput(_))));
        assert!(matches!(sign(&key, "ac\nme", "POST", PATH, &hash(b""), now()), Err(SignError::BadInput(_))));
        assert!(matches!(sign(&key, "", "POST", PATH, &hash(b""), now()), Err(SignError::BadInput(_))));
        assert!(matches!(sign(&key, "acme", "POST", "/a\nb", &hash(b""), now()), Err(SignError::BadInput(_))));
    }

    #[test]
    fn trusted_sender_keys_are_checked() {
        let good = SigningKey::generate().public_key_base64();
        let bad = |r: Result<TrustedSenders, SignError>, why: &str| match r {
            Err(SignError::BadKey { id, reason }) => assert!(id == "x" && reason.contains(why), "{reason}"),
            other => panic!("{other:?}"),
        };
        bad(TrustedSenders::new([("x", "not base64!")]), "not base64");
        bad(TrustedSenders::new([("x", STANDARD.encode([1u8; 31]))]), "31 bytes");
        // y = 2 is not on the curve
        let mut off_curve = [0u8; 32];
        off_curve[0] = 2;
        bad(TrustedSenders::new([("x", STANDARD.encode(off_curve))]), "not a valid");
        assert!(matches!(TrustedSenders::new([("x", &good), ("x", &good)]), Err(SignError::DuplicateSender(id)) if id == "x"));
        assert!(matches!(TrustedSenders::new([("", &good)]), Err(SignError::BadInput(_))));
    }

    #[test]
    fn the_key_file_is_made_once_then_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let first = SigningKey::load_or_create(dir.path()).unwrap();
        let path = dir.path().join(KEY_FILE);
        assert_eq!(std::fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
        let again = SigningKey::load_or_create(dir.path()).unwrap();
        assert_eq!(first.public_key_base64(), again.public_key_base64());
        // what the reloaded key signs verifies with the first key's public half
        let trusted = TrustedSenders::new([("acme", first.public_key_base64())]).unwrap();
        let headers = signed(&again, "POST", PATH, b"p", now());
        assert!(verify(&headers, "POST", PATH, &hash(b"p"), &trusted, now()).is_ok());
    }

    #[test]
    fn the_key_file_is_never_a_link_nor_readable_by_others() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = dir.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        let linked = dir.path().join("linked");
        std::fs::create_dir(&linked).unwrap();
        // a dangling link: creating must not follow it to make the target
        std::fs::write(elsewhere.join("k"), "").unwrap();
        std::os::unix::fs::symlink(elsewhere.join("target"), linked.join(KEY_FILE)).unwrap();
        let err = SigningKey::load_or_create(&linked).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert!(!elsewhere.join("target").exists());

        let open = tempfile::tempdir().unwrap();
        SigningKey::load_or_create(open.path()).unwrap();
        let path = open.path().join(KEY_FILE);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = SigningKey::load_or_create(open.path()).unwrap_err();
        assert!(err.to_string().contains("read by others"), "{err}");

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::write(&path, "short\n").unwrap();
        let err = SigningKey::load_or_create(open.path()).unwrap_err();
        assert!(matches!(err, SignError::KeyFile { .. }), "{err}");
    }
}

//! Request signatures of the connector protocol: HMAC-SHA256 with a shared secret over
//! the method, the path and query, a timestamp and the body's SHA-256, so that the
//! secret itself never travels.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

pub const TIMESTAMP: &str = "Ferry-Timestamp";
pub const CONTENT_SHA256: &str = "Ferry-Content-SHA256";

/// The hex SHA-256 of the empty body.
pub fn empty_sha256() -> String {
    hex::encode(Sha256::digest(b""))
}

/// The signature of one request (base64).
pub fn signature(secret: &str, method: &str, path_and_query: &str, timestamp: u64, content_sha256: &str) -> String {
    use base64::Engine;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(format!("{method}\n{path_and_query}\n{timestamp}\n{content_sha256}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Signs `req` in place: the timestamp, the body's hash (read from the body when it is in
/// memory, else from the `Ferry-Content-SHA256` header the caller set) and the
/// `Authorization` header. A streamed body without a declared hash cannot be signed.
pub fn sign(req: &mut reqwest::Request, key_id: &str, secret: &str, now: u64) -> Result<(), String> {
    let declared = req.headers().get(CONTENT_SHA256).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let sha = match (req.body(), declared) {
        (_, Some(d)) => d,
        (None, None) => empty_sha256(),
        (Some(b), None) => match b.as_bytes() {
            Some(bytes) => hex::encode(Sha256::digest(bytes)),
            None => return Err("a streamed body needs its SHA-256 declared to be signed".into()),
        },
    };
    let url = req.url();
    let target = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let sig = signature(secret, req.method().as_str(), &target, now, &sha);
    let h = req.headers_mut();
    let value = |s: String| reqwest::header::HeaderValue::from_str(&s).map_err(|e| e.to_string());
    h.insert(TIMESTAMP, value(now.to_string())?);
    h.insert(CONTENT_SHA256, value(sha)?);
    let mut auth = value(format!("Ferry-HMAC-SHA256 keyId=\"{key_id}\", signature=\"{sig}\""))?;
    auth.set_sensitive(true);
    h.insert(reqwest::header::AUTHORIZATION, auth);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_string_to_sign_covers_method_target_time_and_body() {
        // computed independently: printf 'PUT\n/a/items/contacts/x%2Fy?z=1\n1767225600\n<sha of "{}">' | openssl dgst -sha256 -hmac s3cret -binary | base64
        let body_sha = hex::encode(Sha256::digest(b"{}"));
        let sig = signature("s3cret", "PUT", "/a/items/contacts/x%2Fy?z=1", 1_767_225_600, &body_sha);
        assert_eq!(sig, "8OOvIgsmHeg5NCwnVKhhnIcba4hMNZNDm6sKzcTHs/k=");
        // any change changes it
        assert_ne!(sig, signature("s3cret", "GET", "/a/items/contacts/x%2Fy?z=1", 1_767_225_600, &body_sha));
        assert_ne!(sig, signature("s3cret", "PUT", "/a/items/contacts/x%2Fy?z=2", 1_767_225_600, &body_sha));
        assert_ne!(sig, signature("s3cret", "PUT", "/a/items/contacts/x%2Fy?z=1", 1_767_225_601, &body_sha));
        assert_ne!(sig, signature("s3cret", "PUT", "/a/items/contacts/x%2Fy?z=1", 1_767_225_600, &empty_sha256()));
        assert_ne!(sig, signature("other", "PUT", "/a/items/contacts/x%2Fy?z=1", 1_767_225_600, &body_sha));
    }

    #[test]
    fn a_request_is_signed_with_the_body_it_carries() {
        let request = |url: &str, body: reqwest::Body| {
            let mut r = reqwest::Request::new(reqwest::Method::PUT, url.parse().unwrap());
            *r.body_mut() = Some(body);
            r
        };
        let mut req = request("http://h.test/a/items/contacts/x%2Fy?z=1", reqwest::Body::from("{}"));
        sign(&mut req, "k1", "s3cret", 1_767_225_600).unwrap();
        let h = req.headers();
        assert_eq!(h[TIMESTAMP], "1767225600");
        assert_eq!(h[CONTENT_SHA256], hex::encode(Sha256::digest(b"{}")).as_str());
        let auth = h[reqwest::header::AUTHORIZATION].to_str().unwrap();
        let expected = signature("s3cret", "PUT", "/a/items/contacts/x%2Fy?z=1", 1_767_225_600, &hex::encode(Sha256::digest(b"{}")));
        assert_eq!(auth, format!("Ferry-HMAC-SHA256 keyId=\"k1\", signature=\"{expected}\""));
        assert!(h[reqwest::header::AUTHORIZATION].is_sensitive());
        // a streamed body must declare its hash
        let stream = futures::stream::iter(vec![Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"x"))]);
        let mut streamed = request("http://h.test/a/content/x", reqwest::Body::wrap_stream(stream));
        assert!(sign(&mut streamed, "k1", "s", 1).is_err());
    }
}

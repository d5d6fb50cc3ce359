//! Network plumbing every server connector shares: the guard against server-side request
//! forgery, and TLS (rustls with the ring provider, Mozilla's roots plus an optional CA
//! file, certificate checks off only by explicit choice).

use crate::Settings;
use ferry_core::ConnectorError;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Once};

/// Whether an address is loopback, private, link-local or otherwise not on the public
/// internet.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => internal_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return internal_v4(v4);
            }
            let seg = v6.segments();
            // an IPv4 address carried inside IPv6: NAT64 (64:ff9b::/96), 6to4 (2002::/16)
            // and the deprecated IPv4-compatible form (::a.b.c.d)
            let embedded = |hi: u16, lo: u16| internal_v4(Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8));
            if (seg[0] == 0x64 && seg[1] == 0xff9b && seg[2..6] == [0, 0, 0, 0])
                || (seg[..6] == [0, 0, 0, 0, 0, 0] && (seg[6] != 0 || seg[7] > 1))
            {
                return embedded(seg[6], seg[7]);
            }
            if seg[0] == 0x2002 {
                return embedded(seg[1], seg[2]);
            }
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg[0] & 0xfe00) == 0xfc00 // unique local
                || (seg[0] & 0xffc0) == 0xfe80 // link-local
                || (seg[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (seg[0] == 0x2001 && seg[1] == 0x0db8) // documentation
                || (seg[0] == 0x64 && seg[1] == 0xff9b && seg[2] == 1) // local-use NAT64 (64:ff9b:1::/48)
                || v6 == Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0)
        }
    }
}

fn internal_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || o[0] == 0
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // carrier-grade NAT
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // benchmarking
        || o[0] >= 240 // reserved
}

/// Resolves `host:port` and refuses internal addresses unless the settings allow them.
/// Connect to the returned addresses only (not the name again), so that a second DNS
/// answer cannot slip an internal address in.
pub async fn resolve(host: &str, port: u16, settings: &Settings) -> Result<Vec<SocketAddr>, ConnectorError> {
    let addrs: Vec<SocketAddr> =
        tokio::net::lookup_host((host, port)).await.map_err(|e| ConnectorError::Fatal(format!("cannot resolve {host}: {e}")))?.collect();
    if addrs.is_empty() {
        return Err(ConnectorError::Fatal(format!("{host} has no address")));
    }
    if !settings.allow_private_network
        && let Some(bad) = addrs.iter().find(|a| is_internal(a.ip()))
    {
        return Err(ConnectorError::Fatal(format!(
            "{host} resolves to {}, an internal address (loopback, private or link-local); ferry refuses \
                it unless --allow-private-network is given",
            bad.ip()
        )));
    }
    Ok(addrs)
}

/// A number of seconds from the environment variable `var` (fractions allowed, above 0
/// and at most a day), else `default`.
pub fn seconds_from_env(var: &str, default: std::time::Duration) -> Result<std::time::Duration, ConnectorError> {
    match std::env::var(var) {
        Err(_) => Ok(default),
        Ok(v) => match v.trim().parse::<f64>() {
            Ok(s) if s > 0.0 && s <= 86_400.0 => Ok(std::time::Duration::from_secs_f64(s)),
            _ => Err(ConnectorError::Fatal(format!("{var} must be a number of seconds between 0 and 86400, not `{v}`"))),
        },
    }
}

/// How long a TCP connection may take to open (FERRY_CONNECT_TIMEOUT, default 30 s).
pub fn connect_timeout() -> Result<std::time::Duration, ConnectorError> {
    seconds_from_env("FERRY_CONNECT_TIMEOUT", std::time::Duration::from_secs(30))
}

/// Opens a TCP connection to the first address that answers.
pub async fn connect(host: &str, port: u16, settings: &Settings) -> Result<tokio::net::TcpStream, ConnectorError> {
    let addrs = resolve(host, port, settings).await?;
    let limit = connect_timeout()?;
    let mut last = None;
    for a in addrs {
        match tokio::time::timeout(limit, tokio::net::TcpStream::connect(a)).await {
            Ok(Ok(s)) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Ok(Err(e)) => last = Some(e.to_string()),
            Err(_) => last = Some("timed out".into()),
        }
    }
    Err(ConnectorError::transient(format!("cannot connect to {host}:{port}: {}", last.unwrap_or_default())))
}

/// Installs ring as the process's rustls provider (once; harmless if one is installed).
pub fn ensure_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

pub fn tls_config(settings: &Settings) -> Result<Arc<rustls::ClientConfig>, ConnectorError> {
    ensure_crypto_provider();
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let mut given = Vec::new();
    if let Some(ca) = &settings.ca_file {
        let pem = std::fs::read(ca).map_err(|e| ConnectorError::Fatal(format!("cannot read CA file {}: {e}", ca.display())))?;
        for cert in rustls_pemfile::certs(&mut &pem[..]) {
            let cert = cert.map_err(|e| ConnectorError::Fatal(format!("{}: {e}", ca.display())))?;
            roots.add(cert.clone()).map_err(|e| ConnectorError::Fatal(format!("{}: {e}", ca.display())))?;
            given.push(cert);
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| ConnectorError::Fatal(format!("cannot set up TLS: {e}")))?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ConnectorError::Fatal(format!("cannot set up TLS: {e}")))?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    if settings.insecure {
        config.dangerous().set_certificate_verifier(Arc::new(NoVerify((*provider).clone())));
    } else {
        config.dangerous().set_certificate_verifier(Arc::new(Verify { webpki, given }));
    }
    Ok(Arc::new(config))
}

/// The usual chain check against Mozilla's roots and the `--ca-file` certificates; and,
/// as curl does, a server certificate that is itself one of the `--ca-file` certificates
/// is trusted as it is (a self-signed certificate made with `openssl req -x509` says
/// CA:TRUE, which the chain check refuses as `CaUsedAsEndEntity`). Its name must still
/// match the server's and its signatures are still checked.
#[derive(Debug)]
struct Verify {
    webpki: Arc<rustls::client::WebPkiServerVerifier>,
    given: Vec<rustls::pki_types::CertificateDer<'static>>,
}

impl rustls::client::danger::ServerCertVerifier for Verify {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        intermediates: &[rustls::pki_types::CertificateDer<'_>],
        name: &rustls::pki_types::ServerName<'_>,
        ocsp: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        match self.webpki.verify_server_cert(end_entity, intermediates, name, ocsp, now) {
            Ok(v) => Ok(v),
            Err(e) if self.given.iter().any(|c| c.as_ref() == end_entity.as_ref()) => {
                let parsed = rustls::server::ParsedCertificate::try_from(end_entity).map_err(|_| e.clone())?;
                rustls::client::verify_server_name(&parsed, name)?;
                Ok(rustls::client::danger::ServerCertVerified::assertion())
            }
            Err(e) => Err(e),
        }
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &rustls::pki_types::CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(m, c, d)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &rustls::pki_types::CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(m, c, d)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// Accepts any certificate: only with `--insecure`.
#[derive(Debug)]
struct NoVerify(rustls::crypto::CryptoProvider);

impl rustls::client::danger::ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &rustls::pki_types::CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &rustls::pki_types::CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

pub async fn tls_wrap(
    tcp: tokio::net::TcpStream,
    host: &str,
    settings: &Settings,
) -> Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>, ConnectorError> {
    let name = rustls::pki_types::ServerName::try_from(host.to_owned()).map_err(|e| ConnectorError::Fatal(format!("{host}: {e}")))?;
    tokio_rustls::TlsConnector::from(tls_config(settings)?).connect(name, tcp).await.map_err(|e| tls_error(host, e))
}

/// A failed TLS handshake: what rustls refused (a certificate, a protocol) stops the job;
/// a connection lost during the handshake is worth another try.
pub fn tls_error(host: &str, e: std::io::Error) -> ConnectorError {
    if e.kind() == std::io::ErrorKind::InvalidData {
        ConnectorError::Fatal(format!(
            "TLS with {host} failed: {e} (for a self-signed certificate give --ca-file, or --insecure to skip the check)"
        ))
    } else {
        ConnectorError::transient(format!("TLS with {host}: the connection was lost during the handshake: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::a00:1",
            "64:ff9b:1::8.8.8.8",
            "2002:7f00:1::",
            "2002:c0a8:101::1",
            "::127.0.0.1",
            "::10.0.0.1",
        ] {
            assert!(is_internal(a.parse().unwrap()), "{a}");
        }
        for a in ["1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::8.8.8.8", "2002:808:808::1"] {
            assert!(!is_internal(a.parse().unwrap()), "{a}");
        }
    }

    #[tokio::test]
    async fn loopback_is_refused_unless_allowed() {
        let s = Settings::default();
        let e = resolve("localhost", 143, &s).await.unwrap_err();
        assert!(e.to_string().contains("--allow-private-network"), "{e}");
        let ok = Settings { allow_private_network: true, ..Default::default() };
        assert!(resolve("127.0.0.1", 143, &ok).await.is_ok());
    }
}

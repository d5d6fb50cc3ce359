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
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg[0] & 0xfe00) == 0xfc00 // unique local
                || (seg[0] & 0xffc0) == 0xfe80 // link-local
                || (seg[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (seg[0] == 0x2001 && seg[1] == 0x0db8) // documentation
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
            "{host} resolves to {}, an internal address (loopback, private or link-local); ferry refuses it unless --allow-private-network is given",
            bad.ip()
        )));
    }
    Ok(addrs)
}

/// Opens a TCP connection to the first address that answers.
pub async fn connect(host: &str, port: u16, settings: &Settings) -> Result<tokio::net::TcpStream, ConnectorError> {
    let addrs = resolve(host, port, settings).await?;
    let mut last = None;
    for a in addrs {
        match tokio::time::timeout(std::time::Duration::from_secs(30), tokio::net::TcpStream::connect(a)).await {
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
    if let Some(ca) = &settings.ca_file {
        let pem = std::fs::read(ca).map_err(|e| ConnectorError::Fatal(format!("cannot read CA file {}: {e}", ca.display())))?;
        for cert in rustls_pemfile::certs(&mut &pem[..]) {
            let cert = cert.map_err(|e| ConnectorError::Fatal(format!("{}: {e}", ca.display())))?;
            roots.add(cert).map_err(|e| ConnectorError::Fatal(format!("{}: {e}", ca.display())))?;
        }
    }
    let mut config = rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
    if settings.insecure {
        config.dangerous().set_certificate_verifier(Arc::new(NoVerify(rustls::crypto::ring::default_provider())));
    }
    Ok(Arc::new(config))
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
        ] {
            assert!(is_internal(a.parse().unwrap()), "{a}");
        }
        for a in ["1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8"] {
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

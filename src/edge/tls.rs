//! TLS for the listener: rustls with the ring provider, TLS 1.2+, ALPN h2 and http/1.1, and the
//! certificate files re-read when they change (cert-manager and SPIFFE rotate them every few
//! hours). A change reaches new connections; open ones keep the certificate they began with.

use std::{path::Path, sync::Arc, time::Duration};

use anyhow::Context;
use rustls::{RootCertStore, ServerConfig, server::WebPkiClientVerifier};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use tokio::sync::watch;

use crate::config::TlsFiles;

/// The configuration new connections get; replaced whole when the files change.
pub type CurrentTls = watch::Receiver<Arc<ServerConfig>>;

/// The files' bytes, as last loaded: a reload happens only when they differ.
#[derive(PartialEq, Eq)]
struct Contents {
    cert: Vec<u8>,
    key: Vec<u8>,
    client_ca: Option<Vec<u8>>,
}

/// Start-up: loads the files, or says which variable's file is at fault; then a task re-reads
/// them every `interval` for as long as a listener holds the returned configuration.
pub fn reloading(files: TlsFiles, interval: Duration) -> anyhow::Result<CurrentTls> {
    let mut loaded = read(&files)?;
    let (publish, current) = watch::channel(Arc::new(build(&files, &loaded)?));
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = publish.closed() => break,
                () = tokio::time::sleep(interval) => {}
            }
            // A rotation writes the files one after the other: a half-written pair fails to load
            // and is retried at the next tick, while the old pair keeps serving.
            let reloaded = read(&files).and_then(|contents| {
                if contents == loaded {
                    return Ok(None);
                }
                let config = build(&files, &contents)?;
                Ok(Some((contents, config)))
            });
            match reloaded {
                Ok(Some((contents, config))) => {
                    loaded = contents;
                    publish.send_replace(Arc::new(config));
                    tracing::info!("TLS files changed: new connections use them");
                }
                Ok(None) => {}
                Err(error) => tracing::warn!(
                    error = format!("{error:#}"),
                    "TLS files changed but cannot be used; keeping the ones loaded"
                ),
            }
        }
    });
    Ok(current)
}

fn read(files: &TlsFiles) -> anyhow::Result<Contents> {
    Ok(Contents {
        cert: read_file("AUTH_TLS_CERT_FILE", &files.cert)?,
        key: read_file("AUTH_TLS_KEY_FILE", &files.key)?,
        client_ca: match &files.client_ca {
            Some(path) => Some(read_file("AUTH_TLS_CLIENT_CA_FILE", path)?),
            None => None,
        },
    })
}

fn read_file(variable: &str, path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("{variable}: cannot read {}", path.display()))
}

fn build(files: &TlsFiles, contents: &Contents) -> anyhow::Result<ServerConfig> {
    let named = |variable: &str, path: &Path| format!("{variable}: {}", path.display());
    let chain =
        certificates(&contents.cert).with_context(|| named("AUTH_TLS_CERT_FILE", &files.cert))?;
    let key = PrivateKeyDer::from_pem_slice(&contents.key)
        .map_err(|error| anyhow::anyhow!("no usable private key: {error}"))
        .with_context(|| named("AUTH_TLS_KEY_FILE", &files.key))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let builder = match (&files.client_ca, &contents.client_ca) {
        (Some(path), Some(pem)) => {
            let verifier = client_verifier(pem, provider)
                .with_context(|| named("AUTH_TLS_CLIENT_CA_FILE", path))?;
            builder.with_client_cert_verifier(verifier)
        }
        _ => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(chain, key).with_context(|| {
        format!(
            "AUTH_TLS_KEY_FILE {} does not belong to AUTH_TLS_CERT_FILE {}",
            files.key.display(),
            files.cert.display()
        )
    })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

fn certificates(pem: &[u8]) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let chain = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| anyhow::anyhow!("not a PEM certificate: {error}"))?;
    anyhow::ensure!(!chain.is_empty(), "holds no certificate");
    Ok(chain)
}

fn client_verifier(
    pem: &[u8],
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> anyhow::Result<Arc<dyn rustls::server::danger::ClientCertVerifier>> {
    let mut roots = RootCertStore::empty();
    for certificate in certificates(pem)? {
        roots.add(certificate)?;
    }
    Ok(WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider).build()?)
}

//! TLS on the public listener: the certificate files and how often they are checked for changes.

use std::{path::PathBuf, time::Duration};

use clap::Args;

use super::{ConfigError, validate::invalid};

#[derive(Debug, Clone, Args)]
pub struct TlsSettings {
    /// PEM certificate chain (leaf first). With AUTH_TLS_KEY_FILE, the listener speaks TLS only.
    #[arg(
        long,
        global = true,
        env = "AUTH_TLS_CERT_FILE",
        value_name = "AUTH_TLS_CERT_FILE"
    )]
    pub tls_cert_file: Option<PathBuf>,

    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of the certificate.
    #[arg(
        long,
        global = true,
        env = "AUTH_TLS_KEY_FILE",
        value_name = "AUTH_TLS_KEY_FILE"
    )]
    pub tls_key_file: Option<PathBuf>,

    /// PEM CA certificates: when set, a client must present a certificate chaining to one (mTLS).
    #[arg(
        long,
        global = true,
        env = "AUTH_TLS_CLIENT_CA_FILE",
        value_name = "AUTH_TLS_CLIENT_CA_FILE"
    )]
    pub tls_client_ca_file: Option<PathBuf>,

    /// How often the TLS files are read for changes; new connections get what changed.
    #[arg(long, global = true, env = "AUTH_TLS_RELOAD_INTERVAL", value_name = "AUTH_TLS_RELOAD_INTERVAL",
          default_value = "10s", value_parser = humantime::parse_duration)]
    pub tls_reload_interval: Duration,
}

/// The files of a complete TLS configuration.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client_ca: Option<PathBuf>,
}

impl TlsSettings {
    /// `None`: plaintext.
    pub fn files(&self) -> Option<TlsFiles> {
        Some(TlsFiles {
            cert: self.tls_cert_file.clone()?,
            key: self.tls_key_file.clone()?,
            client_ca: self.tls_client_ca_file.clone(),
        })
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        match (&self.tls_cert_file, &self.tls_key_file) {
            (Some(_), None) => {
                return Err(invalid(
                    "AUTH_TLS_KEY_FILE",
                    "must be set with AUTH_TLS_CERT_FILE",
                ));
            }
            (None, Some(_)) => {
                return Err(invalid(
                    "AUTH_TLS_CERT_FILE",
                    "must be set with AUTH_TLS_KEY_FILE",
                ));
            }
            (None, None) if self.tls_client_ca_file.is_some() => {
                return Err(invalid(
                    "AUTH_TLS_CLIENT_CA_FILE",
                    "needs AUTH_TLS_CERT_FILE and AUTH_TLS_KEY_FILE",
                ));
            }
            _ => {}
        }
        if self.tls_reload_interval < Duration::from_millis(10) {
            return Err(invalid("AUTH_TLS_RELOAD_INTERVAL", "must be at least 10ms"));
        }
        Ok(())
    }
}

//! Structured logs: text for people, JSON for collectors; levels from RUST_LOG. The server logs to
//! stdout; one-shot commands log to stderr, so their stdout is only their output.

use std::io::IsTerminal;

use tracing_subscriber::{EnvFilter, fmt, fmt::writer::BoxMakeWriter};

use crate::config::LogFormat;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogTo {
    Stdout,
    Stderr,
}

/// Installs the global subscriber. A second call (tests spawn many apps) is a no-op.
pub fn init(format: LogFormat, to: LogTo) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, is_terminal) = match to {
        LogTo::Stdout => (
            BoxMakeWriter::new(std::io::stdout),
            std::io::stdout().is_terminal(),
        ),
        LogTo::Stderr => (
            BoxMakeWriter::new(std::io::stderr),
            std::io::stderr().is_terminal(),
        ),
    };
    let builder = fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(writer)
        .with_ansi(is_terminal);
    let _already_installed = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

//! Logging: tracing to stderr, text or JSON lines (`--log-format json` for
//! schedulers), `-q`/`-v`, and `CXPIPE_LOG` to override the filter.

use std::io::IsTerminal;

use crate::global::{Global, LogFormat};

/// Sets up the global subscriber.
pub fn init(g: &Global) {
    use tracing_subscriber::EnvFilter;
    let level = match (g.quiet, g.verbose) {
        (true, _) => "warn",
        (false, 0) => "info",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let filter = EnvFilter::try_from_env("CXPIPE_LOG").unwrap_or_else(|_| {
        EnvFilter::new(format!(
            "cxpipe={level},cxpipe_ingest={level},cxpipe_dataset={level},cxpipe_generate={level},cxpipe_analytics={level}"
        ))
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    match g.log_format {
        LogFormat::Json => builder.json().with_current_span(false).init(),
        LogFormat::Text => builder
            .without_time()
            .with_ansi(std::io::stderr().is_terminal())
            .with_level(true)
            .init(),
    }
}

//! Exit codes (SPEC §12) and the one usage-error type: what `main` turns a
//! command's result into.

use std::process::ExitCode;

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: an error; nothing or only part was done.
pub const EXIT_ERROR: u8 = 1;
/// Exit code: usage error.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: finished, but the reject threshold was exceeded.
pub const EXIT_REJECTS: u8 = 3;

/// A mistake in the flags or the config file (exit code 2), as opposed to
/// a failure while doing the work. The message says what is wrong and
/// where (file, line, key).
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// The exit code of a command's result; an error is logged once, with its
/// chain (`{:#}`). A broken pipe (`cxpipe kpi … | head`) is success.
pub fn exit_code(result: anyhow::Result<u8>) -> ExitCode {
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) if is_broken_pipe(&e) => ExitCode::from(EXIT_OK),
        Err(e) if is_usage(&e) => {
            tracing::error!("{e:#}");
            ExitCode::from(EXIT_USAGE)
        }
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Whether the error is a usage error: ours, or analytics' (a bad flag
/// value it was handed).
fn is_usage(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.is::<UsageError>()
            || matches!(
                c.downcast_ref::<cxpipe_analytics::Error>(),
                Some(cxpipe_analytics::Error::Usage(_))
            )
    })
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

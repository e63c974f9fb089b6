//! Why generation failed.

use std::io;
use std::path::PathBuf;

use crate::Layout;

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration cannot be generated.
    #[error("invalid generator configuration: {0}")]
    Config(String),
    /// Writing a file failed.
    #[error("writing {}", path.display())]
    Io {
        /// The file being written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Serialising the facts failed.
    #[error("serialising the facts for {}", path.display())]
    Facts {
        /// The facts file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// Generation was cancelled; no file was left behind.
    #[error("cancelled writing {}", path.display())]
    Cancelled {
        /// The data file.
        path: PathBuf,
    },
    /// A time zone a layout needs is not in the time zone database.
    #[error("looking up the time zone {zone} (needed by the {layout} layout)")]
    TimeZone {
        /// The zone's name.
        zone: &'static str,
        /// The layout that needs it.
        layout: Layout,
        /// The underlying error.
        #[source]
        source: jiff::Error,
    },
    /// A generator thread panicked (a bug).
    #[error("a generator thread failed while writing {}", path.display())]
    Worker {
        /// The data file.
        path: PathBuf,
    },
}

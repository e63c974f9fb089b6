//! One module per subcommand, each with its `Args` and `run`. A command
//! module parses its arguments and calls the libraries and the binary's
//! shared modules (`settings`, `output`, `open`, `html`); it never imports
//! another command's module.

pub mod generate;
pub mod info;
pub mod ingest;
pub mod kpi;
pub mod mapping;
pub mod report;
pub mod run;
pub mod schema;
pub mod sla;
pub mod turnover;

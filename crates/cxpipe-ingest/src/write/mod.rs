//! Writing: canonical rows into Arrow batches ([`batch`]), batches into
//! the staged Parquet part files of one worker ([`part`]), quarantined
//! records into their CSV files ([`quarantine`]), and the dataset's Parquet
//! conventions shared by all writers and readers ([`parquet`]).

pub mod batch;
pub mod parquet;
pub(crate) mod part;
pub(crate) mod quarantine;

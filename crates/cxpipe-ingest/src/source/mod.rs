//! Sources (SPEC §4): how a file's fields become the canonical slots of
//! [`crate::row`]. The [`generic`] source reads files that already carry
//! the canonical names; a [`mapping`] reads a vendor's layout (built in, or
//! a user's mapping file).

pub mod generic;
pub mod genesys;
pub mod mapping;

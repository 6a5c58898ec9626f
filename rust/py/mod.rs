//! The Python glue, one module per concept; the logic stays in the plain Rust modules.

pub mod aead;
pub mod agreement;
pub mod args;
pub mod buffers;
pub mod errors;
pub mod kdf;
pub mod record;
pub mod schedule;

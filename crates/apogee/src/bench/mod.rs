//! `apogee bench ...`: benchmarks that print their figures beside this machine's own
//! ceilings.
//!
//! [`limits`] measures the ceilings (plain-file write throughput and sync latency);
//! [`store`] measures the store and prints each figure as a ratio of a ceiling, using the
//! helpers in [`report`]. Sizes on the command line are parsed by [`size`].

use std::fmt;

pub mod limits;
pub mod report;
pub mod size;
pub mod store;
mod store_runs;

/// An error caused by what the user asked for (a bad size, too little disk space), printed
/// as its message plus a hint on what to change, without a cause chain.
#[derive(Debug)]
pub struct UserError {
    /// What is wrong, in one sentence.
    pub message: String,
    /// What to do about it.
    pub hint: String,
}

impl UserError {
    /// An error with `message` and `hint`.
    pub fn new(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: hint.into(),
        }
    }
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UserError {}

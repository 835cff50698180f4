//! `apogee bench ...`: benchmarks that print their figures beside this machine's own
//! ceilings.
//!
//! [`limits`] measures the ceilings (plain-file write throughput, sync latency, loopback
//! round trip); [`store`] measures the store and prints each figure as a ratio of a ceiling,
//! using the helpers in [`report`]. Sizes on the command line are parsed by [`size`].
//!
//! [`produce`], [`consume`] and [`matrix`] (`bench all`) drive a broker over the wire:
//! [`target`] and [`broker_proc`] choose or spawn it, [`wire`] makes every request,
//! [`load`] and [`drain`] are the send and pull loops, [`cell`] runs one measured cell,
//! [`procfs`] reads memory and CPU, [`progress`] draws the bar, [`figures`] holds the
//! results and [`cell_print`] prints them.

use std::fmt;

pub mod broker_proc;
pub mod cell;
pub mod cell_print;
pub mod consume;
pub mod drain;
pub mod figures;
pub mod limits;
pub mod load;
pub mod loopback;
pub mod matrix;
pub mod procfs;
pub mod produce;
pub mod progress;
pub mod report;
pub mod size;
pub mod store;
mod store_runs;
pub mod target;
pub mod wire;

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

//! The foundation every layer may use: files written safely, where data lives, logging, network set-up.
//! It names nothing else of the crate.

pub mod fs;
pub mod logging;
pub mod net;
pub mod paths;

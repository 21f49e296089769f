//! The foundation every layer may use: files written safely, where data lives, logging, network set-up,
//! hex and random ids, lines read in bounded memory, sizes as text, locks that survive a panic. It names nothing else of the crate.

pub mod fmt;
pub mod fs;
pub mod hex;
pub mod lines;
pub mod logging;
pub mod net;
pub mod paths;
pub mod request;
pub mod sync;

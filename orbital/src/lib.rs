//! `orbital`, the command users type: it parses the options, starts a container through the
//! backend of the host OS, and exits with the container's status.
//!
//! The library holds everything but the entry point, so that the pure parts (option parsing,
//! exit statuses) are unit-tested as ordinary Rust.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod backend;
pub mod cli;
pub mod values;

#[cfg(target_os = "linux")]
pub mod linux;

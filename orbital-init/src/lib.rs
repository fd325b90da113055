//! The runtime shared by `orbital` and `orbital-init`.
//!
//! Both programs are static executables without a C library. This crate gives them what libc
//! would: a start-up path and an allocator ([`rt`]), one thin system-call layer that holds every
//! `unsafe` of the project ([`sys`]), errors that name the operation, the object and the errno
//! ([`error`]), one-line output to stderr ([`out`]), and the wire format that carries a container's
//! configuration from `orbital` to `orbital-init` ([`wire`]).
#![cfg_attr(not(test), no_std)]

extern crate alloc;

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
compile_error!(
    "orbital's runtime supports Linux on x86_64 only: the entry point and clone trampoline are \
     written for that ABI"
);

pub mod caps;
pub mod error;
pub mod out;
pub mod report;
pub mod rt;
pub mod seccomp;
pub mod status;
pub mod sys;
pub mod wire;

pub use error::{Error, Result};

//! Failure reports from the container's side to `orbital`.
//!
//! The cloned child, orbital-init and the command's process hold the write end of a
//! close-on-exec pipe. A step that fails writes one message: the exit status orbital should
//! use (125, 126 or 127) and the error's one-line text. A successful exec of the command closes
//! the last write end, so `orbital` reads either one report or end of file, and prints the
//! report once: nothing is logged twice.

use crate::out::Line;
use crate::sys::{self, Fd};
use crate::Error;

/// Longest report; longer texts are cut.
pub const REPORT_MAX_BYTES: usize = 1024;

/// Sends a failure report. Errors are ignored: if `orbital` is gone there is nobody to tell.
pub fn send(fd: Fd, status: u8, err: &Error) {
    let mut line = Line::new();
    line.push_bytes(&[status]).push_error(err);
    let _ = sys::write(fd, line.as_bytes());
}

/// A report as received: the status, then the text.
pub struct Report {
    buf: [u8; REPORT_MAX_BYTES],
    len: usize,
}

impl Report {
    /// Reads until end of file. Returns `None` when nothing was reported.
    pub fn receive(fd: Fd) -> Option<Report> {
        let mut report = Report {
            buf: [0; REPORT_MAX_BYTES],
            len: 0,
        };
        while report.len < REPORT_MAX_BYTES {
            match sys::read(fd, &mut report.buf[report.len..]) {
                Ok(0) | Err(_) => break,
                Ok(n) => report.len += n,
            }
        }
        (report.len > 0).then_some(report)
    }

    /// The exit status the reporter asked for.
    pub fn status(&self) -> i32 {
        self.buf[0] as i32
    }

    /// The error's text.
    pub fn text(&self) -> &[u8] {
        &self.buf[1..self.len]
    }
}

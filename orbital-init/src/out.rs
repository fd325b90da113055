//! One-line messages to stderr, built on the stack and written with a single write(2), so that
//! lines from the parent and from PID 1 never interleave mid-line.

use crate::sys;

/// Capacity of one output line; longer lines are cut.
pub const LINE_MAX_BYTES: usize = 1024;

/// A line of text under construction.
pub struct Line {
    buf: [u8; LINE_MAX_BYTES],
    len: usize,
}

impl Default for Line {
    fn default() -> Self {
        Line::new()
    }
}

impl Line {
    /// An empty line.
    pub const fn new() -> Line {
        Line {
            buf: [0; LINE_MAX_BYTES],
            len: 0,
        }
    }

    /// Appends text.
    pub fn push(&mut self, text: &str) -> &mut Line {
        self.push_bytes(text.as_bytes())
    }

    /// Appends raw bytes (paths need not be UTF-8), dropping a trailing NUL.
    pub fn push_bytes(&mut self, bytes: &[u8]) -> &mut Line {
        let bytes = match bytes.split_last() {
            Some((0, rest)) => rest,
            _ => bytes,
        };
        let room = LINE_MAX_BYTES - self.len;
        let take = bytes.len().min(room);
        self.buf[self.len..self.len + take].copy_from_slice(&bytes[..take]);
        self.len += take;
        self
    }

    /// Appends a decimal number.
    pub fn push_u64(&mut self, mut value: u64) -> &mut Line {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        loop {
            at -= 1;
            digits[at] = b'0' + (value % 10) as u8;
            value /= 10;
            if value == 0 {
                break;
            }
        }
        self.push_bytes(&digits[at..])
    }

    /// Appends a signed decimal number.
    pub fn push_i64(&mut self, value: i64) -> &mut Line {
        if value < 0 {
            self.push("-");
        }
        self.push_u64(value.unsigned_abs())
    }

    /// Appends an error's text.
    pub fn push_error(&mut self, err: &crate::Error) -> &mut Line {
        err.write_to(self);
        self
    }

    /// The text so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The text so far as a C string, for short paths built without allocating; `None` when
    /// the line is full or holds a NUL.
    pub fn as_cstr(&mut self) -> Option<&core::ffi::CStr> {
        if self.len == LINE_MAX_BYTES {
            return None;
        }
        self.buf[self.len] = 0;
        core::ffi::CStr::from_bytes_with_nul(&self.buf[..=self.len]).ok()
    }

    /// Ends the line with a newline and writes it to stderr in one call. Output errors are
    /// ignored: there is nowhere left to report them.
    pub fn print(&mut self) {
        if self.len == LINE_MAX_BYTES {
            self.len -= 1;
        }
        self.buf[self.len] = b'\n';
        let _ = sys::write_all(sys::STDERR, &self.buf[..self.len + 1]);
        self.len = 0;
    }
}

/// The value of a decimal number written with ASCII digits only, as the kernel's files and
/// orbital's options write them; `None` for anything else or a value past `u64`.
pub fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &b| {
        if b.is_ascii_digit() {
            n.checked_mul(10)?.checked_add((b - b'0') as u64)
        } else {
            None
        }
    })
}

/// How much a program says on stderr.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Level {
    /// Errors only: the default.
    Quiet = 0,
    /// Each setup step.
    Debug = 1,
    /// Also each forwarded signal and reaped process.
    Trace = 2,
}

impl Level {
    /// The level named by `ORBITAL_LOG` (`debug` or `trace`), if any.
    pub fn from_name(name: &[u8]) -> Option<Level> {
        match name {
            b"debug" => Some(Level::Debug),
            b"trace" => Some(Level::Trace),
            b"quiet" | b"error" | b"" => Some(Level::Quiet),
            _ => None,
        }
    }

    /// The wire value of the level.
    pub fn as_u8(self) -> u8 {
        self as u8
    }

    /// The level for a wire value; unknown values mean the most verbose.
    pub fn from_u8(value: u8) -> Level {
        match value {
            0 => Level::Quiet,
            1 => Level::Debug,
            _ => Level::Trace,
        }
    }
}

/// A logger: the program's prefix and its level.
#[derive(Clone, Copy)]
pub struct Log {
    /// `orbital` or `orbital-init`.
    pub prefix: &'static str,
    /// What is printed.
    pub level: Level,
}

impl Log {
    /// Starts a line with the program's prefix if `level` is enabled.
    pub fn line(&self, level: Level) -> Option<Line> {
        if level > self.level {
            return None;
        }
        let mut line = Line::new();
        line.push(self.prefix).push(": ");
        Some(line)
    }

    /// Prints `text` then `bytes` (a path, a name) at `level`. Kept out of line: one call per
    /// step is cheaper in code than building each line in place.
    #[inline(never)]
    pub fn say(&self, level: Level, text: &str, bytes: &[u8]) {
        if let Some(mut line) = self.line(level) {
            line.push(text).push_bytes(bytes).print();
        }
    }

    /// Prints `text` then the number `n` at `level`.
    #[inline(never)]
    pub fn say_number(&self, level: Level, text: &str, n: i64) {
        if let Some(mut line) = self.line(level) {
            line.push(text).push_i64(n).print();
        }
    }

    /// Prints a fixed debug message.
    pub fn debug(&self, text: &str) {
        if let Some(mut line) = self.line(Level::Debug) {
            line.push(text).print();
        }
    }

    /// Prints an error line, whatever the level.
    pub fn error(&self, err: &crate::Error) {
        let mut line = Line::new();
        line.push(self.prefix).push(": ").push_error(err).print();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_in_decimal() {
        let mut line = Line::new();
        line.push_u64(0)
            .push(" ")
            .push_u64(18446744073709551615)
            .push(" ")
            .push_i64(-42);
        assert_eq!(line.as_bytes(), b"0 18446744073709551615 -42");
    }

    #[test]
    fn decimals_parse_and_anything_else_is_refused() {
        assert_eq!(parse_decimal(b"0"), Some(0));
        assert_eq!(parse_decimal(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_decimal(b"18446744073709551616"), None);
        for bad in [&b""[..], b"-1", b"1.5", b" 1", b"x"] {
            assert_eq!(parse_decimal(bad), None);
        }
    }

    #[test]
    fn overlong_lines_are_cut_not_overflowed() {
        let mut line = Line::new();
        for _ in 0..LINE_MAX_BYTES {
            line.push("ab");
        }
        assert_eq!(line.as_bytes().len(), LINE_MAX_BYTES);
    }

    #[test]
    fn log_levels_filter_lines() {
        let log = Log {
            prefix: "orbital",
            level: Level::Debug,
        };
        assert!(log.line(Level::Debug).is_some());
        assert!(log.line(Level::Trace).is_none());
        assert_eq!(Level::from_name(b"trace"), Some(Level::Trace));
        assert_eq!(Level::from_name(b"loud"), None);
    }
}

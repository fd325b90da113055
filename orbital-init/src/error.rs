//! Errors that print as one line: the operation, the object it was applied to, and why.
//!
//! The type is fixed-size and never allocates, because PID 1 and the freshly cloned child build
//! errors where an allocation failure would leave nothing to report with.

use crate::out::Line;

/// Longest object name kept in an error; longer names are cut and end in `...`.
pub const OBJECT_MAX_BYTES: usize = 160;

/// What went wrong, beyond the operation and its object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    /// A system call failed with this errno.
    Errno(i32),
    /// A check of orbital's own refused the input; the text says why.
    Refused(&'static str),
}

/// A failed step: `mount proc on /proc: Operation not permitted (errno 1)`.
#[derive(Clone, Copy)]
pub struct Error {
    /// The operation, as a verb phrase or a system call name: `mount proc on`, `chdir`.
    pub op: &'static str,
    object: [u8; OBJECT_MAX_BYTES],
    object_len: usize,
    /// Why it failed.
    pub cause: Cause,
}

/// The result of every fallible step in both programs.
pub type Result<T> = core::result::Result<T, Error>;

impl Error {
    /// An error of `op` on `object` (a path, a pid, an option) with `cause`.
    pub fn new(op: &'static str, object: &[u8], cause: Cause) -> Error {
        let mut err = Error {
            op,
            object: [0; OBJECT_MAX_BYTES],
            object_len: 0,
            cause,
        };
        let object = trim_nul(object);
        if object.len() <= OBJECT_MAX_BYTES {
            err.object[..object.len()].copy_from_slice(object);
            err.object_len = object.len();
        } else {
            let keep = OBJECT_MAX_BYTES - 3;
            err.object[..keep].copy_from_slice(&object[..keep]);
            err.object[keep..].copy_from_slice(b"...");
            err.object_len = OBJECT_MAX_BYTES;
        }
        err
    }

    /// A system call `op` on `object` failed with `errno`.
    pub fn errno(op: &'static str, object: &[u8], errno: i32) -> Error {
        Error::new(op, object, Cause::Errno(errno))
    }

    /// orbital itself refused `object` for the reason `why`.
    pub fn refused(op: &'static str, object: &[u8], why: &'static str) -> Error {
        Error::new(op, object, Cause::Refused(why))
    }

    /// The object the operation was applied to, as given.
    pub fn object(&self) -> &[u8] {
        &self.object[..self.object_len]
    }

    /// The errno, when a system call failed.
    pub fn errno_value(&self) -> Option<i32> {
        match self.cause {
            Cause::Errno(errno) => Some(errno),
            Cause::Refused(_) => None,
        }
    }

    /// Appends the one-line text of the error to `line`.
    pub fn write_to(&self, line: &mut Line) {
        line.push(self.op);
        if self.object_len > 0 {
            line.push(" ").push_bytes(self.object());
        }
        line.push(": ");
        match self.cause {
            Cause::Errno(errno) => {
                line.push(describe_errno(errno))
                    .push(" (errno ")
                    .push_u64(errno as u64)
                    .push(")");
            }
            Cause::Refused(why) => {
                line.push(why);
            }
        }
    }
}

impl core::fmt::Debug for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut line = Line::new();
        self.write_to(&mut line);
        f.write_str(core::str::from_utf8(line.as_bytes()).unwrap_or("<error text not utf-8>"))
    }
}

/// The C library's text for the errors a container runner meets; others print as their number
/// alone. A table of its own, because the full one would be a tenth of orbital-init's size. Each
/// entry is the errno as one character, the text, and a NUL: one string, no pointers.
const ERRNO_TEXTS: &str = concat!(
    "\u{1}Operation not permitted\0",            // EPERM
    "\u{2}No such file or directory\0",          // ENOENT
    "\u{3}No such process\0",                    // ESRCH
    "\u{4}Interrupted system call\0",            // EINTR
    "\u{5}Input/output error\0",                 // EIO
    "\u{6}No such device or address\0",          // ENXIO
    "\u{7}Argument list too long\0",             // E2BIG
    "\u{8}Exec format error\0",                  // ENOEXEC
    "\u{9}Bad file descriptor\0",                // EBADF
    "\u{a}No child processes\0",                 // ECHILD
    "\u{b}Resource temporarily unavailable\0",   // EAGAIN
    "\u{c}Cannot allocate memory\0",             // ENOMEM
    "\u{d}Permission denied\0",                  // EACCES
    "\u{e}Bad address\0",                        // EFAULT
    "\u{10}Device or resource busy\0",           // EBUSY
    "\u{11}File exists\0",                       // EEXIST
    "\u{12}Invalid cross-device link\0",         // EXDEV
    "\u{13}No such device\0",                    // ENODEV
    "\u{14}Not a directory\0",                   // ENOTDIR
    "\u{15}Is a directory\0",                    // EISDIR
    "\u{16}Invalid argument\0",                  // EINVAL
    "\u{17}Too many open files in system\0",     // ENFILE
    "\u{18}Too many open files\0",               // EMFILE
    "\u{19}Inappropriate ioctl for device\0",    // ENOTTY
    "\u{1a}Text file busy\0",                    // ETXTBSY
    "\u{1b}File too large\0",                    // EFBIG
    "\u{1c}No space left on device\0",           // ENOSPC
    "\u{1e}Read-only file system\0",             // EROFS
    "\u{1f}Too many links\0",                    // EMLINK
    "\u{20}Broken pipe\0",                       // EPIPE
    "\u{22}Numerical result out of range\0",     // ERANGE
    "\u{24}File name too long\0",                // ENAMETOOLONG
    "\u{26}Function not implemented\0",          // ENOSYS
    "\u{27}Directory not empty\0",               // ENOTEMPTY
    "\u{28}Too many levels of symbolic links\0", // ELOOP
    "\u{5f}Operation not supported\0",           // EOPNOTSUPP
);

/// The entries of [`ERRNO_TEXTS`]: errno and text.
fn errno_texts() -> impl Iterator<Item = (i32, &'static str)> {
    ERRNO_TEXTS.split_terminator('\0').filter_map(|entry| {
        let mut chars = entry.chars();
        let errno = chars.next()? as i32;
        Some((errno, chars.as_str()))
    })
}

/// The C library's text for `errno`, or a generic one for numbers not in the table.
pub fn describe_errno(errno: i32) -> &'static str {
    errno_texts()
        .find(|&(n, _)| n == errno)
        .map_or("error", |(_, text)| text)
}

fn trim_nul(bytes: &[u8]) -> &[u8] {
    match bytes.split_last() {
        Some((0, rest)) => rest,
        _ => bytes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(err: &Error) -> std::string::String {
        let mut line = Line::new();
        err.write_to(&mut line);
        std::string::String::from_utf8(line.as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn errno_error_names_operation_object_and_errno() {
        let err = Error::errno("mount proc on", b"/proc\0", 1);
        assert_eq!(
            text(&err),
            "mount proc on /proc: Operation not permitted (errno 1)"
        );
    }

    #[test]
    fn refused_error_carries_its_reason() {
        let err = Error::refused("rootfs", b"/", "the host root cannot be a container root");
        assert_eq!(
            text(&err),
            "rootfs /: the host root cannot be a container root"
        );
    }

    #[test]
    fn errno_texts_match_the_c_library() {
        assert_eq!(errno_texts().count(), 36);
        for (errno, text) in errno_texts() {
            let libc_text = std::io::Error::from_raw_os_error(errno).to_string();
            assert_eq!(libc_text, format!("{text} (os error {errno})"));
        }
    }

    #[test]
    fn long_objects_are_cut_with_an_ellipsis() {
        let long = [b'a'; 400];
        let err = Error::errno("open", &long, 2);
        assert_eq!(err.object().len(), OBJECT_MAX_BYTES);
        assert!(err.object().ends_with(b"..."));
    }

    #[test]
    fn unknown_errno_still_prints_its_number() {
        let err = Error::errno("frob", b"", 4000);
        assert_eq!(text(&err), "frob: error (errno 4000)");
    }
}

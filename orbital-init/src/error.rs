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
/// alone. A table of its own, because the full one would be a tenth of orbital-init's size.
const ERRNO_TEXTS: &[(i32, &str)] = &[
    (libc::EPERM, "Operation not permitted"),
    (libc::ENOENT, "No such file or directory"),
    (libc::ESRCH, "No such process"),
    (libc::EINTR, "Interrupted system call"),
    (libc::EIO, "Input/output error"),
    (libc::ENXIO, "No such device or address"),
    (libc::E2BIG, "Argument list too long"),
    (libc::ENOEXEC, "Exec format error"),
    (libc::EBADF, "Bad file descriptor"),
    (libc::ECHILD, "No child processes"),
    (libc::EAGAIN, "Resource temporarily unavailable"),
    (libc::ENOMEM, "Cannot allocate memory"),
    (libc::EACCES, "Permission denied"),
    (libc::EFAULT, "Bad address"),
    (libc::EBUSY, "Device or resource busy"),
    (libc::EEXIST, "File exists"),
    (libc::EXDEV, "Invalid cross-device link"),
    (libc::ENODEV, "No such device"),
    (libc::ENOTDIR, "Not a directory"),
    (libc::EISDIR, "Is a directory"),
    (libc::EINVAL, "Invalid argument"),
    (libc::ENFILE, "Too many open files in system"),
    (libc::EMFILE, "Too many open files"),
    (libc::ENOTTY, "Inappropriate ioctl for device"),
    (libc::ETXTBSY, "Text file busy"),
    (libc::EFBIG, "File too large"),
    (libc::ENOSPC, "No space left on device"),
    (libc::EROFS, "Read-only file system"),
    (libc::EMLINK, "Too many links"),
    (libc::EPIPE, "Broken pipe"),
    (libc::ERANGE, "Numerical result out of range"),
    (libc::ENAMETOOLONG, "File name too long"),
    (libc::ENOSYS, "Function not implemented"),
    (libc::ENOTEMPTY, "Directory not empty"),
    (libc::ELOOP, "Too many levels of symbolic links"),
    (libc::EOPNOTSUPP, "Operation not supported"),
    (libc::EOVERFLOW, "Value too large for defined data type"),
    (libc::ECONNREFUSED, "Connection refused"),
];

/// The C library's text for `errno`, or a generic one for numbers not in the table.
pub fn describe_errno(errno: i32) -> &'static str {
    ERRNO_TEXTS
        .iter()
        .find(|&&(n, _)| n == errno)
        .map_or("error", |&(_, text)| text)
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
        for &(errno, text) in ERRNO_TEXTS {
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

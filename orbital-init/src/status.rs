//! Exit statuses, as shells and Docker users expect them. Both programs use them: `orbital` for
//! its own failures, orbital-init and the command's process in their failure reports.

/// orbital itself failed: a bad option, a missing rootfs, a setup step refused.
pub const ORBITAL_FAILED: u8 = 125;
/// The command exists but cannot be executed.
pub const CANNOT_EXECUTE: u8 = 126;
/// The command does not exist in the rootfs.
pub const NOT_FOUND: u8 = 127;

/// The status for a failed exec, by errno: 127 when the file is not there, 126 otherwise.
pub fn for_exec_errno(errno: Option<i32>) -> u8 {
    match errno {
        Some(libc::ENOENT | libc::ENOTDIR) => NOT_FOUND,
        _ => CANNOT_EXECUTE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_errors_map_to_126_and_127() {
        assert_eq!(for_exec_errno(Some(libc::ENOENT)), 127);
        assert_eq!(for_exec_errno(Some(libc::ENOTDIR)), 127);
        assert_eq!(for_exec_errno(Some(libc::EACCES)), 126);
        assert_eq!(for_exec_errno(Some(libc::ENOEXEC)), 126);
        assert_eq!(for_exec_errno(None), 126);
    }
}

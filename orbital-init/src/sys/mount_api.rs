//! The file-descriptor mount API (open_tree(2), mount_setattr(2), move_mount(2)), used for
//! volumes: the source is taken while the host is still visible, and attached after the root
//! switch, where the target can only resolve inside the container.

use core::ffi::CStr;

use syscalls::{syscall, Sysno};

use super::{path_error, Fd};
use crate::Result;

const OPEN_TREE_CLONE: usize = 1;
const AT_RECURSIVE: usize = 0x8000;
const MOVE_MOUNT_F_EMPTY_PATH: usize = 0x4;
/// `struct mount_attr`, version 0.
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// A detached copy of the mount tree at `path`, as a descriptor.
pub fn clone_tree(path: &CStr) -> Result<Fd> {
    let flags = OPEN_TREE_CLONE | AT_RECURSIVE | libc::O_CLOEXEC as usize;
    // SAFETY: `path` is NUL-terminated and lives for the call.
    unsafe { syscall!(Sysno::open_tree, libc::AT_FDCWD, path.as_ptr(), flags) }
        .map(|fd| fd as Fd)
        .map_err(|e| path_error("open_tree", path, e))
}

/// `MOUNT_ATTR_RDONLY`: no writes.
pub const MOUNT_ATTR_RDONLY: u64 = 0x1;
/// `MOUNT_ATTR_NODEV`: device nodes cannot be opened.
pub const MOUNT_ATTR_NODEV: u64 = 0x4;

/// Sets `attrs` (`MOUNT_ATTR_*`) on the mount at `path` relative to `dir` and every mount
/// below it; with an empty `path`, on the mount tree `dir` itself.
pub fn set_mount_attrs(dir: Fd, path: &CStr, attrs: u64) -> Result<()> {
    let attr = MountAttr {
        attr_set: attrs,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    let flags = if path.is_empty() {
        libc::AT_EMPTY_PATH as usize
    } else {
        0
    } | AT_RECURSIVE;
    // SAFETY: `path` is NUL-terminated (empty names `dir` itself, with AT_EMPTY_PATH); `attr`
    // is live and its size is passed.
    unsafe {
        syscall!(
            Sysno::mount_setattr,
            dir,
            path.as_ptr(),
            flags,
            &attr as *const MountAttr,
            core::mem::size_of::<MountAttr>()
        )
    }
    .map(drop)
    .map_err(|e| path_error("mount_setattr", path, e))
}

/// Attaches a detached tree at `target`.
pub fn move_tree(tree: Fd, target: &CStr) -> Result<()> {
    // SAFETY: the empty source path names `tree`; `target` is NUL-terminated; both live for the
    // call.
    unsafe {
        syscall!(
            Sysno::move_mount,
            tree,
            c"".as_ptr(),
            libc::AT_FDCWD,
            target.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH
        )
    }
    .map(drop)
    .map_err(|e| path_error("mount volume on", target, e))
}

//! A minimal /dev on tmpfs, made after the root switch so that it can only land inside the
//! container: the character devices every program expects, a devpts instance of the
//! container's own, /dev/shm and /dev/mqueue. No disk or memory device is created.

use core::ffi::CStr;

use orbital_rt::out::Log;
use orbital_rt::sys;
use orbital_rt::Result;

use crate::mounts;

/// Character devices created in /dev: name, major, minor (Documentation/admin-guide/devices.txt).
const DEVICES: &[(&CStr, u32, u32)] = &[
    (c"/dev/null", 1, 3),
    (c"/dev/zero", 1, 5),
    (c"/dev/full", 1, 7),
    (c"/dev/random", 1, 8),
    (c"/dev/urandom", 1, 9),
    (c"/dev/tty", 5, 0),
];

/// Symlinks created in /dev: name, target.
const LINKS: &[(&CStr, &CStr)] = &[
    (c"/dev/ptmx", c"pts/ptmx"),
    (c"/dev/fd", c"/proc/self/fd"),
    (c"/dev/stdin", c"/proc/self/fd/0"),
    (c"/dev/stdout", c"/proc/self/fd/1"),
    (c"/dev/stderr", c"/proc/self/fd/2"),
];

/// Mounts the minimal /dev, with a console mount point when the container gets a pty. Runs
/// after /proc is mounted and the root switched.
pub fn mount_dev(tty: bool, log: &Log) -> Result<()> {
    mounts::make_mount_point(c"/dev", 0o755)?;
    let flags = libc::MS_NOSUID | libc::MS_NOEXEC;
    sys::mount(
        "mount tmpfs on",
        Some(c"tmpfs"),
        c"/dev",
        Some(c"tmpfs"),
        flags,
        Some(c"mode=755,size=65536k"),
    )?;
    for &(path, major, minor) in DEVICES {
        sys::mknod(path, libc::S_IFCHR, major, minor)?;
        // Every user may use these; a mode given to mknod would be cut by the umask.
        sys::chmod(path, 0o666)?;
    }

    // A new devpts instance holds only the container's ptys: the host's are not visible, and
    // /dev/ptmx (a link into it) allocates from this instance
    // (Documentation/filesystems/devpts.rst).
    sys::mkdir_at(libc::AT_FDCWD, c"/dev/pts", 0o755)?;
    let flags = libc::MS_NOSUID | libc::MS_NOEXEC;
    let options = c"newinstance,ptmxmode=0666,mode=0620";
    sys::mount(
        "mount devpts on",
        Some(c"devpts"),
        c"/dev/pts",
        Some(c"devpts"),
        flags,
        Some(options),
    )?;

    sys::mkdir_at(libc::AT_FDCWD, c"/dev/shm", 0o1777)?;
    let flags = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
    sys::mount(
        "mount tmpfs on",
        Some(c"shm"),
        c"/dev/shm",
        Some(c"tmpfs"),
        flags,
        Some(c"mode=1777,size=65536k"),
    )?;
    // The container has its own IPC namespace, so its own POSIX message queues.
    sys::mkdir_at(libc::AT_FDCWD, c"/dev/mqueue", 0o755)?;
    sys::mount(
        "mount mqueue on",
        Some(c"mqueue"),
        c"/dev/mqueue",
        Some(c"mqueue"),
        flags,
        None,
    )?;

    for &(path, target) in LINKS {
        sys::symlink(target, path)?;
    }
    if tty {
        // The console's mount point; the container's pty is bound onto it later.
        sys::close(sys::open(
            c"/dev/console",
            libc::O_CREAT | libc::O_WRONLY,
            0o600,
        )?)?;
    }
    // Read-only once populated, so that no device node can be added: see the root switch.
    let flags =
        libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NOEXEC;
    sys::mount("make read-only", None, c"/dev", None, flags, None)?;
    log.debug("mounted a minimal /dev, read-only");
    Ok(())
}

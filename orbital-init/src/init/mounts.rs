//! Mounts and the root switch.

use core::ffi::CStr;

use orbital_rt::out::{Level, Log};
use orbital_rt::sys;
use orbital_rt::Result;

/// Makes every mount in the new mount namespace private.
///
/// The namespace starts as a copy of the host's, sharing propagation with it: without this,
/// the mounts below would appear on the host too. It comes before anything is mounted.
pub fn make_private(log: &Log) -> Result<()> {
    let flags = libc::MS_REC | libc::MS_PRIVATE;
    sys::mount("make private", None, c"/", None, flags, None)?;
    log.debug("mount propagation made private");
    Ok(())
}

/// Makes `rootfs` the root directory of the container.
///
/// pivot_root moves the whole old root away, and detaching it leaves no path back to the host,
/// unlike chroot, which a root process can leave. pivot_root needs the new root to be a mount
/// point, hence the bind mount of the rootfs onto itself. Passing "." twice stacks the old root
/// on top of the new one, so no directory for it is needed in the rootfs (pivot_root(2)). On
/// the initial ramfs, which cannot be pivoted away from, chroot is the fallback.
pub fn switch_root(rootfs: &CStr, log: &Log) -> Result<()> {
    let flags = libc::MS_BIND | libc::MS_REC;
    sys::mount(
        "bind rootfs on itself at",
        Some(rootfs),
        rootfs,
        None,
        flags,
        None,
    )?;
    // CAP_MKNOD stays in the default set, as in Docker, so root inside can make device
    // nodes; Docker then counts on the devices cgroup to refuse opening them. Here every mount
    // the container can make files in is nodev instead (the rootfs, volumes, tmpfs mounts), and
    // /dev is read-only once populated: a node made anywhere cannot be opened.
    sys::set_mount_attrs(libc::AT_FDCWD, rootfs, sys::MOUNT_ATTR_NODEV)?;
    sys::chdir(rootfs)?;
    match sys::pivot_root(c".", c".") {
        Ok(()) => {
            sys::umount(c".", libc::MNT_DETACH)?;
            log.say(
                Level::Debug,
                "root switched with pivot_root to ",
                rootfs.to_bytes(),
            );
        }
        Err(err) if err.errno_value() == Some(libc::EINVAL) => {
            sys::chroot(c".")?;
            let why = "chroot (no pivot_root on initramfs) to ";
            log.say(Level::Debug, why, rootfs.to_bytes());
        }
        Err(err) => return Err(err),
    }
    sys::chdir(c"/")
}

/// Mounts a proc filesystem for the new PID namespace on /proc, creating the directory if the
/// rootfs lacks it. This happens after the root switch, so a /proc symlink in the rootfs
/// resolves inside the container and can never point the mount at a host directory.
pub fn mount_proc(log: &Log) -> Result<()> {
    make_mount_point(c"/proc", 0o555)?;
    let flags = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
    sys::mount(
        "mount proc on",
        Some(c"proc"),
        c"/proc",
        Some(c"proc"),
        flags,
        None,
    )?;
    log.debug("mounted proc on /proc");
    Ok(())
}

/// Mounts a read-only sysfs on /sys: programs read it, nothing in a container should write it.
pub fn mount_sys(log: &Log) -> Result<()> {
    make_mount_point(c"/sys", 0o555)?;
    let flags = libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
    sys::mount(
        "mount sysfs on",
        Some(c"sysfs"),
        c"/sys",
        Some(c"sysfs"),
        flags,
        None,
    )?;
    log.debug("mounted sysfs read-only on /sys");
    Ok(())
}

/// Kernel files a container must neither read nor write, masked as Docker masks them: a file
/// gets /dev/null bound over it, a directory an empty read-only tmpfs.
const MASKED: &[&CStr] = &[
    c"/proc/acpi",
    c"/proc/asound",
    c"/proc/interrupts",
    c"/proc/kcore",
    c"/proc/keys",
    c"/proc/latency_stats",
    c"/proc/sched_debug",
    c"/proc/scsi",
    c"/proc/sysrq-trigger",
    c"/proc/timer_list",
    c"/proc/timer_stats",
    c"/sys/devices/virtual/powercap",
    c"/sys/firmware",
];

/// Kernel trees a container may read but not change.
const READ_ONLY: &[&CStr] = &[c"/proc/bus", c"/proc/fs", c"/proc/irq", c"/proc/sys"];

/// Masks the dangerous kernel files and makes the kernel's tunables read-only. Paths the
/// running kernel lacks are skipped.
pub fn mask_kernel_files(log: &Log) -> Result<()> {
    let read_only = libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY;
    for &path in MASKED {
        let Ok(st) = sys::stat(path) else { continue };
        if st.st_mode & libc::S_IFMT == libc::S_IFDIR {
            let flags = libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
            sys::mount(
                "mask",
                Some(c"tmpfs"),
                path,
                Some(c"tmpfs"),
                flags,
                Some(c"size=0"),
            )?;
        } else {
            // /dev/null swallows writes: made read-only, a write to the masked file fails.
            sys::mount("mask", Some(c"/dev/null"), path, None, libc::MS_BIND, None)?;
            sys::mount("mask read-only", None, path, None, read_only, None)?;
        }
    }
    for &path in READ_ONLY {
        if sys::stat(path).is_err() {
            continue;
        }
        sys::mount(
            "bind read-only",
            Some(path),
            path,
            None,
            libc::MS_BIND | libc::MS_REC,
            None,
        )?;
        let flags = read_only | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
        sys::mount("make read-only", None, path, None, flags, None)?;
    }
    log.debug("masked kernel files; /proc/sys and friends read-only");
    Ok(())
}

/// Makes the container's root read-only; the mounts on it keep their own modes.
pub fn make_root_read_only(log: &Log) -> Result<()> {
    let flags = libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY;
    sys::mount("make read-only", None, c"/", None, flags, None)?;
    log.debug("root made read-only");
    Ok(())
}

/// Creates a missing mount point; the only change orbital makes to a rootfs apart from the
/// copy of its init.
pub fn make_mount_point(path: &CStr, mode: u32) -> Result<()> {
    match sys::mkdir_at(libc::AT_FDCWD, path, mode) {
        Err(err) if err.errno_value() != Some(libc::EEXIST) => Err(err),
        _ => Ok(()),
    }
}

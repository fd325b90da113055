//! Volumes (`-v`) and tmpfs mounts (`--tmpfs`).
//!
//! A volume's source is a host path, so it is taken, as a detached mount tree, before the root
//! switch; it is attached after, when the target path can only resolve inside the container:
//! a symlink in the rootfs can never point the mount at a host directory.

use alloc::vec::Vec;
use core::ffi::CStr;

use orbital_rt::out::{Level, Line, Log};
use orbital_rt::sys::{self, Fd};
use orbital_rt::wire::{Mount, MountKind};
use orbital_rt::Result;

use crate::mounts::make_mount_point;

/// Takes each volume's source while the host is still visible: a detached copy, without
/// devices, read-only if asked. tmpfs mounts need nothing yet.
pub fn take_sources(mounts: &[Mount]) -> Result<Vec<Option<Fd>>> {
    let mut trees = Vec::with_capacity(mounts.len());
    for mount in mounts {
        if mount.kind != MountKind::Bind {
            trees.push(None);
            continue;
        }
        let tree = sys::clone_tree(&mount.source)?;
        trees.push(Some(tree));
        // No device node in a volume can be opened, as on every mount the container can
        // write: see the root switch.
        let read_only = if mount.read_only {
            sys::MOUNT_ATTR_RDONLY
        } else {
            0
        };
        sys::set_mount_attrs(tree, c"", sys::MOUNT_ATTR_NODEV | read_only)?;
    }
    Ok(trees)
}

/// Attaches every mount inside the container, in order, creating missing targets.
pub fn attach(mounts: &[Mount], trees: Vec<Option<Fd>>, log: &Log) -> Result<()> {
    for (mount, tree) in mounts.iter().zip(trees) {
        match tree {
            Some(tree) => {
                let is_dir = sys::stat_at(tree, c"", libc::AT_EMPTY_PATH)?.st_mode & libc::S_IFMT
                    == libc::S_IFDIR;
                make_target(&mount.target, is_dir)?;
                sys::move_tree(tree, &mount.target)?;
                sys::close(tree)?;
            }
            None => {
                make_target(&mount.target, true)?;
                let mut flags = libc::MS_NOSUID | libc::MS_NODEV;
                if mount.read_only {
                    flags |= libc::MS_RDONLY;
                }
                let options = (!mount.options.is_empty()).then_some(mount.options.as_c_str());
                sys::mount(
                    "mount tmpfs on",
                    Some(c"tmpfs"),
                    &mount.target,
                    Some(c"tmpfs"),
                    flags,
                    options,
                )?;
            }
        }
        if let Some(mut line) = log.line(Level::Debug) {
            line.push(if mount.kind == MountKind::Bind {
                "volume "
            } else {
                "tmpfs on "
            });
            if mount.kind == MountKind::Bind {
                line.push_bytes(mount.source.as_bytes()).push(" on ");
            }
            line.push_bytes(mount.target.as_bytes());
            line.push(if mount.read_only { " (read-only)" } else { "" })
                .print();
        }
    }
    Ok(())
}

/// Creates the target and its missing parents, a directory or an empty file. This runs after
/// the root switch, so every path resolves inside the container.
fn make_target(target: &CStr, is_dir: bool) -> Result<()> {
    let path = target.to_bytes();
    for (i, &b) in path.iter().enumerate() {
        if b == b'/' && i > 0 {
            // A parent too long for a line is left alone; the mount then fails, naming it.
            let mut parent = Line::new();
            parent.push_bytes(&path[..i]);
            if let Some(parent) = parent.as_cstr() {
                make_mount_point(parent, 0o755)?;
            }
        }
    }
    if is_dir {
        return make_mount_point(target, 0o755);
    }
    match sys::stat(target) {
        Ok(_) => Ok(()),
        Err(_) => sys::close(sys::open(target, libc::O_CREAT | libc::O_WRONLY, 0o644)?),
    }
}

//! orbital-init's image: loaded from the host, sealed in memory, and copied into the rootfs.
//!
//! The container's root user can rewrite anything in its rootfs, including the copy of the
//! init placed there; a host that executed that copy at the next start would run the
//! container's code with host privileges. So the host never executes a file from the rootfs:
//! it reads orbital-init from beside its own executable, seals the bytes in a memfd that
//! nobody can write any more, and executes the memfd. The copy in the rootfs is only written,
//! never run by the host, and written in a way that a planted symlink cannot redirect.

use alloc::vec::Vec;

use orbital_rt::out::{Line, Log};
use orbital_rt::sys::{self, Fd};
use orbital_rt::{Error, Result};

use super::rootfs::Rootfs;

/// Name of the copy in the rootfs's top directory.
pub const COPY_NAME: &core::ffi::CStr = c".orbital-init";
/// Start of the name the copy is written under before it replaces the old one in a single
/// rename; orbital's pid follows, so that containers started at once on one rootfs do not
/// collide.
const COPY_TEMP_PREFIX: &str = ".orbital-init.";
/// Largest init image accepted; the real one is a few tens of KiB.
const IMAGE_MAX_BYTES: usize = 4 * 1024 * 1024;

/// The sealed image to execute.
pub struct InitImage {
    /// A sealed memfd holding orbital-init.
    pub memfd: Fd,
}

/// Loads orbital-init, seals it in a memfd and places a copy in the rootfs.
pub fn prepare(rootfs: &Rootfs, log: &Log) -> Result<InitImage> {
    let image = read_host_image()?;
    let memfd = sys::memfd_create(c"orbital-init")?;
    let sealed = sys::write_all(memfd, &image).and_then(|()| sys::seal_for_good(memfd));
    if let Err(err) = sealed {
        let _ = sys::close(memfd);
        return Err(err);
    }
    let copied = if copy_is_current(rootfs, &image) {
        Ok(false)
    } else {
        copy_into(rootfs, &image).map(|()| true)
    };
    match copied {
        Ok(true) => {
            log.debug("init copied to the rootfs as /.orbital-init; executed from a sealed memfd")
        }
        Ok(false) => log.debug("init copy in the rootfs is current; executed from a sealed memfd"),
        // A read-only rootfs is a normal way to run; the copy is for the container to see,
        // nothing depends on it.
        Err(err) if err.errno_value() == Some(libc::EROFS) => {
            log.debug("rootfs is read-only: init not copied; executed from a sealed memfd")
        }
        Err(err) => {
            let _ = sys::close(memfd);
            return Err(err);
        }
    }
    Ok(InitImage { memfd })
}

/// Reads `orbital-init` from the directory that holds this very executable, as installed by
/// `make install` or built by `make`.
fn read_host_image() -> Result<Vec<u8>> {
    let mut path = [0u8; 4096 + 16];
    let len = sys::readlink(c"/proc/self/exe", &mut path[..4096])?;
    let dir_len = path[..len].iter().rposition(|&b| b == b'/').unwrap_or(0);
    let name = b"/orbital-init\0";
    path[dir_len..dir_len + name.len()].copy_from_slice(name);
    let init_path = sys::cstr_from_buf(&path).unwrap_or(c"orbital-init");

    let fd = sys::open(init_path, libc::O_RDONLY, 0)?;
    let result = read_image(fd, init_path);
    let _ = sys::close(fd);
    result
}

fn read_image(fd: Fd, path: &core::ffi::CStr) -> Result<Vec<u8>> {
    let size = sys::stat_at(fd, c"", libc::AT_EMPTY_PATH)?.st_size as usize;
    if size == 0 || size > IMAGE_MAX_BYTES {
        return Err(Error::refused(
            "load init",
            path.to_bytes(),
            "size is not that of orbital-init",
        ));
    }
    let mut image = alloc::vec![0u8; size];
    if sys::read_full(fd, &mut image)? != size {
        return Err(Error::refused(
            "load init",
            path.to_bytes(),
            "file shrank while read",
        ));
    }
    Ok(image)
}

/// Whether `/.orbital-init` in the rootfs already holds `image`, so that it need not be
/// rewritten: replacing a file by rename makes some filesystems (ext4) write it out at once,
/// which would be most of a container's start.
///
/// The file is the container's to change, so it is first opened as a bare path without
/// following a symlink, and read only if it is a regular file: opening whatever else it could
/// be (a FIFO, a device) might block or have effects. Nothing is ever executed from it.
fn copy_is_current(rootfs: &Rootfs, image: &[u8]) -> bool {
    let Ok(path) = sys::open_at(rootfs.dir, COPY_NAME, libc::O_PATH | libc::O_NOFOLLOW, 0) else {
        return false;
    };
    let current = is_regular_of_size(path, image.len()) && reads_as(path, image);
    let _ = sys::close(path);
    current
}

fn is_regular_of_size(fd: Fd, len: usize) -> bool {
    match sys::stat_at(fd, c"", libc::AT_EMPTY_PATH) {
        Ok(st) => st.st_mode & libc::S_IFMT == libc::S_IFREG && st.st_size as usize == len,
        Err(_) => false,
    }
}

/// Reads the regular file held as a bare path by `path` (opened anew through /proc, which
/// gives the very same inode) and compares it with `expected`.
fn reads_as(path: Fd, expected: &[u8]) -> bool {
    let mut through = Line::new();
    through.push("/proc/self/fd/").push_i64(path as i64);
    let Some(Ok(fd)) = through.as_cstr().map(|p| sys::open(p, libc::O_RDONLY, 0)) else {
        return false;
    };
    let mut content = alloc::vec![0u8; expected.len() + 1];
    let same = sys::read_full(fd, &mut content).ok() == Some(expected.len())
        && &content[..expected.len()] == expected;
    let _ = sys::close(fd);
    same
}

/// Writes the image to `/.orbital-init` in the rootfs.
///
/// The rootfs's top directory was opened by orbital itself, and the names used are direct
/// children of it, so no path component can be a symlink except the last. The new file is
/// created with O_EXCL (which never follows a symlink) under a temporary name, then renamed
/// over the old copy: rename replaces a symlink or a file at the target, it does not write
/// through it.
fn copy_into(rootfs: &Rootfs, image: &[u8]) -> Result<()> {
    let mut temp = Line::new();
    temp.push(COPY_TEMP_PREFIX)
        .push_u64(sys::getpid() as u64)
        .push(".new");
    let temp = temp.as_cstr().unwrap_or(c".orbital-init.new");
    match sys::unlink_at(rootfs.dir, temp, 0) {
        Err(err) if err.errno_value() != Some(libc::ENOENT) => return Err(err),
        _ => {}
    }
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW;
    let fd = sys::open_at(rootfs.dir, temp, flags, 0o755)?;
    let written = sys::write_all(fd, image).and_then(|()| sys::fchmod(fd, 0o755));
    let _ = sys::close(fd);
    let renamed = written.and_then(|()| sys::rename_at(rootfs.dir, temp, COPY_NAME));
    if renamed.is_err() {
        let _ = sys::unlink_at(rootfs.dir, temp, 0);
    }
    renamed
}

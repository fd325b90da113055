//! Checks of the root filesystem a user names, before anything is started.

use alloc::ffi::CString;

use orbital_rt::sys::{self, Fd};
use orbital_rt::{Error, Result};

/// The root filesystem, checked and held open.
pub struct Rootfs {
    /// An `O_PATH` descriptor of the directory, so that files orbital places there are created
    /// relative to the directory that was checked, whatever its path turns into.
    pub dir: Fd,
}

impl Drop for Rootfs {
    fn drop(&mut self) {
        let _ = sys::close(self.dir);
    }
}

/// Opens `path` as a root filesystem: it must exist, be a directory and not be the host's own
/// root.
pub fn open(path: &[u8]) -> Result<Rootfs> {
    let cpath =
        CString::new(path).map_err(|_| Error::refused("rootfs", path, "contains a NUL byte"))?;
    let dir = match sys::open(&cpath, libc::O_PATH | libc::O_DIRECTORY, 0) {
        Ok(dir) => dir,
        Err(err) if err.errno_value() == Some(libc::ENOENT) => {
            return Err(Error::refused(
                "rootfs",
                path,
                "No such file or directory (errno 2); create one with 'make rootfs' or choose \
                 one with --rootfs DIR",
            ));
        }
        Err(err) if err.errno_value() == Some(libc::ENOTDIR) => {
            return Err(Error::refused("rootfs", path, "not a directory"));
        }
        Err(mut err) => {
            err.op = "rootfs";
            return Err(err);
        }
    };
    let rootfs = Rootfs { dir };
    let this = sys::stat_at(dir, c"", libc::AT_EMPTY_PATH)?;
    let host_root = sys::stat(c"/")?;
    if (this.st_dev, this.st_ino) == (host_root.st_dev, host_root.st_ino) {
        return Err(Error::refused(
            "rootfs",
            path,
            "the host root cannot be a container root",
        ));
    }
    Ok(rootfs)
}

//! The one network step a container with its own network namespace needs: bringing up its
//! loopback interface (netdevice(7)).

use syscalls::{syscall, Sysno};

use super::{close, plain_error, Fd};
use crate::Result;

/// `struct ifreq` as SIOCGIFFLAGS and SIOCSIFFLAGS use it: a name, then the flags.
#[repr(C)]
struct IfreqFlags {
    name: [u8; 16],
    flags: i16,
    _pad: [u8; 22],
}

/// Sets IFF_UP on `lo`.
pub fn bring_up_loopback() -> Result<()> {
    // SAFETY: socket touches no memory.
    let sock = unsafe {
        syscall!(
            Sysno::socket,
            libc::AF_INET,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            0
        )
    }
    .map_err(|e| plain_error("socket", e))? as Fd;
    let mut req = IfreqFlags {
        name: [0; 16],
        flags: 0,
        _pad: [0; 22],
    };
    req.name[..2].copy_from_slice(b"lo");
    // SAFETY: both ioctls read and write one live `struct ifreq`, 40 bytes as on x86_64.
    let result = unsafe {
        syscall!(
            Sysno::ioctl,
            sock,
            libc::SIOCGIFFLAGS,
            &mut req as *mut IfreqFlags
        )
        .and_then(|_| {
            req.flags |= libc::IFF_UP as i16;
            syscall!(
                Sysno::ioctl,
                sock,
                libc::SIOCSIFFLAGS,
                &req as *const IfreqFlags
            )
        })
    };
    let _ = close(sock);
    result
        .map(drop)
        .map_err(|e| crate::Error::errno("bring up", b"lo", e.into_raw()))
}

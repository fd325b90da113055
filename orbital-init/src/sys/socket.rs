//! Unix sockets, used to hand a descriptor from the container to `orbital` (unix(7),
//! SCM_RIGHTS).

use core::mem::size_of;

use syscalls::{syscall, Sysno};

use super::{fd_error, plain_error, Fd};
use crate::{Error, Result};

/// A connected pair of stream sockets, both close-on-exec.
pub fn socketpair() -> Result<(Fd, Fd)> {
    let mut fds = [0 as Fd; 2];
    let kind = libc::SOCK_STREAM | libc::SOCK_CLOEXEC;
    // SAFETY: `fds` is a live array of two ints, the layout socketpair fills.
    unsafe { syscall!(Sysno::socketpair, libc::AF_UNIX, kind, 0, fds.as_mut_ptr()) }
        .map_err(|e| plain_error("socketpair", e))?;
    Ok((fds[0], fds[1]))
}

/// Room for one control message carrying one descriptor, aligned for `cmsghdr`.
#[repr(C, align(8))]
struct FdMessage([u8; 24]);

const _: () = assert!(size_of::<libc::cmsghdr>() + size_of::<Fd>() <= size_of::<FdMessage>());

/// Sends descriptor `fd` over socket `sock`, with one byte of data (a stream socket carries
/// no control message without data).
pub fn send_fd(sock: Fd, fd: Fd) -> Result<()> {
    let mut byte = [b'F'];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    let mut control = FdMessage([0; 24]);
    let header = libc::cmsghdr {
        cmsg_len: size_of::<libc::cmsghdr>() + size_of::<Fd>(),
        cmsg_level: libc::SOL_SOCKET,
        cmsg_type: libc::SCM_RIGHTS,
    };
    let header_len = size_of::<libc::cmsghdr>();
    // SAFETY: `cmsghdr` is plain integers; viewing it as bytes reads exactly its size.
    let header_bytes: &[u8] = unsafe {
        core::slice::from_raw_parts((&header as *const libc::cmsghdr).cast(), header_len)
    };
    control.0[..header_len].copy_from_slice(header_bytes);
    control.0[header_len..header_len + 4].copy_from_slice(&fd.to_ne_bytes());
    // SAFETY: an all-zero msghdr is valid (null name, no iov, no control) before it is filled.
    let mut msg: libc::msghdr = unsafe { core::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.0.as_mut_ptr().cast();
    msg.msg_controllen = header_len + size_of::<Fd>();
    // SAFETY: `msg` points at `iov`, `byte` and `control`, all live for the call and of the
    // lengths given.
    unsafe {
        syscall!(
            Sysno::sendmsg,
            sock,
            &msg as *const libc::msghdr,
            libc::MSG_NOSIGNAL
        )
    }
    .map(drop)
    .map_err(|e| fd_error("send descriptor over", sock, e))
}

/// Receives one descriptor sent by [`send_fd`]. Returns `None` at end of file.
pub fn receive_fd(sock: Fd) -> Result<Option<Fd>> {
    let mut byte = [0u8];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    let mut control = FdMessage([0; 24]);
    // SAFETY: an all-zero msghdr is valid before it is filled.
    let mut msg: libc::msghdr = unsafe { core::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.0.as_mut_ptr().cast();
    msg.msg_controllen = control.0.len();
    // SAFETY: `msg` points at `iov`, `byte` and `control`, all live and writable for the call;
    // MSG_CMSG_CLOEXEC makes a received descriptor close-on-exec atomically.
    let n = unsafe {
        syscall!(
            Sysno::recvmsg,
            sock,
            &mut msg as *mut libc::msghdr,
            libc::MSG_CMSG_CLOEXEC
        )
    }
    .map_err(|e| fd_error("receive descriptor over", sock, e))?;
    if n == 0 {
        return Ok(None);
    }
    let header_len = size_of::<libc::cmsghdr>();
    let level = i32::from_ne_bytes([control.0[8], control.0[9], control.0[10], control.0[11]]);
    let kind = i32::from_ne_bytes([control.0[12], control.0[13], control.0[14], control.0[15]]);
    if msg.msg_controllen < header_len + size_of::<Fd>()
        || level != libc::SOL_SOCKET
        || kind != libc::SCM_RIGHTS
    {
        return Err(Error::refused(
            "receive descriptor over",
            b"socket",
            "no descriptor came",
        ));
    }
    let d = &control.0[header_len..header_len + 4];
    Ok(Some(Fd::from_ne_bytes([d[0], d[1], d[2], d[3]])))
}

//! Terminals and pseudo-terminals: termios, window size, and the pty ioctls (tty_ioctl(4),
//! pts(4)).

use core::ffi::c_int;

use syscalls::{syscall, Sysno};

use super::{fd_error, Fd};
use crate::Result;

/// Terminal settings, as TCGETS returns them.
pub type Termios = libc::termios;
/// A terminal's size in characters and pixels.
pub type Winsize = libc::winsize;

/// Settings with every flag cleared, a starting point for building settings by hand.
pub fn blank_termios() -> Termios {
    // SAFETY: an all-zero termios is a valid value of this plain-integer struct.
    unsafe { core::mem::zeroed() }
}

/// Whether `fd` is a terminal.
pub fn is_terminal(fd: Fd) -> bool {
    get_termios(fd).is_ok()
}

/// The settings of terminal `fd`.
pub fn get_termios(fd: Fd) -> Result<Termios> {
    let mut t = blank_termios();
    // SAFETY: TCGETS writes one `struct termios` (the kernel's layout, which libc's matches on
    // x86_64) to a live, writable value.
    unsafe { syscall!(Sysno::ioctl, fd, libc::TCGETS, &mut t as *mut Termios) }
        .map_err(|e| fd_error("get terminal settings of", fd, e))?;
    Ok(t)
}

/// Applies `t` to terminal `fd` at once.
pub fn set_termios(fd: Fd, t: &Termios) -> Result<()> {
    // SAFETY: TCSETS reads one `struct termios` from a live value.
    unsafe { syscall!(Sysno::ioctl, fd, libc::TCSETS, t as *const Termios) }
        .map(drop)
        .map_err(|e| fd_error("set terminal settings of", fd, e))
}

/// The window size of terminal `fd`.
pub fn get_winsize(fd: Fd) -> Result<Winsize> {
    let mut ws = Winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one `struct winsize` to a live, writable value.
    unsafe { syscall!(Sysno::ioctl, fd, libc::TIOCGWINSZ, &mut ws as *mut Winsize) }
        .map_err(|e| fd_error("get window size of", fd, e))?;
    Ok(ws)
}

/// Sets the window size of terminal `fd`; the kernel signals SIGWINCH to its foreground group.
pub fn set_winsize(fd: Fd, ws: &Winsize) -> Result<()> {
    // SAFETY: TIOCSWINSZ reads one `struct winsize` from a live value.
    unsafe { syscall!(Sysno::ioctl, fd, libc::TIOCSWINSZ, ws as *const Winsize) }
        .map(drop)
        .map_err(|e| fd_error("set window size of", fd, e))
}

/// Unlocks the slave side of pty master `fd`, so that it can be opened.
pub fn unlock_pty(fd: Fd) -> Result<()> {
    let unlock: c_int = 0;
    // SAFETY: TIOCSPTLCK reads one int from a live value.
    unsafe { syscall!(Sysno::ioctl, fd, libc::TIOCSPTLCK, &unlock as *const c_int) }
        .map(drop)
        .map_err(|e| fd_error("unlock pty", fd, e))
}

/// The number N of the slave of pty master `fd`, which appears as /dev/pts/N.
pub fn pty_number(fd: Fd) -> Result<u32> {
    let mut n: u32 = 0;
    // SAFETY: TIOCGPTN writes one unsigned int to a live, writable value.
    unsafe { syscall!(Sysno::ioctl, fd, libc::TIOCGPTN, &mut n as *mut u32) }
        .map_err(|e| fd_error("get pty number of", fd, e))?;
    Ok(n)
}

/// Opens the slave of pty master `fd` through the master itself, so that no path lookup can be
/// raced or redirected.
pub fn open_pty_peer(fd: Fd) -> Result<Fd> {
    let flags = libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC;
    // SAFETY: TIOCGPTPEER takes integer open flags and touches no memory.
    unsafe { syscall!(Sysno::ioctl, fd, libc::TIOCGPTPEER, flags) }
        .map(|peer| peer as Fd)
        .map_err(|e| fd_error("open pty peer of", fd, e))
}

/// Makes terminal `fd` the controlling terminal of the caller, a session leader without one.
pub fn set_controlling_tty(fd: Fd) -> Result<()> {
    // SAFETY: TIOCSCTTY takes an integer argument and touches no memory.
    unsafe { syscall!(Sysno::ioctl, fd, libc::TIOCSCTTY, 0) }
        .map(drop)
        .map_err(|e| fd_error("set controlling terminal", fd, e))
}

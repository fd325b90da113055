//! The container's pseudo-terminal: created in its own devpts instance, its master handed to
//! orbital, its slave made the standard streams.

use orbital_rt::out::{Level, Line, Log};
use orbital_rt::sys;
use orbital_rt::wire::CONSOLE_FD;
use orbital_rt::Result;

/// Creates the pty, sends its master to orbital and puts its slave on fds 0, 1 and 2 of
/// orbital-init, whence the command inherits them.
///
/// orbital-init replaces its own standard streams too: until now they were the user's
/// terminal, and nothing in the container may keep a handle on that (a process holding it
/// could inject input with TIOCSTI, or read what the user types).
pub fn create(log: &Log) -> Result<()> {
    let master = sys::open(c"/dev/ptmx", libc::O_RDWR | libc::O_NOCTTY, 0)?;
    sys::unlock_pty(master)?;
    let number = sys::pty_number(master)?;
    let slave = sys::open_pty_peer(master)?;
    bind_console(number)?;

    sys::send_fd(CONSOLE_FD, master)?;
    sys::close(master)?;
    sys::close(CONSOLE_FD)?;
    for fd in [sys::STDIN, sys::STDOUT, sys::STDERR] {
        sys::dup_to(slave, fd)?;
    }
    sys::close(slave)?;
    log.say_number(Level::Debug, "console is /dev/pts/", number as i64);
    Ok(())
}

/// Makes /dev/console (a mount point the minimal /dev provides) the container's pty, as
/// programs that write to the console expect.
fn bind_console(number: u32) -> Result<()> {
    let mut path = Line::new();
    path.push("/dev/pts/").push_u64(number as u64);
    let pts = path.as_cstr().unwrap_or(c"/dev/pts/0");
    sys::mount(
        "bind console on",
        Some(pts),
        c"/dev/console",
        None,
        libc::MS_BIND,
        None,
    )
}

/// Makes the console the controlling terminal of the caller, a session leader, so that the
/// command has job control: the kernel also makes the caller's group the foreground group.
pub fn take_as_controlling_terminal() -> Result<()> {
    sys::set_controlling_tty(sys::STDIN)
}

//! The user's terminal and the container's pseudo-terminal.
//!
//! When the container gets a pty, orbital-init creates it in the container's own devpts
//! instance and hands the master to orbital over a socket. orbital puts the user's terminal in
//! raw mode, so that every key (Ctrl-C included) reaches the container's line discipline, and
//! relays bytes both ways until the container ends. The user's settings are restored whatever
//! the way out, by the guard's `Drop`.

use orbital_rt::out::Log;
use orbital_rt::sys::{self, Fd, Termios};
use orbital_rt::Result;

/// Bytes of input held for the container while its pty is full.
const INPUT_BUFFER_BYTES: usize = 16 * 1024;
/// Bytes read from the pty at a time.
const OUTPUT_CHUNK_BYTES: usize = 16 * 1024;
/// The end-of-file character sent when orbital's input ends (Ctrl-D, the default VEOF).
const END_OF_INPUT: u8 = 4;

/// The user's terminal in raw mode; its settings come back when this is dropped.
pub struct RawMode {
    saved: Termios,
}

impl RawMode {
    /// Puts stdin in raw mode if it is a terminal.
    pub fn enter() -> Result<Option<RawMode>> {
        if !sys::is_terminal(sys::STDIN) {
            return Ok(None);
        }
        let saved = sys::get_termios(sys::STDIN)?;
        sys::set_termios(sys::STDIN, &raw(&saved))?;
        Ok(Some(RawMode { saved }))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = sys::set_termios(sys::STDIN, &self.saved);
    }
}

/// `t` made raw, as cfmakeraw(3) does: no echo, no line editing, no signals from keys, no
/// output processing, 8-bit characters, reads return each byte as it comes.
pub fn raw(t: &Termios) -> Termios {
    let mut r = *t;
    r.c_iflag &= !(libc::IGNBRK
        | libc::BRKINT
        | libc::PARMRK
        | libc::ISTRIP
        | libc::INLCR
        | libc::IGNCR
        | libc::ICRNL
        | libc::IXON);
    r.c_oflag &= !libc::OPOST;
    r.c_lflag &= !(libc::ECHO | libc::ECHONL | libc::ICANON | libc::ISIG | libc::IEXTEN);
    r.c_cflag &= !(libc::CSIZE | libc::PARENB);
    r.c_cflag |= libc::CS8;
    r.c_cc[libc::VMIN] = 1;
    r.c_cc[libc::VTIME] = 0;
    r
}

/// Copies the user's window size to the container's pty; the kernel then sends SIGWINCH to the
/// pty's foreground process group. Nothing to copy when stdin is not a terminal.
pub fn copy_window_size(master: Fd) {
    if let Ok(ws) = sys::get_winsize(sys::STDIN) {
        let _ = sys::set_winsize(master, &ws);
    }
}

/// Relays bytes between orbital's stdin and stdout and the pty master.
pub struct Relay {
    /// The pty master, non-blocking.
    pub master: Fd,
    input: [u8; INPUT_BUFFER_BYTES],
    input_start: usize,
    input_end: usize,
    stdin_open: bool,
    stdout_open: bool,
    master_open: bool,
    send_eof: bool,
}

impl Relay {
    /// A relay for `master`.
    pub fn new(master: Fd) -> Result<Relay> {
        sys::set_nonblocking(master)?;
        copy_window_size(master);
        Ok(Relay {
            master,
            input: [0; INPUT_BUFFER_BYTES],
            input_start: 0,
            input_end: 0,
            stdin_open: true,
            stdout_open: true,
            master_open: true,
            send_eof: false,
        })
    }

    /// The two poll entries of the relay: stdin, and the master.
    pub fn poll_fds(&self) -> [libc::pollfd; 2] {
        let room = self.input_end < INPUT_BUFFER_BYTES;
        let pending = self.input_start < self.input_end || self.send_eof;
        let stdin = if self.stdin_open && room {
            sys::STDIN
        } else {
            -1
        };
        let mut master_events = libc::POLLIN;
        if pending {
            master_events |= libc::POLLOUT;
        }
        [
            libc::pollfd {
                fd: stdin,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: if self.master_open { self.master } else { -1 },
                events: master_events,
                revents: 0,
            },
        ]
    }

    /// Moves what the poll found ready.
    pub fn handle(&mut self, fds: &[libc::pollfd; 2], log: &Log) {
        if fds[0].revents != 0 {
            self.read_input();
        }
        if fds[1].revents & libc::POLLOUT != 0 {
            self.write_input();
        }
        if fds[1].revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0 {
            self.copy_output(log);
        }
    }

    fn read_input(&mut self) {
        if self.input_end == INPUT_BUFFER_BYTES {
            return;
        }
        match sys::read(sys::STDIN, &mut self.input[self.input_end..]) {
            Ok(0) | Err(_) => {
                // A pty has no end of file of its own: the line discipline's EOF character
                // tells the command that input ended.
                self.stdin_open = false;
                self.send_eof = true;
            }
            Ok(n) => self.input_end += n,
        }
    }

    fn write_input(&mut self) {
        if self.input_start < self.input_end {
            match sys::write(self.master, &self.input[self.input_start..self.input_end]) {
                Ok(n) => self.input_start += n,
                Err(err) if err.errno_value() == Some(libc::EAGAIN) => {}
                Err(_) => self.input_start = self.input_end,
            }
            // An emptied buffer starts over, so that stdin is read again: the poll set asks
            // for it only while there is room.
            if self.input_start == self.input_end {
                self.input_start = 0;
                self.input_end = 0;
            }
        } else if self.send_eof && sys::write(self.master, &[END_OF_INPUT]).is_ok() {
            self.send_eof = false;
        }
    }

    /// Copies what the command wrote to orbital's stdout. End of file, or EIO once every
    /// slave descriptor is closed, ends the output.
    fn copy_output(&mut self, log: &Log) {
        let mut chunk = [0u8; OUTPUT_CHUNK_BYTES];
        loop {
            match sys::read(self.master, &mut chunk) {
                Ok(0) => self.master_open = false,
                Ok(n) => {
                    // A closed stdout (a pipe whose reader left) drops the rest of the output,
                    // but the pty is still read so that the command never blocks on it.
                    if self.stdout_open && sys::write_all(sys::STDOUT, &chunk[..n]).is_err() {
                        log.debug("stdout closed: dropping the container's output");
                        self.stdout_open = false;
                    }
                    continue;
                }
                Err(err) if err.errno_value() == Some(libc::EAGAIN) => {}
                Err(_) => self.master_open = false,
            }
            return;
        }
    }

    /// Copies whatever the command wrote before the container ended.
    pub fn drain(&mut self, log: &Log) {
        if self.master_open {
            self.copy_output(log);
        }
        let _ = sys::close(self.master);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_mode_turns_off_echo_lines_signals_and_output_processing() {
        let mut t = sys::blank_termios();
        t.c_lflag = libc::ECHO | libc::ICANON | libc::ISIG | libc::IEXTEN;
        t.c_iflag = libc::ICRNL | libc::IXON;
        t.c_oflag = libc::OPOST;
        t.c_cflag = libc::PARENB | libc::CS7;
        let r = raw(&t);
        assert_eq!(
            r.c_lflag & (libc::ECHO | libc::ICANON | libc::ISIG | libc::IEXTEN),
            0
        );
        assert_eq!(r.c_iflag & (libc::ICRNL | libc::IXON), 0);
        assert_eq!(r.c_oflag & libc::OPOST, 0);
        assert_eq!(r.c_cflag & libc::CSIZE, libc::CS8);
        assert_eq!(r.c_cflag & libc::PARENB, 0);
        assert_eq!((r.c_cc[libc::VMIN], r.c_cc[libc::VTIME]), (1, 0));
    }
}

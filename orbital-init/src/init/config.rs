//! Receiving the configuration from `orbital`.

use alloc::vec;

use orbital_rt::sys;
use orbital_rt::wire::{self, Config, CONFIG_FD, HEADER_BYTES};
use orbital_rt::{Error, Result};

/// Reads and decodes the configuration on fd 3, then checks that `orbital` still lives.
pub fn receive() -> Result<Config> {
    let mut header = [0u8; HEADER_BYTES];
    read_exactly(&mut header)?;
    let len = wire::decode_header(&header)?;
    let mut body = vec![0u8; len];
    read_exactly(&mut body)?;
    let config = wire::decode_body(&body)?;
    check_orbital_alive()?;
    Ok(config)
}

fn read_exactly(buf: &mut [u8]) -> Result<()> {
    if sys::read_full(CONFIG_FD, buf)? != buf.len() {
        return Err(Error::refused(
            "read configuration",
            b"",
            "orbital closed the pipe early",
        ));
    }
    Ok(())
}

/// orbital holds the write end open for the container's whole life: a hang-up means orbital
/// died, possibly before the child could ask for a parent-death signal.
pub fn check_orbital_alive() -> Result<()> {
    let mut fds = [libc::pollfd {
        fd: CONFIG_FD,
        events: 0,
        revents: 0,
    }];
    sys::poll(&mut fds, 0)?;
    if fds[0].revents & (libc::POLLHUP | libc::POLLERR) != 0 {
        return Err(Error::refused("start", b"", "orbital is gone"));
    }
    Ok(())
}

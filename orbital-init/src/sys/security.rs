//! Privileges: capabilities (capabilities(7)), the seccomp filter (seccomp(2)), resource limits
//! and user and group ids.

use syscalls::{syscall, Sysno};

use super::plain_error;
use crate::{Error, Result};

/// The three capability sets of a process, one bit per capability number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Capabilities {
    /// What the process may use now.
    pub effective: u64,
    /// What the process may make effective.
    pub permitted: u64,
    /// What may pass to a program executed with matching file capabilities.
    pub inheritable: u64,
}

/// `_LINUX_CAPABILITY_VERSION_3`: 64-bit sets in two 32-bit halves.
const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Sets the caller's capability sets.
pub fn capset(caps: Capabilities) -> Result<()> {
    let header = CapHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let half = |bits: u64, high: bool| {
        if high {
            (bits >> 32) as u32
        } else {
            bits as u32
        }
    };
    let data = [false, true].map(|high| CapData {
        effective: half(caps.effective, high),
        permitted: half(caps.permitted, high),
        inheritable: half(caps.inheritable, high),
    });
    // SAFETY: the header and the two data records are live and laid out as capset(2) reads
    // them for version 3.
    unsafe { syscall!(Sysno::capset, &header as *const CapHeader, data.as_ptr()) }
        .map(drop)
        .map_err(|e| plain_error("capset", e))
}

/// The caller's capability sets.
pub fn capget() -> Result<Capabilities> {
    let header = CapHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: capget(2) reads the header and writes two version-3 records into a live array.
    unsafe {
        syscall!(
            Sysno::capget,
            &header as *const CapHeader,
            data.as_mut_ptr()
        )
    }
    .map_err(|e| plain_error("capget", e))?;
    let join = |low: u32, high: u32| low as u64 | (high as u64) << 32;
    Ok(Capabilities {
        effective: join(data[0].effective, data[1].effective),
        permitted: join(data[0].permitted, data[1].permitted),
        inheritable: join(data[0].inheritable, data[1].inheritable),
    })
}

/// One instruction of a classic BPF program, as the kernel's `struct sock_filter`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SockFilter {
    /// Operation.
    pub code: u16,
    /// Instructions to skip when the test holds.
    pub jt: u8,
    /// Instructions to skip when it does not.
    pub jf: u8,
    /// Operand.
    pub k: u32,
}

#[repr(C)]
struct SockFprog {
    len: u16,
    filter: *const SockFilter,
}

/// Installs `program` as a seccomp filter on the calling thread and every child to come. Needs
/// no_new_privs, or CAP_SYS_ADMIN.
pub fn install_seccomp(program: &[SockFilter]) -> Result<()> {
    let len = u16::try_from(program.len())
        .map_err(|_| Error::refused("seccomp", b"filter", "longer than the kernel accepts"))?;
    let prog = SockFprog {
        len,
        filter: program.as_ptr(),
    };
    // SAFETY: `prog` points at `program`, live for the call; the kernel copies the program.
    unsafe {
        syscall!(
            Sysno::seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0,
            &prog as *const SockFprog
        )
    }
    .map(drop)
    .map_err(|e| plain_error("seccomp", e))
}

/// Sets both limits of `resource` for the caller.
pub fn set_rlimit(resource: u32, soft: u64, hard: u64) -> Result<()> {
    let limit = [soft, hard];
    // SAFETY: prlimit64 reads one `struct rlimit64` (two u64) from a live array; the old-limit
    // pointer is null.
    unsafe { syscall!(Sysno::prlimit64, 0, resource, limit.as_ptr(), 0) }
        .map(drop)
        .map_err(|e| plain_error("setrlimit", e))
}

/// The soft and hard limits of `resource` for the caller.
pub fn get_rlimit(resource: u32) -> Result<(u64, u64)> {
    let mut limit = [0u64; 2];
    // SAFETY: prlimit64 writes one `struct rlimit64` (two u64) into a live array; the new-limit
    // pointer is null, so nothing changes.
    unsafe { syscall!(Sysno::prlimit64, 0, resource, 0, limit.as_mut_ptr()) }
        .map_err(|e| plain_error("getrlimit", e))?;
    Ok((limit[0], limit[1]))
}

/// Replaces the caller's supplementary groups.
pub fn setgroups(groups: &[u32]) -> Result<()> {
    // SAFETY: the kernel reads `groups.len()` gids from a live slice.
    unsafe { syscall!(Sysno::setgroups, groups.len(), groups.as_ptr()) }
        .map(drop)
        .map_err(|e| plain_error("setgroups", e))
}

/// Sets the real, effective and saved group ids to `gid`.
pub fn setresgid(gid: u32) -> Result<()> {
    // SAFETY: setresgid touches no memory.
    unsafe { syscall!(Sysno::setresgid, gid, gid, gid) }
        .map(drop)
        .map_err(|e| plain_error("setgid", e))
}

/// Sets the real, effective and saved user ids to `uid`.
pub fn setresuid(uid: u32) -> Result<()> {
    // SAFETY: setresuid touches no memory.
    unsafe { syscall!(Sysno::setresuid, uid, uid, uid) }
        .map(drop)
        .map_err(|e| plain_error("setuid", e))
}

//! The configuration of a container, and the binary format that carries it from `orbital` to
//! `orbital-init` down a pipe.
//!
//! Layout, all integers little-endian:
//!
//! ```text
//! header  "ORBC"  u16 version  u16 reserved (0)  u32 body length
//! body    u32 flags  u8 log level
//!         str rootfs  str hostname  str workdir
//!         u32 argc  str * argc
//!         u32 envc  str * envc
//!         str user  u64 capabilities
//!         u32 mount count  mount * count
//!         u32 rlimit count  (u32 resource  u64 soft  u64 hard) * count
//! str     u32 length, then that many bytes, no NUL among them
//! mount   u8 kind (1 bind, 2 tmpfs)  u8 read-only (0 or 1)  str source  str target  str options
//! ```
//!
//! Every length has a hard limit, checked before anything is allocated, and the decoder turns
//! every malformed input into an error: PID 1 must never panic on what comes down the pipe.

use alloc::ffi::CString;
use alloc::vec::Vec;

use crate::{Error, Result};

/// First bytes of every message.
pub const MAGIC: [u8; 4] = *b"ORBC";
/// The version this build speaks; a peer with another version is refused.
pub const VERSION: u16 = 1;
/// Bytes in the fixed header.
pub const HEADER_BYTES: usize = 12;
/// Largest body accepted, the kernel's default limit on arguments plus environment (ARG_MAX).
pub const BODY_MAX_BYTES: usize = 2 * 1024 * 1024;
/// Longest path (PATH_MAX, with its NUL).
pub const PATH_MAX_BYTES: usize = 4096;
/// Longest hostname the kernel accepts (HOST_NAME_MAX).
pub const HOSTNAME_MAX_BYTES: usize = 64;
/// Longest single argument or environment entry (the kernel's MAX_ARG_STRLEN).
pub const STRING_MAX_BYTES: usize = 128 * 1024;
/// Most arguments, and most environment entries.
pub const LIST_MAX_ENTRIES: usize = 65536;
/// Most volumes and tmpfs mounts.
pub const MOUNTS_MAX: usize = 256;
/// Most resource limits (there are 16 resources).
pub const RLIMITS_MAX: usize = 16;
/// Longest user specification, `user[:group]`.
pub const USER_MAX_BYTES: usize = 256;

/// Descriptor on which orbital-init finds the configuration. `orbital` keeps the write end open
/// until the container ends, so end of file there also tells orbital-init that orbital died.
pub const CONFIG_FD: i32 = 3;
/// Descriptor on which orbital-init and the command's process send a failure report.
pub const REPORT_FD: i32 = 4;

/// Descriptor of the socket on which orbital-init sends the pty master, in pty mode only.
pub const CONSOLE_FD: i32 = 5;

/// Flag: orbital-init does the setup, then becomes the command (no init process stays).
pub const FLAG_NO_INIT: u32 = 1;
/// Flag: the command gets a new pseudo-terminal, whose master orbital-init sends on
/// [`CONSOLE_FD`].
pub const FLAG_TTY: u32 = 2;
/// Flag: the rootfs is mounted read-only inside the container.
pub const FLAG_READ_ONLY: u32 = 4;
/// Flag: the container has its own network namespace, whose loopback orbital-init brings up.
pub const FLAG_NET_NONE: u32 = 8;
/// Flag: no seccomp filter.
pub const FLAG_SECCOMP_OFF: u32 = 16;
/// Every flag this version knows.
const FLAGS_KNOWN: u32 =
    FLAG_NO_INIT | FLAG_TTY | FLAG_READ_ONLY | FLAG_NET_NONE | FLAG_SECCOMP_OFF;

/// What a [`Mount`] mounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MountKind {
    /// A host path bound into the container.
    Bind = 1,
    /// A fresh tmpfs.
    Tmpfs = 2,
}

/// A volume or tmpfs mount inside the container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    /// Bind or tmpfs.
    pub kind: MountKind,
    /// Whether the container sees it read-only.
    pub read_only: bool,
    /// Host path for a bind mount; empty for tmpfs.
    pub source: CString,
    /// Absolute path inside the container.
    pub target: CString,
    /// tmpfs options (`size=...,mode=...`); empty for a bind mount.
    pub options: CString,
}

/// A resource limit to set before the command starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rlimit {
    /// The RLIMIT_* number.
    pub resource: u32,
    /// Soft limit; `u64::MAX` for unlimited.
    pub soft: u64,
    /// Hard limit; `u64::MAX` for unlimited.
    pub hard: u64,
}

/// What `orbital-init` needs to set up and start the container.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Config {
    /// `FLAG_*` bits.
    pub flags: u32,
    /// How much orbital-init says: a [`crate::out::Level`] value.
    pub log_level: u8,
    /// The root filesystem, as a host path.
    pub rootfs: CString,
    /// The container's hostname.
    pub hostname: CString,
    /// The working directory inside the container, absolute.
    pub workdir: CString,
    /// The command and its arguments; never empty.
    pub argv: Vec<CString>,
    /// The environment, `NAME=value` entries.
    pub env: Vec<CString>,
    /// `user[:group]`, names or numbers, resolved inside the container; empty for root.
    pub user: CString,
    /// The capability set of the command, one bit per capability number.
    pub capabilities: u64,
    /// Volumes and tmpfs mounts, in order.
    pub mounts: Vec<Mount>,
    /// Resource limits.
    pub rlimits: Vec<Rlimit>,
}

fn refused(field: &'static str, why: &'static str) -> Error {
    Error::refused("configuration", field.as_bytes(), why)
}

fn check_len(field: &'static str, len: usize, max: usize) -> Result<()> {
    if len > max {
        return Err(refused(field, "longer than the limit"));
    }
    Ok(())
}

/// Serialises `config`, refusing values over the limits.
pub fn encode(config: &Config) -> Result<Vec<u8>> {
    if config.argv.is_empty() {
        return Err(refused("argv", "empty"));
    }
    check_len("argv", config.argv.len(), LIST_MAX_ENTRIES)?;
    check_len("env", config.env.len(), LIST_MAX_ENTRIES)?;
    let mut out = Vec::new();
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&config.flags.to_le_bytes());
    out.push(config.log_level);
    put_str(&mut out, "rootfs", &config.rootfs, PATH_MAX_BYTES)?;
    put_str(&mut out, "hostname", &config.hostname, HOSTNAME_MAX_BYTES)?;
    put_str(&mut out, "workdir", &config.workdir, PATH_MAX_BYTES)?;
    put_list(&mut out, "argv", &config.argv)?;
    put_list(&mut out, "env", &config.env)?;
    put_str(&mut out, "user", &config.user, USER_MAX_BYTES)?;
    out.extend_from_slice(&config.capabilities.to_le_bytes());
    check_len("mounts", config.mounts.len(), MOUNTS_MAX)?;
    out.extend_from_slice(&(config.mounts.len() as u32).to_le_bytes());
    for mount in &config.mounts {
        out.push(mount.kind as u8);
        out.push(mount.read_only as u8);
        put_str(&mut out, "mount source", &mount.source, PATH_MAX_BYTES)?;
        put_str(&mut out, "mount target", &mount.target, PATH_MAX_BYTES)?;
        put_str(&mut out, "mount options", &mount.options, PATH_MAX_BYTES)?;
    }
    check_len("rlimits", config.rlimits.len(), RLIMITS_MAX)?;
    out.extend_from_slice(&(config.rlimits.len() as u32).to_le_bytes());
    for limit in &config.rlimits {
        out.extend_from_slice(&limit.resource.to_le_bytes());
        out.extend_from_slice(&limit.soft.to_le_bytes());
        out.extend_from_slice(&limit.hard.to_le_bytes());
    }
    let body_len = out.len() - HEADER_BYTES;
    check_len("body", body_len, BODY_MAX_BYTES)?;
    out[8..12].copy_from_slice(&(body_len as u32).to_le_bytes());
    Ok(out)
}

fn put_str(out: &mut Vec<u8>, field: &'static str, value: &CString, max: usize) -> Result<()> {
    let bytes = value.as_bytes();
    check_len(field, bytes.len(), max)?;
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

fn put_list(out: &mut Vec<u8>, field: &'static str, list: &[CString]) -> Result<()> {
    out.extend_from_slice(&(list.len() as u32).to_le_bytes());
    for entry in list {
        put_str(out, field, entry, STRING_MAX_BYTES)?;
    }
    Ok(())
}

/// Checks a header and returns the length of the body that follows.
pub fn decode_header(header: &[u8; HEADER_BYTES]) -> Result<usize> {
    if header[..4] != MAGIC {
        return Err(refused("header", "not an orbital configuration"));
    }
    if u16::from_le_bytes([header[4], header[5]]) != VERSION {
        return Err(refused("header", "version differs from orbital's"));
    }
    if header[6..8] != [0, 0] {
        return Err(refused("header", "reserved bytes set"));
    }
    let len = u32::from_le_bytes([header[8], header[9], header[10], header[11]]) as usize;
    check_len("body", len, BODY_MAX_BYTES)?;
    Ok(len)
}

/// Parses a body whose header [`decode_header`] accepted.
pub fn decode_body(body: &[u8]) -> Result<Config> {
    let mut reader = Reader { rest: body };
    let flags = reader.u32("flags")?;
    if flags & !FLAGS_KNOWN != 0 {
        return Err(refused("flags", "unknown flag set"));
    }
    let log_level = reader.u8("log level")?;
    let rootfs = reader.string("rootfs", PATH_MAX_BYTES)?;
    let hostname = reader.string("hostname", HOSTNAME_MAX_BYTES)?;
    let workdir = reader.string("workdir", PATH_MAX_BYTES)?;
    let argv = reader.list("argv")?;
    if argv.is_empty() {
        return Err(refused("argv", "empty"));
    }
    let env = reader.list("env")?;
    let user = reader.string("user", USER_MAX_BYTES)?;
    let capabilities = reader.u64("capabilities")?;
    let mounts = reader.mounts()?;
    let rlimits = reader.rlimits()?;
    if !reader.rest.is_empty() {
        return Err(refused("body", "trailing bytes"));
    }
    Ok(Config {
        flags,
        log_level,
        rootfs,
        hostname,
        workdir,
        argv,
        env,
        user,
        capabilities,
        mounts,
        rlimits,
    })
}

/// Parses a whole message, header and body.
pub fn decode(message: &[u8]) -> Result<Config> {
    let header: &[u8; HEADER_BYTES] = message
        .get(..HEADER_BYTES)
        .and_then(|h| h.try_into().ok())
        .ok_or_else(|| refused("header", "truncated"))?;
    let len = decode_header(header)?;
    let body = &message[HEADER_BYTES..];
    if body.len() != len {
        return Err(refused("body", "length does not match the header"));
    }
    decode_body(body)
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, field: &'static str, n: usize) -> Result<&'a [u8]> {
        if n > self.rest.len() {
            return Err(refused(field, "truncated"));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn u8(&mut self, field: &'static str) -> Result<u8> {
        Ok(self.take(field, 1)?[0])
    }

    fn u32(&mut self, field: &'static str) -> Result<u32> {
        let b = self.take(field, 4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self, field: &'static str) -> Result<u64> {
        let b = self.take(field, 8)?;
        Ok(u64::from_le_bytes([
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
        ]))
    }

    fn mounts(&mut self) -> Result<Vec<Mount>> {
        let count = self.u32("mounts")? as usize;
        check_len("mounts", count, MOUNTS_MAX)?;
        let mut mounts = Vec::new();
        for _ in 0..count {
            let kind = match self.u8("mount kind")? {
                1 => MountKind::Bind,
                2 => MountKind::Tmpfs,
                _ => return Err(refused("mount kind", "unknown")),
            };
            let read_only = match self.u8("mount read-only")? {
                0 => false,
                1 => true,
                _ => return Err(refused("mount read-only", "not 0 or 1")),
            };
            let source = self.string("mount source", PATH_MAX_BYTES)?;
            let target = self.string("mount target", PATH_MAX_BYTES)?;
            let options = self.string("mount options", PATH_MAX_BYTES)?;
            mounts.push(Mount {
                kind,
                read_only,
                source,
                target,
                options,
            });
        }
        Ok(mounts)
    }

    fn rlimits(&mut self) -> Result<Vec<Rlimit>> {
        let count = self.u32("rlimits")? as usize;
        check_len("rlimits", count, RLIMITS_MAX)?;
        let mut rlimits = Vec::new();
        for _ in 0..count {
            let resource = self.u32("rlimit resource")?;
            let soft = self.u64("rlimit soft")?;
            let hard = self.u64("rlimit hard")?;
            rlimits.push(Rlimit {
                resource,
                soft,
                hard,
            });
        }
        Ok(rlimits)
    }

    fn string(&mut self, field: &'static str, max: usize) -> Result<CString> {
        let len = self.u32(field)? as usize;
        check_len(field, len, max)?;
        let bytes = self.take(field, len)?;
        CString::new(bytes).map_err(|_| refused(field, "contains a NUL byte"))
    }

    fn list(&mut self, field: &'static str) -> Result<Vec<CString>> {
        let count = self.u32(field)? as usize;
        check_len(field, count, LIST_MAX_ENTRIES)?;
        // Each entry takes at least its 4-byte length: a count the remaining bytes cannot hold
        // is refused before any memory is reserved for it.
        if count > self.rest.len() / 4 {
            return Err(refused(field, "truncated"));
        }
        let mut list = Vec::with_capacity(count);
        for _ in 0..count {
            list.push(self.string(field, STRING_MAX_BYTES)?);
        }
        Ok(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cs(s: &str) -> CString {
        CString::new(s).unwrap()
    }

    fn sample() -> Config {
        Config {
            flags: FLAG_NO_INIT,
            log_level: 1,
            rootfs: cs("/tmp/orbital-rootfs"),
            hostname: cs("orbital-container"),
            workdir: cs("/"),
            argv: vec![cs("/bin/sh"), cs("-c"), cs("echo hi")],
            env: vec![cs("PATH=/bin"), cs("A=")],
            user: cs("1000:1000"),
            capabilities: 0x8000_0000_0000_0001,
            mounts: vec![
                Mount {
                    kind: MountKind::Bind,
                    read_only: true,
                    source: cs("/srv/data"),
                    target: cs("/data"),
                    options: cs(""),
                },
                Mount {
                    kind: MountKind::Tmpfs,
                    read_only: false,
                    source: cs(""),
                    target: cs("/tmp"),
                    options: cs("size=1m"),
                },
            ],
            rlimits: vec![Rlimit {
                resource: 7,
                soft: 1024,
                hard: u64::MAX,
            }],
        }
    }

    fn why(err: Error) -> &'static str {
        match err.cause {
            crate::error::Cause::Refused(why) => why,
            crate::error::Cause::Errno(_) => panic!("unexpected errno"),
        }
    }

    #[test]
    fn round_trip_keeps_every_field() {
        let config = sample();
        assert_eq!(decode(&encode(&config).unwrap()).unwrap(), config);
    }

    #[test]
    fn round_trip_of_empty_strings_and_env() {
        let config = Config {
            argv: vec![cs("x")],
            ..Config::default()
        };
        assert_eq!(decode(&encode(&config).unwrap()).unwrap(), config);
    }

    #[test]
    fn every_truncation_is_an_error() {
        let message = encode(&sample()).unwrap();
        for len in 0..message.len() {
            assert!(
                decode(&message[..len]).is_err(),
                "truncated to {len} bytes was accepted"
            );
        }
    }

    #[test]
    fn every_truncated_body_with_a_fixed_header_is_an_error() {
        let message = encode(&sample()).unwrap();
        let body = &message[HEADER_BYTES..];
        for len in 0..body.len() {
            assert!(
                decode_body(&body[..len]).is_err(),
                "body cut to {len} bytes was accepted"
            );
        }
    }

    #[test]
    fn trailing_bytes_are_refused() {
        let message = encode(&sample()).unwrap();
        let mut body = message[HEADER_BYTES..].to_vec();
        body.push(0);
        assert_eq!(why(decode_body(&body).unwrap_err()), "trailing bytes");
    }

    #[test]
    fn oversize_body_length_is_refused_from_the_header() {
        let mut message = encode(&sample()).unwrap();
        message[8..12].copy_from_slice(&(BODY_MAX_BYTES as u32 + 1).to_le_bytes());
        let header: [u8; HEADER_BYTES] = message[..HEADER_BYTES].try_into().unwrap();
        assert_eq!(
            why(decode_header(&header).unwrap_err()),
            "longer than the limit"
        );
    }

    #[test]
    fn oversize_string_length_is_refused_before_reading() {
        let mut body = Vec::new();
        body.extend_from_slice(&0u32.to_le_bytes());
        body.push(0);
        body.extend_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            why(decode_body(&body).unwrap_err()),
            "longer than the limit"
        );
    }

    #[test]
    fn oversize_hostname_is_refused_both_ways() {
        let config = Config {
            hostname: cs(&"h".repeat(65)),
            ..sample()
        };
        assert!(encode(&config).is_err());
        let mut body = Vec::new();
        body.extend_from_slice(&0u32.to_le_bytes());
        body.push(0);
        body.extend_from_slice(&1u32.to_le_bytes());
        body.push(b'/');
        body.extend_from_slice(&65u32.to_le_bytes());
        body.extend_from_slice(&[b'h'; 65]);
        assert_eq!(
            why(decode_body(&body).unwrap_err()),
            "longer than the limit"
        );
    }

    #[test]
    fn huge_list_count_is_refused_without_allocating() {
        let config = Config {
            argv: vec![cs("x")],
            ..Config::default()
        };
        let message = encode(&config).unwrap();
        let mut body = message[HEADER_BYTES..].to_vec();
        // argc sits after flags (4), log level (1) and three empty strings (3 * 4).
        body[17..21].copy_from_slice(&60000u32.to_le_bytes());
        assert_eq!(why(decode_body(&body).unwrap_err()), "truncated");
        body[17..21].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            why(decode_body(&body).unwrap_err()),
            "longer than the limit"
        );
    }

    #[test]
    fn nul_inside_a_string_is_refused() {
        let config = Config {
            argv: vec![cs("ab")],
            ..Config::default()
        };
        let mut message = encode(&config).unwrap();
        let at = find(&message, b"ab");
        message[at + 1] = 0;
        assert_eq!(why(decode(&message).unwrap_err()), "contains a NUL byte");
    }

    fn find(haystack: &[u8], needle: &[u8]) -> usize {
        haystack
            .windows(needle.len())
            .position(|w| w == needle)
            .unwrap()
    }

    #[test]
    fn bad_magic_version_and_flags_are_refused() {
        let good = encode(&sample()).unwrap();
        let mut bad = good.clone();
        bad[0] = b'X';
        assert!(decode(&bad).is_err());
        let mut bad = good.clone();
        bad[4] = 9;
        assert!(decode(&bad).is_err());
        let mut bad = good.clone();
        bad[HEADER_BYTES] = 0x80;
        assert_eq!(why(decode(&bad).unwrap_err()), "unknown flag set");
    }

    #[test]
    fn unknown_mount_kinds_and_too_many_mounts_are_refused() {
        let config = Config {
            argv: vec![cs("x")],
            ..sample()
        };
        let message = encode(&config).unwrap();
        // The first mount's kind and read-only byte come just before its source's length.
        let at = find(&message, b"/srv/data") - 4 - 2;
        assert_eq!(message[at], MountKind::Bind as u8);
        let mut bad = message.clone();
        bad[at] = 9;
        assert_eq!(why(decode(&bad).unwrap_err()), "unknown");
        let mut bad = message.clone();
        bad[at + 1] = 2;
        assert_eq!(why(decode(&bad).unwrap_err()), "not 0 or 1");
        let mut bad = message;
        bad[at - 4..at].copy_from_slice(&(MOUNTS_MAX as u32 + 1).to_le_bytes());
        assert_eq!(why(decode(&bad).unwrap_err()), "longer than the limit");
    }

    #[test]
    fn empty_argv_is_refused_both_ways() {
        let config = Config {
            argv: vec![],
            ..sample()
        };
        assert!(encode(&config).is_err());
    }
}

//! What the command, and orbital-init itself, may do once the container runs: the user, the
//! capability sets, no_new_privs, the seccomp filter and resource limits.

use alloc::vec::Vec;

use orbital_rt::out::parse_decimal;
use orbital_rt::sys::{self, Capabilities};
use orbital_rt::wire::{Config, FLAG_SECCOMP_OFF};
use orbital_rt::{caps, seccomp, Error, Result};

/// Largest /etc/passwd or /etc/group read.
const ACCOUNT_FILE_MAX_BYTES: usize = 1024 * 1024;
/// Highest capability number the bounding set can hold.
const CAP_NUMBER_MAX: u32 = 63;

/// The identity the command runs as.
pub struct User {
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Supplementary groups.
    pub groups: Vec<u32>,
}

/// Sets the resource limits, for orbital-init and so for everything it starts.
pub fn set_rlimits(config: &Config) -> Result<()> {
    for limit in &config.rlimits {
        sys::set_rlimit(limit.resource, limit.soft, limit.hard)?;
    }
    Ok(())
}

/// Resolves `user[:group]` against the container's own /etc/passwd and /etc/group, as `docker
/// run -u` does: names must exist there, numbers need not.
pub fn resolve_user(spec: &[u8]) -> Result<Option<User>> {
    if spec.is_empty() {
        return Ok(None);
    }
    let (user, group) = match spec.iter().position(|&b| b == b':') {
        Some(colon) => (&spec[..colon], Some(&spec[colon + 1..])),
        None => (spec, None),
    };
    let passwd = read_account_file(c"/etc/passwd")?;
    let groups_file = read_account_file(c"/etc/group")?;

    // passwd: name:password:uid:gid:gecos:home:shell
    let entry = passwd.split(|&b| b == b'\n').map(fields).find(|f| {
        f.len() >= 4 && (f[0] == user || (number(user).is_some() && number(f[2]) == number(user)))
    });
    let (uid, mut gid, name) = match (number(user), entry) {
        (_, Some(f)) => (number(f[2]).unwrap_or(0), number(f[3]).unwrap_or(0), f[0]),
        (Some(uid), None) => (uid, 0, &b""[..]),
        (None, None) => {
            return Err(Error::refused(
                "--user",
                user,
                "not found in the container's /etc/passwd",
            ))
        }
    };
    if let Some(group) = group {
        gid = match number(group) {
            Some(gid) => gid,
            None => groups_file
                .split(|&b| b == b'\n')
                .map(fields)
                .find(|f| f.len() >= 3 && f[0] == group)
                .and_then(|f| number(f[2]))
                .ok_or(Error::refused(
                    "--user",
                    group,
                    "group not found in the container's /etc/group",
                ))?,
        };
    }

    // group: name:password:gid:member,member
    let mut groups = alloc::vec![gid];
    if !name.is_empty() {
        for f in groups_file.split(|&b| b == b'\n').map(fields) {
            let member = f.len() >= 4 && f[3].split(|&b| b == b',').any(|m| m == name);
            if let (true, Some(g)) = (member, f.get(2).and_then(|g| number(g))) {
                if !groups.contains(&g) {
                    groups.push(g);
                }
            }
        }
    }
    Ok(Some(User { uid, gid, groups }))
}

fn fields(line: &[u8]) -> Vec<&[u8]> {
    line.split(|&b| b == b':').collect()
}

fn number(text: &[u8]) -> Option<u32> {
    parse_decimal(text).and_then(|n| u32::try_from(n).ok())
}

/// A missing file reads as empty: a rootfs without /etc/passwd still runs numeric users.
fn read_account_file(path: &core::ffi::CStr) -> Result<Vec<u8>> {
    match sys::read_file(path, ACCOUNT_FILE_MAX_BYTES) {
        Err(err) if err.errno_value() == Some(libc::ENOENT) => Ok(Vec::new()),
        other => other,
    }
}

/// Takes on the command's identity and privileges; the last step before its exec.
///
/// The order matters: the bounding set is cut while still root with every capability (the cut
/// needs CAP_SETPCAP); the ids change while CAP_SETUID and CAP_SETGID are still effective; a
/// non-root uid then loses its permitted set, as the kernel does for any setuid away from 0.
/// The inheritable set stays empty, so no program can pick capabilities up through file
/// capabilities; no_new_privs keeps setuid binaries from raising privilege; the seccomp filter
/// comes last because it forbids nothing the steps above need, but they must not depend on that.
pub fn become_command(config: &Config, user: Option<&User>) -> Result<()> {
    limit_bounding_set(config.capabilities)?;
    let mut set = config.capabilities;
    if let Some(user) = user {
        sys::setgroups(&user.groups)?;
        sys::setresgid(user.gid)?;
        sys::setresuid(user.uid)?;
        if user.uid != 0 {
            set = 0;
        }
    }
    sys::capset(Capabilities {
        effective: set,
        permitted: set,
        inheritable: 0,
    })?;
    confine(config)
}

/// Drops orbital-init to what forwarding signals needs, once the command runs: CAP_KILL, so
/// that it can signal a command of another uid, and nothing else. It also becomes
/// non-dumpable, so that the command cannot ptrace it or open its /proc files.
pub fn confine_init(config: &Config) -> Result<()> {
    limit_bounding_set(caps::KILL)?;
    sys::capset(Capabilities {
        effective: caps::KILL,
        permitted: caps::KILL,
        inheritable: 0,
    })?;
    sys::prctl("prctl PR_SET_DUMPABLE", libc::PR_SET_DUMPABLE, 0, 0)?;
    confine(config)
}

fn limit_bounding_set(keep: u64) -> Result<()> {
    for cap in 0..=CAP_NUMBER_MAX {
        if keep & caps::bit(cap) != 0 {
            continue;
        }
        match sys::prctl(
            "prctl PR_CAPBSET_DROP",
            libc::PR_CAPBSET_DROP,
            cap as usize,
            0,
        ) {
            // Numbers past the kernel's last capability do not exist to drop.
            Err(err) if err.errno_value() == Some(libc::EINVAL) => break,
            other => other?,
        }
    }
    Ok(())
}

/// Clears the ambient set, sets no_new_privs and installs the seccomp filter.
fn confine(config: &Config) -> Result<()> {
    let clear = libc::PR_CAP_AMBIENT_CLEAR_ALL as usize;
    sys::prctl("prctl PR_CAP_AMBIENT", libc::PR_CAP_AMBIENT, clear, 0)?;
    sys::prctl("prctl PR_SET_NO_NEW_PRIVS", libc::PR_SET_NO_NEW_PRIVS, 1, 0)?;
    if config.flags & FLAG_SECCOMP_OFF == 0 {
        sys::install_seccomp(&seccomp::DEFAULT_FILTER)?;
    }
    Ok(())
}

//! Parsers for the values of `orbital run` options that say more than a word: volumes, tmpfs
//! mounts, resource limits and capability changes. Each returns an error naming the option and
//! the value.

use alloc::vec::Vec;

use orbital_rt::out::parse_decimal;
use orbital_rt::{caps, Error, Result};

/// A volume or tmpfs mount, as given.
#[derive(Debug, PartialEq, Eq, Clone)]
pub enum MountSpec {
    /// `-v HOST:CONTAINER[:ro|rw]`.
    Volume {
        /// Absolute host path.
        source: Vec<u8>,
        /// Absolute path inside.
        target: Vec<u8>,
        /// `:ro`.
        read_only: bool,
    },
    /// `--tmpfs PATH[:OPTIONS]`.
    Tmpfs {
        /// Absolute path inside.
        target: Vec<u8>,
        /// The tmpfs options to pass on, checked: `size=...`, `mode=...`.
        options: Vec<u8>,
        /// `ro` among the options.
        read_only: bool,
    },
}

/// A resource limit, as `--ulimit NAME=SOFT[:HARD]` gives it.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub struct Ulimit {
    /// The RLIMIT_* number.
    pub resource: u32,
    /// Soft limit; `u64::MAX` for unlimited.
    pub soft: u64,
    /// Hard limit; `u64::MAX` for unlimited.
    pub hard: u64,
}

/// What `--memory`, `--pids-limit` and friends ask for; `None` leaves a resource alone.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of memory.
    pub memory: Option<u64>,
    /// Bytes of memory plus swap; `u64::MAX` for unlimited swap.
    pub memory_swap: Option<u64>,
    /// Most processes (and threads).
    pub pids: Option<u64>,
    /// CPU time in thousandths of a CPU.
    pub cpus_milli: Option<u64>,
    /// v1 CPU shares, 2 to 262144.
    pub cpu_shares: Option<u64>,
    /// v2 CPU weight, 1 to 10000.
    pub cpu_weight: Option<u64>,
    /// Where the container's cgroup goes, relative to orbital's own cgroup, or absolute from
    /// the hierarchy's root.
    pub parent: Option<Vec<u8>>,
}

impl Limits {
    /// Whether any limit is asked for: without one, no cgroup is made.
    pub fn any(&self) -> bool {
        self.memory.is_some()
            || self.memory_swap.is_some()
            || self.pids.is_some()
            || self.cpus_milli.is_some()
            || self.cpu_shares.is_some()
            || self.cpu_weight.is_some()
    }
}

/// Resource names `--ulimit` accepts, as `docker run` and ulimit(1) call them.
pub const ULIMIT_NAMES: &[(&str, u32)] = &[
    ("cpu", 0),
    ("fsize", 1),
    ("data", 2),
    ("stack", 3),
    ("core", 4),
    ("rss", 5),
    ("nproc", 6),
    ("nofile", 7),
    ("memlock", 8),
    ("as", 9),
    ("locks", 10),
    ("sigpending", 11),
    ("msgqueue", 12),
    ("nice", 13),
    ("rtprio", 14),
    ("rttime", 15),
];

fn bad(option: &'static str, value: &[u8], why: &'static str) -> Error {
    Error::refused(option, value, why)
}

fn absolute(option: &'static str, value: &[u8], path: &[u8]) -> Result<()> {
    if !path.starts_with(b"/") {
        return Err(bad(option, value, "paths must be absolute"));
    }
    if path.split(|&b| b == b'/').any(|part| part == b"..") {
        return Err(bad(option, value, "paths must not contain '..'"));
    }
    Ok(())
}

/// Parses `-v HOST:CONTAINER[:ro|rw]`.
pub fn volume(value: &[u8]) -> Result<MountSpec> {
    let parts: Vec<&[u8]> = value.split(|&b| b == b':').collect();
    let (source, target, mode) = match parts[..] {
        [source, target] => (source, target, &b"rw"[..]),
        [source, target, mode] => (source, target, mode),
        _ => return Err(bad("--volume", value, "expected HOST:CONTAINER[:ro|rw]")),
    };
    absolute("--volume", value, source)?;
    absolute("--volume", value, target)?;
    if target == b"/" {
        return Err(bad(
            "--volume",
            value,
            "cannot mount over the container's root",
        ));
    }
    let read_only = match mode {
        b"ro" => true,
        b"rw" => false,
        _ => return Err(bad("--volume", value, "mode must be ro or rw")),
    };
    Ok(MountSpec::Volume {
        source: source.to_vec(),
        target: target.to_vec(),
        read_only,
    })
}

/// Parses `--tmpfs PATH[:OPTIONS]`, OPTIONS a comma list of `size=N[k|m|g]`, `mode=OCTAL`,
/// `ro`, `rw`.
pub fn tmpfs(value: &[u8]) -> Result<MountSpec> {
    let (target, list) = match value.iter().position(|&b| b == b':') {
        Some(colon) => (&value[..colon], &value[colon + 1..]),
        None => (value, &b""[..]),
    };
    absolute("--tmpfs", value, target)?;
    if target == b"/" {
        return Err(bad(
            "--tmpfs",
            value,
            "cannot mount over the container's root",
        ));
    }
    let mut options = Vec::new();
    let mut read_only = false;
    for option in list.split(|&b| b == b',').filter(|o| !o.is_empty()) {
        if let Some(size) = option.strip_prefix(b"size=") {
            size_bytes(size).ok_or(bad(
                "--tmpfs",
                value,
                "size must be a number with k, m or g",
            ))?;
        } else if let Some(mode) = option.strip_prefix(b"mode=") {
            if mode.is_empty() || mode.len() > 4 || !mode.iter().all(|b| (b'0'..=b'7').contains(b))
            {
                return Err(bad("--tmpfs", value, "mode must be octal"));
            }
        } else if option == b"ro" || option == b"rw" {
            read_only = option == b"ro";
            continue;
        } else {
            return Err(bad(
                "--tmpfs",
                value,
                "options are size=N, mode=OCTAL, ro and rw",
            ));
        }
        if !options.is_empty() {
            options.push(b',');
        }
        options.extend_from_slice(option);
    }
    Ok(MountSpec::Tmpfs {
        target: target.to_vec(),
        options,
        read_only,
    })
}

/// A size with an optional k, m or g suffix, in bytes.
pub fn size_bytes(text: &[u8]) -> Option<u64> {
    let (digits, unit) = match text.last()? {
        b'k' | b'K' => (&text[..text.len() - 1], 1u64 << 10),
        b'm' | b'M' => (&text[..text.len() - 1], 1 << 20),
        b'g' | b'G' => (&text[..text.len() - 1], 1 << 30),
        _ => (text, 1),
    };
    number(digits)?.checked_mul(unit)
}

fn number(digits: &[u8]) -> Option<u64> {
    parse_decimal(digits)
}

fn limit(text: &[u8]) -> Option<u64> {
    match text {
        b"unlimited" | b"-1" => Some(u64::MAX),
        _ => number(text),
    }
}

/// Parses `--ulimit NAME=SOFT[:HARD]`; HARD defaults to SOFT, as in Docker.
pub fn ulimit(value: &[u8]) -> Result<Ulimit> {
    let eq = value.iter().position(|&b| b == b'=').ok_or(bad(
        "--ulimit",
        value,
        "expected NAME=SOFT[:HARD]",
    ))?;
    let (name, limits) = (&value[..eq], &value[eq + 1..]);
    let resource = ULIMIT_NAMES
        .iter()
        .find(|(known, _)| known.as_bytes() == name)
        .map(|&(_, n)| n)
        .ok_or(bad(
            "--ulimit",
            value,
            "unknown resource; see ulimit names such as nofile",
        ))?;
    let (soft, hard) = match limits.iter().position(|&b| b == b':') {
        Some(colon) => (&limits[..colon], &limits[colon + 1..]),
        None => (limits, limits),
    };
    let not_a_limit = bad("--ulimit", value, "limits are numbers or 'unlimited'");
    let (soft, hard) = (
        limit(soft).ok_or(not_a_limit)?,
        limit(hard).ok_or(not_a_limit)?,
    );
    if soft > hard {
        return Err(bad(
            "--ulimit",
            value,
            "the soft limit is above the hard limit",
        ));
    }
    Ok(Ulimit {
        resource,
        soft,
        hard,
    })
}

/// A capability name or `ALL`, as the bits it stands for.
pub fn capability(option: &'static str, value: &[u8]) -> Result<u64> {
    if value.eq_ignore_ascii_case(b"ALL") {
        return Ok(caps::ALL);
    }
    caps::by_name(value).map(caps::bit).ok_or(bad(
        option,
        value,
        "unknown capability; names are as in capabilities(7)",
    ))
}

/// The capability set after `--cap-add` and `--cap-drop`, by Docker's rules: adding ALL starts
/// from every capability, dropping ALL from none, otherwise from the default set; then the
/// other additions and removals apply.
pub fn capability_set(added: &[u64], dropped: &[u64]) -> u64 {
    let add = added.iter().fold(0, |set, bits| set | bits);
    let drop = dropped.iter().fold(0, |set, bits| set | bits);
    if added.contains(&caps::ALL) {
        caps::ALL & !drop
    } else if dropped.contains(&caps::ALL) {
        add
    } else {
        (caps::DEFAULT | add) & !drop
    }
}

/// Parses `--memory` and `--memory-swap` sizes: a positive number of bytes with an optional k,
/// m or g; `--memory-swap` also takes -1 for unlimited swap.
pub fn memory(option: &'static str, value: &[u8]) -> Result<u64> {
    if option == "--memory-swap" && value == b"-1" {
        return Ok(u64::MAX);
    }
    match size_bytes(value) {
        Some(bytes) if bytes > 0 => Ok(bytes),
        _ => Err(bad(
            option,
            value,
            "expected a positive size in bytes, with k, m or g",
        )),
    }
}

/// Parses `--pids-limit`: a positive number of processes.
pub fn pids(value: &[u8]) -> Result<u64> {
    match number(value) {
        Some(n) if n > 0 => Ok(n),
        _ => Err(bad(
            "--pids-limit",
            value,
            "expected a positive number of processes",
        )),
    }
}

/// Parses `--cpus`: a positive decimal number of CPUs, to a thousandth, as thousandths.
pub fn cpus(value: &[u8]) -> Result<u64> {
    let invalid = bad(
        "--cpus",
        value,
        "expected a positive number of CPUs such as 0.5 or 2",
    );
    let (whole, fraction) = match value.iter().position(|&b| b == b'.') {
        Some(dot) => (&value[..dot], &value[dot + 1..]),
        None => (value, &b""[..]),
    };
    if fraction.len() > 3 || (whole.is_empty() && fraction.is_empty()) {
        return Err(invalid);
    }
    let whole = if whole.is_empty() {
        Some(0)
    } else {
        number(whole)
    };
    let mut thousandths = [b'0'; 3];
    thousandths[..fraction.len()].copy_from_slice(fraction);
    let fraction = if fraction.is_empty() {
        Some(0)
    } else {
        number(&thousandths)
    };
    match (whole, fraction) {
        (Some(w), Some(f)) if w <= 1024 && w * 1000 + f > 0 => Ok(w * 1000 + f),
        _ => Err(invalid),
    }
}

/// Parses a number option that must lie in `range`.
pub fn bounded(
    option: &'static str,
    value: &[u8],
    range: core::ops::RangeInclusive<u64>,
    why: &'static str,
) -> Result<u64> {
    match number(value) {
        Some(n) if range.contains(&n) => Ok(n),
        _ => Err(bad(option, value, why)),
    }
}

/// Parses `--cgroup-parent`: a cgroup path, absolute from the hierarchy's root or relative to
/// orbital's own cgroup, that stays inside the hierarchy.
pub fn cgroup_parent(value: &[u8]) -> Result<Vec<u8>> {
    if value.is_empty() || value.split(|&b| b == b'/').any(|part| part == b"..") {
        return Err(bad(
            "--cgroup-parent",
            value,
            "expected a cgroup path without '..'",
        ));
    }
    Ok(value.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use orbital_rt::error::Cause;

    fn why(err: Error) -> &'static str {
        match err.cause {
            Cause::Refused(why) => why,
            Cause::Errno(_) => panic!("unexpected errno"),
        }
    }

    #[test]
    fn volumes_parse_with_and_without_mode() {
        assert_eq!(
            volume(b"/srv:/data:ro").unwrap(),
            MountSpec::Volume {
                source: b"/srv".to_vec(),
                target: b"/data".to_vec(),
                read_only: true
            }
        );
        assert_eq!(
            volume(b"/srv:/data").unwrap(),
            MountSpec::Volume {
                source: b"/srv".to_vec(),
                target: b"/data".to_vec(),
                read_only: false
            }
        );
    }

    #[test]
    fn bad_volumes_are_refused() {
        assert_eq!(
            why(volume(b"/srv").unwrap_err()),
            "expected HOST:CONTAINER[:ro|rw]"
        );
        assert_eq!(
            why(volume(b"srv:/data").unwrap_err()),
            "paths must be absolute"
        );
        assert_eq!(
            why(volume(b"/srv:data").unwrap_err()),
            "paths must be absolute"
        );
        assert_eq!(
            why(volume(b"/srv:/a/../b").unwrap_err()),
            "paths must not contain '..'"
        );
        assert_eq!(
            why(volume(b"/srv:/:ro").unwrap_err()),
            "cannot mount over the container's root"
        );
        assert_eq!(
            why(volume(b"/srv:/data:rx").unwrap_err()),
            "mode must be ro or rw"
        );
        assert!(volume(b"/a:/b:ro:x").is_err());
    }

    #[test]
    fn tmpfs_options_are_checked_and_passed_on() {
        assert_eq!(
            tmpfs(b"/tmp:size=64m,mode=1777").unwrap(),
            MountSpec::Tmpfs {
                target: b"/tmp".to_vec(),
                options: b"size=64m,mode=1777".to_vec(),
                read_only: false
            }
        );
        assert_eq!(
            tmpfs(b"/run:ro").unwrap(),
            MountSpec::Tmpfs {
                target: b"/run".to_vec(),
                options: Vec::new(),
                read_only: true
            }
        );
        assert_eq!(
            why(tmpfs(b"/tmp:size=12x").unwrap_err()),
            "size must be a number with k, m or g"
        );
        assert_eq!(
            why(tmpfs(b"/tmp:mode=999").unwrap_err()),
            "mode must be octal"
        );
        assert_eq!(
            why(tmpfs(b"/tmp:uid=0").unwrap_err()),
            "options are size=N, mode=OCTAL, ro and rw"
        );
        assert_eq!(why(tmpfs(b"tmp").unwrap_err()), "paths must be absolute");
    }

    #[test]
    fn sizes_take_suffixes() {
        assert_eq!(size_bytes(b"12"), Some(12));
        assert_eq!(size_bytes(b"2k"), Some(2048));
        assert_eq!(size_bytes(b"3M"), Some(3 << 20));
        assert_eq!(size_bytes(b"1g"), Some(1 << 30));
        assert_eq!(size_bytes(b"12x"), None);
        assert_eq!(size_bytes(b"m"), None);
        assert_eq!(size_bytes(b"99999999999999999999g"), None);
    }

    #[test]
    fn ulimits_parse_soft_hard_and_unlimited() {
        assert_eq!(
            ulimit(b"nofile=1024:2048").unwrap(),
            Ulimit {
                resource: 7,
                soft: 1024,
                hard: 2048
            }
        );
        assert_eq!(
            ulimit(b"nproc=64").unwrap(),
            Ulimit {
                resource: 6,
                soft: 64,
                hard: 64
            }
        );
        assert_eq!(
            ulimit(b"core=0:unlimited").unwrap(),
            Ulimit {
                resource: 4,
                soft: 0,
                hard: u64::MAX
            }
        );
        assert_eq!(
            why(ulimit(b"nofile").unwrap_err()),
            "expected NAME=SOFT[:HARD]"
        );
        assert_eq!(
            why(ulimit(b"files=1").unwrap_err()),
            "unknown resource; see ulimit names such as nofile"
        );
        assert_eq!(
            why(ulimit(b"nofile=x").unwrap_err()),
            "limits are numbers or 'unlimited'"
        );
        assert_eq!(
            why(ulimit(b"nofile=10:5").unwrap_err()),
            "the soft limit is above the hard limit"
        );
    }

    #[test]
    fn resource_limits_parse_and_bad_values_are_refused() {
        assert_eq!(memory("--memory", b"32m").unwrap(), 32 << 20);
        assert_eq!(memory("--memory-swap", b"-1").unwrap(), u64::MAX);
        assert!(memory("--memory", b"12x").is_err());
        assert!(memory("--memory", b"0").is_err());
        assert!(memory("--memory", b"-1").is_err());
        assert_eq!(pids(b"32").unwrap(), 32);
        assert!(pids(b"-1").is_err() && pids(b"0").is_err() && pids(b"x").is_err());
        assert_eq!(cpus(b"0.5").unwrap(), 500);
        assert_eq!(cpus(b"2").unwrap(), 2000);
        assert_eq!(cpus(b".25").unwrap(), 250);
        assert_eq!(cpus(b"1.125").unwrap(), 1125);
        for bad in [
            &b"0"[..],
            b"0.0",
            b"",
            b".",
            b"1.2345",
            b"-1",
            b"abc",
            b"2000",
        ] {
            assert!(cpus(bad).is_err(), "{:?}", core::str::from_utf8(bad));
        }
        assert_eq!(
            bounded("--cpu-shares", b"512", 2..=262_144, "").unwrap(),
            512
        );
        assert!(bounded("--cpu-shares", b"1", 2..=262_144, "").is_err());
        assert!(cgroup_parent(b"../escape").is_err());
        assert_eq!(cgroup_parent(b"/ci/jobs").unwrap(), b"/ci/jobs");
    }

    #[test]
    fn capability_changes_follow_dockers_rules() {
        let admin = capability("--cap-add", b"SYS_ADMIN").unwrap();
        let chown = capability("--cap-drop", b"cap_chown").unwrap();
        assert_eq!(capability_set(&[], &[]), caps::DEFAULT);
        assert_eq!(
            capability_set(&[admin], &[chown]),
            (caps::DEFAULT | admin) & !chown
        );
        assert_eq!(capability_set(&[admin], &[caps::ALL]), admin);
        assert_eq!(capability_set(&[caps::ALL], &[chown]), caps::ALL & !chown);
        assert!(capability("--cap-add", b"FLY").is_err());
    }
}

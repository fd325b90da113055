//! Capability names and the default set a container keeps (capabilities(7)).

/// Names of the capabilities, by number, without the `CAP_` prefix.
pub const NAMES: [&str; 41] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// Every capability this build knows.
pub const ALL: u64 = (1 << NAMES.len()) - 1;

/// The bit of capability `number`.
pub const fn bit(number: u32) -> u64 {
    1 << number
}

/// Docker's default set: what a container's root keeps.
pub const DEFAULT: u64 = bit(0) // CHOWN
    | bit(1) // DAC_OVERRIDE
    | bit(3) // FOWNER
    | bit(4) // FSETID
    | bit(5) // KILL
    | bit(6) // SETGID
    | bit(7) // SETUID
    | bit(8) // SETPCAP
    | bit(10) // NET_BIND_SERVICE
    | bit(13) // NET_RAW
    | bit(18) // SYS_CHROOT
    | bit(27) // MKNOD
    | bit(29) // AUDIT_WRITE
    | bit(31); // SETFCAP

/// CAP_KILL, the one capability orbital-init keeps once the command runs: it must be able to
/// forward signals to a command running under another uid.
pub const KILL: u64 = bit(5);

/// The number of the capability called `name` (`NET_ADMIN`, `CAP_NET_ADMIN`, any case).
pub fn by_name(name: &[u8]) -> Option<u32> {
    let name = match name.get(..4) {
        Some(prefix) if prefix.eq_ignore_ascii_case(b"CAP_") => &name[4..],
        _ => name,
    };
    NAMES
        .iter()
        .position(|known| known.as_bytes().eq_ignore_ascii_case(name))
        .map(|n| n as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_with_or_without_prefix_in_any_case() {
        assert_eq!(by_name(b"CAP_SYS_ADMIN"), Some(21));
        assert_eq!(by_name(b"net_admin"), Some(12));
        assert_eq!(by_name(b"CHECKPOINT_RESTORE"), Some(40));
        assert_eq!(by_name(b"FLY"), None);
        assert_eq!(by_name(b"CAP_"), None);
    }

    #[test]
    fn default_set_is_dockers_fourteen() {
        assert_eq!(DEFAULT.count_ones(), 14);
        for name in [
            "CHOWN",
            "MKNOD",
            "NET_RAW",
            "SETFCAP",
            "SYS_CHROOT",
            "AUDIT_WRITE",
        ] {
            assert!(
                DEFAULT & bit(by_name(name.as_bytes()).unwrap()) != 0,
                "{name}"
            );
        }
        assert_eq!(DEFAULT & bit(21), 0, "no SYS_ADMIN");
    }
}

//! The default seccomp filter, a classic BPF program built here rather than by libseccomp.
//!
//! It denies, with EPERM, the system calls that Docker's default profile keeps from a container:
//! loading kernels and modules, rebooting, swapping, mounting, keyrings, BPF, perf events,
//! userfaultfd, file handles, setting the clock, accounting, quotas, kernel logs, I/O ports,
//! io_uring, and creating namespaces (`unshare` and `clone` with a `CLONE_NEW*` flag; `clone3`,
//! whose flags a classic filter cannot read, answers ENOSYS so that C libraries fall back to
//! `clone`). Calls from another ABI (x32, or a foreign architecture) are refused outright, since
//! their numbers mean other calls (seccomp(2), "Caveats").

use syscalls::Sysno;

use crate::sys::SockFilter;

/// `AUDIT_ARCH_X86_64`: the architecture field a native x86_64 system call carries.
const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
/// Numbers with this bit set belong to the x32 ABI.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// Every namespace flag of clone(2) and unshare(2), CLONE_NEWTIME included.
pub const NAMESPACE_FLAGS: u32 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWCGROUP) as u32
    | 0x80;

/// System calls denied with EPERM whatever their arguments.
pub const DENIED: &[Sysno] = &[
    Sysno::acct,
    Sysno::add_key,
    Sysno::adjtimex,
    Sysno::bpf,
    Sysno::clock_adjtime,
    Sysno::clock_settime,
    Sysno::create_module,
    Sysno::delete_module,
    Sysno::finit_module,
    Sysno::fsconfig,
    Sysno::fsmount,
    Sysno::fsopen,
    Sysno::fspick,
    Sysno::get_kernel_syms,
    Sysno::init_module,
    Sysno::io_uring_enter,
    Sysno::io_uring_register,
    Sysno::io_uring_setup,
    Sysno::ioperm,
    Sysno::iopl,
    Sysno::kexec_file_load,
    Sysno::kexec_load,
    Sysno::keyctl,
    Sysno::lookup_dcookie,
    Sysno::mount,
    Sysno::mount_setattr,
    Sysno::move_mount,
    Sysno::name_to_handle_at,
    Sysno::nfsservctl,
    Sysno::open_by_handle_at,
    Sysno::open_tree,
    Sysno::perf_event_open,
    Sysno::pivot_root,
    Sysno::query_module,
    Sysno::quotactl,
    Sysno::reboot,
    Sysno::request_key,
    Sysno::setns,
    Sysno::settimeofday,
    Sysno::swapoff,
    Sysno::swapon,
    Sysno::syslog,
    Sysno::_sysctl,
    Sysno::umount2,
    Sysno::uselib,
    Sysno::userfaultfd,
    Sysno::ustat,
];

// Classic BPF opcodes (linux/filter.h, linux/bpf_common.h).
const LD_W_ABS: u16 = 0x20;
const JEQ_K: u16 = 0x15;
const JGE_K: u16 = 0x35;
const JSET_K: u16 = 0x45;
const RET_K: u16 = 0x06;

// Offsets in `struct seccomp_data`: nr, arch, instruction pointer, then the arguments; the low
// half of a 64-bit argument comes first on a little-endian machine.
const NR_OFFSET: u32 = 0;
const ARCH_OFFSET: u32 = 4;
const ARG0_LOW_OFFSET: u32 = 16;

const RET_ALLOW: u32 = 0x7fff_0000;
const RET_KILL_PROCESS: u32 = 0x8000_0000;
const RET_ERRNO: u32 = 0x0005_0000;

const fn op(code: u16, k: u32) -> SockFilter {
    SockFilter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

/// Instructions in the default filter.
pub const FILTER_LEN: usize = 4 + 1 + DENIED.len() + 3 + 1 + 5;

/// The default filter, assembled at compile time. Its layout:
///
/// ```text
/// load arch; if not x86_64: kill the process
/// load nr;   if x32: deny; if nr in DENIED: deny; if clone3: ENOSYS;
///            if clone or unshare: check flags; else allow
/// check:     load arg0 (flags); if any namespace flag: deny; else allow
/// deny:      EPERM
/// enosys:    ENOSYS
/// ```
pub const DEFAULT_FILTER: [SockFilter; FILTER_LEN] = assemble();

const fn assemble() -> [SockFilter; FILTER_LEN] {
    let mut p = [op(0, 0); FILTER_LEN];
    p[0] = op(LD_W_ABS, ARCH_OFFSET);
    p[1] = SockFilter {
        code: JEQ_K,
        jt: 1,
        jf: 0,
        k: AUDIT_ARCH_X86_64,
    };
    p[2] = op(RET_K, RET_KILL_PROCESS);
    p[3] = op(LD_W_ABS, NR_OFFSET);

    // Where the jumps land: after the tests come one allow, the flag check (three
    // instructions), deny and enosys. A BPF jump skips that many instructions after itself,
    // and every distance here is below 256, which the compile-time assertion below holds.
    let check = FILTER_LEN - 5;
    let deny = FILTER_LEN - 2;
    let enosys = FILTER_LEN - 1;
    let mut at = 4;
    p[at] = SockFilter {
        code: JGE_K,
        jt: (deny - at - 1) as u8,
        jf: 0,
        k: X32_SYSCALL_BIT,
    };
    at += 1;
    let mut i = 0;
    while i < DENIED.len() {
        p[at] = SockFilter {
            code: JEQ_K,
            jt: (deny - at - 1) as u8,
            jf: 0,
            k: DENIED[i] as u32,
        };
        at += 1;
        i += 1;
    }
    let clone3 = Sysno::clone3 as u32;
    p[at] = SockFilter {
        code: JEQ_K,
        jt: (enosys - at - 1) as u8,
        jf: 0,
        k: clone3,
    };
    p[at + 1] = SockFilter {
        code: JEQ_K,
        jt: (check - at - 2) as u8,
        jf: 0,
        k: Sysno::clone as u32,
    };
    p[at + 2] = SockFilter {
        code: JEQ_K,
        jt: (check - at - 3) as u8,
        jf: 0,
        k: Sysno::unshare as u32,
    };
    p[at + 3] = op(RET_K, RET_ALLOW);

    p[check] = op(LD_W_ABS, ARG0_LOW_OFFSET);
    p[check + 1] = SockFilter {
        code: JSET_K,
        jt: 1,
        jf: 0,
        k: NAMESPACE_FLAGS,
    };
    p[check + 2] = op(RET_K, RET_ALLOW);
    p[deny] = op(RET_K, RET_ERRNO | libc::EPERM as u32);
    p[enosys] = op(RET_K, RET_ERRNO | libc::ENOSYS as u32);
    p
}

const _: () = assert!(FILTER_LEN < 256, "BPF jumps are 8 bits wide");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys;

    #[test]
    fn every_jump_fits_and_lands_inside_the_program() {
        let p = DEFAULT_FILTER;
        for (at, insn) in p.iter().enumerate() {
            if insn.code & 0x07 == 0x05 {
                assert!(at + 1 + (insn.jt as usize) < p.len());
                assert!(at + 1 + (insn.jf as usize) < p.len());
            }
        }
        assert_eq!(p[FILTER_LEN - 6].k, RET_ALLOW, "the tests end in allow");
        assert_eq!(p.last().unwrap().k, RET_ERRNO | libc::ENOSYS as u32);
    }

    /// Installs the filter in a forked child, runs `probe` there and returns its exit code.
    fn in_filtered_child(probe: fn() -> i32) -> i32 {
        let pid = sys::fork().unwrap();
        if pid == 0 {
            let code = sys::prctl("no_new_privs", libc::PR_SET_NO_NEW_PRIVS, 1, 0)
                .and_then(|()| sys::install_seccomp(&DEFAULT_FILTER))
                .map_or(100, |()| probe());
            sys::exit(code);
        }
        sys::wait(pid, 0).unwrap().unwrap().shell_status()
    }

    fn errno_of<T>(result: Result<T, syscalls::Errno>) -> i32 {
        match result {
            Ok(_) => 0,
            Err(e) => e.into_raw(),
        }
    }

    #[test]
    fn denied_calls_fail_with_eperm_and_others_work() {
        fn probe() -> i32 {
            // SAFETY: test-only probes of calls the filter must refuse before they run.
            let denied = unsafe {
                [
                    errno_of(syscalls::syscall!(Sysno::unshare, libc::CLONE_NEWUSER)),
                    errno_of(syscalls::syscall!(Sysno::keyctl, 0, 0, 0, 0, 0)),
                    errno_of(syscalls::syscall!(Sysno::umount2, c"/".as_ptr(), 0)),
                    errno_of(syscalls::syscall!(Sysno::clone3, 0, 0)),
                ]
            };
            if denied != [libc::EPERM, libc::EPERM, libc::EPERM, libc::ENOSYS] {
                return 1;
            }
            if sys::getpid() <= 0 {
                return 2;
            }
            0
        }
        assert_eq!(in_filtered_child(probe), 0);
    }

    #[test]
    fn fork_still_works_under_the_filter() {
        fn probe() -> i32 {
            match sys::fork() {
                Ok(0) => sys::exit(7),
                Ok(pid) => sys::wait(pid, 0)
                    .ok()
                    .flatten()
                    .map_or(1, |w| w.shell_status()),
                Err(_) => 2,
            }
        }
        assert_eq!(in_filtered_child(probe), 7);
    }
}

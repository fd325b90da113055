//! The default seccomp filter, a classic BPF program built here rather than by libseccomp.
//!
//! It denies, with EPERM, the system calls that Docker's default profile keeps from a container:
//! loading kernels and modules, rebooting, swapping, mounting, keyrings, BPF, perf events,
//! userfaultfd, file handles, setting the clock, accounting, quotas, kernel logs, I/O ports,
//! io_uring, and creating namespaces (`unshare` and `clone` with a `CLONE_NEW*` flag; `clone3`,
//! whose flags a classic filter cannot read, answers ENOSYS so that C libraries fall back to
//! `clone`). Calls from another ABI (x32, or a foreign architecture) are refused outright, since
//! their numbers mean other calls (seccomp(2), "Caveats").

use alloc::vec::Vec;

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

fn op(code: u16, k: u32) -> SockFilter {
    SockFilter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u16, k: u32, jt: usize, jf: usize) -> SockFilter {
    // Every jump below is forward over fewer than 256 instructions; the assertion in the tests
    // keeps the denied list short enough for that.
    SockFilter {
        code,
        jt: jt as u8,
        jf: jf as u8,
        k,
    }
}

/// The default filter. Its layout:
///
/// ```text
/// load arch; if not x86_64: kill the process
/// load nr;   if x32: deny; if nr in DENIED: deny; if clone3: ENOSYS;
///            if clone or unshare: check flags; else allow
/// check:     load arg0 (flags); if any namespace flag: deny; else allow
/// deny:      EPERM
/// enosys:    ENOSYS
/// ```
pub fn default_filter() -> Vec<SockFilter> {
    let mut p = Vec::with_capacity(DENIED.len() + 16);
    p.push(op(LD_W_ABS, ARCH_OFFSET));
    p.push(jump(JEQ_K, AUDIT_ARCH_X86_64, 1, 0));
    p.push(op(RET_K, RET_KILL_PROCESS));
    p.push(op(LD_W_ABS, NR_OFFSET));

    // Where the jumps land, counted from the first test: the tests, one allow, then the flag
    // check (three instructions), deny and enosys.
    let first_test = p.len();
    let tests = 1 + DENIED.len() + 3;
    let check = first_test + tests + 1;
    let deny = check + 3;
    let enosys = check + 4;
    // A BPF jump skips the given number of instructions after itself.
    let to = |target: usize, at: usize| target - (at + 1);

    p.push(jump(JGE_K, X32_SYSCALL_BIT, to(deny, p.len()), 0));
    for nr in DENIED {
        p.push(jump(JEQ_K, *nr as u32, to(deny, p.len()), 0));
    }
    p.push(jump(JEQ_K, Sysno::clone3 as u32, to(enosys, p.len()), 0));
    p.push(jump(JEQ_K, Sysno::clone as u32, to(check, p.len()), 0));
    p.push(jump(JEQ_K, Sysno::unshare as u32, to(check, p.len()), 0));
    p.push(op(RET_K, RET_ALLOW));

    p.push(op(LD_W_ABS, ARG0_LOW_OFFSET));
    p.push(jump(JSET_K, NAMESPACE_FLAGS, 1, 0));
    p.push(op(RET_K, RET_ALLOW));
    p.push(op(RET_K, RET_ERRNO | libc::EPERM as u32));
    p.push(op(RET_K, RET_ERRNO | libc::ENOSYS as u32));
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys;

    #[test]
    fn every_jump_fits_and_lands_inside_the_program() {
        let p = default_filter();
        for (at, insn) in p.iter().enumerate() {
            if insn.code & 0x07 == 0x05 {
                assert!(at + 1 + (insn.jt as usize) < p.len());
                assert!(at + 1 + (insn.jf as usize) < p.len());
            }
        }
        assert!(p.len() < 256, "jumps are 8 bits wide");
        assert_eq!(p.last().unwrap().k, RET_ERRNO | libc::ENOSYS as u32);
    }

    /// Installs the filter in a forked child, runs `probe` there and returns its exit code.
    fn in_filtered_child(probe: fn() -> i32) -> i32 {
        let pid = sys::fork().unwrap();
        if pid == 0 {
            let code = sys::prctl("no_new_privs", libc::PR_SET_NO_NEW_PRIVS, 1, 0)
                .and_then(|()| sys::install_seccomp(&default_filter()))
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

//! The system-call layer: the only place in Orbital that talks to the kernel, and so the only
//! place that says `unsafe`.
//!
//! Every wrapper returns a [`Result`] whose error names the operation, the object (a path, a
//! pid, an fd) and the errno. Paths are taken as `&CStr` because the kernel wants NUL-terminated
//! strings; callers build them once and the wrappers never allocate.

use core::ffi::{c_char, c_int, CStr};
use core::ptr;

use syscalls::{syscall, Sysno};

use crate::{Error, Result};

mod mount_api;
mod net;
mod security;
mod socket;
mod tty;

pub use mount_api::{clone_tree, move_tree, set_mount_attrs, MOUNT_ATTR_NODEV, MOUNT_ATTR_RDONLY};
pub use net::bring_up_loopback;
pub use security::{
    capget, capset, get_rlimit, install_seccomp, set_rlimit, setgroups, setresgid, setresuid,
    Capabilities, SockFilter,
};
pub use socket::{receive_fd, send_fd, socketpair};
pub use tty::{
    blank_termios, get_termios, get_winsize, is_terminal, open_pty_peer, pty_number,
    set_controlling_tty, set_termios, set_winsize, unlock_pty, Termios, Winsize,
};

/// A file descriptor.
pub type Fd = c_int;

/// Standard input.
pub const STDIN: Fd = 0;
/// Standard output.
pub const STDOUT: Fd = 1;
/// Standard error.
pub const STDERR: Fd = 2;

/// Signal number of SIGCHLD, used as the exit signal of every child Orbital creates.
pub const SIGCHLD: i32 = libc::SIGCHLD;

pub(crate) fn errno_of(err: syscalls::Errno) -> i32 {
    err.into_raw()
}

pub(crate) fn path_error(op: &'static str, path: &CStr, err: syscalls::Errno) -> Error {
    Error::errno(op, path.to_bytes(), errno_of(err))
}

pub(crate) fn plain_error(op: &'static str, err: syscalls::Errno) -> Error {
    Error::errno(op, b"", errno_of(err))
}

pub(crate) fn fd_error(op: &'static str, fd: Fd, err: syscalls::Errno) -> Error {
    let mut name = crate::out::Line::new();
    name.push("fd ").push_i64(fd as i64);
    Error::errno(op, name.as_bytes(), errno_of(err))
}

/// Retries a call that a signal interrupted: the programs block most signals, but a stopped and
/// continued process can still see EINTR.
fn retry(
    mut call: impl FnMut() -> core::result::Result<usize, syscalls::Errno>,
) -> core::result::Result<usize, syscalls::Errno> {
    loop {
        match call() {
            Err(syscalls::Errno::EINTR) => continue,
            other => return other,
        }
    }
}

/// Reads into `buf`; returns 0 at end of file.
pub fn read(fd: Fd, buf: &mut [u8]) -> Result<usize> {
    // SAFETY: `buf` is a live, writable slice of `buf.len()` bytes for the whole call, so the
    // kernel writes only memory this function borrows mutably.
    retry(|| unsafe { syscall!(Sysno::read, fd, buf.as_mut_ptr(), buf.len()) })
        .map_err(|e| fd_error("read", fd, e))
}

/// Reads until `buf` is full; returns how much was read before end of file.
pub fn read_full(fd: Fd, buf: &mut [u8]) -> Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        let n = read(fd, &mut buf[done..])?;
        if n == 0 {
            break;
        }
        done += n;
    }
    Ok(done)
}

/// Writes from `buf`; returns how much the kernel took.
pub fn write(fd: Fd, buf: &[u8]) -> Result<usize> {
    // SAFETY: `buf` is a live slice of `buf.len()` bytes that the kernel only reads.
    retry(|| unsafe { syscall!(Sysno::write, fd, buf.as_ptr(), buf.len()) })
        .map_err(|e| fd_error("write", fd, e))
}

/// Writes all of `buf`.
pub fn write_all(fd: Fd, mut buf: &[u8]) -> Result<()> {
    while !buf.is_empty() {
        let n = write(fd, buf)?;
        buf = &buf[n..];
    }
    Ok(())
}

/// Closes `fd`.
pub fn close(fd: Fd) -> Result<()> {
    // SAFETY: closing a descriptor touches no memory; callers own `fd` and do not use it again.
    unsafe { syscall!(Sysno::close, fd) }
        .map(drop)
        .map_err(|e| fd_error("close", fd, e))
}

/// Closes every descriptor from `first` up.
pub fn close_from(first: Fd) -> Result<()> {
    // SAFETY: close_range touches no memory; the caller has decided that no descriptor at or
    // above `first` is still in use.
    unsafe { syscall!(Sysno::close_range, first, u32::MAX, 0) }
        .map(drop)
        .map_err(|e| fd_error("close_range from", first, e))
}

/// Creates a pipe, both ends close-on-exec: `(read end, write end)`.
pub fn pipe() -> Result<(Fd, Fd)> {
    let mut fds = [0 as c_int; 2];
    // SAFETY: `fds` is a live array of two c_ints, the layout pipe2 fills.
    unsafe { syscall!(Sysno::pipe2, fds.as_mut_ptr(), libc::O_CLOEXEC) }
        .map_err(|e| plain_error("pipe", e))?;
    Ok((fds[0], fds[1]))
}

/// Makes `new` a copy of `old`, inherited across exec.
pub fn dup_to(old: Fd, new: Fd) -> Result<()> {
    if old == new {
        return set_cloexec(new, false);
    }
    // SAFETY: dup3 touches no memory.
    unsafe { syscall!(Sysno::dup3, old, new, 0) }
        .map(drop)
        .map_err(|e| fd_error("dup3", old, e))
}

/// Sets or clears close-on-exec on `fd`.
pub fn set_cloexec(fd: Fd, on: bool) -> Result<()> {
    let flag = if on { libc::FD_CLOEXEC } else { 0 };
    // SAFETY: F_SETFD takes an integer argument and touches no memory.
    unsafe { syscall!(Sysno::fcntl, fd, libc::F_SETFD, flag) }
        .map(drop)
        .map_err(|e| fd_error("fcntl F_SETFD", fd, e))
}

/// Opens `path` relative to `dir` (or the working directory with `libc::AT_FDCWD`).
pub fn open_at(dir: Fd, path: &CStr, flags: c_int, mode: u32) -> Result<Fd> {
    // SAFETY: `path` is NUL-terminated and lives for the call.
    retry(|| unsafe {
        syscall!(
            Sysno::openat,
            dir,
            path.as_ptr(),
            flags | libc::O_CLOEXEC,
            mode
        )
    })
    .map(|fd| fd as Fd)
    .map_err(|e| path_error("open", path, e))
}

/// Opens `path`.
pub fn open(path: &CStr, flags: c_int, mode: u32) -> Result<Fd> {
    open_at(libc::AT_FDCWD, path, flags, mode)
}

/// File status of `path` relative to `dir`; `flags` may hold `AT_SYMLINK_NOFOLLOW` and
/// `AT_EMPTY_PATH`.
pub fn stat_at(dir: Fd, path: &CStr, flags: c_int) -> Result<libc::stat> {
    // SAFETY: an all-zero `stat` is a valid value of this plain-integer struct.
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    // SAFETY: `path` is NUL-terminated, and `st` is a live, writable `struct stat` of the
    // layout newfstatat fills on x86_64.
    unsafe {
        syscall!(
            Sysno::newfstatat,
            dir,
            path.as_ptr(),
            &mut st as *mut libc::stat,
            flags
        )
    }
    .map_err(|e| path_error("stat", path, e))?;
    Ok(st)
}

/// File status of `path`, following symlinks.
pub fn stat(path: &CStr) -> Result<libc::stat> {
    stat_at(libc::AT_FDCWD, path, 0)
}

/// Creates directory `path` relative to `dir`.
pub fn mkdir_at(dir: Fd, path: &CStr, mode: u32) -> Result<()> {
    // SAFETY: `path` is NUL-terminated and lives for the call.
    unsafe { syscall!(Sysno::mkdirat, dir, path.as_ptr(), mode) }
        .map(drop)
        .map_err(|e| path_error("mkdir", path, e))
}

/// Removes the name `path` relative to `dir` (a file, or a directory with `AT_REMOVEDIR`).
pub fn unlink_at(dir: Fd, path: &CStr, flags: c_int) -> Result<()> {
    // SAFETY: `path` is NUL-terminated and lives for the call.
    unsafe { syscall!(Sysno::unlinkat, dir, path.as_ptr(), flags) }
        .map(drop)
        .map_err(|e| path_error("unlink", path, e))
}

/// Renames `from` to `to`, both relative to `dir`. A symlink at `to` is replaced, not followed.
pub fn rename_at(dir: Fd, from: &CStr, to: &CStr) -> Result<()> {
    // SAFETY: both paths are NUL-terminated and live for the call.
    unsafe { syscall!(Sysno::renameat, dir, from.as_ptr(), dir, to.as_ptr()) }
        .map(drop)
        .map_err(|e| path_error("rename to", to, e))
}

/// Reads the target of symlink `path` into `buf`; returns its length.
pub fn readlink(path: &CStr, buf: &mut [u8]) -> Result<usize> {
    // SAFETY: `path` is NUL-terminated; `buf` is a live writable slice of `buf.len()` bytes.
    unsafe { syscall!(Sysno::readlink, path.as_ptr(), buf.as_mut_ptr(), buf.len()) }
        .map_err(|e| path_error("readlink", path, e))
}

/// Changes the working directory.
pub fn chdir(path: &CStr) -> Result<()> {
    // SAFETY: `path` is NUL-terminated and lives for the call.
    unsafe { syscall!(Sysno::chdir, path.as_ptr()) }
        .map(drop)
        .map_err(|e| path_error("chdir", path, e))
}

/// Changes the root directory.
pub fn chroot(path: &CStr) -> Result<()> {
    // SAFETY: `path` is NUL-terminated and lives for the call.
    unsafe { syscall!(Sysno::chroot, path.as_ptr()) }
        .map(drop)
        .map_err(|e| path_error("chroot", path, e))
}

/// Moves the root mount to `put_old` and makes `new_root` the root mount.
pub fn pivot_root(new_root: &CStr, put_old: &CStr) -> Result<()> {
    // SAFETY: both paths are NUL-terminated and live for the call.
    unsafe { syscall!(Sysno::pivot_root, new_root.as_ptr(), put_old.as_ptr()) }
        .map(drop)
        .map_err(|e| path_error("pivot_root to", new_root, e))
}

/// Mounts `source` of type `fstype` on `target`. `op` names the step for the error message.
pub fn mount(
    op: &'static str,
    source: Option<&CStr>,
    target: &CStr,
    fstype: Option<&CStr>,
    flags: u64,
    data: Option<&CStr>,
) -> Result<()> {
    let source = source.map_or(ptr::null(), CStr::as_ptr);
    let fstype = fstype.map_or(ptr::null(), CStr::as_ptr);
    let data = data.map_or(ptr::null(), CStr::as_ptr);
    // SAFETY: every pointer is either null, which mount(2) accepts for these arguments, or a
    // NUL-terminated string borrowed for the call.
    unsafe { syscall!(Sysno::mount, source, target.as_ptr(), fstype, flags, data) }
        .map(drop)
        .map_err(|e| path_error(op, target, e))
}

/// Unmounts `target`.
pub fn umount(target: &CStr, flags: c_int) -> Result<()> {
    // SAFETY: `target` is NUL-terminated and lives for the call.
    unsafe { syscall!(Sysno::umount2, target.as_ptr(), flags) }
        .map(drop)
        .map_err(|e| path_error("umount", target, e))
}

/// Sets the hostname of the current UTS namespace.
pub fn sethostname(name: &[u8]) -> Result<()> {
    // SAFETY: `name` is a live slice; the kernel reads exactly `name.len()` bytes.
    unsafe { syscall!(Sysno::sethostname, name.as_ptr(), name.len()) }
        .map(drop)
        .map_err(|e| Error::errno("sethostname", name, errno_of(e)))
}

/// Maps `len` bytes of fresh, zeroed, private memory with protection `prot`.
pub fn mmap_anonymous(len: usize, prot: c_int) -> Result<*mut u8> {
    let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS;
    // SAFETY: an anonymous private mapping at an address the kernel picks overlaps no memory
    // the program already uses.
    unsafe { syscall!(Sysno::mmap, 0, len, prot, flags, -1isize, 0) }
        .map(|addr| addr as *mut u8)
        .map_err(|e| plain_error("mmap", e))
}

/// Unmaps a mapping made by [`mmap_anonymous`].
///
/// # Safety
/// `addr..addr+len` must be a mapping this program made and no longer references.
pub(crate) unsafe fn munmap(addr: *mut u8, len: usize) -> Result<()> {
    // SAFETY: the caller guarantees the range is an unused mapping of ours.
    unsafe { syscall!(Sysno::munmap, addr, len) }
        .map(drop)
        .map_err(|e| plain_error("munmap", e))
}

/// Changes the protection of pages of a mapping made by [`mmap_anonymous`].
///
/// # Safety
/// `addr..addr+len` must be pages of a mapping this program made; making them inaccessible is
/// only sound while nothing references them.
pub(crate) unsafe fn mprotect(addr: *mut u8, len: usize, prot: c_int) -> Result<()> {
    // SAFETY: the caller guarantees the pages are ours and unreferenced.
    unsafe { syscall!(Sysno::mprotect, addr, len, prot) }
        .map(drop)
        .map_err(|e| plain_error("mprotect", e))
}

/// Creates an anonymous in-memory file that can be sealed.
pub fn memfd_create(name: &CStr) -> Result<Fd> {
    let flags = libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING;
    // SAFETY: `name` is NUL-terminated and lives for the call.
    unsafe { syscall!(Sysno::memfd_create, name.as_ptr(), flags) }
        .map(|fd| fd as Fd)
        .map_err(|e| path_error("memfd_create", name, e))
}

/// Seals a memfd so that its contents can never change again.
pub fn seal_for_good(fd: Fd) -> Result<()> {
    let seals = libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
    // SAFETY: F_ADD_SEALS takes an integer argument and touches no memory.
    unsafe { syscall!(Sysno::fcntl, fd, libc::F_ADD_SEALS, seals) }
        .map(drop)
        .map_err(|e| fd_error("seal", fd, e))
}

/// A NULL-terminated array of pointers to NUL-terminated strings, as execve(2) wants.
pub type CStrArray = [*const c_char];

/// Replaces the program with `path`. Returns only on failure.
pub fn execve(path: &CStr, argv: &CStrArray, envp: &CStrArray) -> Error {
    if argv.last() != Some(&ptr::null()) || envp.last() != Some(&ptr::null()) {
        return Error::refused(
            "exec",
            path.to_bytes(),
            "argument array not NULL-terminated",
        );
    }
    // SAFETY: `path` is NUL-terminated; both arrays end in a null pointer (checked above) and
    // their callers keep every string they point to alive for the call.
    let err = unsafe { syscall!(Sysno::execve, path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    match err {
        Ok(_) => Error::refused("exec", path.to_bytes(), "execve returned"),
        Err(e) => path_error("exec", path, e),
    }
}

/// Replaces the program with the executable open at `fd`. Returns only on failure.
pub fn execve_fd(fd: Fd, argv: &CStrArray, envp: &CStrArray) -> Error {
    if argv.last() != Some(&ptr::null()) || envp.last() != Some(&ptr::null()) {
        return Error::refused("exec", b"", "argument array not NULL-terminated");
    }
    let empty = c"";
    // SAFETY: as in `execve`; the empty path with AT_EMPTY_PATH names `fd` itself.
    let err = unsafe {
        syscall!(
            Sysno::execveat,
            fd,
            empty.as_ptr(),
            argv.as_ptr(),
            envp.as_ptr(),
            libc::AT_EMPTY_PATH
        )
    };
    match err {
        Ok(_) => Error::refused("exec", b"", "execveat returned"),
        Err(e) => fd_error("exec", fd, e),
    }
}

/// Ends the process with `code`.
pub fn exit(code: i32) -> ! {
    loop {
        // SAFETY: exit_group ends the process; nothing runs after it.
        let _ = unsafe { syscall!(Sysno::exit_group, code) };
    }
}

/// Creates a child process that runs on a copy of this one, like fork(2).
pub fn fork() -> Result<i32> {
    // SAFETY: without CLONE_VM or a new stack the child gets a private copy of the address
    // space and resumes on its copy of this very stack, exactly as fork(2).
    unsafe { syscall!(Sysno::clone, SIGCHLD, 0, 0, 0, 0) }
        .map(|pid| pid as i32)
        .map_err(|e| plain_error("fork", e))
}

// The clone trampoline. A child made by clone(2) with a new stack resumes on that stack with no
// frame to return into, so it must not return from the system call like a Rust function would.
// This stub stores the entry function and its argument at the top of the child's stack, and the
// child pops them, calls the function and exits with its result. System V x86_64 calling
// convention: rdi = flags, rsi = stack top (16-byte aligned), rdx = entry, rcx = argument.
core::arch::global_asm!(
    ".text",
    ".globl orbital_clone_on_stack",
    ".type orbital_clone_on_stack,@function",
    "orbital_clone_on_stack:",
    "    sub rsi, 16",
    "    mov [rsi], rdx",
    "    mov [rsi + 8], rcx",
    "    mov eax, 56", // clone(flags, newsp, parent_tid, child_tid, tls)
    "    xor edx, edx",
    "    xor r10d, r10d",
    "    xor r8d, r8d",
    "    syscall",
    "    test rax, rax",
    "    jnz 1f",
    "    xor ebp, ebp",
    "    pop rax",
    "    pop rdi",
    "    call rax",
    "    mov edi, eax",
    "    mov eax, 231", // exit_group
    "    syscall",
    "    ud2",
    "1:  ret",
    ".size orbital_clone_on_stack, .-orbital_clone_on_stack",
);

extern "C" {
    fn orbital_clone_on_stack(
        flags: u64,
        stack_top: *mut u8,
        entry: extern "C" fn(usize) -> i32,
        arg: usize,
    ) -> isize;
}

/// Bytes kept inaccessible below a child stack, so that an overflow faults instead of silently
/// writing over other memory.
pub const GUARD_BYTES: usize = 4096;

/// A stack for a cloned child: a private mapping with an inaccessible guard page at its low
/// end (stacks grow down on x86_64). Unmapped when dropped.
pub struct Stack {
    base: *mut u8,
    len: usize,
}

impl Stack {
    /// Maps a stack of `usable_bytes` (rounded up to whole pages) above a guard page.
    pub fn new(usable_bytes: usize) -> Result<Stack> {
        let len = GUARD_BYTES + ((usable_bytes + 4095) & !4095);
        let base = mmap_anonymous(len, libc::PROT_READ | libc::PROT_WRITE)?;
        let stack = Stack { base, len };
        // SAFETY: the guard page is the first page of the mapping just made, which nothing
        // references yet.
        unsafe { mprotect(base, GUARD_BYTES, libc::PROT_NONE) }?;
        Ok(stack)
    }

    /// The highest address of the stack, where a new stack pointer starts: the end of the
    /// mapping, which is page-aligned and so 16-byte aligned as the ABI wants.
    fn top(&self) -> *mut u8 {
        self.base.wrapping_add(self.len)
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: the mapping is ours; a child that ran on it got its own copy of the address
        // space (clone without CLONE_VM), so unmapping it here takes nothing from the child.
        let _ = unsafe { munmap(self.base, self.len) };
    }
}

extern "C" fn run_child<T>(arg: usize) -> i32 {
    // SAFETY: `clone_into` passes the address of a `(fn(&T) -> i32, &T)` pair that lives in its
    // own frame. The child runs on a private copy of the parent's memory taken at clone time,
    // where that frame and everything the pair refers to are intact and nothing else runs.
    let (entry, value) = unsafe { &*(arg as *const (fn(&T) -> i32, &T)) };
    entry(value)
}

/// Clones a child with `flags` (new namespaces, the exit signal) that runs `entry(value)` on
/// `stack` and exits with its result. Returns the child's pid.
///
/// CLONE_VM is refused: the child must work on its own copy of memory, so that the parent's
/// state stays untouched and `value` stays valid for the child.
pub fn clone_into<T>(flags: u64, stack: &Stack, entry: fn(&T) -> i32, value: &T) -> Result<i32> {
    if flags & libc::CLONE_VM as u64 != 0 {
        return Err(Error::refused(
            "clone",
            b"",
            "CLONE_VM would share the parent's memory",
        ));
    }
    let pair: (fn(&T) -> i32, &T) = (entry, value);
    let arg = &pair as *const (fn(&T) -> i32, &T) as usize;
    // SAFETY: `stack.top()` is the aligned end of a writable mapping that outlives this call
    // in the parent and is copied into the child; without CLONE_VM the child uses only its
    // copy; `run_child::<T>` matches the pair's type.
    let ret = unsafe { orbital_clone_on_stack(flags, stack.top(), run_child::<T>, arg) };
    if ret < 0 {
        return Err(Error::errno("clone", b"", (-ret) as i32));
    }
    Ok(ret as i32)
}

/// Duplicates `fd` to the lowest free descriptor at or above `min`, close-on-exec.
pub fn dup_above(fd: Fd, min: Fd) -> Result<Fd> {
    // SAFETY: F_DUPFD_CLOEXEC takes an integer argument and touches no memory.
    unsafe { syscall!(Sysno::fcntl, fd, libc::F_DUPFD_CLOEXEC, min) }
        .map(|new| new as Fd)
        .map_err(|e| fd_error("dup", fd, e))
}

/// Reads a whole small file, such as a cgroup control file or /etc/passwd; longer files are
/// refused rather than cut.
pub fn read_file(path: &CStr, max_bytes: usize) -> Result<alloc::vec::Vec<u8>> {
    let fd = open(path, libc::O_RDONLY, 0)?;
    let mut content = alloc::vec![0u8; max_bytes + 1];
    let read = read_full(fd, &mut content);
    let _ = close(fd);
    let len = read?;
    if len > max_bytes {
        return Err(Error::refused(
            "read",
            path.to_bytes(),
            "file larger than expected",
        ));
    }
    content.truncate(len);
    Ok(content)
}

/// Writes `bytes` to the existing file `path` in one write, as cgroup control files want.
pub fn write_file(path: &CStr, bytes: &[u8]) -> Result<()> {
    let fd = open(path, libc::O_WRONLY | libc::O_TRUNC, 0)?;
    let written = write(fd, bytes).map_err(|err| Error::new("write", path.to_bytes(), err.cause));
    let _ = close(fd);
    written.map(drop)
}

/// The names in directory `path`, without `.` and `..`.
pub fn read_dir(path: &CStr) -> Result<alloc::vec::Vec<alloc::vec::Vec<u8>>> {
    let fd = open(path, libc::O_RDONLY | libc::O_DIRECTORY, 0)?;
    let mut names = alloc::vec::Vec::new();
    let mut buf = [0u8; 4096];
    let result = loop {
        // SAFETY: `buf` is a live, writable buffer of the length passed; the kernel fills it
        // with whole `linux_dirent64` records.
        let n = match unsafe { syscall!(Sysno::getdents64, fd, buf.as_mut_ptr(), buf.len()) } {
            Ok(0) => break Ok(()),
            Ok(n) => n,
            Err(e) => break Err(path_error("read directory", path, e)),
        };
        // A record: u64 inode, i64 offset, u16 record length, u8 type, then the NUL-terminated
        // name.
        let mut at = 0;
        while at + 19 <= n {
            let len = u16::from_ne_bytes([buf[at + 16], buf[at + 17]]) as usize;
            if len == 0 || at + len > n {
                break;
            }
            let name = &buf[at + 19..at + len];
            let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
            if name != b"." && name != b".." {
                names.push(name.to_vec());
            }
            at += len;
        }
    };
    let _ = close(fd);
    result.map(|()| names)
}

/// Creates a device node (or other special file) `path` with `mode`, for device `major:minor`.
pub fn mknod(path: &CStr, mode: u32, major: u32, minor: u32) -> Result<()> {
    // The kernel's encoding of a device number: minor in bits 0-7 and 20-31, major in 8-19.
    let dev = ((minor & 0xff) | ((major & 0xfff) << 8) | ((minor & !0xff) << 12)) as usize;
    // SAFETY: `path` is NUL-terminated and lives for the call.
    unsafe { syscall!(Sysno::mknodat, libc::AT_FDCWD, path.as_ptr(), mode, dev) }
        .map(drop)
        .map_err(|e| path_error("mknod", path, e))
}

/// Creates the symlink `path` pointing at `target`.
pub fn symlink(target: &CStr, path: &CStr) -> Result<()> {
    // SAFETY: both strings are NUL-terminated and live for the call.
    unsafe {
        syscall!(
            Sysno::symlinkat,
            target.as_ptr(),
            libc::AT_FDCWD,
            path.as_ptr()
        )
    }
    .map(drop)
    .map_err(|e| path_error("symlink", path, e))
}

/// Makes reads and writes on `fd` return EAGAIN instead of blocking.
pub fn set_nonblocking(fd: Fd) -> Result<()> {
    // SAFETY: F_GETFL and F_SETFL take integer arguments and touch no memory.
    unsafe {
        let flags =
            syscall!(Sysno::fcntl, fd, libc::F_GETFL).map_err(|e| fd_error("fcntl", fd, e))?;
        syscall!(
            Sysno::fcntl,
            fd,
            libc::F_SETFL,
            flags | libc::O_NONBLOCK as usize
        )
    }
    .map(drop)
    .map_err(|e| fd_error("fcntl F_SETFL", fd, e))
}

/// Changes the mode bits of `path`; unlike a mode given at creation, the umask does not apply.
pub fn chmod(path: &CStr, mode: u32) -> Result<()> {
    // SAFETY: `path` is NUL-terminated and lives for the call.
    unsafe { syscall!(Sysno::fchmodat, libc::AT_FDCWD, path.as_ptr(), mode) }
        .map(drop)
        .map_err(|e| path_error("chmod", path, e))
}

/// Changes the mode bits of the file open at `fd`.
pub fn fchmod(fd: Fd, mode: u32) -> Result<()> {
    // SAFETY: fchmod touches no memory.
    unsafe { syscall!(Sysno::fchmod, fd, mode) }
        .map(drop)
        .map_err(|e| fd_error("chmod", fd, e))
}

/// Moves the caller into new namespaces of the kinds in `flags`.
pub fn unshare(flags: c_int) -> Result<()> {
    // SAFETY: unshare touches no memory.
    unsafe { syscall!(Sysno::unshare, flags) }
        .map(drop)
        .map_err(|e| plain_error("unshare", e))
}

/// Starts a new session with the caller as its leader, detached from any terminal.
pub fn setsid() -> Result<()> {
    // SAFETY: setsid touches no memory.
    unsafe { syscall!(Sysno::setsid) }
        .map(drop)
        .map_err(|e| plain_error("setsid", e))
}

/// A child's change of state, as wait4(2) reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Waited {
    /// The child.
    pub pid: i32,
    /// Its raw wait status.
    pub status: i32,
}

impl Waited {
    /// The status a shell reports: the exit code, or 128+N when signal N killed the child.
    pub fn shell_status(&self) -> i32 {
        match self.status & 0x7f {
            0 => (self.status >> 8) & 0xff,
            signal => 128 + signal,
        }
    }
}

/// Waits for a child: `pid` -1 for any. With `WNOHANG` returns `None` when none has exited.
pub fn wait(pid: i32, flags: c_int) -> Result<Option<Waited>> {
    let mut status: c_int = 0;
    // SAFETY: `status` is a live c_int the kernel writes; the rusage pointer is null.
    let ret = retry(|| unsafe { syscall!(Sysno::wait4, pid, &mut status as *mut c_int, flags, 0) });
    match ret {
        Ok(0) => Ok(None),
        Ok(child) => Ok(Some(Waited {
            pid: child as i32,
            status,
        })),
        Err(e) => Err(Error::errno("wait for", b"children", errno_of(e))),
    }
}

/// Sends `sig` to `pid` (negative for a process group, -1 for every process it may signal).
pub fn kill(pid: i32, sig: i32) -> Result<()> {
    // SAFETY: kill touches no memory.
    unsafe { syscall!(Sysno::kill, pid, sig) }
        .map(drop)
        .map_err(|e| {
            let mut name = crate::out::Line::new();
            name.push("pid ").push_i64(pid as i64);
            Error::errno("kill", name.as_bytes(), errno_of(e))
        })
}

/// The caller's pid.
pub fn getpid() -> i32 {
    // SAFETY: getpid touches no memory and cannot fail.
    unsafe { syscall!(Sysno::getpid) }.unwrap_or(0) as i32
}

/// The caller's effective uid.
pub fn geteuid() -> u32 {
    // SAFETY: geteuid touches no memory and cannot fail.
    unsafe { syscall!(Sysno::geteuid) }.unwrap_or(u32::MAX as usize) as u32
}

/// Calls prctl(2) with integer arguments; `op` names the step for the error message.
pub fn prctl(op: &'static str, option: c_int, arg2: usize, arg3: usize) -> Result<()> {
    // SAFETY: the options used here take integer arguments only and touch no memory.
    unsafe { syscall!(Sysno::prctl, option, arg2, arg3, 0, 0) }
        .map(drop)
        .map_err(|e| plain_error(op, e))
}

/// Sets the name the kernel shows for this process (`comm`, at most 15 bytes).
pub fn set_process_name(name: &CStr) -> Result<()> {
    // SAFETY: PR_SET_NAME reads at most 16 bytes of a NUL-terminated string that lives for the
    // call.
    unsafe { syscall!(Sysno::prctl, libc::PR_SET_NAME, name.as_ptr(), 0, 0, 0) }
        .map(drop)
        .map_err(|e| path_error("prctl PR_SET_NAME", name, e))
}

/// A set of signals as the kernel's rt_* calls take it (64 bits on x86_64).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SigSet(pub u64);

impl SigSet {
    /// The empty set.
    pub const EMPTY: SigSet = SigSet(0);
    /// Every signal.
    pub const ALL: SigSet = SigSet(!0);

    /// The set of `signals`.
    pub const fn of(signals: &[i32]) -> SigSet {
        let mut bits = 0u64;
        let mut i = 0;
        while i < signals.len() {
            bits |= 1 << (signals[i] - 1);
            i += 1;
        }
        SigSet(bits)
    }

    /// Whether `sig` is in the set.
    pub fn contains(self, sig: i32) -> bool {
        (1..=64).contains(&sig) && self.0 & (1 << (sig - 1)) != 0
    }
}

const SIGSET_BYTES: usize = 8;

/// Changes the signal mask (`how` is SIG_BLOCK, SIG_UNBLOCK or SIG_SETMASK).
pub fn sigprocmask(how: c_int, set: SigSet) -> Result<SigSet> {
    let mut old = SigSet::EMPTY;
    // SAFETY: `set` and `old` are live 8-byte sigsets, the size passed to the kernel.
    unsafe {
        syscall!(
            Sysno::rt_sigprocmask,
            how,
            &set as *const SigSet,
            &mut old as *mut SigSet,
            SIGSET_BYTES
        )
    }
    .map_err(|e| plain_error("sigprocmask", e))?;
    Ok(old)
}

/// Opens a signalfd for `set`, non-blocking and close-on-exec.
pub fn signalfd(set: SigSet) -> Result<Fd> {
    let flags = libc::SFD_CLOEXEC | libc::SFD_NONBLOCK;
    // SAFETY: `set` is a live 8-byte sigset, the size passed to the kernel.
    unsafe {
        syscall!(
            Sysno::signalfd4,
            -1isize,
            &set as *const SigSet,
            SIGSET_BYTES,
            flags
        )
    }
    .map(|fd| fd as Fd)
    .map_err(|e| plain_error("signalfd", e))
}

/// Reads the next pending signal from a non-blocking signalfd, if any.
pub fn read_signal(fd: Fd) -> Result<Option<i32>> {
    let mut info = [0u8; core::mem::size_of::<libc::signalfd_siginfo>()];
    match read(fd, &mut info) {
        Ok(n) if n == info.len() => {
            // ssi_signo is the first field, a u32 in native byte order.
            Ok(Some(
                u32::from_ne_bytes([info[0], info[1], info[2], info[3]]) as i32,
            ))
        }
        Ok(_) => Ok(None),
        Err(err) if err.errno_value() == Some(libc::EAGAIN) => Ok(None),
        Err(err) => Err(err),
    }
}

/// One entry of a poll set.
pub type PollFd = libc::pollfd;

/// Waits until one of `fds` is ready; `timeout_ms` < 0 waits for ever. Returns how many are.
pub fn poll(fds: &mut [PollFd], timeout_ms: c_int) -> Result<usize> {
    // SAFETY: `fds` is a live, writable slice of `fds.len()` pollfd structs.
    retry(|| unsafe { syscall!(Sysno::poll, fds.as_mut_ptr(), fds.len(), timeout_ms) })
        .map_err(|e| plain_error("poll", e))
}

/// The C string at the start of `buf`, up to its first NUL; `None` when there is no NUL. For
/// paths built in a stack buffer without allocating.
pub fn cstr_from_buf(buf: &[u8]) -> Option<&CStr> {
    CStr::from_bytes_until_nul(buf).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(raw: i32) -> i32 {
        Waited {
            pid: 1,
            status: raw,
        }
        .shell_status()
    }

    #[test]
    fn exit_codes_pass_through() {
        assert_eq!(status(0), 0);
        assert_eq!(status(3 << 8), 3);
        assert_eq!(status(255 << 8), 255);
    }

    #[test]
    fn signals_become_128_plus_n() {
        assert_eq!(status(libc::SIGKILL), 137);
        assert_eq!(status(libc::SIGTERM), 143);
        assert_eq!(status(libc::SIGSEGV | 0x80), 139);
    }

    #[test]
    fn signal_sets_hold_what_they_are_made_of() {
        let set = SigSet::of(&[libc::SIGINT, libc::SIGTERM]);
        assert!(set.contains(libc::SIGINT) && set.contains(libc::SIGTERM));
        assert!(!set.contains(libc::SIGKILL) && !set.contains(0) && !set.contains(65));
    }

    #[test]
    fn forked_child_status_comes_back_through_wait() {
        let pid = fork().unwrap();
        if pid == 0 {
            exit(7);
        }
        let waited = wait(pid, 0).unwrap().unwrap();
        assert_eq!((waited.pid, waited.shell_status()), (pid, 7));
    }

    #[test]
    fn child_on_its_own_stack_runs_and_exits_with_its_result() {
        fn entry(value: &i32) -> i32 {
            *value + 1
        }
        let stack = Stack::new(64 * 1024).unwrap();
        let pid = clone_into(SIGCHLD as u64, &stack, entry, &41).unwrap();
        let waited = wait(pid, 0).unwrap().unwrap();
        assert_eq!(waited.shell_status(), 42);
    }

    #[test]
    fn clone_vm_is_refused() {
        fn entry(_: &()) -> i32 {
            0
        }
        let stack = Stack::new(4096).unwrap();
        assert!(clone_into(libc::CLONE_VM as u64 | SIGCHLD as u64, &stack, entry, &()).is_err());
    }

    #[test]
    fn errors_name_the_path_and_errno() {
        let err = open(c"/nonexistent/orbital", libc::O_RDONLY, 0).unwrap_err();
        assert_eq!(err.errno_value(), Some(libc::ENOENT));
        assert_eq!(err.object(), b"/nonexistent/orbital");
    }
}

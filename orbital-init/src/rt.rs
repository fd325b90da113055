//! Start-up of a program without a C library: the entry point, the arguments and environment,
//! the allocator, the memory functions the compiler expects, and what a panic does.
//!
//! Each program expands [`program!`](crate::program) once at its root. The expansion holds the
//! items a process can have only once (`_start`, the panic handler, the global allocator, the
//! `mem*` symbols), so that the library itself stays linkable into ordinary test binaries.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ffi::{c_char, CStr};

use crate::sys;

/// The command line and environment the kernel laid out on the initial stack.
#[derive(Clone, Copy)]
pub struct Process {
    argv: &'static [*const c_char],
    envp: &'static [*const c_char],
}

impl Process {
    /// Reads argc, argv and envp from the initial stack pointer, as the System V ABI lays them
    /// out: `argc`, `argv[0..argc]`, NULL, `envp[..]`, NULL.
    ///
    /// # Safety
    /// `sp` must be the stack pointer the kernel handed to `_start`.
    pub unsafe fn from_initial_stack(sp: *const usize) -> Process {
        // SAFETY: the caller passes the kernel's initial stack pointer, where argc is stored,
        // followed by argc pointers and a NULL, then the environment pointers and a NULL. That
        // memory is never freed or written while the program runs, so 'static fits.
        unsafe {
            let argc = *sp;
            let argv = sp.add(1) as *const *const c_char;
            let envp = argv.add(argc + 1);
            let mut envc = 0;
            while !(*envp.add(envc)).is_null() {
                envc += 1;
            }
            Process {
                argv: core::slice::from_raw_parts(argv, argc),
                envp: core::slice::from_raw_parts(envp, envc),
            }
        }
    }

    /// The arguments, program name first.
    pub fn args(&self) -> impl Iterator<Item = &'static CStr> + '_ {
        self.argv.iter().map(|&p| kernel_string(p))
    }

    /// The environment, as `NAME=value` strings.
    pub fn env(&self) -> impl Iterator<Item = &'static CStr> + '_ {
        self.envp.iter().map(|&p| kernel_string(p))
    }

    /// The value of environment variable `name`.
    pub fn var(&self, name: &[u8]) -> Option<&'static [u8]> {
        self.env().map(CStr::to_bytes).find_map(|entry| {
            let rest = entry.strip_prefix(name)?;
            rest.strip_prefix(b"=")
        })
    }
}

/// A string the kernel laid out on the initial stack. The length is measured here rather than
/// by `CStr::from_ptr`, whose measuring code assumes a C library's strlen.
fn kernel_string(p: *const c_char) -> &'static CStr {
    // SAFETY: `p` comes from argv or envp, so it points to a NUL-terminated string that the
    // kernel placed on the initial stack, which lives, unchanged, as long as the process. The
    // slice covers the string and its NUL exactly, and holds no other NUL.
    unsafe {
        let len = mem::length(p as *const u8);
        CStr::from_bytes_with_nul_unchecked(core::slice::from_raw_parts(p as *const u8, len + 1))
    }
}

/// Runs `main` and exits with its status. Called from `_start`.
///
/// # Safety
/// `sp` must be the stack pointer the kernel handed to `_start`.
pub unsafe fn start(sp: *const usize, main: fn(Process) -> i32) -> ! {
    // SAFETY: forwarded from the caller.
    let process = unsafe { Process::from_initial_stack(sp) };
    sys::exit(main(process))
}

/// What a panic does: there is no unwinder, so say so and exit with orbital's own failure
/// status. Neither program is meant to panic; this is the last line of defence. Release builds
/// leave out where it happened: the source locations of every possible panic would be a tenth
/// of orbital-init.
pub fn on_panic(prefix: &str, info: &core::panic::PanicInfo) -> ! {
    let mut line = crate::out::Line::new();
    line.push(prefix).push(": internal error");
    #[cfg(debug_assertions)]
    if let Some(at) = info.location() {
        line.push(" at ")
            .push(at.file())
            .push(":")
            .push_u64(at.line() as u64);
    }
    #[cfg(not(debug_assertions))]
    let _ = info;
    line.print();
    sys::exit(125)
}

/// Size of each block the allocator takes from the kernel.
const CHUNK_BYTES: usize = 64 * 1024;
/// Allocations at least this large get a mapping of their own, returned on free.
const LARGE_BYTES: usize = CHUNK_BYTES / 4;

/// A bump allocator for short-lived, single-threaded programs.
///
/// Both programs allocate a little at start (the parsed options, the configuration) and then
/// run to exit, so freeing is only worth it for the most recent allocation (which makes a
/// growing vector cheap) and for large blocks, which get their own mapping.
pub struct BumpAlloc {
    arena: UnsafeCell<(usize, usize)>,
}

// SAFETY: both programs are single-threaded (the only other execution context is a cloned child
// or fork, which gets its own copy of memory), so the arena is never touched concurrently.
unsafe impl Sync for BumpAlloc {}

impl BumpAlloc {
    /// An allocator with no memory yet.
    pub const fn new() -> BumpAlloc {
        BumpAlloc {
            arena: UnsafeCell::new((0, 0)),
        }
    }
}

impl Default for BumpAlloc {
    fn default() -> Self {
        BumpAlloc::new()
    }
}

fn round_to_pages(len: usize) -> usize {
    (len + 4095) & !4095
}

fn map_rw(len: usize) -> *mut u8 {
    sys::mmap_anonymous(len, libc::PROT_READ | libc::PROT_WRITE).unwrap_or(core::ptr::null_mut())
}

// SAFETY: every block handed out lies inside a private read-write mapping that is never reused
// while allocated: the bump pointer only moves back over the most recent block when that block
// itself is freed, and large blocks are unmapped only when freed.
unsafe impl GlobalAlloc for BumpAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() >= LARGE_BYTES || layout.align() > 4096 {
            return map_rw(round_to_pages(layout.size()));
        }
        // SAFETY: single-threaded (see `Sync`), so this is the only live reference to the arena.
        let (next, end) = unsafe { &mut *self.arena.get() };
        let mut start = (*next + layout.align() - 1) & !(layout.align() - 1);
        if *next == 0 || start + layout.size() > *end {
            let chunk = map_rw(CHUNK_BYTES);
            if chunk.is_null() {
                return chunk;
            }
            *next = chunk as usize;
            *end = *next + CHUNK_BYTES;
            start = (*next + layout.align() - 1) & !(layout.align() - 1);
        }
        *next = start + layout.size();
        start as *mut u8
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if layout.size() >= LARGE_BYTES || layout.align() > 4096 {
            // SAFETY: the block is a mapping of its own made by `alloc`, and the caller frees it.
            let _ = unsafe { sys::munmap(ptr, round_to_pages(layout.size())) };
            return;
        }
        // SAFETY: single-threaded, see `Sync`.
        let (next, _) = unsafe { &mut *self.arena.get() };
        if ptr as usize + layout.size() == *next {
            *next = ptr as usize;
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let small = layout.size() < LARGE_BYTES && new_size < LARGE_BYTES && layout.align() <= 4096;
        if small {
            // SAFETY: single-threaded, see `Sync`.
            let (next, end) = unsafe { &mut *self.arena.get() };
            if ptr as usize + layout.size() == *next && ptr as usize + new_size <= *end {
                *next = ptr as usize + new_size;
                return ptr;
            }
        }
        // SAFETY: `new_size` with the old alignment is a valid layout: the caller guarantees it.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: a fresh block from this allocator, as GlobalAlloc::alloc allows.
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks are live and distinct; the old one holds at least the bytes
            // copied.
            unsafe { core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size)) };
            // SAFETY: `ptr` was allocated with `layout` and is no longer used.
            unsafe { self.dealloc(ptr, layout) };
        }
        new
    }
}

/// The memory functions the compiler emits calls to, written with x86 string instructions so
/// that the compiler cannot turn them back into calls to themselves.
pub mod mem {
    /// memcpy.
    ///
    /// # Safety
    /// As C's memcpy: `n` bytes valid at both, not overlapping.
    pub unsafe fn copy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
        // SAFETY: the caller guarantees both ranges; rep movsb copies exactly rcx bytes forwards
        // (the direction flag is clear, as the ABI requires at every call).
        unsafe {
            core::arch::asm!("rep movsb", inout("rcx") n => _, inout("rdi") dest => _,
                inout("rsi") src => _, options(nostack, preserves_flags));
        }
        dest
    }

    /// memmove.
    ///
    /// # Safety
    /// As C's memmove: `n` bytes valid at both.
    pub unsafe fn copy_overlapping(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
        if (dest as usize).wrapping_sub(src as usize) >= n {
            // SAFETY: a forward copy is correct when dest does not start inside src's range.
            return unsafe { copy(dest, src, n) };
        }
        // SAFETY: copying backwards from the last byte is correct when dest overlaps the tail
        // of src; the direction flag is restored before returning.
        unsafe {
            core::arch::asm!("std", "rep movsb", "cld", inout("rcx") n => _,
                inout("rdi") dest.add(n).wrapping_sub(1) => _,
                inout("rsi") src.add(n).wrapping_sub(1) => _, options(nostack));
        }
        dest
    }

    /// memset.
    ///
    /// # Safety
    /// As C's memset: `n` bytes valid at `dest`.
    pub unsafe fn fill(dest: *mut u8, byte: i32, n: usize) -> *mut u8 {
        // SAFETY: the caller guarantees the range; rep stosb stores exactly rcx bytes.
        unsafe {
            core::arch::asm!("rep stosb", inout("rcx") n => _, inout("rdi") dest => _,
                in("al") byte as u8, options(nostack, preserves_flags));
        }
        dest
    }

    /// memcmp and bcmp.
    ///
    /// The loops here read through `read_volatile`: the optimiser recognises a plain byte loop
    /// as the very function being defined and would turn it into a call to itself.
    ///
    /// # Safety
    /// As C's memcmp: `n` bytes valid at both.
    pub unsafe fn compare(a: *const u8, b: *const u8, n: usize) -> i32 {
        let mut i = 0;
        while i < n {
            // SAFETY: `i < n` and the caller guarantees `n` readable bytes at both.
            let (x, y) = unsafe { (a.add(i).read_volatile(), b.add(i).read_volatile()) };
            if x != y {
                return x as i32 - y as i32;
            }
            i += 1;
        }
        0
    }

    /// strlen.
    ///
    /// # Safety
    /// As C's strlen: `s` is NUL-terminated.
    pub unsafe fn length(s: *const u8) -> usize {
        let mut n = 0;
        // SAFETY: the caller guarantees a NUL before the end of readable memory.
        while unsafe { s.add(n).read_volatile() } != 0 {
            n += 1;
        }
        n
    }
}

/// Declares a program's entry point, panic handler, allocator and memory functions. Expand once,
/// at the root of a binary: `orbital_rt::program!("orbital", main);` where
/// `fn main(process: Process) -> i32`.
#[macro_export]
macro_rules! program {
    ($name:literal, $main:path) => {
        // The kernel starts the program here with argc at the top of the stack. The stack is
        // aligned before calling into Rust, as the ABI demands.
        core::arch::global_asm!(
            ".globl _start",
            "_start:",
            "    xor ebp, ebp",
            "    mov rdi, rsp",
            "    and rsp, -16",
            "    call {entry}",
            "    ud2",
            entry = sym __orbital_entry,
        );

        extern "C" fn __orbital_entry(sp: *const usize) -> ! {
            // SAFETY: `_start` passes the kernel's initial stack pointer.
            unsafe { $crate::rt::start(sp, $main) }
        }

        #[panic_handler]
        fn __orbital_panic(info: &core::panic::PanicInfo) -> ! {
            $crate::rt::on_panic($name, info)
        }

        #[global_allocator]
        static __ORBITAL_ALLOC: $crate::rt::BumpAlloc = $crate::rt::BumpAlloc::new();

        #[no_mangle]
        unsafe extern "C" fn memcpy(d: *mut u8, s: *const u8, n: usize) -> *mut u8 {
            // SAFETY: the compiler calls memcpy with C's contract, which `copy` shares.
            unsafe { $crate::rt::mem::copy(d, s, n) }
        }

        #[no_mangle]
        unsafe extern "C" fn memmove(d: *mut u8, s: *const u8, n: usize) -> *mut u8 {
            // SAFETY: C's memmove contract, which `copy_overlapping` shares.
            unsafe { $crate::rt::mem::copy_overlapping(d, s, n) }
        }

        #[no_mangle]
        unsafe extern "C" fn memset(d: *mut u8, c: i32, n: usize) -> *mut u8 {
            // SAFETY: C's memset contract, which `fill` shares.
            unsafe { $crate::rt::mem::fill(d, c, n) }
        }

        #[no_mangle]
        unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
            // SAFETY: C's memcmp contract, which `compare` shares.
            unsafe { $crate::rt::mem::compare(a, b, n) }
        }

        #[no_mangle]
        unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
            // SAFETY: C's bcmp contract, a weaker memcmp.
            unsafe { $crate::rt::mem::compare(a, b, n) }
        }

        // Unoptimised builds link the precompiled `alloc`, which names the unwinder's personality
        // routine even though nothing here unwinds (panics abort).
        #[no_mangle]
        extern "C" fn rust_eh_personality() {}

        #[no_mangle]
        unsafe extern "C" fn strlen(s: *const u8) -> usize {
            // SAFETY: C's strlen contract, which `length` shares.
            unsafe { $crate::rt::mem::length(s) }
        }
    };
}

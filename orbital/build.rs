//! Links the program without a C library: no crt start files, no libc, fully static.
use std::{env, fs, path::PathBuf};

/// Added to the linker's own layout: drops the unwind tables. Nothing unwinds (panics abort),
/// and the tables are a sixth of the program.
const DISCARD_UNWIND_TABLES: &str =
    "SECTIONS { /DISCARD/ : { *(.eh_frame) *(.eh_frame_hdr) } } INSERT AFTER .text;\n";

fn main() {
    let script =
        PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("no-unwind.ld");
    fs::write(&script, DISCARD_UNWIND_TABLES).expect("write the linker script");
    println!("cargo:rustc-link-arg-bins=-Wl,-T,{}", script.display());
    for arg in [
        "-nostartfiles",
        "-nostdlib",
        "-static",
        "-no-pie",
        "-Wl,--gc-sections",
        "-Wl,--build-id=none",
    ] {
        println!("cargo:rustc-link-arg-bins={arg}");
    }
}

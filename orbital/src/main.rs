//! `orbital`: run a command in a container. The entry point only orchestrates: parse the
//! command line, pick the backend, run, exit with the status.
#![cfg_attr(target_os = "linux", no_std)]
#![cfg_attr(target_os = "linux", no_main)]

#[cfg(target_os = "linux")]
mod program {
    extern crate alloc;

    use alloc::vec::Vec;

    use orbital::backend;
    use orbital::cli::{self, Request};
    use orbital_rt::out::{Level, Log};
    use orbital_rt::rt::Process;
    use orbital_rt::status::ORBITAL_FAILED;
    use orbital_rt::{sys, Error};

    orbital_rt::program!("orbital", main);

    fn main(process: Process) -> i32 {
        let args: Vec<&[u8]> = process.args().skip(1).map(|a| a.to_bytes()).collect();
        let getenv = |name: &[u8]| process.var(name);
        let mut log = Log {
            prefix: "orbital",
            level: Level::Quiet,
        };
        let request = log_level(&process).and_then(|level| {
            log.level = level;
            cli::parse(&args, &getenv)
        });
        let opts = match request {
            Ok(Request::Help) => return print(cli::HELP),
            Ok(Request::RunHelp) => return print(cli::RUN_HELP),
            Ok(Request::Version) => {
                return print(concat!("orbital ", env!("CARGO_PKG_VERSION"), "\n"))
            }
            Ok(Request::Run(opts)) => opts,
            Ok(Request::Cleanup(parent)) => return cleanup(parent.as_deref(), &log),
            Err(err) => return fail(&log, &err),
        };
        if opts.verbose {
            log.level = log.level.max(Level::Debug);
        }

        let Some(backend) = backend::for_this_os() else {
            return fail(&log, &Error::refused("run", b"", "no backend for this OS"));
        };
        if let Some(mut line) = log.line(Level::Debug) {
            line.push("backend ")
                .push(backend.name())
                .push(", rootfs ")
                .push_bytes(&opts.rootfs);
            line.print();
        }
        match backend.run(&opts, &log) {
            Ok(status) => status,
            Err(err) => fail(&log, &err),
        }
    }

    /// `orbital cleanup`: each removal is printed as it happens; the count ends the output.
    fn cleanup(parent: Option<&[u8]>, log: &Log) -> i32 {
        let Some(backend) = backend::for_this_os() else {
            return fail(
                log,
                &Error::refused("cleanup", b"", "no backend for this OS"),
            );
        };
        match backend.cleanup(parent, log) {
            Ok(removed) => {
                let mut line = orbital_rt::out::Line::new();
                line.push("orbital: cleanup removed ")
                    .push_u64(removed as u64);
                line.push(if removed == 1 {
                    " leftover cgroup"
                } else {
                    " leftover cgroups"
                })
                .print();
                0
            }
            Err(err) => fail(log, &err),
        }
    }

    /// The level `ORBITAL_LOG` asks for; quiet when unset.
    fn log_level(process: &Process) -> orbital_rt::Result<Level> {
        match process.var(b"ORBITAL_LOG") {
            None => Ok(Level::Quiet),
            Some(name) => Level::from_name(name).ok_or_else(|| {
                Error::refused("ORBITAL_LOG", name, "unknown level; use debug or trace")
            }),
        }
    }

    fn print(text: &str) -> i32 {
        match sys::write_all(sys::STDOUT, text.as_bytes()) {
            Ok(()) => 0,
            Err(_) => ORBITAL_FAILED as i32,
        }
    }

    fn fail(log: &Log, err: &Error) -> i32 {
        log.error(err);
        ORBITAL_FAILED as i32
    }
}

/// Elsewhere orbital is an ordinary program that says why it cannot run containers. Written for
/// other systems, built and tested on Linux only.
#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!(
        "orbital: run: no backend for this OS ({})",
        std::env::consts::OS
    );
    std::process::exit(125);
}

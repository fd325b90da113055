//! The build products: two static programs that need nothing from the host at run time, and an
//! install step that places both side by side.

use std::path::Path;
use std::process::Command;

use orbital_tests::{bin_dir, TempDir};

fn file_says(path: &Path) -> String {
    let out = Command::new("file")
        .arg("-b")
        .arg(path)
        .output()
        .expect("run `file` (install it: apt-get install file)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn both_programs_are_statically_linked() {
    for name in ["orbital", "orbital-init"] {
        let description = file_says(&bin_dir().join(name));
        assert!(
            description.contains("statically linked"),
            "{name}: {description}"
        );
        assert!(
            !description.contains("dynamically"),
            "{name}: {description}"
        );
    }
}

#[test]
fn make_install_places_both_programs_under_destdir_and_prefix() {
    let staging = TempDir::new("install");
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let status = Command::new("make")
        .arg("-C")
        .arg(&workspace)
        .arg("--no-print-directory")
        .arg("install")
        .arg(format!("DESTDIR={}", staging.path().display()))
        .arg("PREFIX=/usr")
        .status()
        .expect("run make");
    assert!(status.success(), "make install failed: {status}");
    for name in ["orbital", "orbital-init"] {
        let installed = staging.path().join("usr/bin").join(name);
        let built = std::fs::read(bin_dir().join(name)).unwrap();
        assert_eq!(
            std::fs::read(&installed).unwrap(),
            built,
            "{}",
            installed.display()
        );
    }
}

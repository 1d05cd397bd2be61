//! Brings the front-end libraries declared in `package.json` into `assets/vendor/` so that
//! `cargo build` is the only command a user needs. `npm ci` runs only when a file is missing.

use std::path::Path;
use std::process::Command;

const VENDOR: &[(&str, &str)] = &[
    (
        "node_modules/htmx.org/dist/htmx.min.js",
        "assets/vendor/htmx.min.js",
    ),
    (
        "node_modules/sortablejs/Sortable.min.js",
        "assets/vendor/Sortable.min.js",
    ),
    ("node_modules/quill/dist/quill.js", "assets/vendor/quill.js"),
    (
        "node_modules/quill/dist/quill.snow.css",
        "assets/vendor/quill.snow.css",
    ),
];

fn main() {
    println!("cargo:rerun-if-changed=package.json");
    println!("cargo:rerun-if-changed=package-lock.json");
    println!("cargo:rerun-if-changed=assets");
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=locales");
    let missing_vendor = VENDOR.iter().any(|(_, dst)| !Path::new(dst).exists());
    if !missing_vendor {
        return;
    }
    let missing_modules = VENDOR.iter().any(|(src, _)| !Path::new(src).exists());
    if missing_modules {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--ignore-scripts"])
            .status();
        match status {
            Ok(s) if s.success() => {}
            Ok(s) => panic!(
                "`npm ci` failed ({s}); it installs htmx, SortableJS and Quill from the npm registry"
            ),
            Err(e) => panic!("could not run npm ({e}); install Node.js and npm, then build again"),
        }
    }
    if let Err(e) = std::fs::create_dir_all("assets/vendor") {
        panic!("cannot create assets/vendor: {e}");
    }
    for (src, dst) in VENDOR {
        if let Err(e) = std::fs::copy(src, dst) {
            panic!("cannot copy {src} to {dst}: {e}");
        }
    }
}

//! The house rule of ARCHITECTURE.md §3, checked on the source: domain files never import the web
//! layer (`actix_web`, `actix_multipart`, `askama`, `crate::web`). Domain files are every
//! `model.rs`, the shared lower layers (`common/`, `db/` but its `mod.rs`, which runs queries on
//! actix's blocking pool), and the ticket core, account and field-validation modules named below.

use std::path::{Path, PathBuf};

/// Files that hold domain code besides every `model.rs` and the lower layers.
const DOMAIN_FILES: &[&str] = &[
    "tenancy/organization.rs",
    "tenancy/service.rs",
    "tenancy/member.rs",
    "tenancy/user.rs",
    "fields/validate.rs",
    "tickets/mod.rs",
    "tickets/events.rs",
    "tickets/intake.rs",
    "tickets/lifecycle.rs",
];

/// What a domain file may not name.
const FORBIDDEN: &[&str] = &["actix_web", "actix_multipart", "askama", "crate::web"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn is_domain(rel: &str) -> bool {
    rel.ends_with("/model.rs")
        || rel.starts_with("common/")
        || (rel.starts_with("db/") && rel != "db/mod.rs")
        || DOMAIN_FILES.contains(&rel)
}

/// The forbidden names a file's code uses (comments are skipped; a `#[cfg(test)]` module at the
/// end may use anything).
fn violations(text: &str) -> Vec<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    code.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("//"))
        .flat_map(|l| {
            FORBIDDEN.iter().filter_map(move |f| {
                let hit = l.match_indices(f).any(|(i, _)| {
                    let after = l[i + f.len()..].chars().next();
                    let before = l[..i].chars().last();
                    !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
                        && !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                });
                hit.then(|| format!("{f} in `{l}`"))
            })
        })
        .collect()
}

#[test]
fn the_check_finds_web_imports() {
    assert_eq!(violations("use crate::web::FormErrors;\n").len(), 1);
    assert_eq!(violations("use actix_web::{HttpResponse, web};\n").len(), 1);
    assert!(violations("use crate::webhooks::Hook;\n// use crate::web::X;\n").is_empty());
    assert!(violations("fn a() {}\n#[cfg(test)]\nmod tests { use crate::web::X; }\n").is_empty());
}

#[test]
fn domain_files_never_import_the_web_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut checked = 0;
    let mut found = Vec::new();
    for path in files {
        let rel = path
            .strip_prefix(&src)
            .expect("under src")
            .to_string_lossy()
            .replace('\\', "/");
        if !is_domain(&rel) {
            continue;
        }
        checked += 1;
        let text = std::fs::read_to_string(&path).expect("read file");
        for v in violations(&text) {
            found.push(format!("{rel}: {v}"));
        }
    }
    assert!(checked >= 20, "only {checked} domain files found");
    assert!(
        found.is_empty(),
        "domain files import the web layer:\n{}",
        found.join("\n")
    );
}

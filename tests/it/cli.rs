//! The command line of ARCHITECTURE §2, run as the real binary against a fresh database.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::PASSWORD;

/// A data directory and database URL for one CLI test (a new PostgreSQL database when
/// `TEST_DATABASE_URL` is set).
struct CliEnv {
    dir: tempfile::TempDir,
    url: String,
    _pg: Option<crate::support::PgDatabase>,
}

impl CliEnv {
    fn new() -> CliEnv {
        let dir = tempfile::tempdir().unwrap();
        let pg = crate::support::PgDatabase::create();
        let url = match &pg {
            Some(db) => db.url.clone(),
            None => format!("sqlite://{}", dir.path().join("cli.db").display()),
        };
        CliEnv { dir, url, _pg: pg }
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_opencontact"))
            .args(args)
            .env("OPENCONTACT_DATABASE_URL", &self.url)
            .env("OPENCONTACT_DATA_DIR", self.dir.path())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        } else {
            drop(child.stdin.take());
        }
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

const SETUP: &[&str] = &[
    "setup",
    "--org-name",
    "Acme",
    "--service-id",
    "demo",
    "--service-name",
    "Demo",
    "--admin-login",
    "admin",
    "--admin-name",
    "Ada",
    "--admin-email",
    "admin@acme.test",
    "--password-stdin",
    "--language",
    "en",
];

#[test]
fn setup_org_and_service_commands() {
    let env = CliEnv::new();
    let (ok, out, err) = env.run(&["migrate"], None);
    assert!(ok, "{err}");
    assert!(out.contains("migrations applied"));

    // org id before setup: a clear error.
    let (ok, _, err) = env.run(&["org", "id"], None);
    assert!(!ok);
    assert!(err.contains("no organization yet"), "{err}");

    // A weak password is refused with the validation message.
    let (ok, _, err) = env.run(SETUP, Some("short\n"));
    assert!(!ok);
    assert!(err.contains("at least 10 characters"), "{err}");

    let (ok, out, err) = env.run(SETUP, Some(&format!("{PASSWORD}\n")));
    assert!(ok, "{err}");
    assert!(out.contains("organization created"));
    let (ok, _, err) = env.run(SETUP, Some(&format!("{PASSWORD}\n")));
    assert!(!ok, "setup runs once");
    assert!(err.contains("already set up"), "{err}");

    let (ok, id, _) = env.run(&["org", "id"], None);
    assert!(ok);
    let id = id.trim();
    assert_eq!(id.len(), 16);
    assert!(id.chars().all(|c| c.is_ascii_alphanumeric()));
    let (ok, key, _) = env.run(&["org", "key"], None);
    assert!(ok);
    let key = key.trim();
    assert_eq!(key.len(), 32);
    assert!(
        key.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );

    let (ok, skey, _) = env.run(&["service", "openapi", "enable", "demo"], None);
    assert!(ok);
    let skey = skey.trim().to_string();
    assert_eq!(skey.len(), 32);
    // Enabling again keeps the same key.
    let (_, again, _) = env.run(&["service", "openapi", "enable", "demo"], None);
    assert_eq!(again.trim(), skey);
    let (ok, _, err) = env.run(&["service", "openapi", "enable", "nosuch"], None);
    assert!(!ok);
    assert!(err.contains("no service"), "{err}");

    let (ok, out, err) = env.run(
        &[
            "admin",
            "create",
            "--login",
            "kim",
            "--name",
            "Kim",
            "--email",
            "kim@acme.test",
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(ok, "{err}");
    assert!(out.contains("kim"));
    let (ok, _, err) = env.run(
        &[
            "admin",
            "create",
            "--login",
            "kim",
            "--name",
            "Kim",
            "--email",
            "kim2@acme.test",
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(!ok);
    assert!(err.contains("already in use"), "{err}");
}

#[test]
fn bad_database_urls_are_refused() {
    let env = CliEnv::new();
    let out = Command::new(env!("CARGO_BIN_EXE_opencontact"))
        .args(["migrate", "--database-url", "mysql://localhost/x"])
        .env("OPENCONTACT_DATA_DIR", env.dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported database URL scheme"));
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["setup", "--help"],
        vec!["admin", "create", "--help"],
        vec!["org", "id", "--help"],
        vec!["org", "key", "--help"],
        vec!["service", "openapi", "enable", "--help"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_opencontact"))
            .args(&args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage"),
            "{args:?}"
        );
    }
}

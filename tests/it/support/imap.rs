//! A real IMAP server for the mail tests: Dovecot (Debian's `dovecot-imapd`).
//!
//! When `TEST_IMAP_ADDR` (`host:port`) is set — `.ci/run` starts one with `.ci/dovecot.sh start`
//! and exports it with `TEST_IMAP_PASSWORD` — the tests use that server. Otherwise the first
//! test that needs IMAP starts a private Dovecot with `.ci/dovecot.sh watch` on a free port
//! (its configuration and maildirs in a temporary directory); it ends when the test process
//! does. Without Dovecot the tests fail with the install instruction: they are never skipped.
//!
//! The server accepts any user name with the password, so each test signs in as its own user
//! and gets its own empty INBOX.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use futures_util::TryStreamExt;

/// Where the IMAP server is.
pub struct ImapServer {
    pub host: String,
    pub port: u16,
    pub password: String,
    _child: Option<Mutex<Child>>,
}

static SERVER: OnceLock<ImapServer> = OnceLock::new();

fn start_private() -> ImapServer {
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let password = format!("pw-{}", opencontact::crypto::random_hex(8));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/dovecot.sh");
    let mut child = Command::new("bash")
        .arg(script)
        .arg("watch")
        .arg(&dir)
        .arg(port.to_string())
        .arg(&password)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run .ci/dovecot.sh");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).ok();
    if line.trim() != "ready" {
        let status = child.wait().ok();
        panic!(
            "Dovecot did not start ({status:?}): install it with `apt-get install dovecot-imapd` \
             (the mail tests are never skipped), or point TEST_IMAP_ADDR and TEST_IMAP_PASSWORD \
             at a running server"
        );
    }
    ImapServer {
        host: "127.0.0.1".into(),
        port,
        password,
        _child: Some(Mutex::new(child)),
    }
}

/// The server (started on first use).
pub fn server() -> &'static ImapServer {
    SERVER.get_or_init(|| match std::env::var("TEST_IMAP_ADDR") {
        Ok(addr) if !addr.is_empty() => {
            let (host, port) = addr.rsplit_once(':').expect("TEST_IMAP_ADDR is host:port");
            ImapServer {
                host: host.to_string(),
                port: port.parse().expect("TEST_IMAP_ADDR port"),
                password: std::env::var("TEST_IMAP_PASSWORD")
                    .expect("TEST_IMAP_PASSWORD goes with TEST_IMAP_ADDR"),
                _child: None,
            }
        }
        _ => start_private(),
    })
}

/// One test's mailbox.
#[derive(Clone)]
pub struct Mailbox {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
}

/// A fresh, empty mailbox.
pub fn new_mailbox() -> Mailbox {
    let s = server();
    Mailbox {
        host: s.host.clone(),
        port: s.port,
        user: format!("t{}@test.local", opencontact::crypto::random_hex(6)),
        password: s.password.clone(),
    }
}

impl Mailbox {
    async fn session(&self) -> async_imap::Session<tokio::net::TcpStream> {
        let tcp = tokio::net::TcpStream::connect((self.host.as_str(), self.port))
            .await
            .expect("connect to IMAP");
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.expect("greeting");
        let mut s = client
            .login(&self.user, &self.password)
            .await
            .map_err(|(e, _)| e)
            .expect("IMAP login");
        s.select("INBOX").await.expect("select INBOX");
        s
    }

    /// Appends a raw message to INBOX over IMAP.
    pub async fn append(&self, raw: &[u8]) {
        let mut s = self.session().await;
        s.append("INBOX", None, None, raw).await.expect("APPEND");
        s.logout().await.ok();
    }

    /// The UIDs in INBOX.
    pub async fn uids(&self) -> Vec<u32> {
        let mut s = self.session().await;
        let exists = s.select("INBOX").await.expect("select").exists;
        if exists == 0 {
            s.logout().await.ok();
            return Vec::new();
        }
        let fetches: Vec<_> = s
            .uid_fetch("1:*", "(UID)")
            .await
            .expect("fetch")
            .try_collect()
            .await
            .expect("fetch");
        let mut uids: Vec<u32> = fetches.iter().filter_map(|f| f.uid).collect();
        uids.sort_unstable();
        s.logout().await.ok();
        uids
    }
}

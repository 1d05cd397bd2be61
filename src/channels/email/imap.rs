//! IMAP connections for the e-mail channel (SPEC §3.7) with `async-imap` on tokio: plain TCP
//! (SSL off) or TLS from the first byte (SSL on, usually port 993), then LOGIN with the account's
//! address and SELECT INBOX. Every step has its own timeout and its own failure ([`Stage`]), so
//! saving an account can say exactly what went wrong: the host name does not resolve, nothing
//! answers on the port, the TLS handshake fails, the server refuses the login, or the inbox
//! cannot be opened.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::TryStreamExt;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_native_tls::TlsStream;

use crate::i18n::{self, Lang};

/// Time allowed for the DNS lookup.
const DNS_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed for the TCP connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed for the TLS handshake.
const TLS_TIMEOUT: Duration = Duration::from_secs(15);
/// Time allowed for each IMAP command.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// The transport under the IMAP session: plain TCP or TLS.
#[derive(Debug)]
pub enum Stream {
    /// SSL off.
    Plain(TcpStream),
    /// SSL on.
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// A logged-in IMAP session.
pub type Session = async_imap::Session<Stream>;

/// Where to connect and how to sign in.
#[derive(Clone)]
pub struct Target {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// TLS from the first byte.
    pub ssl: bool,
    /// Login (the mail address).
    pub user: String,
    /// Password.
    pub password: String,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("ssl", &self.ssl)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// The step of a connection that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Resolving the host name.
    Dns,
    /// Opening the TCP connection.
    Connect,
    /// The TLS handshake.
    Tls,
    /// The server's greeting (it is not an IMAP server, or it closed the connection).
    Greeting,
    /// LOGIN.
    Login,
    /// SELECT INBOX.
    Select,
    /// A command after the inbox was opened (FETCH, STORE, EXPUNGE, IDLE).
    Command,
}

impl Stage {
    /// The code stored with a poll error and used in message keys.
    pub fn code(self) -> &'static str {
        match self {
            Stage::Dns => "dns",
            Stage::Connect => "connect",
            Stage::Tls => "tls",
            Stage::Greeting => "greeting",
            Stage::Login => "login",
            Stage::Select => "select",
            Stage::Command => "command",
        }
    }
}

/// A failed connection step with the underlying reason.
#[derive(Debug, Clone)]
pub struct Failure {
    /// Which step failed.
    pub stage: Stage,
    /// The reason, as the library or server gave it.
    pub detail: String,
}

impl Failure {
    fn new(stage: Stage, detail: impl fmt::Display) -> Failure {
        let detail: String = detail.to_string().chars().take(500).collect();
        Failure { stage, detail }
    }

    /// The translated explanation for an administrator.
    pub fn message(&self, lang: Lang, target: &Target) -> String {
        i18n::tf(
            lang,
            &format!("imap.fail.{}", self.stage.code()),
            &[
                ("host", &target.host),
                ("port", &target.port.to_string()),
                ("detail", &self.detail),
            ],
        )
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.stage.code(), self.detail)
    }
}

/// The state of INBOX when it was selected.
#[derive(Debug, Clone, Copy)]
pub struct InboxState {
    /// UIDVALIDITY (0 when the server sent none).
    pub uid_validity: u32,
    /// The UID the next message will get, if the server said.
    pub uid_next: Option<u32>,
    /// Number of messages.
    pub exists: u32,
}

/// An open session with INBOX selected.
pub struct Opened {
    /// The session.
    pub session: Session,
    /// INBOX as selected.
    pub inbox: InboxState,
    /// Whether the server offers IDLE.
    pub idle: bool,
    /// Whether the server offers UID EXPUNGE.
    pub uidplus: bool,
}

async fn timed<T, E: fmt::Display>(
    stage: Stage,
    limit: Duration,
    fut: impl Future<Output = Result<T, E>>,
) -> Result<T, Failure> {
    match tokio::time::timeout(limit, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(Failure::new(stage, e)),
        Err(_) => Err(Failure::new(
            stage,
            format!("no answer within {} seconds", limit.as_secs()),
        )),
    }
}

/// Resolves the host and opens the transport (TCP, then TLS when `ssl`).
async fn transport(target: &Target) -> Result<Stream, Failure> {
    let host = target.host.trim_matches(['[', ']']).to_string();
    let addrs: Vec<std::net::SocketAddr> = timed(
        Stage::Dns,
        DNS_TIMEOUT,
        tokio::net::lookup_host((host.as_str(), target.port)),
    )
    .await?
    .collect();
    if addrs.is_empty() {
        return Err(Failure::new(Stage::Dns, "the name has no address"));
    }
    let mut last = None;
    let mut tcp = None;
    for addr in addrs {
        match timed(Stage::Connect, CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
            Ok(s) => {
                tcp = Some(s);
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let tcp = match (tcp, last) {
        (Some(t), _) => t,
        (None, Some(e)) => return Err(e),
        (None, None) => return Err(Failure::new(Stage::Connect, "no address to connect to")),
    };
    if !target.ssl {
        return Ok(Stream::Plain(tcp));
    }
    let connector = tokio_native_tls::native_tls::TlsConnector::new()
        .map_err(|e| Failure::new(Stage::Tls, e))?;
    let connector = tokio_native_tls::TlsConnector::from(connector);
    let tls = timed(Stage::Tls, TLS_TIMEOUT, connector.connect(&host, tcp)).await?;
    Ok(Stream::Tls(Box::new(tls)))
}

/// Connects, signs in and selects INBOX.
pub async fn open(target: &Target) -> Result<Opened, Failure> {
    let stream = transport(target).await?;
    let mut client = async_imap::Client::new(stream);
    let greeting = timed(Stage::Greeting, COMMAND_TIMEOUT, client.read_response()).await?;
    match greeting {
        None => {
            return Err(Failure::new(
                Stage::Greeting,
                "the server closed the connection",
            ));
        }
        Some(resp) => {
            if let imap_proto_response::Response::Data {
                status: imap_proto_response::Status::Bye,
                ..
            } = resp.parsed()
            {
                return Err(Failure::new(Stage::Greeting, "the server said BYE"));
            }
        }
    }
    let login = tokio::time::timeout(
        COMMAND_TIMEOUT,
        client.login(&target.user, &target.password),
    )
    .await;
    let mut session = match login {
        Ok(Ok(s)) => s,
        Ok(Err((e, _))) => return Err(Failure::new(Stage::Login, e)),
        Err(_) => {
            return Err(Failure::new(
                Stage::Login,
                format!("no answer within {} seconds", COMMAND_TIMEOUT.as_secs()),
            ));
        }
    };
    let caps = timed(Stage::Login, COMMAND_TIMEOUT, session.capabilities()).await?;
    let idle = caps.has_str("IDLE");
    let uidplus = caps.has_str("UIDPLUS");
    let mailbox = timed(Stage::Select, COMMAND_TIMEOUT, session.select("INBOX")).await?;
    Ok(Opened {
        session,
        inbox: InboxState {
            uid_validity: mailbox.uid_validity.unwrap_or(0),
            uid_next: mailbox.uid_next,
            exists: mailbox.exists,
        },
        idle,
        uidplus,
    })
}

/// The UID of the newest message in the selected mailbox (0 when it is empty).
pub async fn newest_uid(opened: &mut Opened) -> Result<u32, Failure> {
    if let Some(next) = opened.inbox.uid_next {
        return Ok(next.saturating_sub(1));
    }
    if opened.inbox.exists == 0 {
        return Ok(0);
    }
    let fetches: Vec<async_imap::types::Fetch> = timed(Stage::Command, COMMAND_TIMEOUT, async {
        opened
            .session
            .uid_fetch("*", "(UID)")
            .await?
            .try_collect()
            .await
    })
    .await?;
    Ok(fetches.iter().filter_map(|f| f.uid).max().unwrap_or(0))
}

/// Verifies an account: connects, signs in, selects INBOX and logs out. Returns the inbox
/// state (for the account's starting point).
pub async fn verify(target: &Target) -> Result<(InboxState, u32), Failure> {
    let mut opened = open(target).await?;
    let newest = newest_uid(&mut opened).await?;
    let inbox = opened.inbox;
    let _ = tokio::time::timeout(Duration::from_secs(5), opened.session.logout()).await;
    Ok((inbox, newest))
}

/// Re-exported response types of the IMAP parser (for the greeting check).
mod imap_proto_response {
    pub use async_imap::imap_proto::{Response, Status};
}

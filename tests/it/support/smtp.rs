//! A real SMTP sink: a small SMTP server on 127.0.0.1 that accepts (or refuses) mail and keeps
//! what it received, so tests exercise lettre's actual SMTP exchange.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One received message.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

impl ReceivedMail {
    /// The parsed message.
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(self.data.as_bytes())
            .expect("parsable mail")
    }

    /// Subject.
    pub fn subject(&self) -> String {
        self.parsed().subject().unwrap_or_default().to_string()
    }

    /// Decoded plain-text body.
    pub fn text(&self) -> String {
        self.parsed()
            .body_text(0)
            .map(|t| t.to_string())
            .unwrap_or_default()
    }

    /// Decoded HTML body.
    pub fn html(&self) -> String {
        self.parsed()
            .body_html(0)
            .map(|t| t.to_string())
            .unwrap_or_default()
    }

    /// The first link in the text body that contains `needle`.
    pub fn link_containing(&self, needle: &str) -> Option<String> {
        self.text()
            .split_whitespace()
            .find(|w| w.starts_with("http") && w.contains(needle))
            .map(str::to_string)
    }
}

/// The sink.
#[derive(Clone)]
pub struct SmtpSink {
    pub port: u16,
    received: Arc<Mutex<Vec<ReceivedMail>>>,
    /// 0: accept; 554: refuse for good; 451: defer (try again later).
    refuse: Arc<Mutex<u16>>,
}

impl SmtpSink {
    /// Starts listening on an ephemeral port.
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind smtp sink");
        let port = listener.local_addr().expect("addr").port();
        let sink = SmtpSink {
            port,
            received: Arc::default(),
            refuse: Arc::default(),
        };
        let s2 = sink.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    break;
                };
                let s3 = s2.clone();
                tokio::spawn(async move { s3.session(stream).await });
            }
        });
        sink
    }

    /// Makes the sink refuse every message (554) until switched back.
    pub fn set_refuse(&self, refuse: bool) {
        *self.refuse.lock().unwrap() = if refuse { 554 } else { 0 };
    }

    /// Makes the sink defer every message (451, a temporary failure) until switched back.
    pub fn set_defer(&self, defer: bool) {
        *self.refuse.lock().unwrap() = if defer { 451 } else { 0 };
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<ReceivedMail> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (bounded) until at least `n` messages arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<ReceivedMail> {
        for _ in 0..100 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("expected {n} mails, got {}", self.received().len());
    }

    async fn session(&self, stream: tokio::net::TcpStream) {
        let (r, mut w) = stream.into_split();
        let mut lines = BufReader::new(r);
        let _ = w.write_all(b"220 sink.test ESMTP ready\r\n").await;
        let mut from = String::new();
        let mut to = Vec::new();
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            let cmd = line.trim_end().to_string();
            let upper = cmd.to_ascii_uppercase();
            let reply: &[u8] = if upper.starts_with("EHLO") {
                b"250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
            } else if upper.starts_with("HELO") {
                b"250 sink.test\r\n"
            } else if upper.starts_with("MAIL FROM:") {
                let code = *self.refuse.lock().unwrap();
                if code == 554 {
                    b"554 5.7.1 refused by test sink\r\n"
                } else if code == 451 {
                    b"451 4.3.0 try again later\r\n"
                } else {
                    from = cmd[10..].trim().trim_matches(['<', '>']).to_string();
                    to.clear();
                    b"250 OK\r\n"
                }
            } else if upper.starts_with("RCPT TO:") {
                to.push(cmd[8..].trim().trim_matches(['<', '>']).to_string());
                b"250 OK\r\n"
            } else if upper == "DATA" {
                let _ = w.write_all(b"354 end with .\r\n").await;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    let l = line.strip_prefix('.').unwrap_or(&line);
                    data.push_str(l);
                }
                self.received.lock().unwrap().push(ReceivedMail {
                    from: from.clone(),
                    to: to.clone(),
                    data,
                });
                b"250 OK queued\r\n"
            } else if upper == "QUIT" {
                let _ = w.write_all(b"221 bye\r\n").await;
                return;
            } else if upper == "RSET" || upper == "NOOP" {
                b"250 OK\r\n"
            } else {
                b"502 not implemented\r\n"
            };
            if w.write_all(reply).await.is_err() {
                return;
            }
        }
    }
}

//! Turns a raw inbound message into what a ticket needs, with `mail-parser` (full charset
//! support: EUC-KR, ISO-2022-JP, Shift_JIS, … and RFC 2047 encoded words in quoted-printable or
//! base64): sender, subject, Message-ID, the ids it answers, a sanitised HTML body, its
//! attachments, and whether it is an automatic message (auto-reply, bulk mail) or a bounce.
//!
//! Legacy mailers sometimes put raw 8-bit EUC-KR or Shift_JIS bytes in the Subject or From
//! header without encoded words; such a header is decoded with the charset of the message's
//! text part (or the one its bytes fit), not shown as replacement characters.
//!
//! HTML goes through `ammonia`: scripts, styles, event handlers, forms and `javascript:` URLs
//! are removed, links get `rel="noopener noreferrer nofollow"`, and images are dropped (remote
//! images in mail are mostly trackers; inline images arrive as attachments). A message without
//! an HTML part gets its text as escaped paragraphs.

use std::borrow::Cow;
use std::collections::HashSet;

use mail_parser::{HeaderValue, Message, MessageParser, MimeHeaders};
use sha2::{Digest, Sha256};

use crate::common::text::escape_html;
use crate::i18n::Lang;

/// Longest HTML or text body read (characters); longer bodies are cut before sanitising.
pub const MAX_BODY_CHARS: usize = 512 * 1024;
/// Most ids of In-Reply-To and References considered for threading.
const MAX_THREAD_IDS: usize = 30;
/// Longest id kept.
const MAX_ID_CHARS: usize = 250;

/// One attachment of a message.
#[derive(Debug, Clone)]
pub struct MailFile {
    /// File name (from the part, or made from its type).
    pub name: String,
    /// Decoded content.
    pub bytes: Vec<u8>,
}

/// What a message becomes.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// `<id>` from the Message-ID header, or one derived from the message's bytes.
    pub message_id: String,
    /// Sender address as written.
    pub from_address: String,
    /// Sender name (may be empty).
    pub from_name: String,
    /// Decoded subject (may be empty).
    pub subject: String,
    /// `<id>`s this message answers: In-Reply-To first, then References newest first.
    pub thread_ids: Vec<String>,
    /// Sanitised HTML body.
    pub body_html: String,
    /// Attachments (inline images included).
    pub files: Vec<MailFile>,
    /// Sent by a machine (auto-reply, out-of-office, bulk or list mail): never answered.
    pub automatic: bool,
    /// A delivery report (bounce) or another `multipart/report`.
    pub bounce: bool,
    /// The language the message is probably in (Content-Language or its charset).
    pub lang: Option<Lang>,
}

/// Why a message cannot become a ticket.
#[derive(Debug, Clone)]
pub struct Rejected {
    /// Reason code (`malformed`).
    pub reason: &'static str,
    /// Details for the administrator.
    pub detail: String,
    /// What could still be read, for the quarantine list.
    pub message_id: String,
    /// Sender, if readable.
    pub from_address: String,
    /// Subject, if readable.
    pub subject: String,
}

/// Removes NUL characters (PostgreSQL text cannot hold them) and trims.
pub fn clean_text(s: &str) -> String {
    s.replace('\0', "").trim().to_string()
}

/// Wraps an id in angle brackets (`<a@b>`), or `None` when it is not usable.
pub fn normalize_id(id: &str) -> Option<String> {
    let inner = id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    if inner.is_empty() || inner.len() > MAX_ID_CHARS || inner.chars().any(char::is_whitespace) {
        return None;
    }
    Some(format!("<{}>", clean_text(inner)))
}

/// The ids of a header holding one or more message ids.
fn ids_of(v: &HeaderValue<'_>) -> Vec<String> {
    let raw: Vec<String> = match v {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(l) => l.iter().map(|s| s.to_string()).collect(),
        _ => Vec::new(),
    };
    raw.iter()
        .flat_map(|s| {
            s.split(['<', '>', ' ', ',', '\t', '\r', '\n'])
                .filter(|p| p.contains('@'))
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter_map(|s| normalize_id(&s))
        .collect()
}

fn header_text<'a>(m: &'a Message<'_>, name: &str) -> Option<Cow<'a, str>> {
    m.header_raw(name)
        .map(|v| Cow::Owned(v.trim().to_ascii_lowercase()))
}

/// Whether a machine sent the message (RFC 3834 Auto-Submitted, the common X-Autoreply family,
/// Precedence bulk/junk/list/auto_reply, Exchange's suppression header, mailing lists).
pub fn is_automatic(m: &Message<'_>) -> bool {
    if let Some(v) = header_text(m, "Auto-Submitted")
        && !v.is_empty()
        && v.split(';').next().map(str::trim) != Some("no")
    {
        return true;
    }
    for h in [
        "X-Autoreply",
        "X-Autorespond",
        "X-Auto-Reply",
        "X-Autoresponse",
    ] {
        if m.header_raw(h).is_some() {
            return true;
        }
    }
    if let Some(v) = header_text(m, "Precedence")
        && matches!(v.as_ref(), "bulk" | "junk" | "list" | "auto_reply")
    {
        return true;
    }
    if let Some(v) = header_text(m, "X-Auto-Response-Suppress")
        && ["all", "oof", "autoreply"]
            .iter()
            .any(|k| v.split(',').any(|p| p.trim() == *k))
    {
        return true;
    }
    m.header_raw("List-Id").is_some() || m.header_raw("List-Unsubscribe").is_some()
}

/// Whether the message is a delivery report: from the mailer daemon or postmaster, or a
/// `multipart/report`.
pub fn is_bounce(m: &Message<'_>, from_address: &str) -> bool {
    let local = from_address
        .rsplit_once('@')
        .map(|(l, _)| l)
        .unwrap_or(from_address)
        .to_ascii_lowercase();
    if local == "mailer-daemon" || local == "postmaster" {
        return true;
    }
    m.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
    })
}

/// The charset of the first text part, if declared.
fn text_charset(m: &Message<'_>) -> Option<String> {
    m.text_bodies()
        .chain(m.html_bodies())
        .find_map(|p| p.content_type()?.attribute("charset").map(str::to_string))
        .map(|c| c.to_ascii_lowercase())
}

fn lang_of(m: &Message<'_>, charset: Option<&str>) -> Option<Lang> {
    let declared = match m.content_language() {
        HeaderValue::Text(t) => Some(t.to_string()),
        HeaderValue::TextList(l) => l.first().map(|s| s.to_string()),
        _ => None,
    }
    .or_else(|| {
        m.text_bodies().find_map(|p| match p.content_language() {
            HeaderValue::Text(t) => Some(t.to_string()),
            HeaderValue::TextList(l) => l.first().map(|s| s.to_string()),
            _ => None,
        })
    });
    if let Some(code) = declared {
        let primary = code
            .trim()
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        if let Some(l) = Lang::parse(&primary) {
            return Some(l);
        }
    }
    match charset? {
        "euc-kr" | "ks_c_5601-1987" | "cp949" | "windows-949" | "iso-2022-kr" | "uhc" => {
            Some(Lang::Ko)
        }
        "iso-2022-jp" | "shift_jis" | "shift-jis" | "sjis" | "euc-jp" | "cp932" | "windows-31j" => {
            Some(Lang::Ja)
        }
        _ => None,
    }
}

/// Decodes raw header bytes that are not UTF-8: with the message's charset when it is a
/// legacy Korean or Japanese one, otherwise by trying EUC-KR and Shift_JIS without errors.
fn decode_legacy(bytes: &[u8], charset: Option<&str>) -> Option<String> {
    if std::str::from_utf8(bytes).is_ok() {
        return None;
    }
    if let Some(enc) = charset.and_then(|c| encoding_rs::Encoding::for_label(c.as_bytes()))
        && enc != encoding_rs::UTF_8
    {
        let (text, _, errors) = enc.decode(bytes);
        if !errors {
            return Some(text.into_owned());
        }
    }
    for enc in [
        encoding_rs::EUC_KR,
        encoding_rs::SHIFT_JIS,
        encoding_rs::EUC_JP,
    ] {
        let (text, _, errors) = enc.decode(bytes);
        if !errors {
            return Some(text.into_owned());
        }
    }
    None
}

/// The raw bytes of a header's value.
fn raw_header<'a>(m: &'a Message<'_>, name: &str) -> Option<&'a [u8]> {
    let raw = m.raw_message();
    m.headers()
        .iter()
        .find(|h| h.name().eq_ignore_ascii_case(name))
        .and_then(|h| raw.get(h.offset_start() as usize..h.offset_end() as usize))
}

/// The subject, with raw 8-bit legacy bytes decoded.
fn subject_of(m: &Message<'_>, charset: Option<&str>) -> String {
    let parsed = m.subject().unwrap_or("").to_string();
    if parsed.contains('\u{FFFD}')
        && let Some(raw) = raw_header(m, "Subject")
        && let Some(text) = decode_legacy(raw, charset)
    {
        return unfold(&text);
    }
    unfold(&parsed)
}

fn unfold(s: &str) -> String {
    s.split(['\r', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The sender's display name, with raw legacy bytes decoded.
fn from_name_of(m: &Message<'_>, parsed: &str, charset: Option<&str>) -> String {
    if parsed.contains('\u{FFFD}')
        && let Some(raw) = raw_header(m, "From")
        && let Some(text) = decode_legacy(raw, charset)
    {
        let name = text
            .split('<')
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches('"')
            .trim();
        return name.to_string();
    }
    parsed.to_string()
}

fn cut(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The HTML sanitiser for mail bodies.
pub fn sanitize_mail_html(html: &str) -> String {
    let mut b = ammonia::Builder::default();
    b.rm_tags(["img"]);
    b.add_clean_content_tags(["title", "head"]);
    b.url_schemes(HashSet::from(["http", "https", "mailto"]));
    b.link_rel(Some("noopener noreferrer nofollow"));
    b.clean(cut(html, MAX_BODY_CHARS)).to_string()
}

/// Plain text as escaped paragraphs.
pub fn text_to_html(text: &str) -> String {
    let text = cut(text, MAX_BODY_CHARS).replace("\r\n", "\n");
    text.split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            format!(
                "<p>{}</p>",
                escape_html(p.trim_matches('\n')).replace('\n', "<br>")
            )
        })
        .collect()
}

fn has_text(html: &str) -> bool {
    crate::common::text::html_to_text(html)
        .chars()
        .any(|c| !c.is_whitespace())
}

fn body_of(m: &Message<'_>) -> String {
    let html = m
        .html_bodies()
        .find(|p| p.is_text_html())
        .and_then(|p| p.text_contents())
        .map(sanitize_mail_html)
        .filter(|h| has_text(h));
    if let Some(h) = html {
        return clean_text(&h);
    }
    let text = m
        .text_bodies()
        .find(|p| p.is_text() && !p.is_text_html())
        .and_then(|p| p.text_contents())
        .unwrap_or("");
    clean_text(&text_to_html(text))
}

/// A file extension for a content type without a file name.
fn ext_for(ctype: &str, subtype: &str) -> &'static str {
    match (ctype, subtype) {
        ("image", "jpeg") | ("image", "jpg") => "jpg",
        ("image", "png") => "png",
        ("image", "gif") => "gif",
        ("image", "bmp") => "bmp",
        ("image", "tiff") => "tif",
        ("application", "pdf") => "pdf",
        ("application", "zip") => "zip",
        ("text", "plain") => "txt",
        ("message", "rfc822") => "eml",
        _ => "bin",
    }
}

/// The last path segment of a name, without control characters, at most 95 characters (the
/// extension kept).
fn safe_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let base: String = base.chars().filter(|c| !c.is_control()).collect();
    let base = base.trim().to_string();
    if base.chars().count() < 96 {
        return base;
    }
    match base.rsplit_once('.') {
        Some((stem, ext)) if ext.chars().count() <= 10 => {
            format!(
                "{}.{ext}",
                stem.chars()
                    .take(94 - ext.chars().count())
                    .collect::<String>()
            )
        }
        _ => base.chars().take(95).collect(),
    }
}

fn files_of(m: &Message<'_>) -> Vec<MailFile> {
    m.attachments()
        .enumerate()
        .map(|(i, p)| {
            let name = p.attachment_name().map(safe_name).unwrap_or_default();
            let name = if name.is_empty() {
                let (c, s) = p
                    .content_type()
                    .map(|ct| {
                        (
                            ct.ctype().to_ascii_lowercase(),
                            ct.subtype().unwrap_or("").to_ascii_lowercase(),
                        )
                    })
                    .unwrap_or_default();
                format!("attachment-{}.{}", i + 1, ext_for(&c, &s))
            } else {
                name
            };
            MailFile {
                name,
                bytes: p.contents().to_vec(),
            }
        })
        .collect()
}

/// An id derived from the message's bytes, for messages without a Message-ID (the same bytes
/// always give the same id, so a re-delivery is still recognised).
fn derived_id(raw: &[u8]) -> String {
    let digest = Sha256::digest(raw);
    format!("<{}@no-message-id.invalid>", hex::encode(&digest[..16]))
}

/// Parses a raw message.
pub fn decode(raw: &[u8]) -> Result<Decoded, Rejected> {
    let reject = |detail: &str, message_id: String, from: String, subject: String| Rejected {
        reason: "malformed",
        detail: detail.to_string(),
        message_id,
        from_address: from,
        subject,
    };
    let Some(m) = MessageParser::default().parse(raw) else {
        return Err(reject(
            "the message could not be parsed",
            derived_id(raw),
            String::new(),
            String::new(),
        ));
    };
    if m.headers().is_empty() {
        return Err(reject(
            "the message has no header",
            derived_id(raw),
            String::new(),
            String::new(),
        ));
    }
    let charset = text_charset(&m);
    let charset = charset.as_deref();
    let message_id = m
        .message_id()
        .and_then(normalize_id)
        .unwrap_or_else(|| derived_id(raw));
    let subject: String = clean_text(&subject_of(&m, charset))
        .chars()
        .take(500)
        .collect();
    let from = m.from().and_then(|a| a.first());
    let from_address = clean_text(from.and_then(|a| a.address()).unwrap_or(""));
    if !crate::tenancy::user::is_valid_email(&from_address) {
        let detail = if from_address.is_empty() {
            "the message has no sender address".to_string()
        } else {
            format!("the sender address {from_address:?} is not valid")
        };
        return Err(reject(&detail, message_id, from_address, subject));
    }
    let from_name = from_name_of(&m, from.and_then(|a| a.name()).unwrap_or(""), charset);
    let from_name: String = clean_text(&from_name).chars().take(100).collect();
    let mut thread_ids = ids_of(m.in_reply_to());
    let mut refs = ids_of(m.references());
    refs.reverse();
    for r in refs {
        if !thread_ids.contains(&r) {
            thread_ids.push(r);
        }
    }
    thread_ids.retain(|id| *id != message_id);
    thread_ids.truncate(MAX_THREAD_IDS);
    Ok(Decoded {
        automatic: is_automatic(&m),
        bounce: is_bounce(&m, &from_address),
        lang: lang_of(&m, charset),
        body_html: body_of(&m),
        files: files_of(&m),
        message_id,
        from_address,
        from_name,
        subject,
        thread_ids,
    })
}

/// The public ticket id in a subject's ` [#T…]` token, if any.
pub fn subject_token(subject: &str) -> Option<String> {
    let mut rest = subject;
    while let Some(i) = rest.find("[#T") {
        let after = &rest[i + 2..];
        if let Some(end) = after.find(']') {
            let id = &after[..end];
            let body = &id[1..];
            let stamp = body.len().saturating_sub(5);
            if (15..=22).contains(&body.len())
                && body.chars().all(|c| c.is_ascii_alphanumeric())
                && body[..stamp].chars().all(|c| c.is_ascii_digit())
            {
                return Some(id.to_string());
            }
        }
        rest = &rest[i + 3..];
    }
    None
}

/// A subject for a new ticket: ticket tokens and leading reply/forward markers removed.
pub fn clean_subject(subject: &str) -> String {
    let mut s = subject.to_string();
    while let Some(id) = subject_token(&s) {
        s = s
            .replace(&format!(" [#{id}]"), "")
            .replace(&format!("[#{id}]"), "");
    }
    let mut s = s.trim().to_string();
    const PREFIXES: &[&str] = &[
        "re:", "fw:", "fwd:", "aw:", "wg:", "답장:", "회신:", "전달:", "返信:", "転送:", "re：",
        "fw：", "答复:", "回复:",
    ];
    loop {
        let lower = s.to_lowercase();
        let Some(p) = PREFIXES.iter().find(|p| lower.starts_with(*p)) else {
            break;
        };
        s = s[p.len()..].trim_start().to_string();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_normalised() {
        assert_eq!(normalize_id(" <a@b> ").as_deref(), Some("<a@b>"));
        assert_eq!(normalize_id("a@b").as_deref(), Some("<a@b>"));
        assert_eq!(normalize_id("<>"), None);
        assert_eq!(normalize_id("<a b@c>"), None);
    }

    #[test]
    fn subject_tokens_are_found_and_removed() {
        let s = "Re: Printer [#T1763769600000AbC12]";
        assert_eq!(subject_token(s).as_deref(), Some("T1763769600000AbC12"));
        assert_eq!(clean_subject(s), "Printer");
        assert_eq!(subject_token("[#T12] nothing"), None);
        assert_eq!(
            subject_token("x [#T1795314946279425uW]").as_deref(),
            Some("T1795314946279425uW"),
            "the random part may start with digits"
        );
        assert_eq!(clean_subject("RE: Fwd: 답장: 환불"), "환불");
    }

    #[test]
    fn plain_messages_decode() {
        let raw = b"From: =?UTF-8?B?7ZWc6rWt?= <kim@example.kr>\r\nSubject: =?EUC-KR?B?x9GxuSDIr7rS?=\r\nMessage-ID: <m1@example.kr>\r\nIn-Reply-To: <a@x>\r\nReferences: <r1@x> <a@x>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nline one\r\nline <two>\r\n";
        let d = decode(raw).expect("decodes");
        assert_eq!(d.from_address, "kim@example.kr");
        assert_eq!(d.from_name, "한국");
        assert_eq!(d.subject, "한국 환불");
        assert_eq!(d.message_id, "<m1@example.kr>");
        assert_eq!(d.thread_ids, vec!["<a@x>", "<r1@x>"]);
        assert_eq!(d.body_html, "<p>line one<br>line &lt;two&gt;</p>");
        assert!(!d.automatic && !d.bounce);
    }

    #[test]
    fn raw_legacy_subjects_decode_with_the_body_charset() {
        let (subject, _, _) = encoding_rs::EUC_KR.encode("주문 문의");
        let mut raw = b"From: a@example.kr\r\nSubject: ".to_vec();
        raw.extend_from_slice(&subject);
        raw.extend_from_slice(b"\r\nContent-Type: text/plain; charset=euc-kr\r\n\r\nx\r\n");
        let d = decode(&raw).expect("decodes");
        assert_eq!(d.subject, "주문 문의");
        assert_eq!(d.lang, Some(Lang::Ko));
    }

    #[test]
    fn html_is_sanitised() {
        let h = sanitize_mail_html(
            "<html><head><title>T</title><style>p{}</style></head><body><p onclick=\"x()\">Hi<script>alert(1)</script><img src=\"http://t/x.gif\"><a href=\"javascript:x\">l</a></p></body></html>",
        );
        assert!(!h.contains("script") && !h.contains("onclick") && !h.contains("img"));
        assert!(!h.contains("javascript") && !h.contains("<title>") && !h.contains('T'));
        assert!(h.contains("Hi"));
    }

    #[test]
    fn missing_senders_are_rejected() {
        let r = decode(b"Subject: x\r\n\r\nbody").unwrap_err();
        assert_eq!(r.reason, "malformed");
        assert!(r.message_id.ends_with("@no-message-id.invalid>"));
    }
}

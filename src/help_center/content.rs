//! What FAQ documents and notices share: the draft/published status, per-language titles and
//! bodies read from a form, rich-text bodies sanitised with `ammonia` before they are stored,
//! plain text pulled out of them for the search index, names stored as JSON per language
//! (categories, headings, tags), and minute-precision times in the service's time zone.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

use crate::agents::form::Pairs;
use crate::db::types::text_enum;
use crate::i18n::Lang;
use crate::services::model::Service;
use crate::web::FormErrors;

/// Longest title.
pub const MAX_TITLE: usize = 200;
/// Longest body (sanitised HTML, in characters).
pub const MAX_BODY: usize = 100_000;
/// Longest name of a heading, tag or template.
pub const MAX_NAME: usize = 50;

text_enum! {
    /// A document's publication state.
    DocStatus label "hc.status." {
        /// Saved, not public (agents write these).
        Draft => "draft",
        /// Public (administrators publish).
        Published => "published",
    }
}

/// Title and body in one language.
#[derive(Debug, Clone, Default)]
pub struct LangContent {
    /// Language code.
    pub lang: String,
    /// The language's own name (for labels).
    pub lang_name: String,
    /// Title (as typed).
    pub title: String,
    /// Body (sanitised HTML once validated).
    pub body: String,
}

/// The service's help-center languages, the default first.
pub fn service_langs(service: &Service) -> Vec<Lang> {
    let default = default_lang(service);
    let mut langs = vec![default];
    for l in service.languages() {
        if !langs.contains(&l) {
            langs.push(l);
        }
    }
    langs
}

/// The service's default help-center language.
pub fn default_lang(service: &Service) -> Lang {
    Lang::parse(&service.default_lang)
        .or_else(|| service.languages().first().copied())
        .unwrap_or_default()
}

/// Empty content slots, one per help-center language.
pub fn empty_contents(service: &Service) -> Vec<LangContent> {
    service_langs(service)
        .into_iter()
        .map(|l| LangContent {
            lang: l.code().into(),
            lang_name: l.native_name().into(),
            ..LangContent::default()
        })
        .collect()
}

/// Fills content slots from stored `(lang, title, body)` rows.
pub fn contents_from_rows(
    service: &Service,
    rows: &[(String, String, String)],
) -> Vec<LangContent> {
    let mut slots = empty_contents(service);
    for slot in &mut slots {
        if let Some((_, t, b)) = rows.iter().find(|(l, _, _)| *l == slot.lang) {
            slot.title = t.clone();
            slot.body = b.clone();
        }
    }
    slots
}

/// Reads `title_<lang>` / `body_<lang>` for every language, sanitises the bodies and checks
/// them: the default language needs a title and a body; another language needs a title when
/// it has a body; lengths are bounded. Returns the slots (with sanitised bodies).
pub fn read_contents(service: &Service, form: &Pairs, errors: &mut FormErrors) -> Vec<LangContent> {
    read(service, form, errors, true)
}

/// [`read_contents`] without required fields (notice templates may be partial).
pub fn read_contents_optional(
    service: &Service,
    form: &Pairs,
    errors: &mut FormErrors,
) -> Vec<LangContent> {
    read(service, form, errors, false)
}

fn read(
    service: &Service,
    form: &Pairs,
    errors: &mut FormErrors,
    required: bool,
) -> Vec<LangContent> {
    let mut slots = empty_contents(service);
    for (i, slot) in slots.iter_mut().enumerate() {
        let title_field = format!("title_{}", slot.lang);
        let body_field = format!("body_{}", slot.lang);
        slot.title = form.get(&title_field).trim().to_string();
        let raw = form.get(&body_field).replace("\r\n", "\n");
        slot.body = sanitize_html(&raw);
        let body_empty = html_to_text(&slot.body).trim().is_empty();
        if i == 0 && required {
            if slot.title.is_empty() {
                errors.add(&title_field, "validation.required");
            }
            if body_empty {
                errors.add(&body_field, "validation.required");
            }
        } else if i > 0 && slot.title.is_empty() && !body_empty {
            errors.add(&title_field, "hc.error.title_for_body");
        }
        if slot.title.chars().count() > MAX_TITLE {
            errors.add_with(
                &title_field,
                "validation.too_long",
                &[("max", &MAX_TITLE.to_string())],
            );
        }
        if raw.chars().count() > MAX_BODY || slot.body.chars().count() > MAX_BODY {
            errors.add_with(
                &body_field,
                "validation.too_long",
                &[("max", &MAX_BODY.to_string())],
            );
        }
        if body_empty {
            slot.body.clear();
        }
    }
    slots
}

/// The text indexed for search: every language's title and body.
pub fn search_source(contents: &[LangContent]) -> String {
    let mut s = String::new();
    for c in contents {
        s.push_str(&c.title);
        s.push('\n');
        s.push_str(&html_to_text(&c.body));
        s.push('\n');
    }
    s
}

/// Sanitises a rich-text body for storage. Text without any tag (typed into the plain textarea
/// when JavaScript is off) becomes escaped paragraphs; HTML goes through `ammonia`, which keeps
/// formatting, lists, tables and links (with `rel="noopener noreferrer"`) and drops scripts,
/// event handlers, styles and `javascript:` URLs. Only its output is ever rendered with `|safe`.
pub fn sanitize_html(input: &str) -> String {
    let input = input.trim();
    if input.is_empty() {
        return String::new();
    }
    if !input.contains('<') {
        return text_to_html(input);
    }
    let quill_classes: Vec<String> = ["center", "right", "justify"]
        .iter()
        .map(|a| format!("ql-align-{a}"))
        .chain((1..=8).map(|i| format!("ql-indent-{i}")))
        .collect();
    let classes: std::collections::HashSet<&str> =
        quill_classes.iter().map(String::as_str).collect();
    let mut builder = ammonia::Builder::default();
    builder.add_tags(["u", "s", "mark", "figure", "figcaption"]);
    for tag in ["p", "li", "h1", "h2", "h3", "h4", "blockquote", "pre"] {
        builder.add_allowed_classes(tag, classes.iter().copied());
    }
    builder.clean(input).to_string()
}

/// Plain text (a customer's message typed in a textarea) as escaped HTML paragraphs: blank
/// lines separate paragraphs, single line breaks become `<br>`. Markup in the text is shown,
/// never interpreted.
pub fn text_to_html(input: &str) -> String {
    input
        .trim()
        .replace("\r\n", "\n")
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| format!("<p>{}</p>", escape_html(p.trim()).replace('\n', "<br>")))
        .collect()
}

/// Escapes text for HTML.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The text of sanitised HTML: tags removed, block ends as line breaks, entities decoded.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    let mut tag = String::new();
    for c in html.chars() {
        if in_tag {
            if c == '>' {
                in_tag = false;
                let name = tag
                    .trim_start_matches('/')
                    .split(|c: char| c.is_whitespace() || c == '/')
                    .next()
                    .unwrap_or("")
                    .to_ascii_lowercase();
                if matches!(
                    name.as_str(),
                    "p" | "br"
                        | "li"
                        | "div"
                        | "h1"
                        | "h2"
                        | "h3"
                        | "h4"
                        | "tr"
                        | "td"
                        | "th"
                        | "pre"
                        | "blockquote"
                ) {
                    out.push('\n');
                }
                tag.clear();
            } else {
                tag.push(c);
            }
        } else if c == '<' {
            in_tag = true;
        } else {
            out.push(c);
        }
    }
    decode_entities(&out)
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let end = after.find(';').filter(|e| *e <= 10);
        let decoded = end.and_then(|e| {
            let name = &after[..e];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &after[e + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A short one-line excerpt of sanitised HTML.
pub fn excerpt(html: &str, max: usize) -> String {
    let text = html_to_text(html);
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > max {
        format!("{}…", one_line.chars().take(max).collect::<String>())
    } else {
        one_line
    }
}

/// Names per language, stored as a JSON object (`{"ko": "…", "en": "…"}`).
pub type Names = BTreeMap<String, String>;

/// Parses stored names (an unreadable value gives no names).
pub fn parse_names(json: &str) -> Names {
    serde_json::from_str(json).unwrap_or_default()
}

/// The name in `lang`, else in `fallback`, else any name.
pub fn pick_name(names: &Names, lang: Lang, fallback: Lang) -> String {
    names
        .get(lang.code())
        .filter(|s| !s.trim().is_empty())
        .or_else(|| names.get(fallback.code()).filter(|s| !s.trim().is_empty()))
        .or_else(|| names.values().find(|s| !s.trim().is_empty()))
        .cloned()
        .unwrap_or_default()
}

/// Name slots for a form: `(lang code, native name, value)` per help-center language.
pub fn name_slots(service: &Service, names: &Names) -> Vec<(String, String, String)> {
    service_langs(service)
        .into_iter()
        .map(|l| {
            (
                l.code().to_string(),
                l.native_name().to_string(),
                names.get(l.code()).cloned().unwrap_or_default(),
            )
        })
        .collect()
}

/// Reads `name_<lang>` fields: the default language is required, all are bounded.
pub fn read_names(service: &Service, form: &Pairs, errors: &mut FormErrors) -> Names {
    let mut names = Names::new();
    for (i, l) in service_langs(service).into_iter().enumerate() {
        let field = format!("name_{}", l.code());
        let v = form.get(&field).trim().to_string();
        if i == 0 && v.is_empty() {
            errors.add(&field, "validation.required");
        } else if v.chars().count() > MAX_NAME {
            errors.add_with(
                &field,
                "validation.too_long",
                &[("max", &MAX_NAME.to_string())],
            );
        }
        if !v.is_empty() {
            names.insert(l.code().to_string(), v);
        }
    }
    names
}

/// The service's time zone (UTC when the stored name is unknown).
pub fn service_tz(service: &Service) -> Tz {
    service.timezone.parse().unwrap_or(Tz::UTC)
}

/// A local time that could not be read or does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidTime;

/// Parses a minute-precision local time (`YYYY-MM-DDTHH:MM`, as `datetime-local` sends it) in
/// the service's time zone into UTC. `Ok(None)` for an empty value; `Err` for an invalid or
/// non-existent local time (a daylight-saving gap).
pub fn parse_local_minute(tz: Tz, s: &str) -> Result<Option<NaiveDateTime>, InvalidTime> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M"))
        .map_err(|_| InvalidTime)?;
    let local = tz
        .from_local_datetime(&naive)
        .earliest()
        .ok_or(InvalidTime)?;
    Ok(Some(local.naive_utc()))
}

/// A UTC time as the service's local `YYYY-MM-DDTHH:MM` (for `datetime-local` inputs).
pub fn local_input(tz: Tz, utc: NaiveDateTime) -> String {
    tz.from_utc_datetime(&utc)
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

/// A UTC time as the service's local `YYYY-MM-DD HH:MM`.
pub fn local_display(tz: Tz, utc: NaiveDateTime) -> String {
    tz.from_utc_datetime(&utc)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// A UTC time as the service's local date.
pub fn local_date(tz: Tz, utc: NaiveDateTime) -> String {
    tz.from_utc_datetime(&utc).format("%Y-%m-%d").to_string()
}

/// Checks a `YYYY-MM-DD` date.
pub fn parse_date(s: &str) -> Option<String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .ok()
        .map(|d| d.format("%Y-%m-%d").to_string())
}

/// Where a notice's display period stands at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// The start is still ahead (예약중).
    Reserved,
    /// Visible (진행중).
    InProgress,
    /// The end has passed (완료).
    Done,
}

impl Period {
    /// The state of a period at `now` (no start = started; no end = never ends).
    pub fn at(
        starts: Option<NaiveDateTime>,
        ends: Option<NaiveDateTime>,
        now: NaiveDateTime,
    ) -> Period {
        if starts.is_some_and(|s| s > now) {
            Period::Reserved
        } else if ends.is_some_and(|e| e <= now) {
            Period::Done
        } else {
            Period::InProgress
        }
    }

    /// The label key.
    pub fn label_key(self) -> &'static str {
        match self {
            Period::Reserved => "notice.period.reserved",
            Period::InProgress => "notice.period.in_progress",
            Period::Done => "notice.period.done",
        }
    }

    /// A CSS modifier.
    pub fn css(self) -> &'static str {
        match self {
            Period::Reserved => "reserved",
            Period::InProgress => "live",
            Period::Done => "done",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_and_handlers_are_removed() {
        let clean = sanitize_html(
            "<p onclick=\"x()\">Hi <script>alert(1)</script><a href=\"javascript:alert(1)\">x</a>\
             <a href=\"https://example.com\">ok</a></p><p class=\"ql-align-center evil\">c</p>",
        );
        assert!(!clean.contains("script"));
        assert!(!clean.contains("onclick"));
        assert!(!clean.contains("javascript"));
        assert!(clean.contains("href=\"https://example.com\""));
        assert!(clean.contains("class=\"ql-align-center\""));
    }

    #[test]
    fn plain_text_becomes_paragraphs() {
        assert_eq!(
            sanitize_html("a > b & c\nline\n\nnext"),
            "<p>a &gt; b &amp; c<br>line</p><p>next</p>"
        );
    }

    #[test]
    fn text_is_extracted_from_html() {
        let text = html_to_text("<p>Fish &amp; chips</p><p>&#54872;&nbsp;불</p>");
        assert_eq!(
            text.split_whitespace().collect::<Vec<_>>(),
            ["Fish", "&", "chips", "환", "불"]
        );
        assert!(text.contains("chips\n"));
    }

    #[test]
    fn periods_change_at_the_minute() {
        let t = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        let (start, end) = (Some(t("2026-01-01 10:00")), Some(t("2026-01-01 11:00")));
        assert_eq!(
            Period::at(start, end, t("2026-01-01 09:59")),
            Period::Reserved
        );
        assert_eq!(
            Period::at(start, end, t("2026-01-01 10:00")),
            Period::InProgress
        );
        assert_eq!(Period::at(start, end, t("2026-01-01 11:00")), Period::Done);
        assert_eq!(
            Period::at(None, None, t("2026-01-01 11:00")),
            Period::InProgress
        );
    }

    #[test]
    fn local_minutes_use_the_service_time_zone() {
        let seoul: Tz = "Asia/Seoul".parse().unwrap();
        let utc = parse_local_minute(seoul, "2026-03-01T09:30")
            .unwrap()
            .unwrap();
        assert_eq!(utc.format("%Y-%m-%d %H:%M").to_string(), "2026-03-01 00:30");
        assert_eq!(local_input(seoul, utc), "2026-03-01T09:30");
        assert!(parse_local_minute(seoul, "tomorrow").is_err());
        assert_eq!(parse_local_minute(seoul, ""), Ok(None));
    }
}

//! What FAQ documents and notices share: the draft/published status, per-language titles and
//! bodies read from a form (sanitised with [`sanitize_html`] before they are stored), the plain
//! text pulled out of them for the search index, and a notice's period.

use chrono::NaiveDateTime;

use crate::agents::form::Pairs;
use crate::common::text::{html_to_text, sanitize_html};
use crate::db::types::text_enum;
use crate::tenancy::service::{Service, service_langs};
use crate::web::FormErrors;

/// Longest title.
pub const MAX_TITLE: usize = 200;
/// Longest body (sanitised HTML, in characters).
pub const MAX_BODY: usize = 100_000;

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
}

//! Names per language, stored as one JSON object (categories, headings, tags, templates).

use std::collections::BTreeMap;

use crate::i18n::Lang;

/// Longest name of a heading, tag or template.
pub const MAX_NAME: usize = 50;

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

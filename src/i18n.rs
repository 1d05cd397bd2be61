//! UI translations. Message files live in `locales/*.toml`, one key per line with the three UI
//! languages side by side: `"login.title" = ["Sign in", "로그인", "ログイン"]` (en, ko, ja).
//! They are embedded in the binary and parsed once.

use std::collections::HashMap;
use std::sync::LazyLock;

/// A UI language.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum Lang {
    /// Korean.
    #[default]
    #[serde(rename = "ko")]
    Ko,
    /// English.
    #[serde(rename = "en")]
    En,
    /// Japanese.
    #[serde(rename = "ja")]
    Ja,
}

impl Lang {
    /// All supported languages, in switcher order.
    pub const ALL: [Lang; 3] = [Lang::Ko, Lang::En, Lang::Ja];

    /// The ISO code.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ko => "ko",
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }

    /// The language's own name, for switchers.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::Ko => "한국어",
            Lang::En => "English",
            Lang::Ja => "日本語",
        }
    }

    /// Parses `ko`, `en`, `ja` (also `ko-KR`, `en_US`, …).
    pub fn parse(s: &str) -> Option<Lang> {
        let base = s.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match base.as_str() {
            "ko" => Some(Lang::Ko),
            "en" => Some(Lang::En),
            "ja" => Some(Lang::Ja),
            _ => None,
        }
    }

    /// Picks the best supported language from an `Accept-Language` header.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("");
            let q = pieces
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|v| v.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            if let Some(lang) = Lang::parse(tag)
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l)
    }

    fn index(self) -> usize {
        match self {
            Lang::En => 0,
            Lang::Ko => 1,
            Lang::Ja => 2,
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(rust_embed::RustEmbed)]
#[folder = "locales/"]
#[include = "*.toml"]
struct LocaleFiles;

/// Parsed message catalogue: key → [en, ko, ja].
pub struct Catalogue {
    messages: HashMap<String, [String; 3]>,
}

impl Catalogue {
    /// Parses every embedded locale file. Errors name the file and key at fault.
    pub fn load() -> Result<Catalogue, String> {
        let mut messages = HashMap::new();
        let mut names: Vec<_> = LocaleFiles::iter().collect();
        names.sort();
        for name in names {
            let file = LocaleFiles::get(&name).ok_or_else(|| format!("{name}: missing"))?;
            let text = std::str::from_utf8(&file.data).map_err(|e| format!("{name}: {e}"))?;
            let table: toml::Table = toml::from_str(text).map_err(|e| format!("{name}: {e}"))?;
            for (key, value) in table {
                let arr = value
                    .as_array()
                    .ok_or_else(|| format!("{name}: {key} is not an array"))?;
                let strings: Vec<String> = arr
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect();
                if strings.len() != 3 || strings.iter().any(|s| s.trim().is_empty()) {
                    return Err(format!(
                        "{name}: {key} needs exactly three non-empty texts (en, ko, ja)"
                    ));
                }
                let triple: [String; 3] =
                    [strings[0].clone(), strings[1].clone(), strings[2].clone()];
                if messages.insert(key.clone(), triple).is_some() {
                    return Err(format!("{name}: {key} is defined twice"));
                }
            }
        }
        Ok(Catalogue { messages })
    }

    /// Whether the key exists.
    pub fn contains(&self, key: &str) -> bool {
        self.messages.contains_key(key)
    }

    /// All keys.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.messages.keys().map(String::as_str)
    }
}

static CATALOGUE: LazyLock<Catalogue> = LazyLock::new(|| match Catalogue::load() {
    Ok(c) => c,
    Err(e) => {
        tracing::error!("locale files are invalid: {e}");
        Catalogue {
            messages: HashMap::new(),
        }
    }
});

/// Translates `key` into `lang`; an unknown key is returned as itself (and a test forbids that).
pub fn t(lang: Lang, key: &str) -> String {
    match CATALOGUE.messages.get(key) {
        Some(texts) => texts[lang.index()].clone(),
        None => key.to_string(),
    }
}

/// Translates and substitutes `{name}` placeholders.
pub fn tf(lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
    let mut s = t(lang, key);
    for (name, value) in args {
        s = s.replace(&format!("{{{name}}}"), value);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_prefers_quality() {
        assert_eq!(
            Lang::from_accept_language("fr, ja;q=0.8, en;q=0.9"),
            Some(Lang::En)
        );
        assert_eq!(Lang::from_accept_language("ko-KR,ko;q=0.9"), Some(Lang::Ko));
        assert_eq!(Lang::from_accept_language("de"), None);
    }
}

//! Small helpers shared by the organization-management pages: form bodies with repeated keys
//! (checkbox groups), bounded text checks, and query strings for "next page" links.

use crate::common::text::url_encode;
use crate::web::FormErrors;

/// A url-encoded form body as ordered pairs, for forms with repeated keys such as checkbox
/// groups (`languages=ko&languages=en`), which serde's struct forms cannot express.
#[derive(Debug, Clone, Default)]
pub struct Pairs(pub Vec<(String, String)>);

impl Pairs {
    /// The first value of `key`, or an empty string.
    pub fn get(&self, key: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// Every value of `key`, in order.
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Whether `key` was sent (a ticked checkbox).
    pub fn has(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }
}

/// Checks an optional free text against a maximum length in characters.
pub fn check_max(errors: &mut FormErrors, field: &str, value: &str, max: usize) {
    if value.chars().count() > max {
        errors.add_with(field, "validation.too_long", &[("max", &max.to_string())]);
    }
}

/// Checks a required text: not blank, at most `max` characters.
pub fn check_required(errors: &mut FormErrors, field: &str, value: &str, max: usize) {
    if value.trim().is_empty() {
        errors.add(field, "validation.required");
    } else {
        check_max(errors, field, value, max);
    }
}

/// `?k=v&…` from the pairs whose value is not empty (an empty string when none is left).
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", url_encode(v)))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_skip_empty_values() {
        assert_eq!(query_string(&[("q", ""), ("after", "")]), "");
        assert_eq!(
            query_string(&[("q", "kim lee"), ("after", "7")]),
            "?q=kim+lee&after=7"
        );
    }

    #[test]
    fn pairs_keep_repeated_keys() {
        let p = Pairs(vec![
            ("languages".into(), "ko".into()),
            ("languages".into(), "en".into()),
            ("name".into(), "x".into()),
        ]);
        assert_eq!(p.all("languages"), ["ko", "en"]);
        assert_eq!(p.get("name"), "x");
        assert_eq!(p.get("nothing"), "");
        assert!(p.has("name") && !p.has("other"));
    }
}

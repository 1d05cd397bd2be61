//! Untranslated validation results. Domain code reports what is wrong with an input as
//! [`Violations`] (a message key and its arguments per field, no language); the web edge
//! translates them into the form's messages (`web::FormErrors::extend`), the Open API into its
//! envelope. The first violation reported for a field wins, as a form shows one message a field.
//!
//! Checks that add to a form the handler is already filling take `&mut dyn Report`: the handler
//! passes its `FormErrors` (which translates as it records), other callers a [`Violations`].

/// Where a check reports what is wrong with an input, without knowing the language.
pub trait Report {
    /// Reports `key` with `{name}` substitutions for `field`, unless the field already has one.
    fn add_with(&mut self, field: &str, key: &str, args: &[(&str, &str)]);
    /// Whether `field` has a report.
    fn has(&self, field: &str) -> bool;
    /// Whether nothing was reported.
    fn is_empty(&self) -> bool;
    /// Reports `key` for `field`, unless the field already has one.
    fn add(&mut self, field: &str, key: &str) {
        self.add_with(field, key, &[]);
    }
}

/// One field's problem: a message key of `locales/` and its `{name}` substitutions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The field (form input name).
    pub field: String,
    /// The message key.
    pub key: String,
    /// `{name}` substitutions for the message.
    pub args: Vec<(String, String)>,
}

/// The violations of one input, in the order they were found, at most one per field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Violations {
    items: Vec<Violation>,
}

impl Violations {
    /// No violation yet.
    pub fn new() -> Violations {
        Violations::default()
    }

    /// The violations in the order found.
    pub fn iter(&self) -> impl Iterator<Item = &Violation> {
        self.items.iter()
    }

    /// `Ok(value)` when nothing was reported, else the violations.
    pub fn into_result<T>(self, value: T) -> Result<T, Violations> {
        if self.items.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl Report for Violations {
    fn add_with(&mut self, field: &str, key: &str, args: &[(&str, &str)]) {
        if self.has(field) {
            return;
        }
        self.items.push(Violation {
            field: field.to_string(),
            key: key.to_string(),
            args: args
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
        });
    }

    fn has(&self, field: &str) -> bool {
        self.items.iter().any(|v| v.field == field)
    }

    fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_violation_of_a_field_wins() {
        let mut v = Violations::new();
        assert!(v.is_empty());
        v.add("name", "validation.required");
        v.add_with("name", "validation.too_long", &[("max", "50")]);
        v.add_with("url", "validation.too_long", &[("max", "200")]);
        let found: Vec<_> = v
            .iter()
            .map(|x| (x.field.as_str(), x.key.as_str()))
            .collect();
        assert_eq!(
            found,
            vec![
                ("name", "validation.required"),
                ("url", "validation.too_long")
            ]
        );
        assert!(v.has("url") && !v.has("other"));
        assert_eq!(v.clone().into_result(1), Err(v));
    }
}

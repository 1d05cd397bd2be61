//! The add/edit form of a field: what it shows ([`FieldForm`]), reading the submitted pairs back
//! into it, and checking it into a [`FieldInput`] with inline messages. The form repeats fields
//! (one `opt_value` and one `opt_label_<lang>` per option row, in order), so it is read as
//! ordered pairs.

use crate::agents::form::Pairs;
use crate::fields::model::{
    AgentPermission, Audience, Control, FieldDef, FieldInput, FieldOption, MAX_DEFAULT, MAX_HELP,
    MAX_LABEL, MAX_OPTION_LABEL, MAX_OPTION_VALUE, MAX_OPTIONS, MAX_PLACEHOLDER, SystemField,
    Texts,
};
use crate::fields::validate::{FieldError, RawValue, StoredValue, validate};
use crate::i18n::Lang;
use crate::web::FormErrors;

/// Blank option rows offered below the existing ones.
const BLANK_OPTION_ROWS: usize = 3;

/// The texts of one language on the form.
#[derive(Debug, Clone)]
pub struct LangTexts {
    /// Language code (input name suffix).
    pub code: &'static str,
    /// The language's own name.
    pub name: &'static str,
    /// Label.
    pub label: String,
    /// Help text.
    pub help: String,
    /// Placeholder.
    pub placeholder: String,
}

/// One option row: the value and a label per language (same order as [`FieldForm::texts`]).
#[derive(Debug, Clone)]
pub struct OptionRow {
    /// Value.
    pub value: String,
    /// `(language code, label)` pairs.
    pub labels: Vec<(&'static str, String)>,
}

/// The field form as shown (and as typed, when it comes back with errors).
#[derive(Debug, Clone)]
pub struct FieldForm {
    /// Customer or agent field.
    pub audience: Audience,
    /// Control type.
    pub control: Control,
    /// The system field, if editing one.
    pub system: Option<SystemField>,
    /// Code.
    pub code: String,
    /// Per-language texts, in the service's language order.
    pub texts: Vec<LangTexts>,
    /// Maximum length as typed.
    pub max_length: String,
    /// Default value as typed (checkbox: comma-separated values; periods: `from ~ to`).
    pub default_value: String,
    /// Required.
    pub required: bool,
    /// Personal data.
    pub personal: bool,
    /// Visible.
    pub visible: bool,
    /// `admin` or `agent`.
    pub agent_permission: String,
    /// Option rows (existing ones plus blanks).
    pub options: Vec<OptionRow>,
    /// New customer fields: also append to the default layout.
    pub add_to_default: bool,
}

impl FieldForm {
    /// A blank form for a new field.
    pub fn blank(audience: Audience, control: Control, langs: &[Lang]) -> FieldForm {
        let max_length = match control {
            Control::Text => "200",
            Control::Textarea => "2000",
            _ => "0",
        };
        let mut form = FieldForm {
            audience,
            control,
            system: None,
            code: String::new(),
            texts: langs
                .iter()
                .map(|l| LangTexts {
                    code: l.code(),
                    name: l.native_name(),
                    label: String::new(),
                    help: String::new(),
                    placeholder: String::new(),
                })
                .collect(),
            max_length: max_length.into(),
            default_value: String::new(),
            required: false,
            personal: false,
            visible: true,
            agent_permission: AgentPermission::Agent.as_str().into(),
            options: Vec::new(),
            add_to_default: audience == Audience::Customer,
        };
        form.pad_options(langs);
        form
    }

    /// The form filled from a stored field.
    pub fn from_field(f: &FieldDef, langs: &[Lang]) -> FieldForm {
        let mut form = FieldForm {
            audience: f.audience,
            control: f.control,
            system: f.system,
            code: f.code.clone(),
            texts: langs
                .iter()
                .map(|l| LangTexts {
                    code: l.code(),
                    name: l.native_name(),
                    label: f.labels.get(*l).unwrap_or("").to_string(),
                    help: f.help.get(*l).unwrap_or("").to_string(),
                    placeholder: f.placeholders.get(*l).unwrap_or("").to_string(),
                })
                .collect(),
            max_length: f.max_length.to_string(),
            default_value: default_for_display(f.control, &f.default_value),
            required: f.required,
            personal: f.personal,
            visible: f.visible,
            agent_permission: f.agent_permission.as_str().into(),
            options: f
                .options
                .iter()
                .map(|o| OptionRow {
                    value: o.value.clone(),
                    labels: langs
                        .iter()
                        .map(|l| (l.code(), o.labels.get(*l).unwrap_or("").to_string()))
                        .collect(),
                })
                .collect(),
            add_to_default: false,
        };
        form.pad_options(langs);
        form
    }

    /// Reads a submitted form. `audience`, `control` and `system` come from the server (the
    /// stored field, or the new-field page), never from the request.
    pub fn from_pairs(
        p: &Pairs,
        audience: Audience,
        control: Control,
        system: Option<SystemField>,
        langs: &[Lang],
    ) -> FieldForm {
        let values = |name: &str| -> Vec<String> {
            p.0.iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .take(MAX_OPTIONS + BLANK_OPTION_ROWS + 50)
                .collect()
        };
        let opt_values = values("opt_value");
        let opt_labels: Vec<(&'static str, Vec<String>)> = langs
            .iter()
            .map(|l| (l.code(), values(&format!("opt_label_{}", l.code()))))
            .collect();
        let options = opt_values
            .iter()
            .enumerate()
            .map(|(i, v)| OptionRow {
                value: v.clone(),
                labels: opt_labels
                    .iter()
                    .map(|(code, list)| (*code, list.get(i).cloned().unwrap_or_default()))
                    .collect(),
            })
            .collect();
        let mut form = FieldForm {
            audience,
            control,
            system,
            code: p.get("code").trim().to_string(),
            texts: langs
                .iter()
                .map(|l| LangTexts {
                    code: l.code(),
                    name: l.native_name(),
                    label: p.get(&format!("label_{}", l.code())).trim().to_string(),
                    help: p.get(&format!("help_{}", l.code())).trim().to_string(),
                    placeholder: p
                        .get(&format!("placeholder_{}", l.code()))
                        .trim()
                        .to_string(),
                })
                .collect(),
            max_length: p.get("max_length").trim().to_string(),
            default_value: p.get("default_value").trim().to_string(),
            required: p.checked("required"),
            personal: p.checked("personal"),
            visible: p.checked("visible"),
            agent_permission: p.get("agent_permission").trim().to_string(),
            options,
            add_to_default: p.checked("add_to_default"),
        };
        form.options.retain(|o| {
            !o.value.trim().is_empty() || o.labels.iter().any(|(_, l)| !l.trim().is_empty())
        });
        form.pad_options(langs);
        form
    }

    fn pad_options(&mut self, langs: &[Lang]) {
        if !self.control.has_options() || self.system.is_some() {
            return;
        }
        let blanks = if self.options.is_empty() {
            BLANK_OPTION_ROWS + 2
        } else {
            BLANK_OPTION_ROWS
        };
        for _ in 0..blanks {
            self.options.push(OptionRow {
                value: String::new(),
                labels: langs.iter().map(|l| (l.code(), String::new())).collect(),
            });
        }
    }

    /// Whether the maximum-length input is shown.
    pub fn shows_max_length(&self) -> bool {
        self.control.has_max_length()
    }

    /// Whether the option rows are edited.
    pub fn edits_options(&self) -> bool {
        self.control.has_options() && self.system.is_none_or(SystemField::options_editable)
    }

    /// Whether the placeholder inputs are shown.
    pub fn shows_placeholder(&self) -> bool {
        self.control.has_placeholder()
    }

    /// Whether the default-value input is shown.
    pub fn shows_default(&self) -> bool {
        match self.system {
            Some(s) => s.default_editable(),
            None => self.control.has_default(),
        }
    }

    /// Whether "required" is fixed on.
    pub fn required_locked(&self) -> bool {
        self.system.is_some_and(SystemField::required_locked)
    }

    /// Whether "visible" is fixed on.
    pub fn visible_locked(&self) -> bool {
        self.system.is_some_and(SystemField::visible_locked)
    }

    /// Whether the personal-data box can be changed.
    pub fn personal_editable(&self) -> bool {
        match self.system {
            Some(s) => s.personal_editable(),
            None => self.control.may_be_personal(),
        }
    }

    /// Whether this is an agent field (permission level shown).
    pub fn is_agent_field(&self) -> bool {
        self.audience == Audience::Agent
    }

    /// The i18n key of the hint under the default value.
    pub fn default_hint_key(&self) -> &'static str {
        match self.control {
            Control::Checkbox => "field.default_hint_checkbox",
            Control::Dropdown | Control::Radio => "field.default_hint_choice",
            Control::Date => "field.default_hint_date",
            Control::Datetime => "field.default_hint_datetime",
            Control::DatePeriod => "field.default_hint_date_period",
            Control::DatetimePeriod => "field.default_hint_datetime_period",
            _ => "field.default_hint_text",
        }
    }

    /// Whether the default value is edited in a text area.
    pub fn default_is_multiline(&self) -> bool {
        self.control == Control::Textarea
    }

    /// Checks the form. `field` is the stored field when editing (its locks apply); `fallback`
    /// is the service's default language, whose label a custom field must have.
    pub fn check(
        &self,
        errors: &mut FormErrors,
        field: Option<&FieldDef>,
        langs: &[Lang],
        fallback: Lang,
    ) -> FieldInput {
        let mut input = FieldInput {
            code: self.code.clone(),
            ..FieldInput::default()
        };
        let system = field.and_then(|f| f.system);
        for (t, lang) in self.texts.iter().zip(langs) {
            check_len(errors, &format!("label_{}", t.code), &t.label, MAX_LABEL);
            check_len(errors, &format!("help_{}", t.code), &t.help, MAX_HELP);
            check_len(
                errors,
                &format!("placeholder_{}", t.code),
                &t.placeholder,
                MAX_PLACEHOLDER,
            );
            input.labels.set(*lang, &t.label);
            input.help.set(*lang, &t.help);
            if self.shows_placeholder() {
                input.placeholders.set(*lang, &t.placeholder);
            }
        }
        if system.is_none() {
            let must = if langs.contains(&fallback) {
                Some(fallback)
            } else {
                langs.first().copied()
            };
            if let Some(l) = must
                && input.labels.get(l).is_none()
            {
                errors.add(&format!("label_{}", l.code()), "field.label_required");
            }
        }

        // Maximum length.
        if self.shows_max_length() {
            let (allow_unlimited, largest) = match system {
                Some(s) => s.max_length_bounds(),
                None => (true, crate::fields::model::MAX_MAX_LENGTH),
            };
            match self.max_length.parse::<i32>() {
                Ok(n) if n == 0 && allow_unlimited => input.max_length = 0,
                Ok(n) if (1..=largest).contains(&n) => input.max_length = n,
                _ => {
                    let min = if allow_unlimited { "0" } else { "1" };
                    errors.add_with(
                        "max_length",
                        "field.max_length_range",
                        &[("min", min), ("max", &largest.to_string())],
                    );
                }
            }
        } else {
            input.max_length = field.map_or(0, |f| f.max_length);
        }

        // Options.
        if self.edits_options() {
            input.options = self.check_options(errors, langs);
        } else if let Some(f) = field {
            input.options = f.options.clone();
        }

        input.required = self.required || self.required_locked();
        input.visible = self.visible || self.visible_locked();
        input.personal = if self.personal_editable() {
            self.personal
        } else {
            field.is_some_and(|f| f.personal)
        };
        input.agent_permission = if self.audience == Audience::Agent {
            match AgentPermission::parse(&self.agent_permission) {
                Some(p) => p,
                None => {
                    errors.add("agent_permission", "field.permission_invalid");
                    AgentPermission::Agent
                }
            }
        } else {
            AgentPermission::Agent
        };

        // Default value: validated like a submitted value of the field being defined.
        if self.shows_default() && !self.default_value.is_empty() {
            if self.default_value.chars().count() > MAX_DEFAULT {
                errors.add_with(
                    "default_value",
                    "validation.too_long",
                    &[("max", &MAX_DEFAULT.to_string())],
                );
            } else {
                let probe = FieldDef {
                    id: field.map_or(0, |f| f.id),
                    service_id: field.map_or(0, |f| f.service_id),
                    audience: self.audience,
                    code: self.code.clone(),
                    control: self.control,
                    system,
                    labels: Texts::default(),
                    help: Texts::default(),
                    placeholders: Texts::default(),
                    max_length: input.max_length,
                    options: input.options.clone(),
                    default_value: String::new(),
                    required: false,
                    personal: false,
                    visible: true,
                    agent_permission: AgentPermission::Agent,
                    position: 0,
                    deleted: false,
                };
                let raw = match self.control {
                    Control::Checkbox => RawValue::Many(
                        self.default_value
                            .split(',')
                            .map(|s| s.trim().to_string())
                            .collect(),
                    ),
                    _ => RawValue::Text(self.default_value.clone()),
                };
                match validate(&probe, &raw, fallback) {
                    Ok(v) => input.default_value = v.to_storage(),
                    Err(e) => {
                        let max = match e {
                            FieldError::TooLong { max } | FieldError::TooManyFiles { max } => {
                                max.to_string()
                            }
                            _ => String::new(),
                        };
                        errors.add_with("default_value", e.message_key(), &[("max", &max)]);
                    }
                }
            }
        } else if !self.shows_default() {
            input.default_value = field.map_or_else(String::new, |f| f.default_value.clone());
        }
        input
    }

    fn check_options(&self, errors: &mut FormErrors, langs: &[Lang]) -> Vec<FieldOption> {
        let mut out: Vec<FieldOption> = Vec::new();
        let mut problem: Option<(&'static str, String)> = None;
        for (i, row) in self.options.iter().enumerate() {
            let value = row.value.trim();
            let has_label = row.labels.iter().any(|(_, l)| !l.trim().is_empty());
            if value.is_empty() {
                if has_label && problem.is_none() {
                    problem = Some(("field.option_value_required", (i + 1).to_string()));
                }
                continue;
            }
            if problem.is_none() {
                if value.chars().count() > MAX_OPTION_VALUE {
                    problem = Some(("field.option_value_too_long", (i + 1).to_string()));
                } else if value.contains(',') || value.chars().any(char::is_control) {
                    problem = Some(("field.option_value_chars", (i + 1).to_string()));
                } else if out
                    .iter()
                    .any(|o| o.value.to_lowercase() == value.to_lowercase())
                {
                    problem = Some(("field.option_duplicate", value.to_string()));
                } else if row
                    .labels
                    .iter()
                    .any(|(_, l)| l.trim().chars().count() > MAX_OPTION_LABEL)
                {
                    problem = Some(("field.option_label_too_long", (i + 1).to_string()));
                }
            }
            let mut labels = Texts::default();
            for ((_, text), lang) in row.labels.iter().zip(langs) {
                labels.set(*lang, text.trim());
            }
            out.push(FieldOption {
                value: value.to_string(),
                labels,
            });
        }
        if let Some((key, which)) = problem {
            errors.add_with(
                "options",
                key,
                &[("row", &which), ("max", &MAX_OPTION_VALUE.to_string())],
            );
        } else if out.is_empty() {
            errors.add("options", "field.options_required");
        } else if out.len() > MAX_OPTIONS {
            errors.add_with(
                "options",
                "field.too_many_options",
                &[("max", &MAX_OPTIONS.to_string())],
            );
        }
        out
    }
}

fn check_len(errors: &mut FormErrors, name: &str, value: &str, max: usize) {
    if value.chars().count() > max {
        errors.add_with(name, "validation.too_long", &[("max", &max.to_string())]);
    }
}

/// A stored default value as the form shows it.
fn default_for_display(control: Control, stored: &str) -> String {
    match StoredValue::from_storage(control, stored) {
        StoredValue::Empty => String::new(),
        StoredValue::Many(v) | StoredValue::Files(v) => v.join(", "),
        StoredValue::Period { from, to } => format!("{from} ~ {to}"),
        StoredValue::Bool(b) => b.to_string(),
        StoredValue::Text(s) => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[(&str, &str)]) -> Pairs {
        Pairs(
            v.iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
        )
    }

    #[test]
    fn option_rows_and_default_are_checked() {
        let langs = [Lang::En, Lang::Ko];
        let p = pairs(&[
            ("code", "device"),
            ("label_en", "Device"),
            ("label_ko", ""),
            ("opt_value", "ios"),
            ("opt_label_en", "iPhone"),
            ("opt_label_ko", "아이폰"),
            ("opt_value", ""),
            ("opt_label_en", ""),
            ("opt_label_ko", ""),
            ("opt_value", "pc"),
            ("opt_label_en", ""),
            ("opt_label_ko", ""),
            ("default_value", "pc"),
            ("required", "on"),
            ("visible", "on"),
        ]);
        let form = FieldForm::from_pairs(&p, Audience::Customer, Control::Dropdown, None, &langs);
        let mut errors = FormErrors::new(Lang::En);
        let input = form.check(&mut errors, None, &langs, Lang::En);
        assert!(errors.is_empty(), "{:?}", errors.all());
        assert_eq!(
            input
                .options
                .iter()
                .map(|o| o.value.as_str())
                .collect::<Vec<_>>(),
            ["ios", "pc"]
        );
        assert_eq!(input.options[0].labels.get(Lang::Ko), Some("아이폰"));
        assert_eq!(input.default_value, "pc");
        assert!(input.required && input.visible && !input.personal);

        let bad = pairs(&[
            ("label_en", "Device"),
            ("opt_value", "a"),
            ("opt_value", "A"),
            ("default_value", "zzz"),
        ]);
        let form = FieldForm::from_pairs(&bad, Audience::Customer, Control::Radio, None, &langs);
        let mut errors = FormErrors::new(Lang::En);
        form.check(&mut errors, None, &langs, Lang::En);
        assert!(errors.has("options") && errors.has("default_value"));
    }

    #[test]
    fn a_default_longer_than_the_field_says_by_how_much() {
        let langs = [Lang::En];
        let p = pairs(&[
            ("label_en", "Order"),
            ("max_length", "3"),
            ("default_value", "ABCD"),
        ]);
        let form = FieldForm::from_pairs(&p, Audience::Customer, Control::Text, None, &langs);
        let mut errors = FormErrors::new(Lang::En);
        form.check(&mut errors, None, &langs, Lang::En);
        assert_eq!(errors.get("default_value"), "Use at most 3 characters.");
    }

    #[test]
    fn label_in_default_language_is_required() {
        let langs = [Lang::Ko, Lang::En];
        let p = pairs(&[("label_en", "Only English"), ("max_length", "20")]);
        let form = FieldForm::from_pairs(&p, Audience::Customer, Control::Text, None, &langs);
        let mut errors = FormErrors::new(Lang::En);
        form.check(&mut errors, None, &langs, Lang::Ko);
        assert!(errors.has("label_ko"));
        let p = pairs(&[("label_ko", "주문"), ("max_length", "10001")]);
        let form = FieldForm::from_pairs(&p, Audience::Customer, Control::Text, None, &langs);
        let mut errors = FormErrors::new(Lang::En);
        form.check(&mut errors, None, &langs, Lang::Ko);
        assert!(errors.has("max_length") && !errors.has("label_ko"));
    }
}

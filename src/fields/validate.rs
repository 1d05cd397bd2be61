//! The one validator of field values, per control type, shared by the help-center inquiry form,
//! the console and the Open API so that all three accept the same values and report the same
//! error codes.
//!
//! [`validate`] takes what was submitted ([`RawValue`]: one text, several values, a period or
//! file references) and returns the canonical value to store ([`StoredValue`]) or a
//! [`FieldError`] with a stable [`FieldError::code`], an i18n message key for forms and the
//! Open API's `validate` word (`required`, `length`, `invalid`; API.md §1.6).
//!
//! Formats: dates `YYYY-MM-DD`; date-times `YYYY-MM-DD HH:MM` (a `T` separator and seconds are
//! accepted and dropped); periods `from ~ to` with from ≤ to; checkbox values are a list of
//! option values (a single string counts as one choice); consent is `true`/`false`.

use chrono::{NaiveDate, NaiveDateTime};

use crate::fields::model::{Control, FieldDef, SystemField};
use crate::i18n::{self, Lang};

/// The longest value any field accepts when its maximum length is `0` ("unlimited").
pub const UNLIMITED_CAP: usize = 20_000;
/// Most files one file field takes (SPEC §4.1).
pub const MAX_FILES: usize = 5;
/// Longest attachment reference.
pub const MAX_FILE_REF: usize = 64;
/// Longest phone number, in characters.
pub const MAX_PHONE: usize = 30;

/// A submitted value, before validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawValue {
    /// Nothing was sent.
    Missing,
    /// One text (text fields, single choices, dates, `true`/`false`, or a period written
    /// `from ~ to`).
    Text(String),
    /// Several values (checkbox choices).
    Many(Vec<String>),
    /// A period from two inputs.
    Period {
        /// Start.
        from: String,
        /// End.
        to: String,
    },
    /// Attachment references.
    Files(Vec<String>),
}

impl RawValue {
    /// One text.
    pub fn text(s: impl Into<String>) -> RawValue {
        RawValue::Text(s.into())
    }

    /// A value from an Open API JSON body (`userFields[].value`): a string, an array of strings
    /// or a boolean (API.md C-14, C-15). `null` is missing; numbers are read as text.
    pub fn from_json(v: &serde_json::Value) -> RawValue {
        match v {
            serde_json::Value::Null => RawValue::Missing,
            serde_json::Value::String(s) => RawValue::Text(s.clone()),
            serde_json::Value::Bool(b) => RawValue::Text(b.to_string()),
            serde_json::Value::Number(n) => RawValue::Text(n.to_string()),
            serde_json::Value::Array(items) => RawValue::Many(
                items
                    .iter()
                    .map(|i| match i {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect(),
            ),
            serde_json::Value::Object(_) => RawValue::Text(v.to_string()),
        }
    }
}

/// A valid value in canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredValue {
    /// Not filled in (an optional field).
    Empty,
    /// Text, a single choice's option value, a date (`YYYY-MM-DD`), a date-time
    /// (`YYYY-MM-DD HH:MM`) or a category id.
    Text(String),
    /// Checkbox choices (option values, in option order).
    Many(Vec<String>),
    /// A period (both ends in the control's format).
    Period {
        /// Start.
        from: String,
        /// End.
        to: String,
    },
    /// Consent.
    Bool(bool),
    /// Attachment references.
    Files(Vec<String>),
}

impl StoredValue {
    /// Whether nothing was filled in.
    pub fn is_empty(&self) -> bool {
        matches!(self, StoredValue::Empty)
    }

    /// The string kept in the database (before encryption for personal fields): text as is,
    /// lists as a JSON array, periods as `from ~ to`, consent as `true`/`false`.
    pub fn to_storage(&self) -> String {
        match self {
            StoredValue::Empty => String::new(),
            StoredValue::Text(s) => s.clone(),
            StoredValue::Many(v) | StoredValue::Files(v) => {
                serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
            }
            StoredValue::Period { from, to } => format!("{from} ~ {to}"),
            StoredValue::Bool(b) => b.to_string(),
        }
    }

    /// Reads a stored string back for a control type (the inverse of
    /// [`StoredValue::to_storage`]).
    pub fn from_storage(control: Control, s: &str) -> StoredValue {
        if s.is_empty() {
            return StoredValue::Empty;
        }
        match control {
            Control::Checkbox | Control::File => {
                let list: Vec<String> =
                    serde_json::from_str(s).unwrap_or_else(|_| vec![s.to_string()]);
                if control == Control::File {
                    StoredValue::Files(list)
                } else {
                    StoredValue::Many(list)
                }
            }
            Control::DatePeriod | Control::DatetimePeriod => match split_period(s) {
                Some((from, to)) => StoredValue::Period {
                    from: from.to_string(),
                    to: to.to_string(),
                },
                None => StoredValue::Text(s.to_string()),
            },
            Control::Agree => StoredValue::Bool(s == "true"),
            _ => StoredValue::Text(s.to_string()),
        }
    }

    /// Text for people: option labels instead of values, lists joined with commas.
    pub fn display(&self, field: &FieldDef, lang: Lang, fallback: Lang) -> String {
        let label = |v: &str| {
            field
                .option(v)
                .map_or_else(|| v.to_string(), |o| o.label(lang, fallback).to_string())
        };
        match self {
            StoredValue::Empty => String::new(),
            StoredValue::Text(s) if field.control.has_options() => label(s),
            StoredValue::Text(s) => s.clone(),
            StoredValue::Many(v) => v.iter().map(|s| label(s)).collect::<Vec<_>>().join(", "),
            StoredValue::Files(v) => v.join(", "),
            StoredValue::Period { from, to } => format!("{from} ~ {to}"),
            StoredValue::Bool(true) => i18n::t(lang, "field.value_yes"),
            StoredValue::Bool(false) => i18n::t(lang, "field.value_no"),
        }
    }
}

/// Why a value was refused. [`FieldError::code`] is stable (forms, logs, tests);
/// [`FieldError::api_validate`] is the Open API's coarser word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldError {
    /// A required field is empty.
    Required,
    /// Longer than the maximum length.
    TooLong {
        /// The limit, in characters.
        max: usize,
    },
    /// Not an e-mail address.
    InvalidEmail,
    /// Not a phone number.
    InvalidPhone,
    /// Not a `YYYY-MM-DD` date.
    InvalidDate,
    /// Not a `YYYY-MM-DD HH:MM` date-time.
    InvalidDatetime,
    /// A period with one end missing or the end before the start.
    InvalidPeriod,
    /// Not one of the field's options.
    InvalidOption,
    /// More files than allowed.
    TooManyFiles {
        /// The limit.
        max: usize,
    },
    /// A malformed attachment reference.
    InvalidFile,
    /// Consent is required and was not given.
    ConsentRequired,
    /// A value of the wrong shape (several values for a single-value field, a word that is not
    /// `true`/`false`, …).
    Invalid,
}

impl FieldError {
    /// The stable error code.
    pub fn code(self) -> &'static str {
        match self {
            FieldError::Required => "required",
            FieldError::TooLong { .. } => "too_long",
            FieldError::InvalidEmail => "invalid_email",
            FieldError::InvalidPhone => "invalid_phone",
            FieldError::InvalidDate => "invalid_date",
            FieldError::InvalidDatetime => "invalid_datetime",
            FieldError::InvalidPeriod => "invalid_period",
            FieldError::InvalidOption => "invalid_option",
            FieldError::TooManyFiles { .. } => "too_many_files",
            FieldError::InvalidFile => "invalid_file",
            FieldError::ConsentRequired => "consent_required",
            FieldError::Invalid => "invalid",
        }
    }

    /// The i18n key of the form message (`field.error.<code>`).
    pub fn message_key(self) -> &'static str {
        match self {
            FieldError::Required => "field.error.required",
            FieldError::TooLong { .. } => "field.error.too_long",
            FieldError::InvalidEmail => "field.error.invalid_email",
            FieldError::InvalidPhone => "field.error.invalid_phone",
            FieldError::InvalidDate => "field.error.invalid_date",
            FieldError::InvalidDatetime => "field.error.invalid_datetime",
            FieldError::InvalidPeriod => "field.error.invalid_period",
            FieldError::InvalidOption => "field.error.invalid_option",
            FieldError::TooManyFiles { .. } => "field.error.too_many_files",
            FieldError::InvalidFile => "field.error.invalid_file",
            FieldError::ConsentRequired => "field.error.consent_required",
            FieldError::Invalid => "field.error.invalid",
        }
    }

    /// The translated message (with `{max}` filled in).
    pub fn message(self, lang: Lang) -> String {
        match self {
            FieldError::TooLong { max } | FieldError::TooManyFiles { max } => {
                i18n::tf(lang, self.message_key(), &[("max", &max.to_string())])
            }
            _ => i18n::t(lang, self.message_key()),
        }
    }

    /// The Open API's `validate` word (API.md §1.6): `required` for a missing value (and a
    /// refused consent), `length` for a value too long, `invalid` for everything else.
    pub fn api_validate(self) -> &'static str {
        match self {
            FieldError::Required | FieldError::ConsentRequired => "required",
            FieldError::TooLong { .. } => "length",
            _ => "invalid",
        }
    }

    /// The Open API's message key: `validate.ticket.<code>.<validate>`.
    pub fn api_key(self, field_code: &str) -> String {
        format!("validate.ticket.{field_code}.{}", self.api_validate())
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl std::error::Error for FieldError {}

/// Validates one value against its field. `lang` is the language the form was shown in: a
/// choice may be given by its option value or by its label in that language.
///
/// The intake-type and resolution-type system fields take a category id; this checks its form,
/// and the caller checks that the category belongs to the right tree of the service.
pub fn validate(field: &FieldDef, raw: &RawValue, lang: Lang) -> Result<StoredValue, FieldError> {
    if matches!(
        field.system,
        Some(SystemField::IntakeType | SystemField::ResolutionType)
    ) {
        return category_ref(field, raw);
    }
    match field.control {
        Control::Text => text(field, raw, false),
        Control::Textarea => text(field, raw, true),
        Control::Dropdown | Control::Radio => single_choice(field, raw, lang),
        Control::Checkbox => multiple_choice(field, raw, lang),
        Control::Date => single(field, raw, |s| date(s).map(StoredValue::Text)),
        Control::Datetime => single(field, raw, |s| datetime(s).map(StoredValue::Text)),
        Control::DatePeriod => period(field, raw, date),
        Control::DatetimePeriod => period(field, raw, datetime),
        Control::Agree => agree(field, raw),
        Control::File => files(field, raw),
    }
}

/// The one text of a single-value field: `Ok(None)` when empty.
fn one_text(raw: &RawValue) -> Result<Option<&str>, FieldError> {
    let s = match raw {
        RawValue::Missing => return Ok(None),
        RawValue::Text(s) => s.as_str(),
        RawValue::Many(v) => match v.iter().filter(|s| !s.trim().is_empty()).count() {
            0 => return Ok(None),
            1 => v
                .iter()
                .find(|s| !s.trim().is_empty())
                .map_or("", String::as_str),
            _ => return Err(FieldError::Invalid),
        },
        RawValue::Period { .. } | RawValue::Files(_) => return Err(FieldError::Invalid),
    };
    let s = s.trim();
    Ok(if s.is_empty() { None } else { Some(s) })
}

fn empty_or_required(field: &FieldDef) -> Result<StoredValue, FieldError> {
    if field.required {
        Err(FieldError::Required)
    } else {
        Ok(StoredValue::Empty)
    }
}

fn single(
    field: &FieldDef,
    raw: &RawValue,
    parse: impl Fn(&str) -> Result<StoredValue, FieldError>,
) -> Result<StoredValue, FieldError> {
    match one_text(raw)? {
        None => empty_or_required(field),
        Some(s) => parse(s),
    }
}

/// Single-line text loses control characters (line breaks become spaces); long text keeps line
/// breaks and tabs, normalised to `\n`.
fn clean(s: &str, multiline: bool) -> String {
    let s = s.replace("\r\n", "\n").replace('\r', "\n");
    let cleaned: String = s
        .chars()
        .filter_map(|c| {
            if multiline && (c == '\n' || c == '\t') {
                Some(c)
            } else if c.is_control() {
                if c == '\n' || c == '\t' {
                    Some(' ')
                } else {
                    None
                }
            } else {
                Some(c)
            }
        })
        .collect();
    cleaned.trim().to_string()
}

fn text(field: &FieldDef, raw: &RawValue, multiline: bool) -> Result<StoredValue, FieldError> {
    let Some(s) = one_text(raw)? else {
        return empty_or_required(field);
    };
    let s = clean(s, multiline);
    if s.is_empty() {
        return empty_or_required(field);
    }
    let max = match usize::try_from(field.max_length) {
        Ok(0) | Err(_) => UNLIMITED_CAP,
        Ok(n) => n.min(UNLIMITED_CAP),
    };
    if s.chars().count() > max {
        return Err(FieldError::TooLong { max });
    }
    match field.system {
        Some(SystemField::Email) if !is_email(&s) => Err(FieldError::InvalidEmail),
        Some(SystemField::Phone) if !is_phone(&s) => Err(FieldError::InvalidPhone),
        _ => Ok(StoredValue::Text(s)),
    }
}

/// An e-mail address: one `@`, a dotted domain, no spaces, at most 254 characters.
pub fn is_email(s: &str) -> bool {
    crate::tenancy::user::is_valid_email(s)
}

/// A phone number: digits with optional `+` at the start, spaces, hyphens, dots and
/// parentheses; 4 to 20 digits; at most [`MAX_PHONE`] characters.
pub fn is_phone(s: &str) -> bool {
    if s.chars().count() > MAX_PHONE {
        return false;
    }
    let body = s.strip_prefix('+').unwrap_or(s);
    if !body
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')'))
    {
        return false;
    }
    let digits = body.chars().filter(char::is_ascii_digit).count();
    (4..=20).contains(&digits)
}

/// Resolves a submitted choice to an option value: the value itself, or the label in `lang`.
fn choose<'a>(field: &'a FieldDef, s: &str, lang: Lang) -> Option<&'a str> {
    field
        .options
        .iter()
        .find(|o| o.value == s)
        .or_else(|| {
            field
                .options
                .iter()
                .find(|o| o.labels.get(lang).is_some_and(|l| l == s))
        })
        .map(|o| o.value.as_str())
}

fn single_choice(field: &FieldDef, raw: &RawValue, lang: Lang) -> Result<StoredValue, FieldError> {
    let Some(s) = one_text(raw)? else {
        return empty_or_required(field);
    };
    choose(field, s, lang)
        .map(|v| StoredValue::Text(v.to_string()))
        .ok_or(FieldError::InvalidOption)
}

fn multiple_choice(
    field: &FieldDef,
    raw: &RawValue,
    lang: Lang,
) -> Result<StoredValue, FieldError> {
    let submitted: Vec<&str> = match raw {
        RawValue::Missing => Vec::new(),
        RawValue::Text(s) => vec![s.trim()],
        RawValue::Many(v) => v.iter().map(|s| s.trim()).collect(),
        RawValue::Period { .. } | RawValue::Files(_) => return Err(FieldError::Invalid),
    };
    let submitted: Vec<&str> = submitted.into_iter().filter(|s| !s.is_empty()).collect();
    if submitted.len() > field.options.len().max(1) * 2 {
        // Far more values than options: refuse rather than scan an unbounded list.
        return Err(FieldError::InvalidOption);
    }
    let mut chosen: Vec<&str> = Vec::new();
    for s in submitted {
        let v = choose(field, s, lang).ok_or(FieldError::InvalidOption)?;
        if !chosen.contains(&v) {
            chosen.push(v);
        }
    }
    if chosen.is_empty() {
        return empty_or_required(field);
    }
    // Canonical order: the options' order.
    let ordered: Vec<String> = field
        .options
        .iter()
        .filter(|o| chosen.contains(&o.value.as_str()))
        .map(|o| o.value.clone())
        .collect();
    Ok(StoredValue::Many(ordered))
}

/// Parses `YYYY-MM-DD` strictly (ten characters, a real calendar day).
pub fn date(s: &str) -> Result<String, FieldError> {
    let s = s.trim();
    let ok = s.len() == 10
        && s.as_bytes()[4] == b'-'
        && s.as_bytes()[7] == b'-'
        && NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok();
    if ok {
        Ok(s.to_string())
    } else {
        Err(FieldError::InvalidDate)
    }
}

/// Parses `YYYY-MM-DD HH:MM` (also `T` between date and time, and `:SS` seconds, which are
/// dropped) into `YYYY-MM-DD HH:MM`.
pub fn datetime(s: &str) -> Result<String, FieldError> {
    let s = s.trim();
    let (d, t) = s
        .split_once(' ')
        .or_else(|| s.split_once('T'))
        .ok_or(FieldError::InvalidDatetime)?;
    let d = date(d).map_err(|_| FieldError::InvalidDatetime)?;
    let t = t.trim();
    if !t.is_ascii() {
        return Err(FieldError::InvalidDatetime);
    }
    let hm = match t.len() {
        5 => t,
        8 if t.as_bytes()[5] == b':' && t[6..].bytes().all(|b| b.is_ascii_digit()) => &t[..5],
        _ => return Err(FieldError::InvalidDatetime),
    };
    let joined = format!("{d} {hm}");
    if hm.as_bytes()[2] == b':' && NaiveDateTime::parse_from_str(&joined, "%Y-%m-%d %H:%M").is_ok()
    {
        Ok(joined)
    } else {
        Err(FieldError::InvalidDatetime)
    }
}

/// Splits `from ~ to` (spaces around the tilde optional).
fn split_period(s: &str) -> Option<(&str, &str)> {
    let (a, b) = s.split_once('~')?;
    Some((a.trim(), b.trim()))
}

fn period(
    field: &FieldDef,
    raw: &RawValue,
    parse: fn(&str) -> Result<String, FieldError>,
) -> Result<StoredValue, FieldError> {
    let (from, to) = match raw {
        RawValue::Missing => ("", ""),
        RawValue::Period { from, to } => (from.trim(), to.trim()),
        RawValue::Text(s) if s.trim().is_empty() => ("", ""),
        RawValue::Text(s) => split_period(s).ok_or(FieldError::InvalidPeriod)?,
        RawValue::Many(v) if v.len() == 2 => (v[0].trim(), v[1].trim()),
        RawValue::Many(v) if v.iter().all(|s| s.trim().is_empty()) => ("", ""),
        RawValue::Many(_) | RawValue::Files(_) => return Err(FieldError::Invalid),
    };
    match (from.is_empty(), to.is_empty()) {
        (true, true) => return empty_or_required(field),
        (false, false) => {}
        _ => return Err(FieldError::InvalidPeriod),
    }
    let from = parse(from)?;
    let to = parse(to)?;
    // Both formats sort chronologically as text.
    if from > to {
        return Err(FieldError::InvalidPeriod);
    }
    Ok(StoredValue::Period { from, to })
}

fn agree(field: &FieldDef, raw: &RawValue) -> Result<StoredValue, FieldError> {
    let given = match one_text(raw)? {
        None => false,
        Some(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "on" | "1" | "yes" | "y" | "agree" => true,
            "false" | "off" | "0" | "no" | "n" => false,
            _ => return Err(FieldError::Invalid),
        },
    };
    if field.required && !given {
        Err(FieldError::ConsentRequired)
    } else {
        Ok(StoredValue::Bool(given))
    }
}

fn files(field: &FieldDef, raw: &RawValue) -> Result<StoredValue, FieldError> {
    let refs: Vec<&str> = match raw {
        RawValue::Missing => Vec::new(),
        RawValue::Files(v) | RawValue::Many(v) => v.iter().map(|s| s.trim()).collect(),
        RawValue::Text(s) => s.split(',').map(str::trim).collect(),
        RawValue::Period { .. } => return Err(FieldError::Invalid),
    };
    let refs: Vec<&str> = refs.into_iter().filter(|s| !s.is_empty()).collect();
    if refs.is_empty() {
        return empty_or_required(field);
    }
    if refs.len() > MAX_FILES {
        return Err(FieldError::TooManyFiles { max: MAX_FILES });
    }
    let mut out: Vec<String> = Vec::new();
    for r in refs {
        let ok = r.len() <= MAX_FILE_REF
            && r.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !ok {
            return Err(FieldError::InvalidFile);
        }
        if !out.iter().any(|o| o == r) {
            out.push(r.to_string());
        }
    }
    Ok(StoredValue::Files(out))
}

fn category_ref(field: &FieldDef, raw: &RawValue) -> Result<StoredValue, FieldError> {
    let Some(s) = one_text(raw)? else {
        return empty_or_required(field);
    };
    match s.parse::<i64>() {
        Ok(id) if id > 0 => Ok(StoredValue::Text(id.to_string())),
        _ => Err(FieldError::InvalidOption),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::model::{AgentPermission, Audience, FieldOption, SystemField, Texts};

    fn field(control: Control) -> FieldDef {
        FieldDef {
            id: 1,
            service_id: 1,
            audience: Audience::Customer,
            code: "f".into(),
            control,
            system: None,
            labels: Texts::default(),
            help: Texts::default(),
            placeholders: Texts::default(),
            max_length: 0,
            options: Vec::new(),
            default_value: String::new(),
            required: false,
            personal: false,
            visible: true,
            agent_permission: AgentPermission::Agent,
            position: 0,
            deleted: false,
        }
    }

    fn required(mut f: FieldDef) -> FieldDef {
        f.required = true;
        f
    }

    fn with_options(control: Control) -> FieldDef {
        let mut f = field(control);
        for (v, en, ko) in [
            ("ios", "iPhone", "아이폰"),
            ("android", "Android", "안드로이드"),
            ("pc", "PC", "PC"),
        ] {
            let mut labels = Texts::default();
            labels.set(Lang::En, en);
            labels.set(Lang::Ko, ko);
            f.options.push(FieldOption {
                value: v.into(),
                labels,
            });
        }
        f
    }

    fn t(s: &str) -> RawValue {
        RawValue::text(s)
    }

    const EN: Lang = Lang::En;

    #[test]
    fn text_trims_bounds_and_requires() {
        let mut f = field(Control::Text);
        assert_eq!(
            validate(&f, &t("  hi  "), EN),
            Ok(StoredValue::Text("hi".into()))
        );
        assert_eq!(
            validate(&f, &t("a\nb"), EN),
            Ok(StoredValue::Text("a b".into()))
        );
        assert_eq!(validate(&f, &t("   "), EN), Ok(StoredValue::Empty));
        assert_eq!(validate(&f, &RawValue::Missing, EN), Ok(StoredValue::Empty));
        f.max_length = 3;
        assert_eq!(
            validate(&f, &t("한국어"), EN),
            Ok(StoredValue::Text("한국어".into()))
        );
        assert_eq!(
            validate(&f, &t("abcd"), EN),
            Err(FieldError::TooLong { max: 3 })
        );
        let f = required(field(Control::Text));
        assert_eq!(validate(&f, &t(" "), EN), Err(FieldError::Required));
        assert_eq!(
            validate(&f, &RawValue::Many(vec!["a".into(), "b".into()]), EN),
            Err(FieldError::Invalid)
        );
        assert_eq!(
            validate(&f, &RawValue::Many(vec!["a".into()]), EN),
            Ok(StoredValue::Text("a".into()))
        );
        // Unlimited still has a hard cap.
        let long = "x".repeat(UNLIMITED_CAP + 1);
        assert_eq!(
            validate(&f, &t(&long), EN),
            Err(FieldError::TooLong { max: UNLIMITED_CAP })
        );
    }

    #[test]
    fn textarea_keeps_line_breaks() {
        let f = field(Control::Textarea);
        assert_eq!(
            validate(&f, &t("one\r\ntwo\u{0007}\n"), EN),
            Ok(StoredValue::Text("one\ntwo".into()))
        );
    }

    #[test]
    fn email_and_phone_system_fields() {
        let mut mail = field(Control::Text);
        mail.system = Some(SystemField::Email);
        mail.max_length = 100;
        assert_eq!(
            validate(&mail, &t("ann@example.com"), EN),
            Ok(StoredValue::Text("ann@example.com".into()))
        );
        assert_eq!(
            validate(&mail, &t("ann@"), EN),
            Err(FieldError::InvalidEmail)
        );
        assert_eq!(
            validate(&mail, &t("a b@x.io"), EN),
            Err(FieldError::InvalidEmail)
        );
        let mut phone = field(Control::Text);
        phone.system = Some(SystemField::Phone);
        for ok in ["010-1234-5678", "+82 10 1234 5678", "(02) 123-4567", "1588"] {
            assert!(validate(&phone, &t(ok), EN).is_ok(), "{ok}");
        }
        for bad in ["12", "call me", "010-1234-5678-9999-0000-1111-22", "+-"] {
            assert_eq!(
                validate(&phone, &t(bad), EN),
                Err(FieldError::InvalidPhone),
                "{bad}"
            );
        }
    }

    #[test]
    fn single_choices_take_values_or_labels() {
        for control in [Control::Dropdown, Control::Radio] {
            let f = with_options(control);
            assert_eq!(
                validate(&f, &t("pc"), EN),
                Ok(StoredValue::Text("pc".into()))
            );
            assert_eq!(
                validate(&f, &t("iPhone"), EN),
                Ok(StoredValue::Text("ios".into()))
            );
            assert_eq!(
                validate(&f, &t("아이폰"), Lang::Ko),
                Ok(StoredValue::Text("ios".into()))
            );
            assert_eq!(
                validate(&f, &t("아이폰"), EN),
                Err(FieldError::InvalidOption)
            );
            assert_eq!(validate(&f, &t("mac"), EN), Err(FieldError::InvalidOption));
            assert_eq!(validate(&f, &t(""), EN), Ok(StoredValue::Empty));
            assert_eq!(
                validate(&required(f), &t(""), EN),
                Err(FieldError::Required)
            );
        }
    }

    #[test]
    fn checkbox_values_are_options_in_option_order() {
        let f = with_options(Control::Checkbox);
        assert_eq!(
            validate(
                &f,
                &RawValue::Many(vec!["pc".into(), "ios".into(), "pc".into()]),
                EN
            ),
            Ok(StoredValue::Many(vec!["ios".into(), "pc".into()]))
        );
        // A single string is a one-item choice (API.md C-15).
        assert_eq!(
            validate(&f, &t("android"), EN),
            Ok(StoredValue::Many(vec!["android".into()]))
        );
        assert_eq!(
            validate(&f, &RawValue::Many(vec!["pc".into(), "mac".into()]), EN),
            Err(FieldError::InvalidOption)
        );
        assert_eq!(
            validate(&f, &RawValue::Many(vec![]), EN),
            Ok(StoredValue::Empty)
        );
        assert_eq!(
            validate(&required(f), &RawValue::Many(vec![" ".into()]), EN),
            Err(FieldError::Required)
        );
    }

    #[test]
    fn dates_and_datetimes() {
        let d = field(Control::Date);
        assert_eq!(
            validate(&d, &t("2024-06-10"), EN),
            Ok(StoredValue::Text("2024-06-10".into()))
        );
        for bad in [
            "2024-6-10",
            "2024-02-30",
            "10/06/2024",
            "2024-06-10x",
            "tomorrow",
        ] {
            assert_eq!(
                validate(&d, &t(bad), EN),
                Err(FieldError::InvalidDate),
                "{bad}"
            );
        }
        let dt = field(Control::Datetime);
        for (input, out) in [
            ("2024-06-10 14:05", "2024-06-10 14:05"),
            ("2024-06-10T14:05", "2024-06-10 14:05"),
            ("2024-06-10T14:05:59", "2024-06-10 14:05"),
        ] {
            assert_eq!(
                validate(&dt, &t(input), EN),
                Ok(StoredValue::Text(out.into()))
            );
        }
        for bad in [
            "2024-06-10",
            "2024-06-10 25:00",
            "2024-06-10 9:05",
            "2024-06-10 14-05",
        ] {
            assert_eq!(
                validate(&dt, &t(bad), EN),
                Err(FieldError::InvalidDatetime),
                "{bad}"
            );
        }
    }

    #[test]
    fn periods() {
        let p = field(Control::DatePeriod);
        let ok = StoredValue::Period {
            from: "2024-06-01".into(),
            to: "2024-06-03".into(),
        };
        assert_eq!(
            validate(&p, &t("2024-06-01 ~ 2024-06-03"), EN),
            Ok(ok.clone())
        );
        assert_eq!(
            validate(
                &p,
                &RawValue::Period {
                    from: "2024-06-01".into(),
                    to: "2024-06-03".into()
                },
                EN
            ),
            Ok(ok.clone())
        );
        assert_eq!(ok.to_storage(), "2024-06-01 ~ 2024-06-03");
        assert_eq!(
            StoredValue::from_storage(Control::DatePeriod, &ok.to_storage()),
            ok
        );
        let same_day = RawValue::Period {
            from: "2024-06-01".into(),
            to: "2024-06-01".into(),
        };
        assert!(validate(&p, &same_day, EN).is_ok());
        assert_eq!(
            validate(&p, &t("2024-06-03 ~ 2024-06-01"), EN),
            Err(FieldError::InvalidPeriod)
        );
        assert_eq!(
            validate(
                &p,
                &RawValue::Period {
                    from: "2024-06-01".into(),
                    to: String::new()
                },
                EN
            ),
            Err(FieldError::InvalidPeriod)
        );
        assert_eq!(
            validate(&p, &t("2024-06-01 ~ 2024-13-01"), EN),
            Err(FieldError::InvalidDate)
        );
        assert_eq!(
            validate(&p, &t("2024-06-01"), EN),
            Err(FieldError::InvalidPeriod)
        );
        assert_eq!(
            validate(
                &p,
                &RawValue::Period {
                    from: " ".into(),
                    to: String::new()
                },
                EN
            ),
            Ok(StoredValue::Empty)
        );
        let dtp = required(field(Control::DatetimePeriod));
        assert_eq!(
            validate(&dtp, &t("2024-06-01 09:00 ~ 2024-06-01 12:00"), EN),
            Ok(StoredValue::Period {
                from: "2024-06-01 09:00".into(),
                to: "2024-06-01 12:00".into()
            })
        );
        assert_eq!(
            validate(&dtp, &t("2024-06-01 12:00 ~ 2024-06-01 09:00"), EN),
            Err(FieldError::InvalidPeriod)
        );
        assert_eq!(
            validate(&dtp, &RawValue::Missing, EN),
            Err(FieldError::Required)
        );
    }

    #[test]
    fn consent() {
        let f = required(field(Control::Agree));
        assert_eq!(validate(&f, &t("on"), EN), Ok(StoredValue::Bool(true)));
        assert_eq!(
            validate(&f, &RawValue::from_json(&serde_json::json!(true)), EN),
            Ok(StoredValue::Bool(true))
        );
        assert_eq!(
            validate(&f, &t("false"), EN),
            Err(FieldError::ConsentRequired)
        );
        assert_eq!(
            validate(&f, &RawValue::Missing, EN),
            Err(FieldError::ConsentRequired)
        );
        assert_eq!(validate(&f, &t("maybe"), EN), Err(FieldError::Invalid));
        let optional = field(Control::Agree);
        assert_eq!(
            validate(&optional, &RawValue::Missing, EN),
            Ok(StoredValue::Bool(false))
        );
    }

    #[test]
    fn files() {
        let f = field(Control::File);
        assert_eq!(
            validate(
                &f,
                &RawValue::Files(vec!["abc123".into(), "abc123".into()]),
                EN
            ),
            Ok(StoredValue::Files(vec!["abc123".into()]))
        );
        let six: Vec<String> = (0..6).map(|i| format!("f{i}")).collect();
        assert_eq!(
            validate(&f, &RawValue::Files(six), EN),
            Err(FieldError::TooManyFiles { max: MAX_FILES })
        );
        assert_eq!(
            validate(&f, &RawValue::Files(vec!["../etc/passwd".into()]), EN),
            Err(FieldError::InvalidFile)
        );
        assert_eq!(
            validate(&required(f), &RawValue::Files(vec![]), EN),
            Err(FieldError::Required)
        );
    }

    #[test]
    fn category_references() {
        let mut f = required(field(Control::Dropdown));
        f.system = Some(SystemField::IntakeType);
        assert_eq!(
            validate(&f, &t("42"), EN),
            Ok(StoredValue::Text("42".into()))
        );
        assert_eq!(validate(&f, &t("x"), EN), Err(FieldError::InvalidOption));
        assert_eq!(validate(&f, &t("-1"), EN), Err(FieldError::InvalidOption));
        assert_eq!(validate(&f, &t(""), EN), Err(FieldError::Required));
    }

    #[test]
    fn storage_round_trips_and_api_words() {
        let many = StoredValue::Many(vec!["a".into(), "b\"c".into()]);
        assert_eq!(
            StoredValue::from_storage(Control::Checkbox, &many.to_storage()),
            many
        );
        assert_eq!(
            StoredValue::from_storage(Control::Agree, "true"),
            StoredValue::Bool(true)
        );
        assert_eq!(
            StoredValue::from_storage(Control::Text, ""),
            StoredValue::Empty
        );
        assert_eq!(FieldError::Required.api_validate(), "required");
        assert_eq!(FieldError::TooLong { max: 3 }.api_validate(), "length");
        assert_eq!(FieldError::InvalidEmail.api_validate(), "invalid");
        assert_eq!(
            FieldError::InvalidEmail.api_key("mail"),
            "validate.ticket.mail.invalid"
        );
        assert_eq!(
            FieldError::TooLong { max: 7 }.message(EN),
            "Use at most 7 characters."
        );
        for e in [
            FieldError::Required,
            FieldError::InvalidEmail,
            FieldError::InvalidPhone,
            FieldError::InvalidDate,
            FieldError::InvalidDatetime,
            FieldError::InvalidPeriod,
            FieldError::InvalidOption,
            FieldError::InvalidFile,
            FieldError::ConsentRequired,
            FieldError::Invalid,
        ] {
            assert_ne!(e.message(EN), e.message_key(), "{e} has a message");
        }
    }
}

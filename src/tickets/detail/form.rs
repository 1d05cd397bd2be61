//! Form plumbing shared by the ticket screens: submitted values from a url-encoded or
//! multipart body ([`Submitted`], [`read_multipart`] with bounded attachments), and field
//! inputs built from field definitions and stored values ([`FieldInput`]), read back and
//! validated with the one field validator ([`read_fields`]).

use std::collections::HashMap;

use actix_multipart::Multipart;
use futures_util::StreamExt;

use crate::agents::form::Pairs;
use crate::crypto::SecretKey;
use crate::error::AppError;
use crate::fields::model::{Control, FieldDef, SystemField};
use crate::fields::personal::{mask, read_value};
use crate::fields::validate::{RawValue, StoredValue, validate};
use crate::help_center::attachments::{Incoming, MAX_FILE_BYTES, MAX_FILES};
use crate::i18n::Lang;
use crate::tickets::FieldValue;
use crate::web::FormErrors;

/// Largest multipart body accepted (five files at the limit plus the text fields).
pub const MAX_BODY: usize = MAX_FILES * MAX_FILE_BYTES + 2 * 1024 * 1024;
/// Longest single text value read from a multipart body.
const MAX_TEXT_BYTES: usize = 256 * 1024;
/// Most text values read from one body.
const MAX_TEXT_FIELDS: usize = 500;

/// Submitted text values by name (repeated names keep every value, in order).
#[derive(Debug, Clone, Default)]
pub struct Submitted {
    values: HashMap<String, Vec<String>>,
}

impl Submitted {
    /// From a url-encoded form.
    pub fn from_pairs(p: &Pairs) -> Submitted {
        let mut s = Submitted::default();
        for (k, v) in p.0.iter().take(MAX_TEXT_FIELDS) {
            s.values.entry(k.clone()).or_default().push(v.clone());
        }
        s
    }

    /// The first value, or "".
    pub fn one(&self, name: &str) -> String {
        self.values
            .get(name)
            .and_then(|v| v.first())
            .cloned()
            .unwrap_or_default()
    }

    /// Every value.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.values.get(name).cloned().unwrap_or_default()
    }

    /// Whether the name was sent at all.
    pub fn has(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// The first value as an id.
    pub fn id(&self, name: &str) -> Option<i64> {
        self.one(name).trim().parse().ok()
    }
}

/// A multipart body: text values and the files of the `file` inputs.
pub enum Body {
    /// Read.
    Parts(Submitted, Vec<Incoming>),
    /// Larger than [`MAX_BODY`].
    TooLarge,
}

/// Reads a multipart body with bounded sizes (files of the `file` inputs, text otherwise).
pub async fn read_multipart(mut payload: Multipart) -> Result<Body, AppError> {
    let mut sub = Submitted::default();
    let mut files = Vec::new();
    let mut total = 0usize;
    let mut texts = 0usize;
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(|_| AppError::BadRequest("error.bad_request"))?;
        let name = field.name().unwrap_or_default().to_string();
        let is_file = name == "file";
        let file_name = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(|n| {
                n.rsplit(['/', '\\'])
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_string()
            })
            .unwrap_or_default();
        let mut buf = Vec::new();
        let mut size = 0usize;
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| AppError::BadRequest("error.bad_request"))?;
            total += chunk.len();
            size += chunk.len();
            if total > MAX_BODY {
                return Ok(Body::TooLarge);
            }
            let cap = if is_file {
                MAX_FILE_BYTES + 1
            } else {
                MAX_TEXT_BYTES
            };
            if buf.len() < cap {
                let room = cap - buf.len();
                buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
        }
        if is_file {
            if size > 0 || !file_name.is_empty() {
                files.push(Incoming {
                    name: file_name,
                    bytes: buf,
                    too_large: size >= MAX_FILE_BYTES,
                });
            }
        } else if texts < MAX_TEXT_FIELDS {
            texts += 1;
            let text = String::from_utf8_lossy(&buf).into_owned();
            sub.values.entry(name).or_default().push(text);
        }
    }
    Ok(Body::Parts(sub, files))
}

/// One field as a form renders it.
#[derive(Debug, Clone)]
pub struct FieldInput {
    /// Input name (`f{id}`).
    pub name: String,
    /// text, textarea, select, radio, checkbox, date, datetime, date_period,
    /// datetime_period, agree.
    pub kind: &'static str,
    /// Label.
    pub label: String,
    /// Help text.
    pub help: String,
    /// Required.
    pub required: bool,
    /// Maximum length (`0`: none).
    pub max_length: i32,
    /// Value (period: start).
    pub value: String,
    /// Period end.
    pub value_to: String,
    /// Choices: value, label, chosen.
    pub options: Vec<(String, String, bool)>,
    /// Error message.
    pub error: String,
    /// Shown but not editable by this viewer.
    pub readonly: bool,
    /// A personal value this viewer may not see: the masked value (the input stays empty and
    /// an empty submission keeps the stored value).
    pub masked: String,
}

/// The input kind of a control.
pub fn kind_of(control: Control) -> &'static str {
    match control {
        Control::Text | Control::File => "text",
        Control::Textarea => "textarea",
        Control::Dropdown => "select",
        Control::Radio => "radio",
        Control::Checkbox => "checkbox",
        Control::Date => "date",
        Control::Datetime => "datetime",
        Control::DatePeriod => "date_period",
        Control::DatetimePeriod => "datetime_period",
        Control::Agree => "agree",
    }
}

/// Whether a customer field is edited in the ticket's customer-field form (not the intake
/// type, consent, content or attachments, which the ticket records elsewhere).
pub fn editable_customer_field(def: &FieldDef) -> bool {
    !matches!(
        def.system,
        Some(SystemField::IntakeType | SystemField::Consent | SystemField::Content)
            | Some(SystemField::Attachment)
    ) && def.control != Control::File
}

/// How a field input is filled.
pub struct InputSource<'a> {
    /// The form's language.
    pub lang: Lang,
    /// Texts fall back to this language.
    pub fallback: Lang,
    /// Installation secret (personal values).
    pub secret: &'a SecretKey,
    /// Whether the viewer may see personal values.
    pub see_personal: bool,
}

/// The stored value of a field as form values: (value, value_to, chosen options).
fn stored_form_values(control: Control, value: &StoredValue) -> (String, String, Vec<String>) {
    match value {
        StoredValue::Empty => (String::new(), String::new(), Vec::new()),
        StoredValue::Text(t) if control == Control::Datetime => {
            (t.replacen(' ', "T", 1), String::new(), Vec::new())
        }
        StoredValue::Text(t) => (t.clone(), String::new(), vec![t.clone()]),
        StoredValue::Many(v) | StoredValue::Files(v) => (String::new(), String::new(), v.clone()),
        StoredValue::Period { from, to } => (
            from.replacen(' ', "T", 1),
            to.replacen(' ', "T", 1),
            Vec::new(),
        ),
        StoredValue::Bool(b) => (b.to_string(), String::new(), Vec::new()),
    }
}

/// Inputs for `defs`, filled from stored values (or, after a refused submission, from what
/// was submitted), with errors beside them. `editable` decides per field whether the viewer may
/// change it.
pub fn inputs(
    defs: &[FieldDef],
    stored: &[FieldValue],
    submitted: Option<&Submitted>,
    errors: &FormErrors,
    src: &InputSource<'_>,
    editable: impl Fn(&FieldDef) -> bool,
) -> Vec<FieldInput> {
    defs.iter()
        .map(|def| {
            let name = format!("f{}", def.id);
            let stored_value = stored
                .iter()
                .find(|v| v.field_id == def.id)
                .map(|v| read_value(src.secret, def, &v.value))
                .unwrap_or(StoredValue::Empty);
            let hide = def.personal && !src.see_personal && !stored_value.is_empty();
            let (mut value, mut value_to, mut chosen) =
                stored_form_values(def.control, &stored_value);
            if let Some(sub) = submitted {
                match def.control {
                    Control::DatePeriod | Control::DatetimePeriod => {
                        value = sub.one(&format!("{name}_from"));
                        value_to = sub.one(&format!("{name}_to"));
                    }
                    Control::Checkbox | Control::Radio | Control::Dropdown => {
                        chosen = sub.all(&name);
                        value = sub.one(&name);
                    }
                    _ => value = sub.one(&name),
                }
            }
            let masked = if hide {
                value.clear();
                value_to.clear();
                chosen.clear();
                mask(&stored_value.to_storage())
            } else {
                String::new()
            };
            FieldInput {
                kind: kind_of(def.control),
                label: def.label(src.lang, src.fallback),
                help: def.help.pick(src.lang, src.fallback).to_string(),
                required: def.required,
                max_length: def.max_length,
                options: def
                    .options
                    .iter()
                    .map(|o| {
                        (
                            o.value.clone(),
                            o.label(src.lang, src.fallback).to_string(),
                            chosen.contains(&o.value),
                        )
                    })
                    .collect(),
                error: errors.get(&name).to_string(),
                readonly: !editable(def),
                masked,
                value,
                value_to,
                name,
            }
        })
        .collect()
}

/// The raw value submitted for a field.
pub fn raw_of(def: &FieldDef, sub: &Submitted) -> RawValue {
    let name = format!("f{}", def.id);
    match def.control {
        Control::Checkbox => RawValue::Many(sub.all(&name)),
        Control::DatePeriod | Control::DatetimePeriod => {
            let from = sub.one(&format!("{name}_from"));
            let to = sub.one(&format!("{name}_to"));
            if from.trim().is_empty() && to.trim().is_empty() {
                RawValue::Missing
            } else {
                RawValue::Period { from, to }
            }
        }
        Control::Agree => RawValue::text(if sub.one(&name) == "true" { "true" } else { "" }),
        _ if sub.has(&name) => RawValue::Text(sub.one(&name)),
        _ => RawValue::Missing,
    }
}

/// What to do with one submitted field.
#[derive(Debug, Clone)]
pub enum FieldChange {
    /// Store this value (empty clears it).
    Set(Box<FieldDef>, StoredValue),
    /// Keep the stored value (a masked personal value left empty).
    Keep,
}

/// Validates the submitted values of the editable `defs`. A personal field whose stored value
/// the viewer cannot see keeps that value when left empty. `enforce_required` off lets an empty
/// required field pass (an internal comment needs no complete agent fields). Errors go to
/// `errors` under the input names.
pub fn read_fields(
    defs: &[FieldDef],
    stored: &[FieldValue],
    sub: &Submitted,
    see_personal: bool,
    enforce_required: bool,
    lang: Lang,
    errors: &mut FormErrors,
) -> Vec<FieldChange> {
    let mut out = Vec::new();
    for def in defs {
        let name = format!("f{}", def.id);
        let has_stored = stored
            .iter()
            .any(|v| v.field_id == def.id && !v.value.is_empty());
        let raw = raw_of(def, sub);
        let empty = match &raw {
            RawValue::Missing => true,
            RawValue::Text(t) => t.trim().is_empty(),
            RawValue::Many(v) => v.is_empty(),
            _ => false,
        };
        if def.personal && !see_personal && has_stored && empty {
            out.push(FieldChange::Keep);
            continue;
        }
        match validate(def, &raw, lang) {
            Ok(v) => out.push(FieldChange::Set(Box::new(def.clone()), v)),
            Err(e) if !enforce_required && empty => {
                let _ = e;
                out.push(FieldChange::Set(Box::new(def.clone()), StoredValue::Empty));
            }
            Err(e) => errors.add_text(&name, e.message(lang)),
        }
    }
    out
}

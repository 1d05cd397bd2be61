//! Form inputs for a name in each of a service's help-center languages.

use crate::agents::form::Pairs;
use crate::common::names::{MAX_NAME, Names};
use crate::tenancy::service::{Service, service_langs};
use crate::web::FormErrors;

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

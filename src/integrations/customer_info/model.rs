//! Customer-info API definitions (SPEC §6.3, API.md §7.8): name, base URL, whether messages
//! are signed with a generated encryption key (kept encrypted with the installation secret),
//! the query items (general text/drop-down items with a default or options, or ticket-field
//! items taken from the ticket, with the channels on which the lookup runs by itself) and the
//! result items (a label and the data name in the answer's `data`, optionally filling an empty
//! text field of the ticket). Validation of the settings form lives here too.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::common::validation::{Report, Violations};
use crate::crypto::{self, SecretKey};
use crate::db::schema::customer_info_apis;
use crate::db::{DbConn, now};
use crate::fields::model::{Audience, Control, FieldDef, SystemField};
use crate::i18n::{self, Lang};
use crate::tenancy::service::Service;
use crate::tickets::Channel;

/// Most APIs per service.
pub const MAX_APIS: usize = 10;
/// Most query items per API.
pub const MAX_QUERY_ITEMS: usize = 30;
/// Most result items per API.
pub const MAX_RESULT_ITEMS: usize = 50;
/// Longest API name.
pub const MAX_NAME: usize = 100;
/// Longest base URL.
pub const MAX_URL: usize = 2000;
/// Longest label.
pub const MAX_LABEL: usize = 100;
/// Longest variable or data name.
pub const MAX_VARIABLE: usize = 100;
/// Most drop-down options.
pub const MAX_OPTIONS: usize = 50;
/// Longest option or default value.
pub const MAX_OPTION: usize = 200;
/// Largest data length of a query item.
pub const MAX_ITEM_LENGTH: i32 = 4000;

/// Query-item sources that are not ticket fields: the customer's member ID and number.
pub const PSEUDO_FIELDS: &[(&str, &str)] = &[
    ("usercode", "customerinfo.source.usercode"),
    ("customer_no", "customerinfo.source.customer_no"),
];

/// The system fields a ticket-field item may take its value from.
pub const SYSTEM_SOURCES: &[SystemField] = &[
    SystemField::Name,
    SystemField::Email,
    SystemField::Phone,
    SystemField::Subject,
];

/// Ticket fields whose values also list the customer's recent tickets (SPEC §6.3: ID, phone,
/// e-mail, name).
pub const IDENTITY_SOURCES: &[&str] = &["usercode", "phone", "mail", "name"];

/// The channels a lookup may run on by itself, with their label keys.
pub fn auto_channels() -> Vec<Channel> {
    vec![
        Channel::Web,
        Channel::MobileWeb,
        Channel::Email,
        Channel::Phone,
        Channel::Api,
        Channel::Created,
        Channel::Chat,
    ]
}

/// Kind of a query item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// Entered by the agent (text box or drop-down).
    General,
    /// Taken from the ticket.
    TicketField,
}

/// Control of a general item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemControl {
    /// Text box.
    Text,
    /// Drop-down.
    Dropdown,
}

/// A query item: one key of the request body.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct QueryItem {
    /// General or ticket field.
    pub kind: ItemKind,
    /// Display name in Ticket Management.
    pub label: String,
    /// The body key.
    pub variable: String,
    /// Must have a value.
    pub required: bool,
    /// Longest value.
    pub max_length: i32,
    /// General items: text box or drop-down.
    #[serde(default = "default_control")]
    pub control: ItemControl,
    /// General text items: the default value.
    #[serde(default)]
    pub default_value: String,
    /// General drop-downs: the options.
    #[serde(default)]
    pub options: Vec<String>,
    /// Ticket-field items: the field code (or `usercode` / `customer_no`).
    #[serde(default)]
    pub field: String,
    /// Ticket-field items: channels on which the lookup runs when a ticket arrives.
    #[serde(default)]
    pub channels: Vec<String>,
}

fn default_control() -> ItemControl {
    ItemControl::Text
}

/// A result item: a value of the answer's `data`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ResultItem {
    /// Display name.
    pub label: String,
    /// Key in `data` (dotted for nested objects).
    pub data_name: String,
    /// A text field of the ticket filled with the value when empty (field linking).
    #[serde(default)]
    pub link_field: String,
}

/// A stored API definition.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = customer_info_apis)]
pub struct InfoApiRow {
    /// Key.
    pub id: i64,
    /// Service.
    pub service_id: i64,
    /// Name.
    pub name: String,
    /// Base URL (the request goes to it with POST).
    pub base_url: String,
    /// Messages are signed.
    pub encrypt: bool,
    /// The encryption key, encrypted with the installation secret.
    pub key_enc: Option<String>,
    /// Signs `path + body + time` instead of `body + time` (API.md C-28).
    pub sign_path: bool,
    /// Query items (JSON).
    pub query_items: String,
    /// Result items (JSON).
    pub result_items: String,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Updated.
    pub updated_at: NaiveDateTime,
}

/// An API definition with its items parsed.
#[derive(Debug, Clone)]
pub struct InfoApi {
    /// The row.
    pub row: InfoApiRow,
    /// Query items.
    pub query: Vec<QueryItem>,
    /// Result items.
    pub results: Vec<ResultItem>,
}

impl From<InfoApiRow> for InfoApi {
    fn from(row: InfoApiRow) -> Self {
        InfoApi {
            query: serde_json::from_str(&row.query_items).unwrap_or_default(),
            results: serde_json::from_str(&row.result_items).unwrap_or_default(),
            row,
        }
    }
}

impl InfoApi {
    /// The service's APIs, oldest first.
    pub fn of_service(conn: &mut DbConn, service_id: i64) -> QueryResult<Vec<InfoApi>> {
        Ok(customer_info_apis::table
            .filter(customer_info_apis::service_id.eq(service_id))
            .order(customer_info_apis::id.asc())
            .limit(i64::try_from(MAX_APIS).unwrap_or(10))
            .select(InfoApiRow::as_select())
            .load(conn)?
            .into_iter()
            .map(InfoApi::from)
            .collect())
    }

    /// One API of the service.
    pub fn find(conn: &mut DbConn, service_id: i64, id: i64) -> QueryResult<Option<InfoApi>> {
        Ok(customer_info_apis::table
            .filter(customer_info_apis::service_id.eq(service_id))
            .filter(customer_info_apis::id.eq(id))
            .select(InfoApiRow::as_select())
            .first(conn)
            .optional()?
            .map(InfoApi::from))
    }

    /// The encryption key when messages are signed.
    pub fn key(&self, secret: &SecretKey) -> Option<String> {
        if !self.row.encrypt {
            return None;
        }
        self.row.key_enc.as_deref().and_then(|k| secret.decrypt(k))
    }

    /// Whether a ticket arriving on `channel` looks this API up by itself.
    pub fn auto_on(&self, channel: &str) -> bool {
        self.query
            .iter()
            .any(|q| q.kind == ItemKind::TicketField && q.channels.iter().any(|c| c == channel))
    }
}

/// A new random encryption key (32 hex characters).
pub fn new_key() -> String {
    crypto::random_hex(16)
}

/// A validated definition, ready to store.
#[derive(Debug, Clone)]
pub struct ValidApi {
    /// Name.
    pub name: String,
    /// Base URL.
    pub base_url: String,
    /// Sign messages.
    pub encrypt: bool,
    /// Sign the path too.
    pub sign_path: bool,
    /// Query items.
    pub query: Vec<QueryItem>,
    /// Result items.
    pub results: Vec<ResultItem>,
}

/// Inserts a definition; generates the key when messages are signed. Returns the id.
pub fn create(
    conn: &mut DbConn,
    secret: &SecretKey,
    service_id: i64,
    v: &ValidApi,
) -> QueryResult<i64> {
    let t = now();
    let key = v.encrypt.then(|| secret.encrypt(&new_key()));
    diesel::insert_into(customer_info_apis::table)
        .values((
            customer_info_apis::service_id.eq(service_id),
            customer_info_apis::name.eq(&v.name),
            customer_info_apis::base_url.eq(&v.base_url),
            customer_info_apis::encrypt.eq(v.encrypt),
            customer_info_apis::key_enc.eq(key),
            customer_info_apis::sign_path.eq(v.sign_path),
            customer_info_apis::query_items.eq(to_json(&v.query)),
            customer_info_apis::result_items.eq(to_json(&v.results)),
            customer_info_apis::created_at.eq(t),
            customer_info_apis::updated_at.eq(t),
        ))
        .returning(customer_info_apis::id)
        .get_result(conn)
}

/// Replaces a definition; a key is generated when signing is turned on and there is none (an
/// existing key is kept, also while signing is off).
pub fn update(
    conn: &mut DbConn,
    secret: &SecretKey,
    api: &InfoApi,
    v: &ValidApi,
) -> QueryResult<()> {
    let key = match (&api.row.key_enc, v.encrypt) {
        (Some(k), _) if secret.decrypt(k).is_some() => Some(k.clone()),
        (_, true) => Some(secret.encrypt(&new_key())),
        (_, false) => None,
    };
    diesel::update(customer_info_apis::table.find(api.row.id))
        .set((
            customer_info_apis::name.eq(&v.name),
            customer_info_apis::base_url.eq(&v.base_url),
            customer_info_apis::encrypt.eq(v.encrypt),
            customer_info_apis::key_enc.eq(key),
            customer_info_apis::sign_path.eq(v.sign_path),
            customer_info_apis::query_items.eq(to_json(&v.query)),
            customer_info_apis::result_items.eq(to_json(&v.results)),
            customer_info_apis::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Replaces the encryption key; returns the new one.
pub fn regenerate_key(conn: &mut DbConn, secret: &SecretKey, id: i64) -> QueryResult<String> {
    let key = new_key();
    diesel::update(customer_info_apis::table.find(id))
        .set((
            customer_info_apis::key_enc.eq(Some(secret.encrypt(&key))),
            customer_info_apis::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(key)
}

/// Deletes a definition (its lookups go with it).
pub fn delete(conn: &mut DbConn, id: i64) -> QueryResult<usize> {
    diesel::delete(customer_info_apis::table.find(id)).execute(conn)
}

fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

/// A field a ticket-field item may read, or a result item may fill.
#[derive(Debug, Clone)]
pub struct FieldChoice {
    /// Code.
    pub code: String,
    /// Label in the viewer's language.
    pub label: String,
}

/// Whether a field's value is a single text a query can carry.
fn single_valued(c: Control) -> bool {
    matches!(
        c,
        Control::Text
            | Control::Textarea
            | Control::Dropdown
            | Control::Radio
            | Control::Date
            | Control::Datetime
    )
}

/// The sources of ticket-field items: name, e-mail, phone and subject, the member ID and
/// customer number, and the single-valued custom fields (customer and agent).
pub fn source_choices(
    conn: &mut DbConn,
    service: &Service,
    lang: Lang,
) -> QueryResult<Vec<FieldChoice>> {
    let fallback = crate::tenancy::service::default_lang(service);
    let mut out: Vec<FieldChoice> = SYSTEM_SOURCES
        .iter()
        .map(|s| FieldChoice {
            code: s.as_str().to_string(),
            label: i18n::t(lang, s.label_key()),
        })
        .collect();
    out.extend(PSEUDO_FIELDS.iter().map(|(code, key)| FieldChoice {
        code: (*code).to_string(),
        label: i18n::t(lang, key),
    }));
    for audience in [Audience::Customer, Audience::Agent] {
        for f in FieldDef::of_audience(conn, service.id, audience)? {
            if f.system.is_none() && single_valued(f.control) {
                out.push(FieldChoice {
                    label: f.label(lang, fallback),
                    code: f.code,
                });
            }
        }
    }
    Ok(out)
}

/// The fields a result item may fill: custom text and long-text fields.
pub fn link_choices(
    conn: &mut DbConn,
    service: &Service,
    lang: Lang,
) -> QueryResult<Vec<FieldChoice>> {
    let fallback = crate::tenancy::service::default_lang(service);
    let mut out = Vec::new();
    for audience in [Audience::Customer, Audience::Agent] {
        for f in FieldDef::of_audience(conn, service.id, audience)? {
            if f.system.is_none() && matches!(f.control, Control::Text | Control::Textarea) {
                out.push(FieldChoice {
                    label: f.label(lang, fallback),
                    code: f.code,
                });
            }
        }
    }
    Ok(out)
}

/// Whether a variable or data name is usable: a letter or `_` first, then letters, digits,
/// `_`, `-` and `.` (data names use dots for nested objects).
pub fn valid_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && s.len() <= MAX_VARIABLE
        && !s.ends_with('.')
        && !s.contains("..")
}

/// Whether a base URL is an absolute `http`/`https` URL with a host and no credentials.
pub fn valid_url(s: &str) -> bool {
    if s.len() > MAX_URL {
        return false;
    }
    match url::Url::parse(s) {
        Ok(u) => {
            matches!(u.scheme(), "http" | "https")
                && u.host_str().is_some_and(|h| !h.is_empty())
                && u.username().is_empty()
                && u.password().is_none()
                && u.fragment().is_none()
        }
        Err(_) => false,
    }
}

/// What the settings form submitted (before validation).
#[derive(Debug, Clone, Default)]
pub struct ApiForm {
    /// Name.
    pub name: String,
    /// Base URL.
    pub base_url: String,
    /// Sign messages.
    pub encrypt: bool,
    /// Sign the path too.
    pub sign_path: bool,
    /// Query rows.
    pub query: Vec<QueryRow>,
    /// Result rows.
    pub results: Vec<ResultRow>,
}

/// A query row of the form.
#[derive(Debug, Clone)]
pub struct QueryRow {
    /// Kind.
    pub kind: ItemKind,
    /// Label.
    pub label: String,
    /// Variable.
    pub variable: String,
    /// Required.
    pub required: bool,
    /// Data length as typed.
    pub max_length: String,
    /// Control (general).
    pub control: ItemControl,
    /// Default (general text).
    pub default_value: String,
    /// Options, one per line (general drop-down).
    pub options: String,
    /// Field code (ticket field).
    pub field: String,
    /// Auto channels (ticket field).
    pub channels: Vec<String>,
}

impl QueryRow {
    /// A blank row of a kind.
    pub fn blank(kind: ItemKind) -> QueryRow {
        QueryRow {
            kind,
            label: String::new(),
            variable: String::new(),
            required: false,
            max_length: "100".into(),
            control: ItemControl::Text,
            default_value: String::new(),
            options: String::new(),
            field: String::new(),
            channels: Vec::new(),
        }
    }

    /// The row of a stored item.
    pub fn of(q: &QueryItem) -> QueryRow {
        QueryRow {
            kind: q.kind,
            label: q.label.clone(),
            variable: q.variable.clone(),
            required: q.required,
            max_length: q.max_length.to_string(),
            control: q.control,
            default_value: q.default_value.clone(),
            options: q.options.join("\n"),
            field: q.field.clone(),
            channels: q.channels.clone(),
        }
    }
}

/// A result row of the form.
#[derive(Debug, Clone, Default)]
pub struct ResultRow {
    /// Label.
    pub label: String,
    /// Data name.
    pub data_name: String,
    /// Linked field code (empty: none).
    pub link_field: String,
}

impl ApiForm {
    /// The form of a stored API.
    pub fn of(api: &InfoApi) -> ApiForm {
        ApiForm {
            name: api.row.name.clone(),
            base_url: api.row.base_url.clone(),
            encrypt: api.row.encrypt,
            sign_path: api.row.sign_path,
            query: api.query.iter().map(QueryRow::of).collect(),
            results: api
                .results
                .iter()
                .map(|r| ResultRow {
                    label: r.label.clone(),
                    data_name: r.data_name.clone(),
                    link_field: r.link_field.clone(),
                })
                .collect(),
        }
    }
}

/// Checks the form against the service's fields. Errors are keyed `name`, `base_url`,
/// `items`, `q{i}_{part}` and `r{i}_{part}`.
pub fn validate(
    form: &ApiForm,
    sources: &[FieldChoice],
    links: &[FieldChoice],
) -> Result<ValidApi, Violations> {
    let mut e = Violations::new();
    let name = form.name.trim().to_string();
    if name.is_empty() {
        e.add("name", "validation.required");
    } else if name.chars().count() > MAX_NAME {
        e.add_with(
            "name",
            "validation.too_long",
            &[("max", &MAX_NAME.to_string())],
        );
    }
    let base_url = form.base_url.trim().to_string();
    if base_url.is_empty() {
        e.add("base_url", "validation.required");
    } else if !valid_url(&base_url) {
        e.add("base_url", "customerinfo.error.url");
    }
    if form.query.is_empty() {
        e.add("items", "customerinfo.error.no_query_items");
    } else if form.query.len() > MAX_QUERY_ITEMS {
        e.add_with(
            "items",
            "customerinfo.error.too_many_items",
            &[("max", &MAX_QUERY_ITEMS.to_string())],
        );
    }
    if form.results.is_empty() {
        e.add("results", "customerinfo.error.no_result_items");
    } else if form.results.len() > MAX_RESULT_ITEMS {
        e.add_with(
            "results",
            "customerinfo.error.too_many_items",
            &[("max", &MAX_RESULT_ITEMS.to_string())],
        );
    }
    let label_ok = |e: &mut dyn Report, key: &str, v: &str| {
        if v.trim().is_empty() {
            e.add(key, "validation.required");
        } else if v.trim().chars().count() > MAX_LABEL {
            e.add_with(
                key,
                "validation.too_long",
                &[("max", &MAX_LABEL.to_string())],
            );
        }
    };
    let mut query = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for (i, r) in form.query.iter().enumerate().take(MAX_QUERY_ITEMS) {
        let k = |part: &str| format!("q{i}_{part}");
        label_ok(&mut e, &k("label"), &r.label);
        let variable = r.variable.trim().to_string();
        if variable.is_empty() {
            e.add(&k("variable"), "validation.required");
        } else if !valid_name(&variable) {
            e.add(&k("variable"), "customerinfo.error.variable");
        } else if seen.contains(&variable) {
            e.add(&k("variable"), "customerinfo.error.duplicate_name");
        }
        seen.push(variable.clone());
        let max_length = match r.max_length.trim().parse::<i32>() {
            Ok(n) if (1..=MAX_ITEM_LENGTH).contains(&n) => n,
            _ => {
                e.add_with(
                    &k("max_length"),
                    "openapi.auth.number_between",
                    &[("min", "1"), ("max", &MAX_ITEM_LENGTH.to_string())],
                );
                1
            }
        };
        let mut item = QueryItem {
            kind: r.kind,
            label: r.label.trim().to_string(),
            variable,
            required: r.required,
            max_length,
            control: ItemControl::Text,
            default_value: String::new(),
            options: Vec::new(),
            field: String::new(),
            channels: Vec::new(),
        };
        match r.kind {
            ItemKind::General => {
                item.control = r.control;
                let default = r.default_value.trim().to_string();
                match r.control {
                    ItemControl::Text => {
                        if default.chars().count() > usize::try_from(max_length).unwrap_or(0) {
                            e.add(&k("default_value"), "customerinfo.error.default_too_long");
                        }
                    }
                    ItemControl::Dropdown => {
                        let mut options: Vec<String> = Vec::new();
                        for o in r.options.lines().map(str::trim).filter(|o| !o.is_empty()) {
                            if o.chars().count() > MAX_OPTION {
                                e.add_with(
                                    &k("options"),
                                    "validation.too_long",
                                    &[("max", &MAX_OPTION.to_string())],
                                );
                            }
                            if !options.iter().any(|x| x == o) {
                                options.push(o.to_string());
                            }
                        }
                        if options.is_empty() {
                            e.add(&k("options"), "customerinfo.error.no_options");
                        } else if options.len() > MAX_OPTIONS {
                            e.add_with(
                                &k("options"),
                                "customerinfo.error.too_many_options",
                                &[("max", &MAX_OPTIONS.to_string())],
                            );
                        }
                        if !default.is_empty() && !options.contains(&default) {
                            e.add(&k("default_value"), "customerinfo.error.default_not_option");
                        }
                        item.options = options;
                    }
                }
                item.default_value = default;
            }
            ItemKind::TicketField => {
                let field = r.field.trim().to_string();
                if !sources.iter().any(|s| s.code == field) {
                    e.add(&k("field"), "validation.choose_option");
                }
                let allowed: Vec<&str> = auto_channels().iter().map(|c| c.as_str()).collect();
                let mut channels: Vec<String> = Vec::new();
                for c in &r.channels {
                    if !allowed.contains(&c.as_str()) {
                        e.add(&k("channels"), "validation.choose_option");
                    } else if !channels.contains(c) {
                        channels.push(c.clone());
                    }
                }
                item.field = field;
                item.channels = channels;
            }
        }
        query.push(item);
    }
    let mut results = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut linked: Vec<String> = Vec::new();
    for (i, r) in form.results.iter().enumerate().take(MAX_RESULT_ITEMS) {
        let k = |part: &str| format!("r{i}_{part}");
        label_ok(&mut e, &k("label"), &r.label);
        let data_name = r.data_name.trim().to_string();
        if data_name.is_empty() {
            e.add(&k("data_name"), "validation.required");
        } else if !valid_name(&data_name) {
            e.add(&k("data_name"), "customerinfo.error.variable");
        } else if names.contains(&data_name) {
            e.add(&k("data_name"), "customerinfo.error.duplicate_name");
        }
        names.push(data_name.clone());
        let link = r.link_field.trim().to_string();
        if !link.is_empty() {
            if !links.iter().any(|l| l.code == link) {
                e.add(&k("link_field"), "validation.choose_option");
            } else if linked.contains(&link) {
                e.add(&k("link_field"), "customerinfo.error.duplicate_link");
            }
            linked.push(link.clone());
        }
        results.push(ResultItem {
            label: r.label.trim().to_string(),
            data_name,
            link_field: link,
        });
    }
    if e.is_empty() {
        Ok(ValidApi {
            name,
            base_url,
            encrypt: form.encrypt,
            sign_path: form.sign_path,
            query,
            results,
        })
    } else {
        Err(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_urls() {
        for ok in ["callNum", "_x", "profile.grade", "a-b_c9"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", "9a", "a b", "a..b", "a.", "ä", &"x".repeat(101)] {
            assert!(!valid_name(bad), "{bad}");
        }
        assert!(valid_url("https://crm.example.com/api/customer"));
        assert!(valid_url("http://127.0.0.1:8080/x?y=1"));
        for bad in [
            "ftp://x",
            "https://",
            "https://u:p@x.example",
            "/relative",
            "x",
        ] {
            assert!(!valid_url(bad), "{bad}");
        }
    }
}

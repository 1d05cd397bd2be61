//! Services (CM or IM workspaces): the row, per-service feature switches replacing Contiple's
//! contract flags, creation (a new CM service gets a localised "General inquiry" intake type and
//! its system ticket fields), validation, and the Open API switch.

use chrono::NaiveDateTime;
use chrono_tz::Tz;
use diesel::prelude::*;

use crate::common::validation::Report;
use crate::crypto::{self, SecretKey};
use crate::db::schema::{categories, services};
use crate::db::search::lower;
use crate::db::types::ServiceId;
use crate::db::types::{CategoryTree, EditorType, ServiceKind};
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::i18n::Lang;

/// A service row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = services)]
pub struct Service {
    /// Key.
    pub id: i64,
    /// The service ID in URLs (ASCII letters, immutable).
    pub code: String,
    /// `cm` or `im`.
    pub kind: String,
    /// Display name.
    pub name: String,
    /// Help-center languages, comma separated.
    pub languages: String,
    /// Default help-center language.
    pub default_lang: String,
    /// IANA time zone.
    pub timezone: String,
    /// `html` or `text`.
    pub editor_type: String,
    /// Feature switches as JSON ([`Features`]).
    pub features: String,
    /// Disabled services cannot be used.
    pub enabled: bool,
    /// Open API switch.
    pub open_api_enabled: bool,
    /// The service key, encrypted.
    pub service_key_enc: Option<String>,
    /// Origins allowed to frame the help center.
    pub hc_frame_ancestors: String,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Updated.
    pub updated_at: NaiveDateTime,
}

/// Per-service feature switches (Contiple's contract flags).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Features {
    /// Ticket management.
    pub ticket: bool,
    /// FAQ.
    pub faq: bool,
    /// Help-center notices.
    pub notice: bool,
    /// 1:1 inquiry form.
    pub inquiry: bool,
    /// Live chat.
    pub chat: bool,
    /// Phone (CTI).
    pub phone: bool,
    /// Callbacks.
    pub callback: bool,
    /// SMS sending.
    pub sms: bool,
    /// Customer information management.
    pub customer_info: bool,
    /// Security service (PII masking, spam management).
    pub security: bool,
    /// Knowledge base.
    pub knowledge: bool,
    /// Satisfaction surveys.
    pub satisfaction: bool,
    /// Open API.
    pub open_api: bool,
}

impl Default for Features {
    fn default() -> Self {
        Features {
            ticket: true,
            faq: true,
            notice: true,
            inquiry: true,
            chat: false,
            phone: false,
            callback: false,
            sms: false,
            customer_info: true,
            security: false,
            knowledge: false,
            satisfaction: false,
            open_api: false,
        }
    }
}

impl Features {
    /// The switch names, in display order (also the form field names, prefixed `feature_`).
    pub const NAMES: [&'static str; 13] = [
        "ticket",
        "faq",
        "notice",
        "inquiry",
        "chat",
        "phone",
        "callback",
        "sms",
        "customer_info",
        "security",
        "knowledge",
        "satisfaction",
        "open_api",
    ];

    /// Reads a switch by name.
    pub fn get(&self, name: &str) -> bool {
        match name {
            "ticket" => self.ticket,
            "faq" => self.faq,
            "notice" => self.notice,
            "inquiry" => self.inquiry,
            "chat" => self.chat,
            "phone" => self.phone,
            "callback" => self.callback,
            "sms" => self.sms,
            "customer_info" => self.customer_info,
            "security" => self.security,
            "knowledge" => self.knowledge,
            "satisfaction" => self.satisfaction,
            "open_api" => self.open_api,
            _ => false,
        }
    }

    /// Sets a switch by name (unknown names are ignored).
    pub fn set(&mut self, name: &str, on: bool) {
        let slot = match name {
            "ticket" => &mut self.ticket,
            "faq" => &mut self.faq,
            "notice" => &mut self.notice,
            "inquiry" => &mut self.inquiry,
            "chat" => &mut self.chat,
            "phone" => &mut self.phone,
            "callback" => &mut self.callback,
            "sms" => &mut self.sms,
            "customer_info" => &mut self.customer_info,
            "security" => &mut self.security,
            "knowledge" => &mut self.knowledge,
            "satisfaction" => &mut self.satisfaction,
            "open_api" => &mut self.open_api,
            _ => return,
        };
        *slot = on;
    }

    /// Defaults for a service kind: IM services have no customer-facing modules.
    pub fn defaults_for(kind: ServiceKind) -> Features {
        match kind {
            ServiceKind::Consultation => Features::default(),
            ServiceKind::Issue => Features {
                ticket: true,
                faq: false,
                notice: false,
                inquiry: false,
                customer_info: false,
                ..Features::default()
            },
        }
    }
}

/// Input for a new service.
#[derive(Debug, Clone)]
pub struct NewService {
    /// Service ID.
    pub code: String,
    /// CM or IM.
    pub kind: ServiceKind,
    /// Name.
    pub name: String,
    /// Help-center languages.
    pub languages: Vec<Lang>,
    /// Default language (one of `languages`).
    pub default_lang: Lang,
    /// Time zone.
    pub timezone: String,
    /// Editor type.
    pub editor_type: EditorType,
}

/// The "General inquiry" intake type's name in each language.
pub fn general_inquiry_name(lang: Lang) -> &'static str {
    match lang {
        Lang::Ko => "일반 문의",
        Lang::En => "General inquiry",
        Lang::Ja => "一般的なお問い合わせ",
    }
}

impl Service {
    /// By service ID.
    pub fn find_by_code(conn: &mut DbConn, code: &str) -> QueryResult<Option<Service>> {
        services::table
            .filter(services::code.eq(code))
            .select(Service::as_select())
            .first(conn)
            .optional()
    }

    /// All services, ordered by name.
    pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Service>> {
        services::table
            .order((services::name.asc(), services::id.asc()))
            .select(Service::as_select())
            .load(conn)
    }

    /// The feature switches.
    pub fn features(&self) -> Features {
        serde_json::from_str(&self.features).unwrap_or_default()
    }

    /// The service kind.
    pub fn kind(&self) -> ServiceKind {
        ServiceKind::parse(&self.kind).unwrap_or(ServiceKind::Consultation)
    }

    /// Whether the service may call its customer-info APIs: a consultation service with the
    /// customer-info feature and the Open API on (SPEC §6.3).
    pub fn customer_info_enabled(&self) -> bool {
        self.kind() == ServiceKind::Consultation
            && self.features().customer_info
            && self.open_api_enabled
    }

    /// Help-center languages.
    pub fn languages(&self) -> Vec<Lang> {
        self.languages.split(',').filter_map(Lang::parse).collect()
    }

    /// Inserts a service (and, for CM, its "General inquiry" intake type); returns the id.
    pub fn create(conn: &mut DbConn, new: &NewService) -> Result<i64, AppError> {
        let t = now();
        let langs: Vec<&str> = new.languages.iter().map(|l| l.code()).collect();
        let features = Features::defaults_for(new.kind);
        let id: i64 = diesel::insert_into(services::table)
            .values((
                services::code.eq(&new.code),
                services::kind.eq(new.kind.as_str()),
                services::name.eq(&new.name),
                services::languages.eq(langs.join(",")),
                services::default_lang.eq(new.default_lang.code()),
                services::timezone.eq(&new.timezone),
                services::editor_type.eq(new.editor_type.as_str()),
                services::features.eq(serde_json::to_string(&features).unwrap_or_default()),
                services::enabled.eq(true),
                services::open_api_enabled.eq(false),
                services::hc_frame_ancestors.eq(""),
                services::created_at.eq(t),
                services::updated_at.eq(t),
            ))
            .returning(services::id)
            .get_result(conn)?;
        if new.kind == ServiceKind::Consultation {
            let names: serde_json::Map<String, serde_json::Value> = new
                .languages
                .iter()
                .map(|l| {
                    (
                        l.code().to_string(),
                        serde_json::Value::from(general_inquiry_name(*l)),
                    )
                })
                .collect();
            diesel::insert_into(categories::table)
                .values((
                    categories::service_id.eq(id),
                    categories::tree.eq(CategoryTree::Intake.as_str()),
                    categories::parent_id.eq(None::<i64>),
                    categories::level.eq(1),
                    categories::position.eq(0),
                    categories::names.eq(serde_json::Value::Object(names).to_string()),
                    categories::helpcenter_enabled.eq(true),
                    categories::active.eq(true),
                    categories::created_at.eq(t),
                    categories::updated_at.eq(t),
                ))
                .execute(conn)?;
            crate::fields::seed_system_fields(conn, id)?;
        }
        Ok(id)
    }

    /// Turns the Open API on, generating a service key if there is none; returns the key.
    pub fn enable_open_api(
        conn: &mut DbConn,
        secret: &SecretKey,
        id: i64,
    ) -> Result<String, AppError> {
        let service: Service = services::table
            .find(id)
            .select(Service::as_select())
            .first(conn)?;
        let key = match service
            .service_key_enc
            .as_deref()
            .and_then(|k| secret.decrypt(k))
        {
            Some(k) => k,
            None => crypto::random_hex(16),
        };
        let mut features = service.features();
        features.open_api = true;
        diesel::update(services::table.find(id))
            .set((
                services::open_api_enabled.eq(true),
                services::service_key_enc.eq(Some(secret.encrypt(&key))),
                services::features.eq(serde_json::to_string(&features).unwrap_or_default()),
                services::updated_at.eq(now()),
            ))
            .execute(conn)?;
        Ok(key)
    }
}

/// Checks a service ID: ASCII letters only, 2–30 characters, unique (case-insensitively).
pub fn validate_service_code(
    conn: &mut DbConn,
    errors: &mut dyn Report,
    field: &str,
    code: &str,
) -> QueryResult<()> {
    let code = code.trim();
    if code.is_empty() {
        errors.add(field, "validation.required");
    } else if !code.chars().all(|c| c.is_ascii_alphabetic()) {
        errors.add(field, "validation.service_id_letters");
    } else if code.len() < 2 || code.len() > 30 {
        errors.add_with(
            field,
            "validation.length_between",
            &[("min", "2"), ("max", "30")],
        );
    } else if RESERVED_CODES.contains(&code.to_ascii_lowercase().as_str()) {
        errors.add(field, "validation.service_id_reserved");
    } else {
        let taken: Option<i64> = services::table
            .filter(lower(services::code).eq(code.to_ascii_lowercase()))
            .select(services::id)
            .first(conn)
            .optional()?;
        if taken.is_some() {
            errors.add(field, "validation.service_id_taken");
        }
    }
    Ok(())
}

/// Top-level paths a service ID may not shadow.
const RESERVED_CODES: &[&str] = &[
    "admin", "assets", "login", "logout", "setup", "account", "healthz", "openapi", "password",
    "invite", "lang", "api",
];

/// Validates everything about a new service.
pub fn validate_new_service(
    conn: &mut DbConn,
    errors: &mut dyn Report,
    s: &NewService,
) -> QueryResult<()> {
    validate_service_code(conn, errors, "service_id", &s.code)?;
    validate_service_name(conn, errors, "service_name", &s.name, None)?;
    validate_settings(errors, &s.languages, s.default_lang, &s.timezone);
    Ok(())
}

/// Checks a service name: required, at most 50 characters, and not the name of another
/// service (case-insensitively; `except` is the service being renamed).
pub fn validate_service_name(
    conn: &mut DbConn,
    errors: &mut dyn Report,
    field: &str,
    name: &str,
    except: Option<i64>,
) -> QueryResult<()> {
    crate::tenancy::user::validate_name(errors, field, name);
    if errors.has(field) {
        return Ok(());
    }
    let taken: Option<i64> = services::table
        .filter(lower(services::name).eq(name.trim().to_lowercase()))
        .filter(services::id.ne(except.unwrap_or(-1)))
        .select(services::id)
        .first(conn)
        .optional()?;
    if taken.is_some() {
        errors.add(field, "customerinfo.service_name_taken");
    }
    Ok(())
}

/// The settings a service's name, languages and time zone are changed with.
#[derive(Debug, Clone)]
pub struct ServiceBasics {
    /// Name.
    pub name: String,
    /// Help-center languages.
    pub languages: Vec<Lang>,
    /// Default language (one of `languages`).
    pub default_lang: Lang,
    /// Time zone.
    pub timezone: String,
}

/// What deleting a service came to.
#[derive(Debug)]
pub enum DeleteOutcome {
    /// Deleted with everything in it.
    Deleted,
    /// Still enabled, so kept (disable it first).
    Enabled(Box<Service>),
    /// No such service.
    Gone,
}

impl Service {
    /// Creates a service (validated input) and makes `creator` its administrator, with the
    /// audit row of that permission change; returns the id. In the caller's transaction.
    pub fn create_with_admin(
        conn: &mut DbConn,
        new: &NewService,
        creator: &crate::tenancy::user::User,
    ) -> Result<i64, AppError> {
        let id = Service::create(conn, new)?;
        crate::tenancy::member::Member::add_admin(conn, id, creator.id)?;
        crate::org::audit::record(
            conn,
            crate::org::audit::AuditRecord {
                service: Some((id, &new.code)),
                actor: creator,
                target: creator,
                operation: "agent_added",
                before: String::new(),
                after: "admin".into(),
            },
        )?;
        Ok(id)
    }

    /// By key.
    pub fn find(conn: &mut DbConn, id: ServiceId) -> QueryResult<Option<Service>> {
        services::table
            .find(id.get())
            .select(Service::as_select())
            .first(conn)
            .optional()
    }

    /// Changes the name, languages and time zone (validated input).
    pub fn update_basics(conn: &mut DbConn, id: i64, b: &ServiceBasics) -> QueryResult<()> {
        let langs: Vec<&str> = b.languages.iter().map(|l| l.code()).collect();
        diesel::update(services::table.find(id))
            .set((
                services::name.eq(b.name.trim()),
                services::languages.eq(langs.join(",")),
                services::default_lang.eq(b.default_lang.code()),
                services::timezone.eq(&b.timezone),
                services::updated_at.eq(now()),
            ))
            .execute(conn)?;
        Ok(())
    }

    /// Stores the feature switches; switching the Open API on generates the service key (if
    /// there is none), switching it off keeps the key unusable until it is on again.
    pub fn apply_features(
        conn: &mut DbConn,
        secret: &SecretKey,
        id: i64,
        features: &Features,
    ) -> Result<(), AppError> {
        let Some(current) = Service::find(conn, ServiceId(id))? else {
            return Err(AppError::NotFound);
        };
        let text =
            serde_json::to_string(features).map_err(|e| AppError::Internal(e.to_string()))?;
        diesel::update(services::table.find(id))
            .set((services::features.eq(text), services::updated_at.eq(now())))
            .execute(conn)?;
        if features.open_api && !current.open_api_enabled {
            Service::enable_open_api(conn, secret, id)?;
        } else if !features.open_api && current.open_api_enabled {
            diesel::update(services::table.find(id))
                .set(services::open_api_enabled.eq(false))
                .execute(conn)?;
        }
        Ok(())
    }

    /// Enables or disables a service (a disabled service cannot be used).
    pub fn set_enabled(conn: &mut DbConn, id: i64, enabled: bool) -> QueryResult<usize> {
        diesel::update(services::table.find(id))
            .set((
                services::enabled.eq(enabled),
                services::updated_at.eq(now()),
            ))
            .execute(conn)
    }

    /// Deletes a disabled service and everything in it (its rows go by cascade; the caller
    /// removes its files after the commit with [`crate::services::admin::remove_service_files`]).
    /// An enabled service is kept: checked here, inside the transaction.
    pub fn delete_if_disabled(conn: &mut DbConn, id: i64) -> QueryResult<DeleteOutcome> {
        match Service::find(conn, ServiceId(id))? {
            None => Ok(DeleteOutcome::Gone),
            Some(s) if s.enabled => Ok(DeleteOutcome::Enabled(Box::new(s))),
            Some(_) => {
                diesel::delete(services::table.find(id)).execute(conn)?;
                Ok(DeleteOutcome::Deleted)
            }
        }
    }
}

/// Languages (at least one, the default among them) and a known time zone.
pub fn validate_settings(
    errors: &mut dyn Report,
    languages: &[Lang],
    default_lang: Lang,
    timezone: &str,
) {
    if languages.is_empty() {
        errors.add("languages", "validation.languages_required");
    } else if !languages.contains(&default_lang) {
        errors.add("default_lang", "validation.default_lang_not_selected");
    }
    if timezone.parse::<chrono_tz::Tz>().is_err() {
        errors.add("timezone", "validation.timezone");
    }
}

/// The service's help-center languages, the default first.
pub fn service_langs(service: &Service) -> Vec<Lang> {
    let default = default_lang(service);
    let mut langs = vec![default];
    for l in service.languages() {
        if !langs.contains(&l) {
            langs.push(l);
        }
    }
    langs
}

/// The service's default help-center language.
pub fn default_lang(service: &Service) -> Lang {
    Lang::parse(&service.default_lang)
        .or_else(|| service.languages().first().copied())
        .unwrap_or_default()
}

/// The service's time zone (UTC when the stored name is unknown).
pub fn service_tz(service: &Service) -> Tz {
    service.timezone.parse().unwrap_or(Tz::UTC)
}

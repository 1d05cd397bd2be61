//! The field catalogue of a consultation service (SPEC §3.5): the row, its parsed form
//! [`FieldDef`], the audiences, control types and system fields, the defaults of the system
//! fields (seeding and reset), and creating, updating and soft-deleting fields.
//!
//! A deleted custom field stays as a tombstone (`deleted_at` set, out of every layout) so that its
//! code can never be taken again: the Open API addresses values by code, and a reused code would
//! silently give old ticket values a new meaning.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{field_defs, field_layouts};
use crate::db::search::lower;
use crate::db::types::text_enum;
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::i18n::{self, Lang};

/// Longest field code.
pub const MAX_CODE: usize = 40;
/// Longest label, in characters.
pub const MAX_LABEL: usize = 100;
/// Longest help text, in characters.
pub const MAX_HELP: usize = 1000;
/// Longest placeholder, in characters.
pub const MAX_PLACEHOLDER: usize = 200;
/// Largest configurable maximum length (`0` means unlimited, see
/// [`crate::fields::validate::UNLIMITED_CAP`]).
pub const MAX_MAX_LENGTH: i32 = 10_000;
/// Most options of a choice field.
pub const MAX_OPTIONS: usize = 100;
/// Longest option value, in characters.
pub const MAX_OPTION_VALUE: usize = 100;
/// Longest option label, in characters.
pub const MAX_OPTION_LABEL: usize = 100;
/// Most live custom fields per audience of a service (the catalogue pages list them all).
pub const MAX_CUSTOM_FIELDS: i64 = 200;
/// Longest default value, in characters.
pub const MAX_DEFAULT: usize = 1000;

text_enum! {
    /// Who fills a field in.
    Audience {
        /// The customer, on the help-center inquiry form (agents for other channels).
        Customer => "customer",
        /// The handling agent, in the console.
        Agent => "agent",
    }
}

text_enum! {
    /// Control types; the codes are the Open API's `type` values (API.md §5.1).
    Control {
        /// Single-line text box.
        Text => "text",
        /// Multi-line text box.
        Textarea => "textarea",
        /// Multiple choice.
        Checkbox => "checkbox",
        /// Single choice from a list.
        Dropdown => "dropdown",
        /// Single choice shown as radio buttons.
        Radio => "radio",
        /// `YYYY-MM-DD`.
        Date => "date",
        /// `YYYY-MM-DD HH:MM`.
        Datetime => "datetime",
        /// Two dates, from ≤ to.
        DatePeriod => "date_period",
        /// Two date-times, from ≤ to.
        DatetimePeriod => "datetime_period",
        /// A consent check box (true / false).
        Agree => "agree",
        /// File attachments (attachment references).
        File => "file",
    }
}

text_enum! {
    /// Who may edit an agent field's value.
    AgentPermission {
        /// Service administrators only.
        Admin => "admin",
        /// Every agent handling the ticket.
        Agent => "agent",
    }
}

text_enum! {
    /// The built-in fields. Their codes are the Open API's system field codes (API.md §5.2).
    SystemField {
        /// Intake type (the category of the inquiry); always first on customer forms.
        IntakeType => "category",
        /// Customer name.
        Name => "name",
        /// Customer e-mail.
        Email => "mail",
        /// Customer phone.
        Phone => "phone",
        /// Ticket subject.
        Subject => "subject",
        /// Inquiry content.
        Content => "content",
        /// Attachments of the inquiry.
        Attachment => "attachment",
        /// Personal-data consent; always last on customer forms.
        Consent => "personalAgree",
        /// Resolution type (agent field, fixed on top).
        ResolutionType => "resolutionType",
        /// Ticket priority (agent field, fixed on top).
        Priority => "priority",
    }
}

/// Codes a custom field may not take besides the system codes: the Open API's extension
/// fields and ticket-create body keys (API.md §7.4.4).
const RESERVED_CODES: &[&str] = &[
    "typeone",
    "typetwo",
    "categoryid",
    "enduser",
    "attachments",
    "userfields",
    "language",
    "source",
    "email",
    "username",
    "usercode",
    "status",
    "ticketid",
];

impl Control {
    /// The i18n key of the control's name.
    pub fn label_key(self) -> &'static str {
        match self {
            Control::Text => "field.control.text",
            Control::Textarea => "field.control.textarea",
            Control::Checkbox => "field.control.checkbox",
            Control::Dropdown => "field.control.dropdown",
            Control::Radio => "field.control.radio",
            Control::Date => "field.control.date",
            Control::Datetime => "field.control.datetime",
            Control::DatePeriod => "field.control.date_period",
            Control::DatetimePeriod => "field.control.datetime_period",
            Control::Agree => "field.control.agree",
            Control::File => "field.control.file",
        }
    }

    /// Whether the control chooses among options.
    pub fn has_options(self) -> bool {
        matches!(self, Control::Checkbox | Control::Dropdown | Control::Radio)
    }

    /// Whether the control has a maximum length.
    pub fn has_max_length(self) -> bool {
        matches!(self, Control::Text | Control::Textarea)
    }

    /// Whether the control shows a placeholder (for `agree`, the text beside the box).
    pub fn has_placeholder(self) -> bool {
        matches!(
            self,
            Control::Text
                | Control::Textarea
                | Control::Dropdown
                | Control::Date
                | Control::Datetime
                | Control::Agree
        )
    }

    /// Whether the control may carry a default value.
    pub fn has_default(self) -> bool {
        !matches!(self, Control::Agree | Control::File)
    }

    /// Whether values of this control may be flagged as personal data (encrypted at rest).
    pub fn may_be_personal(self) -> bool {
        !matches!(self, Control::Agree | Control::File)
    }
}

impl Audience {
    /// The i18n key of the audience's name.
    pub fn label_key(self) -> &'static str {
        match self {
            Audience::Customer => "field.audience.customer",
            Audience::Agent => "field.audience.agent",
        }
    }
}

impl AgentPermission {
    /// The i18n key of the level's name.
    pub fn label_key(self) -> &'static str {
        match self {
            AgentPermission::Admin => "field.permission.admin",
            AgentPermission::Agent => "field.permission.agent",
        }
    }
}

/// Default settings of a system field (what it is seeded with and reset to).
#[derive(Debug, Clone)]
pub struct SystemDefaults {
    /// Audience.
    pub audience: Audience,
    /// Control type.
    pub control: Control,
    /// Maximum length (`0` = unlimited).
    pub max_length: i32,
    /// Required.
    pub required: bool,
    /// Personal data (encrypted at rest).
    pub personal: bool,
    /// Default value.
    pub default_value: &'static str,
    /// Catalogue position.
    pub position: i32,
}

impl SystemField {
    /// The system fields of an audience, in their default order.
    pub fn of(audience: Audience) -> Vec<SystemField> {
        SystemField::ALL
            .iter()
            .copied()
            .filter(|s| s.defaults().audience == audience)
            .collect()
    }

    /// The defaults (API.md §5.2 lengths: name 100, e-mail 100, phone 30, subject 200, content
    /// 5000; e-mail and phone encrypted).
    pub fn defaults(self) -> SystemDefaults {
        let d = |audience, control, max_length, required, personal, position| SystemDefaults {
            audience,
            control,
            max_length,
            required,
            personal,
            default_value: "",
            position,
        };
        use Audience::{Agent, Customer};
        match self {
            SystemField::IntakeType => d(Customer, Control::Dropdown, 0, true, false, 0),
            SystemField::Name => d(Customer, Control::Text, 100, false, false, 1),
            SystemField::Email => d(Customer, Control::Text, 100, true, true, 2),
            SystemField::Phone => d(Customer, Control::Text, 30, false, true, 3),
            SystemField::Subject => d(Customer, Control::Text, 200, true, false, 4),
            SystemField::Content => d(Customer, Control::Textarea, 5000, true, false, 5),
            SystemField::Attachment => d(Customer, Control::File, 0, false, false, 6),
            SystemField::Consent => d(Customer, Control::Agree, 0, true, false, 7),
            SystemField::ResolutionType => d(Agent, Control::Dropdown, 0, false, false, 0),
            SystemField::Priority => SystemDefaults {
                default_value: "normal",
                ..d(Agent, Control::Dropdown, 0, false, false, 1)
            },
        }
    }

    /// The i18n key of the default label.
    pub fn label_key(self) -> &'static str {
        match self {
            SystemField::IntakeType => "field.sys.category",
            SystemField::Name => "field.sys.name",
            SystemField::Email => "field.sys.mail",
            SystemField::Phone => "field.sys.phone",
            SystemField::Subject => "field.sys.subject",
            SystemField::Content => "field.sys.content",
            SystemField::Attachment => "field.sys.attachment",
            SystemField::Consent => "field.sys.consent",
            SystemField::ResolutionType => "field.sys.resolution_type",
            SystemField::Priority => "field.sys.priority",
        }
    }

    /// Default help text (the consent statement), per language.
    fn default_help(self) -> Texts {
        match self {
            SystemField::Consent => Texts::from_key("field.sys.consent_help"),
            _ => Texts::default(),
        }
    }

    /// Default placeholder (the consent check box's text), per language.
    fn default_placeholders(self) -> Texts {
        match self {
            SystemField::Consent => Texts::from_key("field.sys.consent_placeholder"),
            _ => Texts::default(),
        }
    }

    /// Default options (the priorities).
    pub fn default_options(self) -> Vec<FieldOption> {
        match self {
            SystemField::Priority => [
                ("urgent", "field.priority.urgent"),
                ("high", "field.priority.high"),
                ("normal", "field.priority.normal"),
                ("low", "field.priority.low"),
            ]
            .iter()
            .map(|(value, key)| FieldOption {
                value: (*value).to_string(),
                labels: Texts::from_key(key),
            })
            .collect(),
            _ => Vec::new(),
        }
    }

    /// Whether "required" is fixed on (SPEC §3.5: subject, type, content and consent cannot be
    /// made optional).
    pub fn required_locked(self) -> bool {
        matches!(
            self,
            SystemField::IntakeType
                | SystemField::Subject
                | SystemField::Content
                | SystemField::Consent
        )
    }

    /// Whether the field is always shown (a form without it cannot create a ticket, or must not
    /// collect personal data).
    pub fn visible_locked(self) -> bool {
        self.required_locked()
    }

    /// Whether the personal-data flag can be changed.
    pub fn personal_editable(self) -> bool {
        matches!(
            self,
            SystemField::Name
                | SystemField::Email
                | SystemField::Phone
                | SystemField::Subject
                | SystemField::Content
        )
    }

    /// Whether the options are edited here (category fields take theirs from a category tree,
    /// the priorities are fixed values the ticket module relies on).
    pub fn options_editable(self) -> bool {
        false
    }

    /// Whether the field takes a default value.
    pub fn default_editable(self) -> bool {
        matches!(
            self,
            SystemField::Name | SystemField::Subject | SystemField::Content | SystemField::Priority
        )
    }

    /// Bounds of the maximum length: `(allow_unlimited, largest)`.
    pub fn max_length_bounds(self) -> (bool, i32) {
        match self {
            SystemField::Name => (false, 200),
            SystemField::Email => (false, 254),
            SystemField::Phone => (false, 30),
            // The Open API accepts subjects up to 255 characters (API.md C-13).
            SystemField::Subject => (false, 255),
            _ => (true, MAX_MAX_LENGTH),
        }
    }

    /// Whether the field sits in a fixed place (intake type first, consent last) instead of
    /// being ordered in a layout.
    pub fn fixed_in_layout(self) -> bool {
        matches!(self, SystemField::IntakeType | SystemField::Consent)
    }

    /// Whether every customer layout must contain the field (a ticket needs a subject and
    /// content).
    pub fn mandatory_in_layout(self) -> bool {
        matches!(self, SystemField::Subject | SystemField::Content)
    }
}

/// Texts per help-center language (`{"ko": "…", "en": "…"}` in the database).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Texts(pub BTreeMap<String, String>);

impl Texts {
    /// Parses stored JSON; anything unreadable counts as empty.
    pub fn parse(json: &str) -> Texts {
        serde_json::from_str(json).unwrap_or_default()
    }

    /// The JSON stored in the database.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "{}".into())
    }

    /// An i18n message in every UI language.
    pub fn from_key(key: &str) -> Texts {
        Texts(
            Lang::ALL
                .iter()
                .map(|l| (l.code().to_string(), i18n::t(*l, key)))
                .collect(),
        )
    }

    /// The text in `lang`, if set.
    pub fn get(&self, lang: Lang) -> Option<&str> {
        self.0
            .get(lang.code())
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }

    /// The text in `lang`, else in `fallback`, else any, else "".
    pub fn pick(&self, lang: Lang, fallback: Lang) -> &str {
        self.get(lang)
            .or_else(|| self.get(fallback))
            .or_else(|| Lang::ALL.iter().find_map(|l| self.get(*l)))
            .unwrap_or("")
    }

    /// Sets (or, with an empty text, clears) the text of a language.
    pub fn set(&mut self, lang: Lang, text: &str) {
        if text.is_empty() {
            self.0.remove(lang.code());
        } else {
            self.0.insert(lang.code().to_string(), text.to_string());
        }
    }
}

/// One choice of a checkbox, dropdown or radio field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldOption {
    /// The stored value (also what the Open API sends).
    pub value: String,
    /// Display label per language (the value when missing).
    #[serde(default)]
    pub labels: Texts,
}

impl FieldOption {
    /// The label in `lang` (falling back to `fallback`, then the value).
    pub fn label(&self, lang: Lang, fallback: Lang) -> &str {
        let l = self.labels.pick(lang, fallback);
        if l.is_empty() { &self.value } else { l }
    }
}

/// A `field_defs` row as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = field_defs)]
pub struct FieldRow {
    /// Key.
    pub id: i64,
    /// Service.
    pub service_id: i64,
    /// `customer` or `agent`.
    pub audience: String,
    /// Code.
    pub code: String,
    /// Control type code.
    pub control: String,
    /// Built in.
    pub is_system: bool,
    /// [`FieldConfig`] as JSON.
    pub config: String,
    /// Required.
    pub required: bool,
    /// Personal data.
    pub personal: bool,
    /// Visible.
    pub visible: bool,
    /// `admin` or `agent`.
    pub agent_permission: String,
    /// Catalogue / agent-layout position.
    pub position: i32,
    /// Tombstone.
    pub deleted_at: Option<NaiveDateTime>,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Updated.
    pub updated_at: NaiveDateTime,
}

/// A field definition, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDef {
    /// Key (the Open API's `fieldId`).
    pub id: i64,
    /// Service.
    pub service_id: i64,
    /// Customer or agent field.
    pub audience: Audience,
    /// Code (the Open API's key; unique in the service, never reused).
    pub code: String,
    /// Control type.
    pub control: Control,
    /// Which built-in field this is, if any.
    pub system: Option<SystemField>,
    /// Labels per language.
    pub labels: Texts,
    /// Help texts per language.
    pub help: Texts,
    /// Placeholders per language.
    pub placeholders: Texts,
    /// Maximum length in characters (`0` = unlimited).
    pub max_length: i32,
    /// Choices, in order.
    pub options: Vec<FieldOption>,
    /// Default value in storage form (see [`crate::fields::validate::StoredValue`]).
    pub default_value: String,
    /// Must be filled in.
    pub required: bool,
    /// Personal data: encrypted at rest, masked in lists, never searchable.
    pub personal: bool,
    /// Shown on forms.
    pub visible: bool,
    /// Who may edit the value (agent fields).
    pub agent_permission: AgentPermission,
    /// Catalogue position (agent fields: the layout order).
    pub position: i32,
    /// Deleted (a tombstone kept so the code is never reused).
    pub deleted: bool,
}

/// What forms show, stored as one JSON column (nothing in it is filtered on).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldConfig {
    /// Labels per language.
    #[serde(default)]
    pub labels: Texts,
    /// Help texts per language.
    #[serde(default)]
    pub help: Texts,
    /// Placeholders per language.
    #[serde(default)]
    pub placeholders: Texts,
    /// Maximum length (`0` = unlimited).
    #[serde(default)]
    pub max_length: i32,
    /// Choices, in order.
    #[serde(default)]
    pub options: Vec<FieldOption>,
    /// Default value in storage form.
    #[serde(default, rename = "default")]
    pub default_value: String,
}

impl FieldConfig {
    /// The JSON stored in the database.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }

    /// A system field's defaults.
    pub fn system_defaults(sys: SystemField) -> FieldConfig {
        FieldConfig {
            labels: Texts::from_key(sys.label_key()),
            help: sys.default_help(),
            placeholders: sys.default_placeholders(),
            max_length: sys.defaults().max_length,
            options: sys.default_options(),
            default_value: sys.defaults().default_value.to_string(),
        }
    }
}

impl From<FieldRow> for FieldDef {
    fn from(r: FieldRow) -> FieldDef {
        let system = if r.is_system {
            SystemField::parse(&r.code)
        } else {
            None
        };
        let config: FieldConfig = serde_json::from_str(&r.config).unwrap_or_default();
        FieldDef {
            id: r.id,
            service_id: r.service_id,
            audience: Audience::parse(&r.audience).unwrap_or(Audience::Customer),
            control: Control::parse(&r.control).unwrap_or(Control::Text),
            system,
            labels: config.labels,
            help: config.help,
            placeholders: config.placeholders,
            max_length: config.max_length,
            options: config.options,
            default_value: config.default_value,
            required: r.required,
            personal: r.personal,
            visible: r.visible,
            agent_permission: AgentPermission::parse(&r.agent_permission)
                .unwrap_or(AgentPermission::Agent),
            position: r.position,
            deleted: r.deleted_at.is_some(),
            code: r.code,
        }
    }
}

impl FieldDef {
    /// The label in `lang`: the configured one, else (system fields) the built-in one, else the
    /// one in `fallback` or any language, else the code.
    pub fn label(&self, lang: Lang, fallback: Lang) -> String {
        if let Some(l) = self.labels.get(lang) {
            return l.to_string();
        }
        if let Some(s) = self.system {
            return i18n::t(lang, s.label_key());
        }
        let l = self.labels.pick(lang, fallback);
        if l.is_empty() {
            self.code.clone()
        } else {
            l.to_string()
        }
    }

    /// Whether this is a built-in field.
    pub fn is_system(&self) -> bool {
        self.system.is_some()
    }

    /// Whether required is fixed on.
    pub fn required_locked(&self) -> bool {
        self.system.is_some_and(SystemField::required_locked)
    }

    /// Whether visible is fixed on.
    pub fn visible_locked(&self) -> bool {
        self.system.is_some_and(SystemField::visible_locked)
    }

    /// Whether the personal-data flag may be changed.
    pub fn personal_editable(&self) -> bool {
        match self.system {
            Some(s) => s.personal_editable(),
            None => self.control.may_be_personal(),
        }
    }

    /// Whether the options are edited on the field form.
    pub fn options_editable(&self) -> bool {
        self.control.has_options() && self.system.is_none_or(SystemField::options_editable)
    }

    /// Whether a default value may be set.
    pub fn default_editable(&self) -> bool {
        match self.system {
            Some(s) => s.default_editable(),
            None => self.control.has_default(),
        }
    }

    /// Bounds of the maximum length: `(allow_unlimited, largest)`.
    pub fn max_length_bounds(&self) -> (bool, i32) {
        self.system
            .map_or((true, MAX_MAX_LENGTH), SystemField::max_length_bounds)
    }

    /// The option with this value.
    pub fn option(&self, value: &str) -> Option<&FieldOption> {
        self.options.iter().find(|o| o.value == value)
    }

    /// A live field of a service.
    pub fn find(conn: &mut DbConn, service_id: i64, id: i64) -> QueryResult<Option<FieldDef>> {
        Ok(field_defs::table
            .filter(field_defs::service_id.eq(service_id))
            .filter(field_defs::id.eq(id))
            .filter(field_defs::deleted_at.is_null())
            .select(FieldRow::as_select())
            .first(conn)
            .optional()?
            .map(FieldDef::from))
    }

    /// A live field of a service by code (case-insensitive, as codes are unique that way).
    pub fn find_by_code(
        conn: &mut DbConn,
        service_id: i64,
        code: &str,
    ) -> QueryResult<Option<FieldDef>> {
        Ok(field_defs::table
            .filter(field_defs::service_id.eq(service_id))
            .filter(lower(field_defs::code).eq(code.to_ascii_lowercase()))
            .filter(field_defs::deleted_at.is_null())
            .select(FieldRow::as_select())
            .first(conn)
            .optional()?
            .map(FieldDef::from))
    }

    /// The live fields of an audience in catalogue order (system fields first within their
    /// default order, then custom fields as created or ordered).
    pub fn of_audience(
        conn: &mut DbConn,
        service_id: i64,
        audience: Audience,
    ) -> QueryResult<Vec<FieldDef>> {
        let rows: Vec<FieldRow> = field_defs::table
            .filter(field_defs::service_id.eq(service_id))
            .filter(field_defs::audience.eq(audience.as_str()))
            .filter(field_defs::deleted_at.is_null())
            .order((
                field_defs::is_system.desc(),
                field_defs::position.asc(),
                field_defs::id.asc(),
            ))
            // System fields plus the custom cap: the whole catalogue, bounded.
            .limit(MAX_CUSTOM_FIELDS + 20)
            .select(FieldRow::as_select())
            .load(conn)?;
        Ok(rows.into_iter().map(FieldDef::from).collect())
    }

    /// Fields of a service by id, deleted ones included (ticket values keep pointing at them),
    /// in one query.
    pub fn by_ids(conn: &mut DbConn, service_id: i64, ids: &[i64]) -> QueryResult<Vec<FieldDef>> {
        let rows: Vec<FieldRow> = field_defs::table
            .filter(field_defs::service_id.eq(service_id))
            .filter(field_defs::id.eq_any(ids))
            .select(FieldRow::as_select())
            .load(conn)?;
        Ok(rows.into_iter().map(FieldDef::from).collect())
    }

    /// Whether the service's system fields exist.
    pub fn has_system_fields(conn: &mut DbConn, service_id: i64) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(
            field_defs::table
                .filter(field_defs::service_id.eq(service_id))
                .filter(field_defs::is_system.eq(true)),
        ))
        .get_result(conn)
    }
}

/// Creates the system fields of a service that does not have them yet, and its default
/// customer layout (name, e-mail, phone, subject, content, attachments). Called for every new
/// consultation service; the migration did the same for the services that existed before.
pub fn seed_system_fields(conn: &mut DbConn, service_id: i64) -> QueryResult<()> {
    if FieldDef::has_system_fields(conn, service_id)? {
        return Ok(());
    }
    let t = now();
    let mut layout: Vec<(i64, i32)> = Vec::new();
    for sys in SystemField::ALL {
        let d = sys.defaults();
        let id: i64 = diesel::insert_into(field_defs::table)
            .values((
                field_defs::service_id.eq(service_id),
                field_defs::audience.eq(d.audience.as_str()),
                field_defs::code.eq(sys.as_str()),
                field_defs::control.eq(d.control.as_str()),
                field_defs::is_system.eq(true),
                field_defs::config.eq(FieldConfig::system_defaults(*sys).to_json()),
                field_defs::required.eq(d.required),
                field_defs::personal.eq(d.personal),
                field_defs::visible.eq(true),
                field_defs::agent_permission.eq(AgentPermission::Agent.as_str()),
                field_defs::position.eq(d.position),
                field_defs::deleted_at.eq(None::<NaiveDateTime>),
                field_defs::created_at.eq(t),
                field_defs::updated_at.eq(t),
            ))
            .returning(field_defs::id)
            .get_result(conn)?;
        if d.audience == Audience::Customer && !sys.fixed_in_layout() {
            layout.push((id, d.position));
        }
    }
    for (field_id, position) in layout {
        diesel::insert_into(field_layouts::table)
            .values((
                field_layouts::service_id.eq(service_id),
                field_layouts::category_id.eq(None::<i64>),
                field_layouts::field_id.eq(field_id),
                field_layouts::position.eq(position),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// What the add and edit forms submit, already cleaned (see `crate::fields::form`).
#[derive(Debug, Clone)]
pub struct FieldInput {
    /// Code (new fields only).
    pub code: String,
    /// Labels per language.
    pub labels: Texts,
    /// Help texts per language.
    pub help: Texts,
    /// Placeholders per language.
    pub placeholders: Texts,
    /// Maximum length.
    pub max_length: i32,
    /// Options in order.
    pub options: Vec<FieldOption>,
    /// Default value in storage form.
    pub default_value: String,
    /// Required.
    pub required: bool,
    /// Personal data.
    pub personal: bool,
    /// Visible.
    pub visible: bool,
    /// Permission level (agent fields).
    pub agent_permission: AgentPermission,
}

impl Default for FieldInput {
    fn default() -> Self {
        FieldInput {
            code: String::new(),
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
        }
    }
}

/// Why a code cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeProblem {
    /// Empty.
    Missing,
    /// Not ASCII letters, digits and underscores starting with a letter.
    Format,
    /// Longer than [`MAX_CODE`].
    TooLong,
    /// A system or Open API name.
    Reserved,
    /// A live field has it.
    Taken,
    /// A deleted field had it (codes are never reused).
    UsedBefore,
}

impl CodeProblem {
    /// The i18n key of the message.
    pub fn message_key(self) -> &'static str {
        match self {
            CodeProblem::Missing => "field.code_required",
            CodeProblem::Format => "field.code_format",
            CodeProblem::TooLong => "field.code_too_long",
            CodeProblem::Reserved => "field.code_reserved",
            CodeProblem::Taken => "field.code_taken",
            CodeProblem::UsedBefore => "field.code_used_before",
        }
    }
}

/// Checks the shape of a code: ASCII letters, digits and `_`, starting with a letter, at most
/// [`MAX_CODE`] characters, and not a system or reserved name.
pub fn check_code_format(code: &str) -> Result<(), CodeProblem> {
    if code.is_empty() {
        return Err(CodeProblem::Missing);
    }
    if code.len() > MAX_CODE {
        return Err(CodeProblem::TooLong);
    }
    let mut chars = code.chars();
    let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    if !starts_with_letter || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(CodeProblem::Format);
    }
    let lower_code = code.to_ascii_lowercase();
    if SystemField::ALL
        .iter()
        .any(|s| s.as_str().eq_ignore_ascii_case(&lower_code))
        || RESERVED_CODES.contains(&lower_code.as_str())
    {
        return Err(CodeProblem::Reserved);
    }
    Ok(())
}

/// Checks a new code against the format and every code the service ever used.
pub fn check_code(
    conn: &mut DbConn,
    service_id: i64,
    code: &str,
) -> QueryResult<Result<(), CodeProblem>> {
    if let Err(p) = check_code_format(code) {
        return Ok(Err(p));
    }
    let existing: Option<Option<NaiveDateTime>> = field_defs::table
        .filter(field_defs::service_id.eq(service_id))
        .filter(lower(field_defs::code).eq(code.to_ascii_lowercase()))
        .select(field_defs::deleted_at)
        .first(conn)
        .optional()?;
    Ok(match existing {
        None => Ok(()),
        Some(None) => Err(CodeProblem::Taken),
        Some(Some(_)) => Err(CodeProblem::UsedBefore),
    })
}

/// How many live custom fields an audience has.
pub fn custom_field_count(
    conn: &mut DbConn,
    service_id: i64,
    audience: Audience,
) -> QueryResult<i64> {
    field_defs::table
        .filter(field_defs::service_id.eq(service_id))
        .filter(field_defs::audience.eq(audience.as_str()))
        .filter(field_defs::is_system.eq(false))
        .filter(field_defs::deleted_at.is_null())
        .count()
        .get_result(conn)
}

/// Inserts a custom field at the end of its audience's order; returns its id. The input must
/// have been validated (code included) in the same transaction.
pub fn create_field(
    conn: &mut DbConn,
    service_id: i64,
    audience: Audience,
    control: Control,
    input: &FieldInput,
) -> QueryResult<i64> {
    let last: Option<i32> = field_defs::table
        .filter(field_defs::service_id.eq(service_id))
        .filter(field_defs::audience.eq(audience.as_str()))
        .select(diesel::dsl::max(field_defs::position))
        .first(conn)?;
    let t = now();
    diesel::insert_into(field_defs::table)
        .values((
            field_defs::service_id.eq(service_id),
            field_defs::audience.eq(audience.as_str()),
            field_defs::code.eq(&input.code),
            field_defs::control.eq(control.as_str()),
            field_defs::is_system.eq(false),
            field_defs::config.eq(FieldConfig {
                labels: input.labels.clone(),
                help: input.help.clone(),
                placeholders: input.placeholders.clone(),
                max_length: input.max_length,
                options: input.options.clone(),
                default_value: input.default_value.clone(),
            }
            .to_json()),
            field_defs::required.eq(input.required),
            field_defs::personal.eq(input.personal),
            field_defs::visible.eq(input.visible),
            field_defs::agent_permission.eq(input.agent_permission.as_str()),
            field_defs::position.eq(last.map_or(0, |p| p.saturating_add(1))),
            field_defs::deleted_at.eq(None::<NaiveDateTime>),
            field_defs::created_at.eq(t),
            field_defs::updated_at.eq(t),
        ))
        .returning(field_defs::id)
        .get_result(conn)
}

/// Saves the editable settings of a field. Texts of languages the form did not show (a language
/// the service no longer offers) are kept. Locked settings of system fields keep their values.
pub fn update_field(
    conn: &mut DbConn,
    field: &FieldDef,
    langs: &[Lang],
    input: &FieldInput,
) -> Result<(), AppError> {
    let merge = |old: &Texts, new: &Texts| {
        let mut out = old.clone();
        for l in langs {
            out.set(*l, new.get(*l).unwrap_or(""));
        }
        out
    };
    let required = if field.required_locked() {
        true
    } else {
        input.required
    };
    let visible = if field.visible_locked() {
        true
    } else {
        input.visible
    };
    let personal = if field.personal_editable() {
        input.personal
    } else {
        field.personal
    };
    let options = if field.options_editable() {
        input.options.clone()
    } else {
        field.options.clone()
    };
    let default_value = if field.default_editable() {
        input.default_value.clone()
    } else {
        field.default_value.clone()
    };
    let max_length = if field.control.has_max_length() {
        input.max_length
    } else {
        field.max_length
    };
    let permission = if field.audience == Audience::Agent {
        input.agent_permission
    } else {
        field.agent_permission
    };
    diesel::update(field_defs::table.find(field.id))
        .set((
            field_defs::config.eq(FieldConfig {
                labels: merge(&field.labels, &input.labels),
                help: merge(&field.help, &input.help),
                placeholders: merge(&field.placeholders, &input.placeholders),
                max_length,
                options,
                default_value,
            }
            .to_json()),
            field_defs::required.eq(required),
            field_defs::personal.eq(personal),
            field_defs::visible.eq(visible),
            field_defs::agent_permission.eq(permission.as_str()),
            field_defs::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Restores a system field's defaults (labels, help, placeholder, length, options, default,
/// required, personal data, visible, permission). Its place in layouts is kept.
pub fn reset_system_field(conn: &mut DbConn, field: &FieldDef) -> Result<(), AppError> {
    let Some(sys) = field.system else {
        return Err(AppError::BadRequest("field.not_system"));
    };
    let d = sys.defaults();
    diesel::update(field_defs::table.find(field.id))
        .set((
            field_defs::config.eq(FieldConfig::system_defaults(sys).to_json()),
            field_defs::required.eq(d.required),
            field_defs::personal.eq(d.personal),
            field_defs::visible.eq(true),
            field_defs::agent_permission.eq(AgentPermission::Agent.as_str()),
            field_defs::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Deletes a custom field: it leaves every layout and stays as a tombstone, so its code is never
/// used again. Returns how many layouts it was in.
pub fn delete_field(conn: &mut DbConn, field: &FieldDef) -> Result<usize, AppError> {
    if field.is_system() {
        return Err(AppError::BadRequest("field.system_not_deletable"));
    }
    let layouts = diesel::delete(field_layouts::table.filter(field_layouts::field_id.eq(field.id)))
        .execute(conn)?;
    let t = now();
    diesel::update(field_defs::table.find(field.id))
        .set((
            field_defs::deleted_at.eq(Some(t)),
            field_defs::visible.eq(false),
            field_defs::updated_at.eq(t),
        ))
        .execute(conn)?;
    Ok(layouts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_format() {
        assert_eq!(check_code_format("orderNumber"), Ok(()));
        assert_eq!(check_code_format("a_1"), Ok(()));
        assert_eq!(check_code_format(""), Err(CodeProblem::Missing));
        assert_eq!(check_code_format("1abc"), Err(CodeProblem::Format));
        assert_eq!(check_code_format("_abc"), Err(CodeProblem::Format));
        assert_eq!(check_code_format("ab-c"), Err(CodeProblem::Format));
        assert_eq!(check_code_format("주문"), Err(CodeProblem::Format));
        assert_eq!(
            check_code_format(&"a".repeat(41)),
            Err(CodeProblem::TooLong)
        );
        assert_eq!(check_code_format(&"a".repeat(40)), Ok(()));
        assert_eq!(check_code_format("MAIL"), Err(CodeProblem::Reserved));
        assert_eq!(check_code_format("typeOne"), Err(CodeProblem::Reserved));
    }

    #[test]
    fn texts_fall_back() {
        let mut t = Texts::default();
        t.set(Lang::Ko, "이름");
        assert_eq!(t.pick(Lang::En, Lang::Ko), "이름");
        t.set(Lang::En, "Name");
        assert_eq!(t.pick(Lang::En, Lang::Ko), "Name");
        t.set(Lang::En, "");
        assert_eq!(t.get(Lang::En), None);
        assert_eq!(Texts::parse("not json"), Texts::default());
    }

    #[test]
    fn system_fields_per_audience_in_order() {
        let customer: Vec<&str> = SystemField::of(Audience::Customer)
            .iter()
            .map(|s| s.as_str())
            .collect();
        assert_eq!(
            customer,
            [
                "category",
                "name",
                "mail",
                "phone",
                "subject",
                "content",
                "attachment",
                "personalAgree"
            ]
        );
        assert_eq!(SystemField::of(Audience::Agent).len(), 2);
    }
}

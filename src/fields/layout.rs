//! Field layouts and the form definitions built from them.
//!
//! Customer fields are laid out per intake type (SPEC §3.5): the intake-type field is always
//! first and the consent field always last; the fields between them are an ordered list. An
//! intake type either has its own list or inherits the nearest ancestor's; types without any
//! inherit the service's default layout. Subject and content are in every list (a ticket needs
//! them). Agent fields have one layout: resolution type and priority fixed on top, then the other
//! agent fields in their stored order.
//!
//! [`customer_form`] and [`agent_form`] give renderers (help center, console, Open API) the
//! ordered, translated fields in two queries.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;

use crate::agents::form::merge_order;
use crate::db::DbConn;
use crate::db::schema::{categories, field_defs, field_layouts, services};
use crate::db::types::CategoryTree;
use crate::fields::model::{
    AgentPermission, Audience, Control, FieldDef, FieldRow, SystemField, Texts,
};
use crate::fields::validate::{FieldError, RawValue, StoredValue, validate};
use crate::i18n::Lang;
use crate::tenancy::service::Service;

/// Most intake types read for a layout decision (trees have 5 levels; this bounds the query).
pub const MAX_INTAKE_TYPES: i64 = 5000;
/// Most fields between the fixed first and last field of a layout.
pub const MAX_LAYOUT_FIELDS: usize = 100;

/// Which customer layout is meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayoutScope {
    /// The service's default layout (intake types without their own or an inherited one).
    Default,
    /// An intake type's own layout.
    Category(i64),
}

impl LayoutScope {
    /// Parses the path segment: `default` or a category id.
    pub fn parse(s: &str) -> Option<LayoutScope> {
        if s == "default" {
            Some(LayoutScope::Default)
        } else {
            s.parse::<i64>().ok().map(LayoutScope::Category)
        }
    }

    /// The path segment.
    pub fn segment(self) -> String {
        match self {
            LayoutScope::Default => "default".into(),
            LayoutScope::Category(id) => id.to_string(),
        }
    }

    fn category_id(self) -> Option<i64> {
        match self {
            LayoutScope::Default => None,
            LayoutScope::Category(id) => Some(id),
        }
    }
}

/// Where the effective layout of an intake type comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayoutSource {
    /// Its own list.
    Own,
    /// An ancestor's list (the ancestor's id).
    Inherited(i64),
    /// The service default.
    Default,
}

/// An intake type (a `categories` row of the `intake` tree).
#[derive(Debug, Clone)]
pub struct IntakeType {
    /// Category id.
    pub id: i64,
    /// Parent (None at the top level).
    pub parent_id: Option<i64>,
    /// Depth (1–5).
    pub level: i32,
    /// Names per help-center language.
    pub names: Texts,
    /// Offered in the help center.
    pub helpcenter_enabled: bool,
    /// In use.
    pub active: bool,
}

impl IntakeType {
    /// The name in `lang` (or the fallback language, or any).
    pub fn name(&self, lang: Lang, fallback: Lang) -> String {
        let n = self.names.pick(lang, fallback);
        if n.is_empty() {
            format!("#{}", self.id)
        } else {
            n.to_string()
        }
    }
}

/// The service's intake types in tree order (parents before children, siblings by position).
pub fn intake_types(conn: &mut DbConn, service_id: i64) -> QueryResult<Vec<IntakeType>> {
    type Row = (i64, Option<i64>, i32, i32, String, bool, bool);
    let rows: Vec<Row> = categories::table
        .filter(categories::service_id.eq(service_id))
        .filter(categories::tree.eq(CategoryTree::Intake.as_str()))
        .order((categories::position.asc(), categories::id.asc()))
        .limit(MAX_INTAKE_TYPES)
        .select((
            categories::id,
            categories::parent_id,
            categories::level,
            categories::position,
            categories::names,
            categories::helpcenter_enabled,
            categories::active,
        ))
        .load(conn)?;
    let mut children: HashMap<Option<i64>, Vec<IntakeType>> = HashMap::new();
    let ids: HashSet<i64> = rows.iter().map(|r| r.0).collect();
    for (id, parent_id, level, _, names, hc, active) in rows {
        // A parent outside the loaded set is treated as a root so nothing disappears.
        let key = parent_id.filter(|p| ids.contains(p));
        children.entry(key).or_default().push(IntakeType {
            id,
            parent_id,
            level,
            names: Texts::parse(&names),
            helpcenter_enabled: hc,
            active,
        });
    }
    let mut out = Vec::new();
    let mut stack: Vec<IntakeType> = children.remove(&None).unwrap_or_default();
    stack.reverse();
    while let Some(node) = stack.pop() {
        if let Some(mut kids) = children.remove(&Some(node.id)) {
            kids.reverse();
            stack.extend(kids);
        }
        out.push(node);
    }
    Ok(out)
}

/// One intake type of the service.
pub fn find_intake_type(
    conn: &mut DbConn,
    service_id: i64,
    id: i64,
) -> QueryResult<Option<IntakeType>> {
    type Row = (i64, Option<i64>, i32, String, bool, bool);
    let row: Option<Row> = categories::table
        .filter(categories::service_id.eq(service_id))
        .filter(categories::tree.eq(CategoryTree::Intake.as_str()))
        .filter(categories::id.eq(id))
        .select((
            categories::id,
            categories::parent_id,
            categories::level,
            categories::names,
            categories::helpcenter_enabled,
            categories::active,
        ))
        .first(conn)
        .optional()?;
    Ok(
        row.map(|(id, parent_id, level, names, hc, active)| IntakeType {
            id,
            parent_id,
            level,
            names: Texts::parse(&names),
            helpcenter_enabled: hc,
            active,
        }),
    )
}

/// The chain from an intake type up to its root (itself first), from one query over the tree.
fn ancestor_chain(
    conn: &mut DbConn,
    service_id: i64,
    category_id: i64,
) -> QueryResult<Option<(Vec<i64>, bool, bool)>> {
    let rows: Vec<(i64, Option<i64>, bool, bool)> = categories::table
        .filter(categories::service_id.eq(service_id))
        .filter(categories::tree.eq(CategoryTree::Intake.as_str()))
        .limit(MAX_INTAKE_TYPES)
        .select((
            categories::id,
            categories::parent_id,
            categories::helpcenter_enabled,
            categories::active,
        ))
        .load(conn)?;
    let parents: HashMap<i64, Option<i64>> = rows.iter().map(|r| (r.0, r.1)).collect();
    let Some(&(_, _, hc, active)) = rows.iter().find(|r| r.0 == category_id) else {
        return Ok(None);
    };
    let mut chain = vec![category_id];
    let mut current = category_id;
    // Trees are at most 5 deep; the bound also stops a corrupted cycle.
    while chain.len() < 10 {
        match parents.get(&current).copied().flatten() {
            Some(p) if !chain.contains(&p) => {
                chain.push(p);
                current = p;
            }
            _ => break,
        }
    }
    Ok(Some((chain, hc, active)))
}

/// The customer fields of a service and the layout that applies to a scope.
#[derive(Debug, Clone)]
pub struct ResolvedLayout {
    /// Every live customer field of the service, in catalogue order.
    pub fields: Vec<FieldDef>,
    /// The ordered ids between the fixed first and last field.
    pub middle: Vec<i64>,
    /// Where the list comes from.
    pub source: LayoutSource,
}

impl ResolvedLayout {
    /// The field with this id.
    pub fn field(&self, id: i64) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.id == id)
    }

    /// The system field of this kind.
    pub fn system(&self, s: SystemField) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.system == Some(s))
    }

    /// The ordered middle fields.
    pub fn middle_fields(&self) -> Vec<&FieldDef> {
        self.middle
            .iter()
            .filter_map(|id| self.field(*id))
            .collect()
    }

    /// Live customer fields that may be added to the layout (not in it, not fixed).
    pub fn addable(&self) -> Vec<&FieldDef> {
        self.fields
            .iter()
            .filter(|f| {
                !self.middle.contains(&f.id) && !f.system.is_some_and(SystemField::fixed_in_layout)
            })
            .collect()
    }
}

/// Loads the customer fields with the layout rows of the given scopes (one query) and picks the
/// first scope in `chain` order that has rows, then the default.
fn resolve(conn: &mut DbConn, service_id: i64, chain: &[i64]) -> QueryResult<ResolvedLayout> {
    type Row = (FieldRow, Option<i64>, Option<i64>, Option<i32>);
    // An empty IN list is not portable; -1 is never a category id.
    let chain_ids: Vec<i64> = if chain.is_empty() {
        vec![-1]
    } else {
        chain.to_vec()
    };
    let rows: Vec<Row> = field_defs::table
        .left_join(
            field_layouts::table.on(field_layouts::field_id
                .eq(field_defs::id)
                .and(field_layouts::service_id.eq(service_id))
                .and(
                    field_layouts::category_id
                        .eq_any(chain_ids)
                        .or(field_layouts::category_id.is_null()),
                )),
        )
        .filter(field_defs::service_id.eq(service_id))
        .filter(field_defs::audience.eq(Audience::Customer.as_str()))
        .filter(field_defs::deleted_at.is_null())
        .order((
            field_defs::is_system.desc(),
            field_defs::position.asc(),
            field_defs::id.asc(),
        ))
        .select((
            FieldRow::as_select(),
            field_layouts::id.nullable(),
            field_layouts::category_id.nullable(),
            field_layouts::position.nullable(),
        ))
        .load(conn)?;
    let mut fields: Vec<FieldDef> = Vec::new();
    // scope (None = default) → (position, layout row id, field id)
    let mut scoped: HashMap<Option<i64>, Vec<(i32, i64, i64)>> = HashMap::new();
    for (row, layout_id, category_id, position) in rows {
        let field_id = row.id;
        if !fields.iter().any(|f| f.id == field_id) {
            fields.push(FieldDef::from(row));
        }
        if let (Some(lid), Some(pos)) = (layout_id, position) {
            scoped
                .entry(category_id)
                .or_default()
                .push((pos, lid, field_id));
        }
    }
    let mut pick = |scope: Option<i64>| {
        scoped.remove(&scope).map(|mut v| {
            v.sort_unstable();
            v.into_iter().map(|(_, _, f)| f).collect::<Vec<i64>>()
        })
    };
    let mut source = LayoutSource::Default;
    let mut middle: Option<Vec<i64>> = None;
    for (i, c) in chain.iter().enumerate() {
        if let Some(ids) = pick(Some(*c)) {
            source = if i == 0 {
                LayoutSource::Own
            } else {
                LayoutSource::Inherited(*c)
            };
            middle = Some(ids);
            break;
        }
    }
    let middle = match middle.or_else(|| pick(None)) {
        Some(ids) => ids,
        // No default layout stored: the non-fixed system fields in catalogue order.
        None => fields
            .iter()
            .filter(|f| f.system.is_some_and(|s| !s.fixed_in_layout()))
            .map(|f| f.id)
            .collect(),
    };
    let mut resolved = ResolvedLayout {
        fields,
        middle,
        source,
    };
    resolved.middle = normalise(&resolved, &resolved.middle);
    Ok(resolved)
}

/// Keeps known, non-fixed, distinct ids (at most [`MAX_LAYOUT_FIELDS`]) and appends subject and
/// content when missing.
fn normalise(layout: &ResolvedLayout, ids: &[i64]) -> Vec<i64> {
    let mut out: Vec<i64> = Vec::new();
    for id in ids {
        let Some(f) = layout.field(*id) else { continue };
        if f.system.is_some_and(SystemField::fixed_in_layout) || out.contains(id) {
            continue;
        }
        if out.len() < MAX_LAYOUT_FIELDS {
            out.push(*id);
        }
    }
    for s in [SystemField::Subject, SystemField::Content] {
        if let Some(f) = layout.system(s)
            && !out.contains(&f.id)
        {
            out.push(f.id);
        }
    }
    out
}

/// The layout of a scope as the layout page shows it. `None` when the category is not an intake
/// type of the service.
pub fn layout_of(
    conn: &mut DbConn,
    service_id: i64,
    scope: LayoutScope,
) -> QueryResult<Option<ResolvedLayout>> {
    let chain = match scope {
        LayoutScope::Default => Vec::new(),
        LayoutScope::Category(id) => match ancestor_chain(conn, service_id, id)? {
            Some((chain, _, _)) => chain,
            None => return Ok(None),
        },
    };
    resolve(conn, service_id, &chain).map(Some)
}

/// Serialises layout changes of one service: two saves of the same list must not interleave
/// their delete and insert. A row lock on PostgreSQL; SQLite writers are serialised already.
fn lock_service(conn: &mut DbConn, service_id: i64) -> QueryResult<()> {
    if let DbConn::Pg(pg) = conn {
        services::table
            .find(service_id)
            .select(services::id)
            .for_update()
            .first::<i64>(pg)?;
    }
    Ok(())
}

/// Stores a scope's list (an intake type then has its own layout). Unknown, fixed and repeated
/// ids are dropped; subject and content are kept even if left out. Returns the stored order.
pub fn save_layout(
    conn: &mut DbConn,
    service_id: i64,
    scope: LayoutScope,
    layout: &ResolvedLayout,
    ids: &[i64],
) -> QueryResult<Vec<i64>> {
    let order = normalise(layout, ids);
    clear_scope(conn, service_id, scope)?;
    for (pos, field_id) in order.iter().enumerate() {
        diesel::insert_into(field_layouts::table)
            .values((
                field_layouts::service_id.eq(service_id),
                field_layouts::category_id.eq(scope.category_id()),
                field_layouts::field_id.eq(*field_id),
                field_layouts::position.eq(i32::try_from(pos).unwrap_or(i32::MAX)),
            ))
            .execute(conn)?;
    }
    Ok(order)
}

/// Removes a scope's own list (an intake type then inherits again).
pub fn clear_scope(conn: &mut DbConn, service_id: i64, scope: LayoutScope) -> QueryResult<usize> {
    lock_service(conn, service_id)?;
    let base = field_layouts::table.filter(field_layouts::service_id.eq(service_id));
    match scope.category_id() {
        Some(c) => diesel::delete(base.filter(field_layouts::category_id.eq(c))).execute(conn),
        None => diesel::delete(base.filter(field_layouts::category_id.is_null())).execute(conn),
    }
}

/// Intake types of the service that have their own layout.
pub fn categories_with_own_layout(conn: &mut DbConn, service_id: i64) -> QueryResult<HashSet<i64>> {
    let ids: Vec<Option<i64>> = field_layouts::table
        .filter(field_layouts::service_id.eq(service_id))
        .filter(field_layouts::category_id.is_not_null())
        .select(field_layouts::category_id)
        .distinct()
        .load(conn)?;
    Ok(ids.into_iter().flatten().collect())
}

/// Stores the agent-field order (custom agent fields; resolution type and priority stay on
/// top). Ids the list does not mention keep their relative order after the listed ones.
pub fn save_agent_order(conn: &mut DbConn, service_id: i64, ids: &[i64]) -> QueryResult<()> {
    lock_service(conn, service_id)?;
    let current: Vec<i64> = FieldDef::of_audience(conn, service_id, Audience::Agent)?
        .iter()
        .filter(|f| !f.is_system())
        .map(|f| f.id)
        .collect();
    let base = SystemField::of(Audience::Agent).len();
    for (i, id) in merge_order(&current, ids).iter().enumerate() {
        diesel::update(field_defs::table.find(*id))
            .set(field_defs::position.eq(i32::try_from(base + i).unwrap_or(i32::MAX)))
            .execute(conn)?;
    }
    Ok(())
}

/// An option as a form shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormOption {
    /// Value to submit.
    pub value: String,
    /// Label in the form's language.
    pub label: String,
}

/// A field as a form renders it, in the form's language.
#[derive(Debug, Clone)]
pub struct FormField {
    /// Field id (the Open API's `fieldId`).
    pub id: i64,
    /// Code (the Open API's key).
    pub code: String,
    /// Control type.
    pub control: Control,
    /// Which built-in field, if any.
    pub system: Option<SystemField>,
    /// Label.
    pub label: String,
    /// Help text.
    pub help: String,
    /// Placeholder (for consent: the text beside the box).
    pub placeholder: String,
    /// Maximum length (`0` = unlimited).
    pub max_length: i32,
    /// Required.
    pub required: bool,
    /// Personal data (mask once entered, encrypt at rest).
    pub personal: bool,
    /// Choices (checkbox, dropdown, radio; empty for the category fields, whose choices are the
    /// category tree).
    pub options: Vec<FormOption>,
    /// Default value in storage form.
    pub default_value: String,
    /// Who may edit the value (agent fields).
    pub agent_permission: AgentPermission,
    /// The definition, for [`validate`].
    pub def: FieldDef,
}

impl FormField {
    fn new(def: &FieldDef, lang: Lang, fallback: Lang) -> FormField {
        FormField {
            id: def.id,
            code: def.code.clone(),
            control: def.control,
            system: def.system,
            label: def.label(lang, fallback),
            help: def.help.pick(lang, fallback).to_string(),
            placeholder: def.placeholders.pick(lang, fallback).to_string(),
            max_length: def.max_length,
            required: def.required,
            personal: def.personal,
            options: def
                .options
                .iter()
                .map(|o| FormOption {
                    value: o.value.clone(),
                    label: o.label(lang, fallback).to_string(),
                })
                .collect(),
            default_value: def.default_value.clone(),
            agent_permission: def.agent_permission,
            def: def.clone(),
        }
    }

    /// Validates a submitted value for this field.
    pub fn validate(&self, raw: &RawValue, lang: Lang) -> Result<StoredValue, FieldError> {
        validate(&self.def, raw, lang)
    }
}

/// One refused value of a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldFailure {
    /// Field id.
    pub field_id: i64,
    /// Field code (the Open API's `objectName`).
    pub code: String,
    /// Why.
    pub error: FieldError,
}

/// The customer form of an intake type in one language.
#[derive(Debug, Clone)]
pub struct FormDefinition {
    /// The intake type.
    pub category_id: i64,
    /// Whether the intake type is offered in the help center.
    pub helpcenter_enabled: bool,
    /// Whether the intake type is in use.
    pub active: bool,
    /// The language of the texts.
    pub lang: Lang,
    /// Visible fields in display order: intake type first, consent last.
    pub fields: Vec<FormField>,
}

impl FormDefinition {
    /// The field with this code (case-insensitive).
    pub fn field(&self, code: &str) -> Option<&FormField> {
        self.fields
            .iter()
            .find(|f| f.code.eq_ignore_ascii_case(code))
    }

    /// Validates every field at once (all failures are reported, not just the first):
    /// `value_of` gives the raw value submitted for a field.
    pub fn validate_all(
        &self,
        value_of: impl Fn(&FormField) -> RawValue,
    ) -> Result<Vec<(FormField, StoredValue)>, Vec<FieldFailure>> {
        validate_fields(&self.fields, self.lang, value_of)
    }
}

/// Validates a list of form fields at once, reporting every failure.
pub fn validate_fields(
    fields: &[FormField],
    lang: Lang,
    value_of: impl Fn(&FormField) -> RawValue,
) -> Result<Vec<(FormField, StoredValue)>, Vec<FieldFailure>> {
    let mut ok = Vec::new();
    let mut failures = Vec::new();
    for f in fields {
        match f.validate(&value_of(f), lang) {
            Ok(v) => ok.push((f.clone(), v)),
            Err(error) => failures.push(FieldFailure {
                field_id: f.id,
                code: f.code.clone(),
                error,
            }),
        }
    }
    if failures.is_empty() {
        Ok(ok)
    } else {
        Err(failures)
    }
}

fn fallback_lang(service: &Service) -> Lang {
    Lang::parse(&service.default_lang).unwrap_or_default()
}

/// The customer form of an intake type in `lang` (texts fall back to the service's default
/// language): the visible fields in order, intake type first and consent last. Two queries.
/// `None` when `category_id` is not an intake type of the service.
pub fn customer_form(
    conn: &mut DbConn,
    service: &Service,
    category_id: i64,
    lang: Lang,
) -> QueryResult<Option<FormDefinition>> {
    let Some((chain, helpcenter_enabled, active)) = ancestor_chain(conn, service.id, category_id)?
    else {
        return Ok(None);
    };
    let layout = resolve(conn, service.id, &chain)?;
    let fallback = fallback_lang(service);
    let mut ordered: Vec<&FieldDef> = Vec::new();
    if let Some(f) = layout.system(SystemField::IntakeType) {
        ordered.push(f);
    }
    ordered.extend(layout.middle_fields());
    if let Some(f) = layout.system(SystemField::Consent) {
        ordered.push(f);
    }
    let fields = ordered
        .into_iter()
        .filter(|f| f.visible)
        .map(|f| FormField::new(f, lang, fallback))
        .collect();
    Ok(Some(FormDefinition {
        category_id,
        helpcenter_enabled,
        active,
        lang,
        fields,
    }))
}

/// The agent fields in console order (resolution type and priority first), visible ones only,
/// in `lang`. One query.
pub fn agent_form(conn: &mut DbConn, service: &Service, lang: Lang) -> QueryResult<Vec<FormField>> {
    let fallback = fallback_lang(service);
    Ok(FieldDef::of_audience(conn, service.id, Audience::Agent)?
        .iter()
        .filter(|f| f.visible)
        .map(|f| FormField::new(f, lang, fallback))
        .collect())
}

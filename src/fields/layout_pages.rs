//! Service Management → Fields → Layouts: the customer-field layout of every intake type (and
//! the service default they inherit), and the agent-field layout. Orders change by drag and drop
//! (SortableJS posts the ids in their new order through htmx and gets the re-rendered card back)
//! or, without JavaScript, with up/down buttons in the same form.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::agents::form::{Pairs, move_one};
use crate::error::AppError;
use crate::fields::layout::{
    LayoutScope, LayoutSource, ResolvedLayout, categories_with_own_layout, clear_scope,
    find_intake_type, intake_types, layout_of, save_agent_order, save_layout,
};
use crate::fields::model::{Audience, FieldDef, SystemField};
use crate::fields::pages::{fields_base, require_cm, service_langs};
use crate::i18n::{self, Lang};
use crate::web::{self as w, Flash, PageCtx, ServiceAdmin};

/// A field in a layout list.
#[derive(Debug, Clone)]
pub struct LayoutItem {
    /// Field id.
    pub id: i64,
    /// Label in the viewer's language.
    pub label: String,
    /// Code.
    pub code: String,
    /// Control type, translated.
    pub control: String,
    /// Required.
    pub required: bool,
    /// Hidden from forms (kept in the layout).
    pub hidden: bool,
    /// Built in.
    pub system: bool,
    /// May be taken out of the layout.
    pub removable: bool,
}

impl LayoutItem {
    fn of(f: &FieldDef, lang: Lang, fallback: Lang) -> LayoutItem {
        LayoutItem {
            id: f.id,
            label: f.label(lang, fallback),
            code: f.code.clone(),
            control: i18n::t(lang, f.control.label_key()),
            required: f.required,
            hidden: !f.visible,
            system: f.is_system(),
            removable: !f.system.is_some_and(SystemField::mandatory_in_layout),
        }
    }
}

/// An intake type in the layouts overview.
#[derive(Debug, Clone)]
pub struct IntakeRow {
    /// Category id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Indentation by depth.
    pub indent: String,
    /// Has its own layout.
    pub own: bool,
    /// Offered in the help center.
    pub helpcenter: bool,
    /// In use.
    pub active: bool,
}

/// The layouts overview: the default layout and every intake type.
#[derive(Template)]
#[template(path = "fields/layouts.html")]
pub struct LayoutsPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/settings/fields`
    pub base: String,
    /// The default layout's fields between the fixed ones.
    pub default_fields: Vec<LayoutItem>,
    /// Intake types in tree order.
    pub intake: Vec<IntakeRow>,
}

/// `GET /{service_id}/console/settings/fields/layouts`
pub async fn list_layouts(a: ServiceAdmin) -> Result<HttpResponse, AppError> {
    require_cm(&a)?;
    let sid = a.service.id;
    let (default_layout, types, own) = a
        .viewer()
        .state
        .db
        .read(move |c| {
            let layout = layout_of(c, sid, LayoutScope::Default)?.ok_or(AppError::NotFound)?;
            Ok((
                layout,
                intake_types(c, sid)?,
                categories_with_own_layout(c, sid)?,
            ))
        })
        .await?;
    let lang = a.viewer().lang;
    let (_, fallback) = service_langs(&a);
    let page = LayoutsPage {
        ctx: PageCtx::console(&a, "field.layouts_title"),
        base: fields_base(&a.service.code),
        default_fields: default_layout
            .middle_fields()
            .iter()
            .map(|f| LayoutItem::of(f, lang, fallback))
            .collect(),
        intake: types
            .iter()
            .map(|t| IntakeRow {
                id: t.id,
                name: t.name(lang, fallback),
                indent: "\u{2003}".repeat(usize::try_from(t.level.max(1) - 1).unwrap_or(0)),
                own: own.contains(&t.id),
                helpcenter: t.helpcenter_enabled,
                active: t.active,
            })
            .collect(),
    };
    w::html(StatusCode::OK, &page)
}

/// What the layout card shows (the page body, and the htmx answer to a reorder).
#[derive(Debug, Clone)]
pub struct LayoutCardData {
    /// `/{service}/console/settings/fields/layouts/{scope}`
    pub action: String,
    /// Whether this is an intake type (not the default layout).
    pub is_category: bool,
    /// Has its own list.
    pub own: bool,
    /// Where an inherited list comes from: (id, name); None with `own` false means the default.
    pub inherited_from: Option<(i64, String)>,
    /// Link base for the layouts pages.
    pub layouts_base: String,
    /// The fixed first field (intake type).
    pub first: Option<LayoutItem>,
    /// The ordered fields.
    pub middle: Vec<LayoutItem>,
    /// The fixed last field (consent).
    pub last: Option<LayoutItem>,
    /// Fields that can be added.
    pub addable: Vec<LayoutItem>,
}

/// The layout card alone (the htmx answer to a reorder).
#[derive(Template)]
#[template(path = "fields/_layout_card.html")]
pub struct LayoutCardFragment {
    /// Shared context.
    pub ctx: PageCtx,
    /// The card.
    pub card: LayoutCardData,
}

/// One layout's page.
#[derive(Template)]
#[template(path = "fields/layout.html")]
pub struct LayoutPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/settings/fields`
    pub base: String,
    /// Heading: the intake type's name, or "Default layout".
    pub heading: String,
    /// The card.
    pub card: LayoutCardData,
}

async fn load_layout(
    a: &ServiceAdmin,
    scope: LayoutScope,
) -> Result<(ResolvedLayout, Option<String>, Option<(i64, String)>), AppError> {
    let sid = a.service.id;
    let lang = a.viewer().lang;
    let (_, fallback) = service_langs(a);
    a.viewer()
        .state
        .db
        .read(move |c| {
            let layout = layout_of(c, sid, scope)?.ok_or(AppError::NotFound)?;
            let name = match scope {
                LayoutScope::Category(id) => {
                    find_intake_type(c, sid, id)?.map(|t| t.name(lang, fallback))
                }
                LayoutScope::Default => None,
            };
            let inherited = match layout.source {
                LayoutSource::Inherited(pid) => {
                    find_intake_type(c, sid, pid)?.map(|t| (t.id, t.name(lang, fallback)))
                }
                _ => None,
            };
            Ok((layout, name, inherited))
        })
        .await
}

fn card(
    a: &ServiceAdmin,
    scope: LayoutScope,
    layout: &ResolvedLayout,
    inherited_from: Option<(i64, String)>,
) -> LayoutCardData {
    let lang = a.viewer().lang;
    let (_, fallback) = service_langs(a);
    let item = |f: &FieldDef| LayoutItem::of(f, lang, fallback);
    let base = fields_base(&a.service.code);
    LayoutCardData {
        action: format!("{base}/layouts/{}", scope.segment()),
        is_category: matches!(scope, LayoutScope::Category(_)),
        own: layout.source == LayoutSource::Own,
        inherited_from,
        layouts_base: format!("{base}/layouts"),
        first: layout.system(SystemField::IntakeType).map(item),
        middle: layout.middle_fields().into_iter().map(item).collect(),
        last: layout.system(SystemField::Consent).map(item),
        addable: layout.addable().into_iter().map(item).collect(),
    }
}

fn parse_scope(s: &str) -> Result<LayoutScope, AppError> {
    LayoutScope::parse(s).ok_or(AppError::NotFound)
}

/// `GET /{service_id}/console/settings/fields/layouts/{scope}` — `default` or an intake type id.
pub async fn show_layout(
    a: ServiceAdmin,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    require_cm(&a)?;
    let scope = parse_scope(&path.into_inner().1)?;
    let (layout, name, inherited) = load_layout(&a, scope).await?;
    let heading = name.unwrap_or_else(|| a.viewer().t("field.default_layout"));
    let page = LayoutPage {
        ctx: PageCtx::console(&a, "field.layout_title"),
        base: fields_base(&a.service.code),
        heading,
        card: card(&a, scope, &layout, inherited),
    };
    w::html(StatusCode::OK, &page)
}

async fn save_and_answer(
    req: &HttpRequest,
    a: &ServiceAdmin,
    scope: LayoutScope,
    change: impl FnOnce(&ResolvedLayout) -> Vec<i64> + Send + 'static,
    flash_key: &str,
) -> Result<HttpResponse, AppError> {
    let sid = a.service.id;
    a.viewer()
        .state
        .db
        .write(move |c| {
            let layout = layout_of(c, sid, scope)?.ok_or(AppError::NotFound)?;
            let ids = change(&layout);
            save_layout(c, sid, scope, &layout, &ids)?;
            Ok(())
        })
        .await?;
    if w::is_htmx(req) {
        let (layout, _, inherited) = load_layout(a, scope).await?;
        let fragment = LayoutCardFragment {
            ctx: PageCtx::console(a, "field.layout_title"),
            card: card(a, scope, &layout, inherited),
        };
        return w::html(StatusCode::OK, &fragment);
    }
    a.viewer().flash(Flash::success(a.viewer().t(flash_key)));
    Ok(w::redirect(
        req,
        &format!(
            "{}/layouts/{}",
            fields_base(&a.service.code),
            scope.segment()
        ),
    ))
}

/// `POST /{service_id}/console/settings/fields/layouts/{scope}` — `field_id` repeated in the new
/// order; optionally `up` / `down` (move one step) or `remove` naming one field.
pub async fn order_layout(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, String)>,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    require_cm(&a)?;
    let scope = parse_scope(&path.into_inner().1)?;
    let form = form.into_inner();
    let mut order = form.ids("field_id");
    let removed = form.id("remove");
    if let Some(id) = form.id("up") {
        move_one(&mut order, id, true);
    } else if let Some(id) = form.id("down") {
        move_one(&mut order, id, false);
    }
    let key = if removed.is_some() {
        "field.layout_removed"
    } else {
        "field.layout_saved"
    };
    save_and_answer(
        &req,
        &a,
        scope,
        move |layout| {
            // A form without ids (nothing reordered) keeps the current order.
            let mut ids = if order.is_empty() {
                layout.middle.clone()
            } else {
                order
            };
            if let Some(r) = removed {
                ids.retain(|i| *i != r);
            }
            ids
        },
        key,
    )
    .await
}

/// `POST /{service_id}/console/settings/fields/layouts/{scope}/add` — `field_id`.
pub async fn add_to_layout(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, String)>,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    require_cm(&a)?;
    let scope = parse_scope(&path.into_inner().1)?;
    let id = form
        .id("field_id")
        .ok_or(AppError::BadRequest("field.choose_field"))?;
    save_and_answer(
        &req,
        &a,
        scope,
        move |layout| {
            let mut ids = layout.middle.clone();
            ids.push(id);
            ids
        },
        "field.layout_added",
    )
    .await
}

/// `POST /{service_id}/console/settings/fields/layouts/{category_id}/inherit` — drop the intake
/// type's own list.
pub async fn inherit_layout(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    require_cm(&a)?;
    let scope = parse_scope(&path.into_inner().1)?;
    let LayoutScope::Category(cid) = scope else {
        return Err(AppError::BadRequest("field.default_cannot_inherit"));
    };
    let sid = a.service.id;
    a.viewer()
        .state
        .db
        .write(move |c| {
            find_intake_type(c, sid, cid)?.ok_or(AppError::NotFound)?;
            clear_scope(c, sid, scope)?;
            Ok(())
        })
        .await?;
    a.viewer()
        .flash(Flash::success(a.viewer().t("field.layout_inherits")));
    Ok(w::redirect(
        &req,
        &format!("{}/layouts/{cid}", fields_base(&a.service.code)),
    ))
}

/// The agent-field order (the htmx answer to a reorder, and part of the page).
#[derive(Template)]
#[template(path = "fields/_agent_order.html")]
pub struct AgentOrderFragment {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/settings/fields`
    pub base: String,
    /// Resolution type and priority.
    pub fixed: Vec<LayoutItem>,
    /// The other agent fields in order.
    pub custom: Vec<LayoutItem>,
}

/// The agent-field layout page (it includes the order fragment's template).
#[derive(Template)]
#[template(path = "fields/agent_layout.html")]
pub struct AgentLayoutPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/settings/fields`
    pub base: String,
    /// Resolution type and priority.
    pub fixed: Vec<LayoutItem>,
    /// The other agent fields in order.
    pub custom: Vec<LayoutItem>,
}

async fn agent_order(a: &ServiceAdmin) -> Result<AgentOrderFragment, AppError> {
    let sid = a.service.id;
    let fields = a
        .viewer()
        .state
        .db
        .read(move |c| Ok(FieldDef::of_audience(c, sid, Audience::Agent)?))
        .await?;
    let lang = a.viewer().lang;
    let (_, fallback) = service_langs(a);
    let (fixed, custom): (Vec<&FieldDef>, Vec<&FieldDef>) =
        fields.iter().partition(|f| f.is_system());
    Ok(AgentOrderFragment {
        ctx: PageCtx::console(a, "field.agent_layout_title"),
        base: fields_base(&a.service.code),
        fixed: fixed
            .into_iter()
            .map(|f| LayoutItem::of(f, lang, fallback))
            .collect(),
        custom: custom
            .into_iter()
            .map(|f| LayoutItem::of(f, lang, fallback))
            .collect(),
    })
}

/// `GET /{service_id}/console/settings/fields/agent-layout`
pub async fn show_agent_layout(a: ServiceAdmin) -> Result<HttpResponse, AppError> {
    require_cm(&a)?;
    let order = agent_order(&a).await?;
    let page = AgentLayoutPage {
        ctx: order.ctx,
        base: order.base,
        fixed: order.fixed,
        custom: order.custom,
    };
    w::html(StatusCode::OK, &page)
}

/// `POST /{service_id}/console/settings/fields/agent-layout` — `field_id` repeated in the new
/// order, optionally `up` or `down` naming one field.
pub async fn order_agent_layout(
    req: HttpRequest,
    a: ServiceAdmin,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    require_cm(&a)?;
    let form = form.into_inner();
    let mut order = form.ids("field_id");
    if let Some(id) = form.id("up") {
        move_one(&mut order, id, true);
    } else if let Some(id) = form.id("down") {
        move_one(&mut order, id, false);
    }
    let sid = a.service.id;
    a.viewer()
        .state
        .db
        .write(move |c| Ok(save_agent_order(c, sid, &order)?))
        .await?;
    if w::is_htmx(&req) {
        return w::html(StatusCode::OK, &agent_order(&a).await?);
    }
    a.viewer()
        .flash(Flash::success(a.viewer().t("field.layout_saved")));
    Ok(w::redirect(
        &req,
        &format!("{}/agent-layout", fields_base(&a.service.code)),
    ))
}

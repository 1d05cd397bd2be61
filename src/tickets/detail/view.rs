//! The ticket page (SPEC §5.2 ⑦–⑩): everything it shows, loaded in one read — the header,
//! the timeline of entries and events (with the consultation history for a transferred
//! issue ticket), the customer and the customer-field form, the customer's other tickets, the
//! processing form with agent fields, the assignment and administrator actions, and the reply
//! template panel. Handlers that re-render the page after a refused submission pass the
//! submitted state ([`PageState`]) so nothing typed is lost.

use std::collections::{HashMap, HashSet};

use askama::Template;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::categories::model::Tree;
use crate::common::text::sanitize_html;
use crate::common::time::local_display;
use crate::customers::Customer;
use crate::db::DbConn;
use crate::db::schema::{
    agent_groups, group_members, service_members, services, ticket_entries, ticket_events, tickets,
    users,
};
use crate::db::types::{CategoryTree, ServiceKind};
use crate::db::types::{CustomerId, ServiceId};
use crate::error::AppError;
use crate::fields::layout::{LayoutScope, agent_form, customer_form, layout_of};
use crate::fields::model::{AgentPermission, FieldDef, SystemField};
use crate::fields::personal::mask;
use crate::help_center::attachments::{EXTENSIONS, MAX_FILES};
use crate::i18n::{self, Lang};
use crate::tenancy::service::Service;
use crate::tenancy::service::{default_lang, service_tz};
use crate::tickets::detail::access::{StaffInfo, TicketStaff};
use crate::tickets::detail::form::{
    FieldInput, InputSource, Submitted, editable_customer_field, inputs,
};
use crate::tickets::detail::panels::{self, OtherTickets, TemplatePanel};
use crate::tickets::lifecycle::{self, InternalReason, TransferState};
use crate::tickets::reply_templates::{ResolutionOption, resolution_options};
use crate::tickets::{
    Channel, EntryKind, FieldValue, Priority, Status, Ticket, TicketAttachment, attachments_of,
    field_values_of,
};
use crate::web::{FormErrors, PageCtx};

/// Most timeline entries and events shown (a ticket rarely has more; the newest are kept).
const MAX_TIMELINE: i64 = 500;
/// Most agents offered in the forward dialog.
const MAX_FORWARD_AGENTS: i64 = 500;

/// `/{service}/console/tickets`
pub fn tickets_base(code: &str) -> String {
    format!("/{code}/console/tickets")
}

/// `/{service}/console/tickets/{public_id}`
pub fn ticket_href(code: &str, public_id: &str) -> String {
    format!("/{code}/console/tickets/{public_id}")
}

/// The i18n key of a channel's name.
pub fn channel_key(c: Channel) -> &'static str {
    match c {
        Channel::Web => "ticket.detail.channel.web",
        Channel::MobileWeb => "ticket.detail.channel.mobile_web",
        Channel::Email => "ticket.detail.channel.email",
        Channel::Phone => "ticket.detail.channel.phone",
        Channel::Api => "ticket.detail.channel.api",
        Channel::Created => "ticket.detail.channel.created",
        Channel::Transfer => "ticket.detail.channel.transfer",
        Channel::Chat => "ticket.detail.channel.chat",
        Channel::Migrated => "ticket.detail.channel.migrated",
    }
}

/// The i18n key of a priority's name.
pub fn priority_key(p: Priority) -> &'static str {
    match p {
        Priority::Low => "field.priority.low",
        Priority::Normal => "field.priority.normal",
        Priority::High => "field.priority.high",
        Priority::Urgent => "field.priority.urgent",
    }
}

/// A link to another ticket.
#[derive(Debug, Clone)]
pub struct TicketLink {
    /// Where it goes.
    pub href: String,
    /// Public ID.
    pub public_id: String,
    /// The service's name.
    pub service_name: String,
}

/// The header (SPEC §5.2 ⑦).
#[derive(Debug, Clone)]
pub struct Header {
    /// Public ID.
    pub public_id: String,
    /// Subject.
    pub subject: String,
    /// Agent status label.
    pub status_label: String,
    /// CSS suffix of the status.
    pub status_class: String,
    /// Channel name.
    pub channel: String,
    /// Channel code (CSS).
    pub channel_code: String,
    /// Priority name.
    pub priority: String,
    /// Priority code (CSS).
    pub priority_code: String,
    /// Group name.
    pub group: String,
    /// Assignee name.
    pub assignee: String,
    /// Creator name (manual creation, transfer).
    pub creator: String,
    /// Created (service time).
    pub created: String,
    /// Last change (service time).
    pub updated: String,
    /// Intake type path.
    pub intake: String,
    /// Resolution type path.
    pub resolution: String,
    /// The customer's language.
    pub lang_name: String,
    /// Internal-resolution reason.
    pub reason: String,
    /// The consultation ticket it came from.
    pub origin: Option<TicketLink>,
    /// The issue ticket it went to.
    pub target: Option<TicketLink>,
}

/// An attachment in the timeline.
#[derive(Debug, Clone)]
pub struct AttachmentView {
    /// Download link.
    pub href: String,
    /// File name.
    pub name: String,
    /// Size label.
    pub size: String,
}

/// One timeline item.
#[derive(Debug, Clone)]
pub struct Item {
    /// CSS class (`customer`, `reply`, `hold`, `comment`, `internal`, `event`).
    pub class: &'static str,
    /// What it is.
    pub label: String,
    /// Who.
    pub author: String,
    /// When (service time).
    pub time: String,
    /// Body (sanitised HTML; empty for events).
    pub body: String,
    /// Event text.
    pub event: String,
    /// Files.
    pub files: Vec<AttachmentView>,
    /// A mail went to the customer for it.
    pub mailed: bool,
}

/// The customer box.
#[derive(Debug, Clone)]
pub struct CustomerView {
    /// Customer number.
    pub number: String,
    /// Name.
    pub name: String,
    /// E-mail (masked for viewers who may not see personal data).
    pub email: String,
    /// Phone (masked likewise).
    pub phone: String,
}

/// A choice in a select or radio group: value, label, chosen.
pub type Choice = (String, String, bool);

/// The processing form.
#[derive(Debug, Clone)]
pub struct ProcessView {
    /// Whether the ticket can be processed (not in the spam box, not completed).
    pub enabled: bool,
    /// The reply as typed (sanitised HTML).
    pub body: String,
    /// Actions.
    pub actions: Vec<Choice>,
    /// Internal-resolution reasons.
    pub reasons: Vec<Choice>,
    /// Resolution types.
    pub resolutions: Vec<ResolutionOption>,
    /// Whether no resolution type is chosen.
    pub no_resolution: bool,
    /// Priorities.
    pub priorities: Vec<Choice>,
    /// Agent fields.
    pub agent_inputs: Vec<FieldInput>,
    /// One-time token of this rendering.
    pub client_token: String,
    /// Errors by field.
    pub errors: FormErrors,
    /// A message above the form (stale, forbidden words, refused action).
    pub alert: String,
    /// Who gets the mail.
    pub mail_note: String,
    /// Attachment limits.
    pub file_hint: String,
}

/// The mail preview.
#[derive(Debug, Clone)]
pub struct PreviewView {
    /// Recipient line.
    pub to: String,
    /// Sender line.
    pub from: String,
    /// Subject.
    pub subject: String,
    /// HTML part (rendered from sanitised parts).
    pub html: String,
    /// Text part.
    pub text: String,
    /// A note instead of a mail (no mail for this action or ticket).
    pub note: String,
}

/// An agent offered in the forward dialog.
#[derive(Debug, Clone)]
pub struct AgentChoice {
    /// User id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Groups, comma-separated.
    pub groups: String,
}

/// What the submitted forms carry back into a re-rendered page.
#[derive(Debug, Clone, Default)]
pub struct PageState {
    /// Processing form values (`None`: fresh form).
    pub process: Option<Submitted>,
    /// Processing form errors.
    pub process_errors: Option<FormErrors>,
    /// The alert above the processing form.
    pub alert: String,
    /// Customer-field form values.
    pub fields: Option<Submitted>,
    /// Customer-field form errors.
    pub fields_errors: Option<FormErrors>,
    /// A mail preview.
    pub preview: Option<PreviewView>,
    /// An alert for the assignment dialogs.
    pub assign_alert: String,
    /// A confirmation inside the customer-field card (after an htmx save).
    pub fields_notice: String,
}

/// The ticket page.
#[derive(Template)]
#[template(path = "tickets/detail/page.html")]
pub struct DetailPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/tickets/{public_id}`
    pub base: String,
    /// `/{service}/console/tickets`
    pub list_href: String,
    /// Header.
    pub t: Header,
    /// The ticket version the forms were rendered at.
    pub version: i64,
    /// Timeline, oldest first.
    pub timeline: Vec<Item>,
    /// The consultation history of a transferred issue ticket.
    pub origin_history: Vec<Item>,
    /// Customer.
    pub customer: Option<CustomerView>,
    /// Customer fields.
    pub fields: Vec<FieldInput>,
    /// Whether any customer field can be edited.
    pub fields_editable: bool,
    /// Customer-field errors (summary).
    pub fields_failed: bool,
    /// The refusal of a customer-field save (stale, spam, completed).
    pub fields_alert: String,
    /// A confirmation inside the customer-field card.
    pub fields_notice: String,
    /// Other tickets of the customer.
    pub other: OtherTickets,
    /// Processing form.
    pub process: ProcessView,
    /// Mail preview.
    pub preview: Option<PreviewView>,
    /// Groups the viewer may pull into (`None`: pull not offered).
    pub pull_groups: Option<Vec<Choice>>,
    /// Forward dialog (`None`: not offered).
    pub forward_groups: Option<Vec<Choice>>,
    /// Agents for the forward dialog.
    pub forward_agents: Vec<AgentChoice>,
    /// An alert for the assignment dialogs.
    pub assign_alert: String,
    /// Administrators may complete it.
    pub can_complete: bool,
    /// Administrators may restore or delete it from the spam box.
    pub spam_actions: bool,
    /// Transfer dialog link.
    pub transfer_href: Option<String>,
    /// Reply templates.
    pub templates: TemplatePanel,
    /// The key under which the viewer's frame layout (collapsed, pinned, widths, widescreen)
    /// is remembered in the browser: one per user.
    pub frames_key: String,
    /// Dooray! transfer, badge and conversation.
    pub dooray: crate::integrations::dooray::panel::Panel,
    /// Whether the customer-info panel is shown (SPEC §6.3).
    pub customer_info: bool,
    /// The customer's grade (SPEC §6.2): name and tag classes.
    pub grade: Option<(String, String)>,
}

#[derive(Debug, Clone, Queryable)]
struct EntryRow {
    id: i64,
    kind: String,
    author_id: Option<i64>,
    body: String,
    created_at: NaiveDateTime,
    mail_message_id: Option<String>,
}

#[derive(Debug, Clone, Queryable)]
struct EventRow {
    id: i64,
    kind: String,
    actor_id: Option<i64>,
    detail: String,
    created_at: NaiveDateTime,
}

fn entries(conn: &mut DbConn, ticket_id: i64) -> QueryResult<Vec<EntryRow>> {
    let mut rows: Vec<EntryRow> = ticket_entries::table
        .filter(ticket_entries::ticket_id.eq(ticket_id))
        .order(ticket_entries::id.desc())
        .limit(MAX_TIMELINE)
        .select((
            ticket_entries::id,
            ticket_entries::kind,
            ticket_entries::author_id,
            ticket_entries::body,
            ticket_entries::created_at,
            ticket_entries::mail_message_id,
        ))
        .load(conn)?;
    rows.reverse();
    Ok(rows)
}

fn events(conn: &mut DbConn, ticket_id: i64) -> QueryResult<Vec<EventRow>> {
    let mut rows: Vec<EventRow> = ticket_events::table
        .filter(ticket_events::ticket_id.eq(ticket_id))
        .order(ticket_events::id.desc())
        .limit(MAX_TIMELINE)
        .select((
            ticket_events::id,
            ticket_events::kind,
            ticket_events::actor_id,
            ticket_events::detail,
            ticket_events::created_at,
        ))
        .load(conn)?;
    rows.reverse();
    Ok(rows)
}

/// A ticket of the service by public ID (404 otherwise).
pub fn load_ticket(
    conn: &mut DbConn,
    service_id: i64,
    public_id: &str,
) -> Result<Ticket, AppError> {
    Ticket::find_by_public_id(conn, service_id, public_id)?.ok_or(AppError::NotFound)
}

/// The customer fields the ticket's form shows (its intake type's layout, or the service's
/// default layout), editable ones only, plus any other editable field that holds a value.
pub fn customer_defs(
    conn: &mut DbConn,
    service: &Service,
    ticket: &Ticket,
    values: &[FieldValue],
) -> QueryResult<Vec<FieldDef>> {
    let lang = default_lang(service);
    let mut defs: Vec<FieldDef> = match ticket.category_id {
        Some(cat) => match customer_form(conn, service, cat, lang)? {
            Some(form) => form.fields.into_iter().map(|f| f.def).collect(),
            None => Vec::new(),
        },
        None => match layout_of(conn, service.id, LayoutScope::Default)? {
            Some(l) => l
                .middle_fields()
                .into_iter()
                .filter(|f| f.visible)
                .cloned()
                .collect(),
            None => Vec::new(),
        },
    };
    let known: HashSet<i64> = defs.iter().map(|d| d.id).collect();
    let extra: Vec<i64> = values
        .iter()
        .filter(|v| !known.contains(&v.field_id) && !v.value.is_empty())
        .map(|v| v.field_id)
        .collect();
    if !extra.is_empty() {
        for d in FieldDef::by_ids(conn, service.id, &extra)? {
            if d.audience == crate::fields::model::Audience::Customer && !d.deleted {
                defs.push(d);
            }
        }
    }
    defs.retain(editable_customer_field);
    Ok(defs)
}

/// The ticket's stored values completed with what the ticket and its customer already know for
/// system fields without a stored value (subject; the customer's name, e-mail and phone), so the
/// customer-field form starts filled in for tickets that came without field values (mail,
/// API, fixtures) and a masked personal value is kept when left empty.
pub fn with_fallbacks(
    defs: &[FieldDef],
    values: &[FieldValue],
    ticket: &Ticket,
    customer: Option<&Customer>,
) -> Vec<FieldValue> {
    let mut out = values.to_vec();
    for d in defs {
        if out
            .iter()
            .any(|v| v.field_id == d.id && !v.value.is_empty())
        {
            continue;
        }
        let fallback = match d.system {
            Some(SystemField::Subject) => ticket.subject.clone(),
            Some(SystemField::Name) => customer.map(|c| c.name.clone()).unwrap_or_default(),
            Some(SystemField::Email) => customer.map(|c| c.email.clone()).unwrap_or_default(),
            Some(SystemField::Phone) => customer.map(|c| c.phone.clone()).unwrap_or_default(),
            _ => String::new(),
        };
        if !fallback.is_empty() {
            out.push(FieldValue {
                id: 0,
                ticket_id: ticket.id,
                field_id: d.id,
                value: fallback,
            });
        }
    }
    out
}

/// The agent fields processed with the reply (resolution type and priority have their own
/// controls).
pub fn agent_defs(conn: &mut DbConn, service: &Service) -> QueryResult<Vec<FieldDef>> {
    Ok(agent_form(conn, service, default_lang(service))?
        .into_iter()
        .map(|f| f.def)
        .filter(|d| {
            !matches!(
                d.system,
                Some(SystemField::ResolutionType | SystemField::Priority)
            )
        })
        .collect())
}

/// Whether the viewer may see the ticket's personal values: its administrators and the
/// assigned agent (SPEC §1.5; everyone else sees them masked).
pub fn sees_personal(s: &StaffInfo, t: &Ticket) -> bool {
    s.is_admin || t.assignee_id == Some(s.user_id)
}

/// Whether an agent field may be edited by the viewer.
pub fn agent_field_editable(s: &StaffInfo, d: &FieldDef) -> bool {
    d.agent_permission == AgentPermission::Agent || s.is_admin
}

struct Loaded {
    ticket: Ticket,
    entries: Vec<EntryRow>,
    events: Vec<EventRow>,
    attachments: Vec<TicketAttachment>,
    users: HashMap<i64, String>,
    customer: Option<Customer>,
    groups: HashMap<i64, String>,
    group_order: Vec<(i64, String)>,
    intake: Tree,
    resolution: Tree,
    customer_defs: Vec<FieldDef>,
    agent_defs: Vec<FieldDef>,
    values: Vec<FieldValue>,
    origin: Option<(Service, Ticket, Vec<EntryRow>, Vec<TicketAttachment>)>,
    target: Option<(Service, Ticket)>,
    my_groups: Vec<i64>,
    forward_agents: Vec<(i64, String, Vec<i64>)>,
    other: OtherTickets,
    templates: TemplatePanel,
    im_services: bool,
    dooray: crate::integrations::dooray::panel::Raw,
    grade: Option<crate::customers::grades::Grade>,
}

fn user_names(conn: &mut DbConn, ids: &HashSet<i64>) -> QueryResult<HashMap<i64, String>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let list: Vec<i64> = ids.iter().copied().collect();
    Ok(users::table
        .filter(users::id.eq_any(list))
        .select((users::id, users::name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect())
}

fn assignable_agents(
    conn: &mut DbConn,
    service_id: i64,
) -> QueryResult<Vec<(i64, String, Vec<i64>)>> {
    let rows: Vec<(i64, String)> = service_members::table
        .inner_join(users::table)
        .filter(service_members::service_id.eq(service_id))
        .filter(service_members::perm_ticket.eq(true))
        .filter(service_members::ticket_assignable.eq(true))
        .filter(users::active.eq(true))
        .order((users::name.asc(), users::id.asc()))
        .limit(MAX_FORWARD_AGENTS)
        .select((users::id, users::name))
        .load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let memberships: Vec<(i64, i64)> = group_members::table
        .inner_join(agent_groups::table)
        .filter(agent_groups::service_id.eq(service_id))
        .filter(group_members::user_id.eq_any(ids))
        .select((group_members::user_id, group_members::group_id))
        .load(conn)?;
    let mut by_user: HashMap<i64, Vec<i64>> = HashMap::new();
    for (u, g) in memberships {
        by_user.entry(u).or_default().push(g);
    }
    Ok(rows
        .into_iter()
        .map(|(id, name)| {
            let groups = by_user.remove(&id).unwrap_or_default();
            (id, name, groups)
        })
        .collect())
}

/// Whether the organization has an issue-management service to transfer to.
pub fn has_im_services(conn: &mut DbConn) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        services::table
            .filter(services::kind.eq(ServiceKind::Issue.as_str()))
            .filter(services::enabled.eq(true)),
    ))
    .get_result(conn)
}

fn load(
    conn: &mut DbConn,
    s: &StaffInfo,
    public_id: &str,
    panel_resolution: Option<i64>,
) -> Result<Loaded, AppError> {
    let service = &s.service;
    let ticket = load_ticket(conn, service.id, public_id)?;
    let entry_rows = entries(conn, ticket.id)?;
    let event_rows = events(conn, ticket.id)?;
    let attachments = attachments_of(conn, ticket.id)?;
    let values = field_values_of(conn, ticket.id)?;
    let customer = match ticket.customer_id {
        Some(id) => Customer::find(conn, ServiceId(service.id), CustomerId(id))?,
        None => None,
    };
    let group_order: Vec<(i64, String)> = agent_groups::table
        .filter(agent_groups::service_id.eq(service.id))
        .order((agent_groups::display_order.asc(), agent_groups::id.asc()))
        .limit(crate::tenancy::group::MAX_GROUPS)
        .select((agent_groups::id, agent_groups::name))
        .load(conn)?;
    let groups: HashMap<i64, String> = group_order.iter().cloned().collect();
    let intake = Tree::load(conn, service.id, CategoryTree::Intake)?;
    let resolution = Tree::load(conn, service.id, CategoryTree::Resolution)?;
    let customer_defs = customer_defs(conn, service, &ticket, &values)?;
    let agent_defs = agent_defs(conn, service)?;
    let origin = match ticket.origin_ticket_id {
        Some(oid) => {
            let o: Option<Ticket> = tickets::table
                .find(oid)
                .select(Ticket::as_select())
                .first(conn)
                .optional()?;
            match o {
                Some(o) => {
                    let svc: Option<Service> = services::table
                        .find(o.service_id)
                        .select(Service::as_select())
                        .first(conn)
                        .optional()?;
                    match svc {
                        Some(svc) => {
                            let e = entries(conn, o.id)?;
                            let a = attachments_of(conn, o.id)?;
                            Some((svc, o, e, a))
                        }
                        None => None,
                    }
                }
                None => None,
            }
        }
        None => None,
    };
    let target = match ticket.transferred_to_ticket_id {
        Some(tid) => {
            let t: Option<Ticket> = tickets::table
                .find(tid)
                .select(Ticket::as_select())
                .first(conn)
                .optional()?;
            match t {
                Some(t) => services::table
                    .find(t.service_id)
                    .select(Service::as_select())
                    .first(conn)
                    .optional()?
                    .map(|svc| (svc, t)),
                None => None,
            }
        }
        None => None,
    };
    let uid = s.user_id;
    let my_groups: Vec<i64> = group_members::table
        .inner_join(agent_groups::table)
        .filter(agent_groups::service_id.eq(service.id))
        .filter(group_members::user_id.eq(uid))
        .order((agent_groups::display_order.asc(), agent_groups::id.asc()))
        .select(group_members::group_id)
        .load(conn)?;
    let forward_agents = if s.can_forward {
        assignable_agents(conn, service.id)?
    } else {
        Vec::new()
    };
    let mut ids: HashSet<i64> = HashSet::new();
    ids.extend(entry_rows.iter().filter_map(|e| e.author_id));
    ids.extend(event_rows.iter().filter_map(|e| e.actor_id));
    for e in &event_rows {
        if e.kind == "assigned"
            && let Some(uid) = e
                .detail
                .rsplit(':')
                .next()
                .and_then(|x| x.parse::<i64>().ok())
        {
            ids.insert(uid);
        }
    }
    ids.extend(ticket.assignee_id);
    ids.extend(ticket.creator_id);
    if let Some((_, _, e, _)) = &origin {
        ids.extend(e.iter().filter_map(|e| e.author_id));
    }
    let users = user_names(conn, &ids)?;
    let other = panels::other_tickets(conn, service, &ticket, "", None)?;
    let templates = panels::template_panel(
        conn,
        service,
        &ticket,
        "",
        panel_resolution.or(ticket.resolution_category_id),
    )?;
    let im_services = service.kind() == ServiceKind::Consultation && has_im_services(conn)?;
    let dooray = crate::integrations::dooray::panel::load(conn, service, &ticket)?;
    let grade = crate::customers::grades::grade_for_ticket(conn, &ticket)?;
    Ok(Loaded {
        ticket,
        entries: entry_rows,
        events: event_rows,
        attachments,
        users,
        customer,
        groups,
        group_order,
        intake,
        resolution,
        customer_defs,
        agent_defs,
        values,
        origin,
        target,
        my_groups,
        forward_agents,
        other,
        templates,
        im_services,
        dooray,
        grade,
    })
}

fn entry_label(kind: &str) -> (&'static str, &'static str) {
    match EntryKind::parse(kind) {
        Some(EntryKind::CustomerMessage) => ("customer", "ticket.detail.entry.customer_message"),
        Some(EntryKind::CustomerFollowup) => ("customer", "ticket.detail.entry.customer_followup"),
        Some(EntryKind::AgentReply) => ("reply", "ticket.detail.entry.agent_reply"),
        Some(EntryKind::HoldReply) => ("hold", "ticket.detail.entry.hold_reply"),
        Some(EntryKind::Comment) => ("comment", "ticket.detail.entry.comment"),
        Some(EntryKind::InternalResolution) => {
            ("internal", "ticket.detail.entry.internal_resolution")
        }
        Some(EntryKind::SystemEvent) | None => ("event", "ticket.detail.entry.system"),
    }
}

struct Names<'a> {
    lang: Lang,
    fallback: Lang,
    users: &'a HashMap<i64, String>,
    groups: &'a HashMap<i64, String>,
    resolution: &'a Tree,
    customer_name: String,
}

impl Names<'_> {
    fn user(&self, id: Option<i64>) -> String {
        id.and_then(|i| self.users.get(&i).cloned())
            .unwrap_or_default()
    }

    fn event_text(&self, e: &EventRow) -> Option<String> {
        let l = self.lang;
        let text = match e.kind.as_str() {
            "commented" | "customer_followup" => return None,
            "created" => i18n::tf(
                l,
                "ticket.detail.event.created",
                &[(
                    "channel",
                    &Channel::parse(&e.detail)
                        .map(|c| i18n::t(l, channel_key(c)))
                        .unwrap_or_else(|| e.detail.clone()),
                )],
            ),
            "assigned" => {
                let mut parts = e.detail.split(':');
                let how = parts.next().unwrap_or("");
                let group = parts
                    .next()
                    .and_then(|g| g.parse::<i64>().ok())
                    .and_then(|g| self.groups.get(&g).cloned());
                let agent = parts
                    .next()
                    .and_then(|u| u.parse::<i64>().ok())
                    .and_then(|u| self.users.get(&u).cloned())
                    .unwrap_or_else(|| i18n::t(l, "ticket.detail.nobody"));
                let key = match how {
                    "pull" => "ticket.detail.event.pulled",
                    "forward" => "ticket.detail.event.forwarded",
                    _ => "ticket.detail.event.assigned",
                };
                let mut s = i18n::tf(l, key, &[("agent", &agent)]);
                if let Some(g) = group {
                    s.push_str(&format!(" · {g}"));
                }
                s
            }
            "status" => i18n::tf(
                l,
                "ticket.detail.event.status",
                &[(
                    "status",
                    &Status::parse(&e.detail)
                        .map(|st| i18n::t(l, lifecycle::status_label_key(st)))
                        .unwrap_or_else(|| e.detail.clone()),
                )],
            ),
            "internal_resolution" => i18n::tf(
                l,
                "ticket.detail.event.internal_resolution",
                &[(
                    "reason",
                    &InternalReason::parse(&e.detail)
                        .map(|r| i18n::t(l, r.label_key()))
                        .unwrap_or_else(|| e.detail.clone()),
                )],
            ),
            "priority" => i18n::tf(
                l,
                "ticket.detail.event.priority",
                &[(
                    "priority",
                    &Priority::parse(&e.detail)
                        .map(|p| i18n::t(l, priority_key(p)))
                        .unwrap_or_else(|| e.detail.clone()),
                )],
            ),
            "resolution_type" => {
                let name = e
                    .detail
                    .parse::<i64>()
                    .ok()
                    .map(|id| self.resolution.path_names(id, l, self.fallback).join(" › "))
                    .unwrap_or_default();
                i18n::tf(l, "ticket.detail.event.resolution_type", &[("type", &name)])
            }
            "transferred" => i18n::t(l, "ticket.detail.event.transferred"),
            "transfer_answered" => i18n::t(l, "ticket.detail.event.transfer_answered"),
            "reopened" => i18n::t(l, "ticket.detail.event.reopened"),
            "completed" if e.detail == "auto" => i18n::t(l, "ticket.detail.event.completed_auto"),
            "completed" => i18n::t(l, "ticket.detail.event.completed"),
            "spam_restored" => i18n::t(l, "ticket.detail.event.spam_restored"),
            "fields_updated" => i18n::t(l, "ticket.detail.event.fields_updated"),
            other => crate::integrations::dooray::panel::event_text(l, other, &e.detail)
                .unwrap_or_else(|| other.to_string()),
        };
        Some(text)
    }
}

fn timeline(
    names: &Names<'_>,
    tz: chrono_tz::Tz,
    attach_base: &str,
    entries: &[EntryRow],
    events: &[EventRow],
    attachments: &[TicketAttachment],
) -> Vec<Item> {
    let mut items: Vec<(NaiveDateTime, u8, i64, Item)> = Vec::new();
    for e in entries {
        let (class, key) = entry_label(&e.kind);
        let customer_side = class == "customer";
        let author = if customer_side && e.author_id.is_none() {
            if names.customer_name.is_empty() {
                i18n::t(names.lang, "ticket.detail.customer")
            } else {
                names.customer_name.clone()
            }
        } else {
            names.user(e.author_id)
        };
        let files = attachments
            .iter()
            .filter(|a| a.entry_id == Some(e.id))
            .map(|a| AttachmentView {
                href: format!("{attach_base}/{}", a.id),
                name: a.file_name.clone(),
                size: crate::help_center::attachments::size_label(a.size_bytes),
            })
            .collect();
        items.push((
            e.created_at,
            0,
            e.id,
            Item {
                class,
                label: i18n::t(names.lang, key),
                author,
                time: local_display(tz, e.created_at),
                body: sanitize_html(&e.body),
                event: String::new(),
                files,
                mailed: !customer_side && e.mail_message_id.is_some(),
            },
        ));
    }
    for e in events {
        let Some(text) = names.event_text(e) else {
            continue;
        };
        items.push((
            e.created_at,
            1,
            e.id,
            Item {
                class: "event",
                label: String::new(),
                author: names.user(e.actor_id),
                time: local_display(tz, e.created_at),
                body: String::new(),
                event: text,
                files: Vec::new(),
                mailed: false,
            },
        ));
    }
    items.sort_by_key(|a| (a.0, a.1, a.2));
    items.into_iter().map(|(_, _, _, i)| i).collect()
}

fn choice(value: &str, label: String, chosen: bool) -> Choice {
    (value.to_string(), label, chosen)
}

/// Builds the ticket page for the viewer, with the state of re-rendered forms.
pub async fn build(
    s: &TicketStaff,
    public_id: &str,
    state: PageState,
) -> Result<DetailPage, AppError> {
    let sub_resolution = state
        .process
        .as_ref()
        .and_then(|p| p.id("resolution_category_id"));
    let s2 = s.info();
    let pid = public_id.to_string();
    let l = s
        .viewer()
        .state
        .db
        .read(move |c| load(c, &s2, &pid, sub_resolution))
        .await?;
    Ok(assemble(s, l, state))
}

fn assemble(s: &TicketStaff, l: Loaded, state: PageState) -> DetailPage {
    let lang = s.viewer().lang;
    let service = &s.service;
    let fallback = default_lang(service);
    let tz = service_tz(service);
    let t = &l.ticket;
    let code = &service.code;
    let base = ticket_href(code, &t.public_id);
    let info = s.info();
    let see = sees_personal(&info, t);
    let names = Names {
        lang,
        fallback,
        users: &l.users,
        groups: &l.groups,
        resolution: &l.resolution,
        customer_name: l
            .customer
            .as_ref()
            .map(|c| c.name.clone())
            .unwrap_or_default(),
    };
    let status_label = i18n::t(lang, lifecycle::agent_label_key(t));
    let status_class = lifecycle::agent_label_class(t).to_string();
    let header = Header {
        public_id: t.public_id.clone(),
        subject: t.subject.clone(),
        status_label,
        status_class,
        channel: i18n::t(lang, channel_key(t.channel())),
        channel_code: t.channel().as_str().to_string(),
        priority: i18n::t(lang, priority_key(t.priority())),
        priority_code: t.priority().as_str().to_string(),
        group: t
            .group_id
            .and_then(|g| l.groups.get(&g).cloned())
            .unwrap_or_default(),
        assignee: names.user(t.assignee_id),
        creator: names.user(t.creator_id),
        created: local_display(tz, t.created_at),
        updated: local_display(tz, t.updated_at),
        intake: t
            .category_id
            .map(|c| l.intake.path_names(c, lang, fallback).join(" › "))
            .unwrap_or_default(),
        resolution: t
            .resolution_category_id
            .map(|c| l.resolution.path_names(c, lang, fallback).join(" › "))
            .unwrap_or_default(),
        lang_name: Lang::parse(&t.lang)
            .map(|x| x.native_name().to_string())
            .unwrap_or_else(|| t.lang.clone()),
        reason: t
            .internal_reason
            .map(|r| i18n::t(lang, r.label_key()))
            .unwrap_or_default(),
        origin: l.origin.as_ref().map(|(svc, o, _, _)| TicketLink {
            href: ticket_href(&svc.code, &o.public_id),
            public_id: o.public_id.clone(),
            service_name: svc.name.clone(),
        }),
        target: l.target.as_ref().map(|(svc, o)| TicketLink {
            href: ticket_href(&svc.code, &o.public_id),
            public_id: o.public_id.clone(),
            service_name: svc.name.clone(),
        }),
    };
    let attach_base = format!("{base}/attachments");
    let timeline_items = timeline(
        &names,
        tz,
        &attach_base,
        &l.entries,
        &l.events,
        &l.attachments,
    );
    let origin_history = match &l.origin {
        Some((_, _, e, a)) => timeline(&names, tz, &attach_base, e, &[], a),
        None => Vec::new(),
    };
    let customer = l.customer.as_ref().map(|c| CustomerView {
        number: c.customer_no.clone(),
        name: c.name.clone(),
        email: if see { c.email.clone() } else { mask(&c.email) },
        phone: if see { c.phone.clone() } else { mask(&c.phone) },
    });
    let src = InputSource {
        lang,
        fallback,
        secret: &s.viewer().state.secret,
        see_personal: see,
    };
    let workable = !t.is_spam && t.status() != Status::Closed;
    let fields_errors = state
        .fields_errors
        .clone()
        .unwrap_or_else(|| FormErrors::new(lang));
    let customer_values = with_fallbacks(&l.customer_defs, &l.values, t, l.customer.as_ref());
    let fields = inputs(
        &l.customer_defs,
        &customer_values,
        state.fields.as_ref(),
        &fields_errors,
        &src,
        |_| workable,
    );
    let process_errors = state
        .process_errors
        .clone()
        .unwrap_or_else(|| FormErrors::new(lang));
    let sub = state.process.as_ref();
    let agent_inputs = inputs(&l.agent_defs, &l.values, sub, &process_errors, &src, |d| {
        agent_field_editable(&info, d)
    });
    let action = sub
        .map(|p| p.one("action"))
        .unwrap_or_else(|| "resolve".into());
    let reason = sub.map(|p| p.one("reason")).unwrap_or_default();
    let transferred = t.origin_ticket_id.is_some();
    let reasons = InternalReason::ALL
        .iter()
        .filter(|r| !transferred || r.allowed_for_transferred())
        .map(|r| {
            choice(
                r.as_str(),
                i18n::t(lang, r.label_key()),
                reason == r.as_str(),
            )
        })
        .collect();
    let actions = [
        ("resolve", "ticket.action.resolve"),
        ("hold", "ticket.action.hold"),
        ("comment", "ticket.action.comment"),
        ("internal", "ticket.action.internal"),
    ]
    .iter()
    .map(|(v, k)| choice(v, i18n::t(lang, k), action == *v))
    .collect();
    let chosen_resolution = match sub {
        Some(p) => p.id("resolution_category_id"),
        None => t.resolution_category_id,
    };
    let priority = sub
        .map(|p| p.one("priority"))
        .filter(|p| Priority::parse(p).is_some())
        .unwrap_or_else(|| t.priority.to_string());
    let mails = lifecycle::mails_customer(t, service.kind());
    let mail_note = match (&l.customer, mails) {
        (_, false) => i18n::t(lang, "ticket.detail.mail_none_for_ticket"),
        (Some(c), true) if !c.email.is_empty() => i18n::tf(
            lang,
            "ticket.detail.mail_to",
            &[("email", &if see { c.email.clone() } else { mask(&c.email) })],
        ),
        _ => i18n::t(lang, "ticket.detail.mail_no_address"),
    };
    let process = ProcessView {
        enabled: workable,
        body: sub
            .map(|p| sanitize_html(&p.one("body")))
            .unwrap_or_default(),
        actions,
        reasons,
        no_resolution: chosen_resolution.is_none(),
        resolutions: resolution_options(
            &l.resolution,
            lang,
            fallback,
            &chosen_resolution.into_iter().collect::<Vec<_>>(),
        ),
        priorities: Priority::ALL
            .iter()
            .rev()
            .map(|p| {
                choice(
                    p.as_str(),
                    i18n::t(lang, priority_key(*p)),
                    priority == p.as_str(),
                )
            })
            .collect(),
        agent_inputs,
        client_token: crate::crypto::random_token(),
        errors: process_errors,
        alert: state.alert.clone(),
        mail_note,
        file_hint: i18n::tf(
            lang,
            "ticket.detail.file_hint",
            &[
                ("max", &MAX_FILES.to_string()),
                ("exts", &EXTENSIONS.join(", ")),
            ],
        ),
    };
    let pull_groups = (workable && t.assignee_id.is_none()).then(|| {
        l.my_groups
            .iter()
            .filter_map(|g| l.groups.get(g).map(|n| (*g, n.clone())))
            .map(|(g, n)| choice(&g.to_string(), n, t.group_id == Some(g)))
            .collect()
    });
    let forward_groups = (workable && s.can_forward()).then(|| {
        l.group_order
            .iter()
            .map(|(g, n)| choice(&g.to_string(), n.clone(), t.group_id == Some(*g)))
            .collect()
    });
    let forward_agents = l
        .forward_agents
        .iter()
        .map(|(id, name, gs)| AgentChoice {
            id: *id,
            name: name.clone(),
            groups: gs
                .iter()
                .filter_map(|g| l.groups.get(g).cloned())
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    let is_admin = s.is_service_admin();
    let transfer_href =
        (workable && l.im_services && t.transfer_state() != TransferState::IssueInProgress)
            .then(|| format!("{base}/transfer"));
    DetailPage {
        ctx: {
            let mut ctx = PageCtx::console(s, "ticket.detail.title");
            ctx.title = format!("{} · {}", t.public_id, t.subject);
            ctx
        },
        list_href: tickets_base(code),
        frames_key: format!("oc.ticketFrames.{}", s.user().id),
        version: t.version,
        timeline: timeline_items,
        origin_history,
        customer,
        fields_editable: workable && !fields.is_empty(),
        fields_failed: state.fields_errors.as_ref().is_some_and(|e| !e.is_empty()),
        fields_alert: fields_errors.get("fields").to_string(),
        fields_notice: state.fields_notice.clone(),
        fields,
        other: l.other,
        process,
        preview: state.preview,
        pull_groups,
        forward_groups,
        forward_agents,
        assign_alert: state.assign_alert,
        can_complete: is_admin && !t.is_spam && t.status() == Status::Solved,
        spam_actions: is_admin && t.is_spam,
        transfer_href,
        templates: l.templates,
        dooray: crate::integrations::dooray::panel::view(&l.dooray, t, lang, tz, &base),
        customer_info: service.customer_info_enabled(),
        grade: l.grade.as_ref().map(|g| (g.name.clone(), g.tag_class())),
        t: header,
        base,
    }
}

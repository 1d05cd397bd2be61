//! The console page itself (SPEC §5.2): saved views with counts, the inflow mini-board, "my
//! status" quick filters, the search panel, the batch panel and the list. One read loads
//! everything the page shows; [`render`] serves the views, the search results and a batch
//! form sent back with errors alike.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;
use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;
use diesel::prelude::*;

use super::access::TicketAgent;
use super::rows::{self, Row};
use super::search::{self, Criteria, SearchForm, SearchOptions, StatusFilter};
use super::views::{self, Board, View, Window};
use crate::categories::model::{Tree, name_languages};
use crate::db::schema::{service_members, users};
use crate::db::types::{CategoryTree, ServiceKind};
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::fields::model::{Audience, FieldDef};
use crate::i18n::{self, Lang};
use crate::tenancy::group::Group;
use crate::tenancy::service::service_tz;
use crate::web::{self as w, FormErrors, PageCtx};

/// Tickets per page.
pub const PAGE_SIZE: i64 = 50;
/// Seconds between polls for new tickets.
pub const POLL_SECONDS: u32 = 10;

/// An `<option>`.
#[derive(Debug, Clone)]
pub struct Opt {
    /// Value.
    pub value: String,
    /// Label (translated).
    pub label: String,
    /// Selected.
    pub selected: bool,
}

fn opts(items: impl IntoIterator<Item = (String, String)>, selected: &str) -> Vec<Opt> {
    items
        .into_iter()
        .map(|(value, label)| Opt {
            selected: value == selected,
            value,
            label,
        })
        .collect()
}

/// One custom-field condition row of the search form.
#[derive(Debug, Clone)]
pub struct ConditionRow {
    /// Field select name (`f1`…).
    pub f_name: String,
    /// Operator select name (`o1`…).
    pub o_name: String,
    /// Value input name (`v1`…).
    pub v_name: String,
    /// Field choices.
    pub fields: Vec<Opt>,
    /// Operator choices.
    pub ops: Vec<Opt>,
    /// Value typed.
    pub value: String,
    /// Message beside the field select.
    pub f_error: String,
    /// Message beside the value.
    pub v_error: String,
}

/// A link of the views menu or of "my status".
#[derive(Debug, Clone)]
pub struct ViewLink {
    /// Target.
    pub href: String,
    /// Translated label.
    pub label: String,
    /// Count as shown (bounded), empty when not counted.
    pub count: String,
    /// The list shows this view.
    pub active: bool,
    /// Sub-links (the per-group breakdown).
    pub sub: Vec<ViewLink>,
}

/// What the list shows.
#[derive(Debug, Clone)]
pub enum Mode {
    /// A saved view, optionally one group of "all in my groups", optionally starred only.
    View {
        /// The view.
        view: View,
        /// One group of "all in my groups".
        group: Option<i64>,
        /// Starred tickets only.
        star: bool,
    },
    /// Search results.
    Search {
        /// The form as typed.
        form: Box<SearchForm>,
        /// Starred tickets only.
        star: bool,
    },
}

impl Mode {
    fn star(&self) -> bool {
        match self {
            Mode::View { star, .. } | Mode::Search { star, .. } => *star,
        }
    }

    /// The query string that shows this list (without paging).
    pub fn query(&self) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        match self {
            Mode::View { view, group, .. } => {
                pairs.push(("view", view.code().to_string()));
                if let Some(g) = group {
                    pairs.push(("group", g.to_string()));
                }
            }
            Mode::Search { form, .. } => {
                pairs.push(("search", "1".to_string()));
                for (k, v) in form.query_pairs() {
                    pairs.push((k, v.to_string()));
                }
            }
        }
        if self.star() {
            pairs.push(("star", "1".to_string()));
        }
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", crate::common::text::url_encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// The batch panel's state (kept when the form comes back with errors).
#[derive(Debug, Clone)]
pub struct BatchState {
    /// Messages by field.
    pub errors: FormErrors,
    /// Chosen action.
    pub action: String,
    /// Text typed.
    pub body: String,
    /// New group.
    pub group: String,
    /// New assignee.
    pub assignee: String,
    /// Ticked tickets.
    pub checked: Vec<i64>,
}

impl BatchState {
    /// An empty panel.
    pub fn new(lang: Lang) -> BatchState {
        BatchState {
            errors: FormErrors::new(lang),
            action: String::new(),
            body: String::new(),
            group: String::new(),
            assignee: String::new(),
            checked: Vec::new(),
        }
    }
}

/// The inflow mini-board as shown.
#[derive(Debug, Clone)]
pub struct BoardView {
    /// Agents with the ticket permission.
    pub agents: i64,
    /// Received today.
    pub today: i64,
    /// Unassigned among today's.
    pub unassigned_today: i64,
    /// All unassigned (bounded).
    pub unassigned: String,
    /// The 24-hour resolution rate (`83%`, or `–` without tickets).
    pub rate: String,
    /// "resolved of received" in the last 24 hours.
    pub rate_detail: String,
}

/// The ticket console page.
#[derive(Template)]
#[template(path = "tickets/console/index.html")]
pub struct ConsolePage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/tickets`
    pub base: String,
    /// Whether the viewer may create tickets (the "Create ticket" button).
    pub can_create: bool,
    /// Views menu.
    pub menu: Vec<ViewLink>,
    /// Inflow mini-board.
    pub board: BoardView,
    /// My status quick filters.
    pub my_status: Vec<ViewLink>,
    /// Heading of the list.
    pub heading: String,
    /// Whether the list shows search results.
    pub searching: bool,
    /// Rows.
    pub rows: Vec<Row>,
    /// Link to older tickets.
    pub next: Option<String>,
    /// Link back to the newest tickets (on later pages).
    pub first: Option<String>,
    /// Polling URL for new tickets (first page of a view only).
    pub poll_url: Option<String>,
    /// Seconds between polls.
    pub poll_seconds: u32,
    /// Starred only.
    pub star_only: bool,
    /// The same list with the star filter flipped.
    pub star_toggle: String,
    /// The current list URL (star forms come back to it).
    pub here: String,
    /// The query string of the list (kept by the batch form).
    pub page_query: String,
    /// Search form values.
    pub form: SearchForm,
    /// Search form messages.
    pub search_errors: FormErrors,
    /// Default first day shown as placeholder.
    pub default_from: String,
    /// Default last day shown as placeholder.
    pub default_to: String,
    /// Attributes of the first-day input.
    pub from_attrs: String,
    /// Attributes of the last-day input.
    pub to_attrs: String,
    /// Search choices.
    pub s_groups: Vec<Opt>,
    /// Search choices.
    pub s_agents: Vec<Opt>,
    /// Search choices.
    pub s_statuses: Vec<Opt>,
    /// Search choices.
    pub s_channels: Vec<Opt>,
    /// Search choices.
    pub s_priorities: Vec<Opt>,
    /// Search choices.
    pub s_intake: Vec<Opt>,
    /// Search choices.
    pub s_resolution: Vec<Opt>,
    /// Custom-field condition rows.
    pub s_conditions: Vec<ConditionRow>,
    /// Batch panel.
    pub batch: BatchState,
    /// Batch actions.
    pub b_actions: Vec<Opt>,
    /// Batch groups.
    pub b_groups: Vec<Opt>,
    /// Batch assignees.
    pub b_agents: Vec<Opt>,
    /// Whether group and assignee may be changed (forward permission).
    pub may_forward: bool,
    /// One-time token of the batch form (double submission).
    pub batch_token: String,
}

/// Members of a service who may be chosen as ticket assignee (id, name), by name.
pub fn assignable_agents(conn: &mut DbConn, service_id: i64) -> QueryResult<Vec<(i64, String)>> {
    service_members::table
        .inner_join(users::table)
        .filter(service_members::service_id.eq(service_id))
        .filter(service_members::perm_ticket.eq(true))
        .filter(service_members::ticket_assignable.eq(true))
        .filter(users::active.eq(true))
        .order((users::name.asc(), users::id.asc()))
        .limit(1000)
        .select((users::id, users::name))
        .load(conn)
}

fn all_members(conn: &mut DbConn, service_id: i64) -> QueryResult<Vec<(i64, String)>> {
    service_members::table
        .inner_join(users::table)
        .filter(service_members::service_id.eq(service_id))
        .order((users::name.asc(), users::id.asc()))
        .limit(1000)
        .select((users::id, users::name))
        .load(conn)
}

fn tree_labels(tree: &Tree, lang: Lang, default: Lang) -> Vec<(i64, String)> {
    tree.nodes()
        .iter()
        .map(|n| {
            let depth = tree.depth(n.id).unwrap_or(1).max(1) as usize;
            (
                n.id,
                format!(
                    "{}{}",
                    "\u{2003}".repeat(depth - 1),
                    n.display_name(lang, default)
                ),
            )
        })
        .collect()
}

/// Loads the search choices of a service.
pub fn search_options(
    conn: &mut DbConn,
    service_id: i64,
    lang: Lang,
    default: Lang,
) -> QueryResult<SearchOptions> {
    let groups = Group::of_service(conn, service_id)?
        .into_iter()
        .map(|g| (g.id, g.name))
        .collect();
    let intake_tree = Tree::load(conn, service_id, CategoryTree::Intake)?;
    let resolution_tree = Tree::load(conn, service_id, CategoryTree::Resolution)?;
    let mut fields = FieldDef::of_audience(conn, service_id, Audience::Customer)?;
    fields.extend(FieldDef::of_audience(conn, service_id, Audience::Agent)?);
    Ok(SearchOptions {
        groups,
        agents: all_members(conn, service_id)?,
        intake: tree_labels(&intake_tree, lang, default),
        resolution: tree_labels(&resolution_tree, lang, default),
        intake_tree,
        resolution_tree,
        fields: SearchOptions::searchable(fields, lang, default),
    })
}

/// The local date of the service now, and local midnight in UTC.
pub fn today(tz: Tz) -> (NaiveDate, chrono::NaiveDateTime) {
    let d = tz.from_utc_datetime(&now()).date_naive();
    (d, search::local_midnight(tz, d))
}

struct Loaded {
    menu_counts: Vec<(View, i64)>,
    group_counts: Vec<(i64, String, i64)>,
    /// "All transferred" split by type (issue management, Dooray!).
    transfer_counts: Vec<(View, i64)>,
    status_counts: Vec<(View, i64)>,
    board: Board,
    options: SearchOptions,
    search: Option<Result<Criteria, FormErrors>>,
    rows: Vec<Row>,
    more: bool,
    batch_agents: Vec<(i64, String)>,
}

fn view_href(base: &str, view: View, group: Option<i64>, star: bool) -> String {
    let mut href = format!("{base}?view={}", view.code());
    if let Some(g) = group {
        href.push_str(&format!("&group={g}"));
    }
    if star {
        href.push_str("&star=1");
    }
    href
}

/// Renders the console for a view or a search; `batch` is the batch panel's state.
pub async fn render(
    a: &TicketAgent,
    mode: Mode,
    before: Option<i64>,
    batch: BatchState,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let lang = a.viewer().lang;
    let service = a.service.clone();
    let (default_lang, _) = name_languages(&service);
    let tz = service_tz(&service);
    let (today_date, today_start) = today(tz);
    let me = a.user().id;
    let kind = service.kind();
    let sid = service.id;
    let mode_db = mode.clone();
    let checked = batch.checked.clone();
    let loaded = a
        .viewer()
        .state
        .db
        .read(move |c| {
            let group_rows: Vec<(i64, String)> = {
                let mine = Group::ids_of_member(c, sid, me)?;
                Group::of_service(c, sid)?
                    .into_iter()
                    .filter(|g| mine.contains(&g.id))
                    .map(|g| (g.id, g.name))
                    .collect()
            };
            let who = views::Viewer {
                service_id: sid,
                kind,
                user_id: me,
                groups: group_rows.iter().map(|(id, _)| *id).collect(),
            };
            let mut menu_counts = Vec::new();
            for v in View::MENU.into_iter().filter(|v| v.available(kind)) {
                let n = views::count_view(c, sid, &views::slices(v, &who, None))?;
                menu_counts.push((v, n));
            }
            let mut group_counts = Vec::new();
            for (gid, name) in &group_rows {
                let n =
                    views::count_view(c, sid, &views::slices(View::MyGroups, &who, Some(*gid)))?;
                group_counts.push((*gid, name.clone(), n));
            }
            let mut transfer_counts = Vec::new();
            for v in View::TRANSFER_TYPES
                .into_iter()
                .filter(|v| v.available(kind))
            {
                let n = views::count_view(c, sid, &views::slices(v, &who, None))?;
                transfer_counts.push((v, n));
            }
            let mut status_counts = Vec::new();
            for v in [View::MyOpen, View::MyHold, View::MyTransfers] {
                if !v.available(kind) {
                    continue;
                }
                let n = menu_counts.iter().find(|(mv, _)| *mv == v).map(|(_, n)| *n);
                let n = match n {
                    Some(n) => n,
                    None => views::count_view(c, sid, &views::slices(v, &who, None))?,
                };
                status_counts.push((v, n));
            }
            let board = views::board(c, sid, today_start, now())?;
            let options = search_options(c, sid, lang, default_lang)?;
            let star_by = mode_db.star().then_some(me);
            let (ids, search) = match &mode_db {
                Mode::View { view, group, .. } => {
                    let w = Window {
                        before,
                        after: None,
                        starred_by: star_by,
                    };
                    let ids = views::page_ids(
                        c,
                        sid,
                        &views::slices(*view, &who, *group),
                        &w,
                        PAGE_SIZE + 1,
                    )?;
                    (ids, None)
                }
                Mode::Search { form, star } => {
                    match search::validate(form, &options, tz, today_date, lang) {
                        Ok(crit) => {
                            let ids = search::search_ids(
                                c,
                                sid,
                                &crit,
                                before,
                                PAGE_SIZE + 1,
                                star.then_some(me),
                            )?;
                            (ids, Some(Ok(crit)))
                        }
                        Err(e) => (Vec::new(), Some(Err(e))),
                    }
                }
            };
            let more = ids.len() as i64 > PAGE_SIZE;
            let ids: Vec<i64> = ids.into_iter().take(PAGE_SIZE as usize).collect();
            let rows = rows::load(c, sid, &ids, me, tz, &checked)?;
            let batch_agents = assignable_agents(c, sid)?;
            Ok(Loaded {
                menu_counts,
                group_counts,
                transfer_counts,
                status_counts,
                board,
                options,
                search,
                rows,
                more,
                batch_agents,
            })
        })
        .await?;

    let base = format!("/{}/console/tickets", service.code);
    let star = mode.star();
    let (current_view, current_group) = match &mode {
        Mode::View { view, group, .. } => (Some(*view), *group),
        Mode::Search { .. } => (None, None),
    };
    let t = |key: &str| i18n::t(lang, key);
    let menu: Vec<ViewLink> = loaded
        .menu_counts
        .iter()
        .map(|(v, n)| ViewLink {
            href: view_href(&base, *v, None, false),
            label: t(v.label_key()),
            count: views::count_label(*n),
            active: current_view == Some(*v) && current_group.is_none(),
            sub: if *v == View::MyGroups {
                loaded
                    .group_counts
                    .iter()
                    .map(|(gid, name, n)| ViewLink {
                        href: view_href(&base, View::MyGroups, Some(*gid), false),
                        label: name.clone(),
                        count: views::count_label(*n),
                        active: current_view == Some(View::MyGroups) && current_group == Some(*gid),
                        sub: Vec::new(),
                    })
                    .collect()
            } else if *v == View::Transferred {
                loaded
                    .transfer_counts
                    .iter()
                    .map(|(tv, n)| ViewLink {
                        href: view_href(&base, *tv, None, false),
                        label: t(tv.label_key()),
                        count: views::count_label(*n),
                        active: current_view == Some(*tv),
                        sub: Vec::new(),
                    })
                    .collect()
            } else {
                Vec::new()
            },
        })
        .collect();
    let my_status = loaded
        .status_counts
        .iter()
        .map(|(v, n)| ViewLink {
            href: view_href(&base, *v, None, false),
            label: t(match v {
                View::MyOpen => "ticket.board.my_open",
                View::MyHold => "ticket.board.my_hold",
                _ => "ticket.board.my_transfers",
            }),
            count: views::count_label(*n),
            active: current_view == Some(*v),
            sub: Vec::new(),
        })
        .collect();
    let b = &loaded.board;
    let board = BoardView {
        agents: b.agents,
        today: b.today,
        unassigned_today: b.unassigned_today,
        unassigned: views::count_label(b.unassigned),
        rate: b
            .rate_percent()
            .map(|p| format!("{p}%"))
            .unwrap_or_else(|| "–".to_string()),
        rate_detail: i18n::tf(
            lang,
            "ticket.board.rate_detail",
            &[
                ("resolved", &b.resolved_24h.to_string()),
                ("received", &b.last_24h.to_string()),
            ],
        ),
    };
    let (form, search_errors, searching) = match (&mode, loaded.search) {
        (Mode::Search { form, .. }, Some(Err(e))) => ((**form).clone(), e, true),
        (Mode::Search { form, .. }, _) => ((**form).clone(), FormErrors::new(lang), true),
        _ => (SearchForm::default(), FormErrors::new(lang), false),
    };
    let status = if !search_errors.is_empty() && status == StatusCode::OK {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        status
    };
    let heading = match current_view {
        Some(View::MyGroups) if current_group.is_some() => loaded
            .group_counts
            .iter()
            .find(|(g, _, _)| Some(*g) == current_group)
            .map(|(_, name, _)| format!("{} · {name}", t("ticket.view.groups")))
            .unwrap_or_else(|| t("ticket.view.groups")),
        Some(v @ (View::TransferredIssue | View::TransferredDooray)) => {
            format!("{} · {}", t("ticket.view.transferred"), t(v.label_key()))
        }
        Some(v) => t(v.label_key()),
        None => t("ticket.search.results"),
    };
    let list_query = mode.query();
    let here = match before {
        Some(b) => format!("{base}?{list_query}&before={b}"),
        None => format!("{base}?{list_query}"),
    };
    let list_path = if searching {
        format!("{base}/search")
    } else {
        base.clone()
    };
    let next = if loaded.more {
        loaded
            .rows
            .last()
            .map(|r| format!("{list_path}?{list_query}&before={}", r.id))
    } else {
        None
    };
    let first = before.map(|_| format!("{list_path}?{list_query}"));
    let poll_url = match (&mode, before) {
        (Mode::View { .. }, None) => Some(format!(
            "{base}/poll?{list_query}&after={}",
            loaded.rows.first().map(|r| r.id).unwrap_or(0)
        )),
        _ => None,
    };
    let star_toggle = {
        let flipped = match &mode {
            Mode::View { view, group, .. } => Mode::View {
                view: *view,
                group: *group,
                star: !star,
            },
            Mode::Search { form, .. } => Mode::Search {
                form: form.clone(),
                star: !star,
            },
        };
        format!("{list_path}?{}", flipped.query())
    };
    let (def_from, def_to) = search::default_period(today_date);
    let o = &loaded.options;
    let s_groups = opts(
        o.groups.iter().cloned().map(|(i, n)| (i.to_string(), n)),
        &form.group,
    );
    let mut agent_items = vec![("none".to_string(), t("ticket.search.unassigned"))];
    agent_items.extend(o.agents.iter().map(|(i, n)| (i.to_string(), n.clone())));
    let s_agents = opts(agent_items, &form.assignee);
    let s_statuses = opts(
        StatusFilter::choices()
            .into_iter()
            .filter(|(code, _)| kind == ServiceKind::Consultation || !code.starts_with("issue_"))
            .map(|(code, key)| (code.to_string(), t(key))),
        &form.status,
    );
    let s_channels = opts(
        rows::channel_choices()
            .into_iter()
            .map(|(c, k)| (c.to_string(), t(&k))),
        &form.channel,
    );
    let s_priorities = opts(
        rows::priority_choices()
            .into_iter()
            .map(|(p, k)| (p.to_string(), t(&k))),
        &form.priority,
    );
    let s_intake = opts(
        o.intake.iter().cloned().map(|(i, n)| (i.to_string(), n)),
        &form.intake,
    );
    let s_resolution = opts(
        o.resolution
            .iter()
            .cloned()
            .map(|(i, n)| (i.to_string(), n)),
        &form.resolution,
    );
    let s_conditions = form
        .conditions()
        .into_iter()
        .enumerate()
        .map(|(i, (f, op, v))| {
            let fields = opts(
                o.fields
                    .iter()
                    .map(|sf| (sf.id.to_string(), sf.label.clone())),
                f,
            );
            let ops = opts(
                [
                    ("eq".to_string(), t("ticket.search.op_eq")),
                    ("contains".to_string(), t("ticket.search.op_contains")),
                ],
                op,
            );
            let n = i + 1;
            ConditionRow {
                f_error: search_errors.get(&format!("f{n}")).to_string(),
                v_error: search_errors.get(&format!("v{n}")).to_string(),
                f_name: format!("f{n}"),
                o_name: format!("o{n}"),
                v_name: format!("v{n}"),
                fields,
                ops,
                value: v.to_string(),
            }
        })
        .collect();
    let b_actions = opts(
        [
            ("comment", "ticket.batch.action_comment"),
            ("resolve", "ticket.batch.action_resolve"),
            ("hold", "ticket.batch.action_hold"),
            ("assign", "ticket.batch.action_assign"),
        ]
        .into_iter()
        .filter(|(code, _)| *code != "assign" || a.may_forward())
        .map(|(code, key)| (code.to_string(), t(key))),
        &batch.action,
    );
    let b_groups = opts(
        o.groups.iter().cloned().map(|(i, n)| (i.to_string(), n)),
        &batch.group,
    );
    let b_agents = opts(
        loaded
            .batch_agents
            .iter()
            .cloned()
            .map(|(i, n)| (i.to_string(), n)),
        &batch.assignee,
    );
    let page = ConsolePage {
        ctx: PageCtx::console(a, "ticket.list.title"),
        can_create: crate::tickets::detail::access::TicketStaff::admits(a).is_ok(),
        menu,
        board,
        my_status,
        heading,
        searching,
        rows: loaded.rows,
        next,
        first,
        poll_url,
        poll_seconds: POLL_SECONDS,
        star_only: star,
        star_toggle,
        here,
        page_query: list_query,
        form,
        search_errors,
        from_attrs: format!("placeholder=\"{}\"", def_from.format("%Y-%m-%d")),
        to_attrs: format!("placeholder=\"{}\"", def_to.format("%Y-%m-%d")),
        default_from: def_from.format("%Y-%m-%d").to_string(),
        default_to: def_to.format("%Y-%m-%d").to_string(),
        s_groups,
        s_agents,
        s_statuses,
        s_channels,
        s_priorities,
        s_intake,
        s_resolution,
        s_conditions,
        batch,
        b_actions,
        b_groups,
        b_agents,
        may_forward: a.may_forward(),
        batch_token: crate::crypto::random_token(),
        base,
    };
    w::html(status, &page)
}

//! Handlers of the list: the console page for a saved view, the search results, the polling
//! endpoint that brings new tickets into an open list, and the per-agent ☆ toggle.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::access::TicketAgent;
use super::page::{self, BatchState, Mode, PAGE_SIZE, POLL_SECONDS};
use super::rows::{self, Row};
use super::search::SearchForm;
use super::views::{self, View, Window};
use crate::error::AppError;
use crate::tenancy::group::Group;
use crate::tenancy::service::service_tz;
use crate::tickets::{Ticket, lifecycle};
use crate::web::{self as w, PageCtx};

/// Paging and view arguments of the list URLs.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct ListArgs {
    /// View code.
    pub view: String,
    /// One group of "all in my groups".
    pub group: String,
    /// `1`: starred tickets only.
    pub star: String,
    /// Older than this id.
    pub before: String,
    /// Newer than this id (polling).
    pub after: String,
    /// `1` on search URLs.
    pub search: String,
}

impl ListArgs {
    fn id(s: &str) -> Option<i64> {
        s.trim().parse().ok().filter(|n: &i64| *n >= 0)
    }

    /// The view mode these arguments name (the agent's processing list by default).
    pub fn view_mode(&self, a: &TicketAgent) -> Mode {
        Mode::View {
            view: View::parse(&self.view)
                .filter(|v| v.available(a.service.kind()))
                .unwrap_or(View::MyOpen),
            group: ListArgs::id(&self.group),
            star: self.star == "1",
        }
    }

    /// The page start.
    pub fn before(&self) -> Option<i64> {
        ListArgs::id(&self.before)
    }
}

/// `GET /{service_id}/console/tickets`
pub async fn console(a: TicketAgent, args: web::Query<ListArgs>) -> Result<HttpResponse, AppError> {
    let mode = args.view_mode(&a);
    let lang = a.viewer().lang;
    page::render(
        &a,
        mode,
        args.before(),
        BatchState::new(lang),
        StatusCode::OK,
    )
    .await
}

/// `GET /{service_id}/console/tickets/search` — results, or the form with messages (422).
pub async fn search(
    a: TicketAgent,
    args: web::Query<ListArgs>,
    form: web::Query<SearchForm>,
) -> Result<HttpResponse, AppError> {
    let lang = a.viewer().lang;
    let mode = Mode::Search {
        form: Box::new(form.into_inner()),
        star: args.star == "1",
    };
    page::render(
        &a,
        mode,
        args.before(),
        BatchState::new(lang),
        StatusCode::OK,
    )
    .await
}

/// New rows for an open list (the htmx poll).
#[derive(Template)]
#[template(path = "tickets/console/_poll.html")]
pub struct PollFragment {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/tickets`
    pub base: String,
    /// The list URL (star forms come back to it).
    pub here: String,
    /// The next poll.
    pub poll_url: String,
    /// Seconds between polls.
    pub poll_seconds: u32,
    /// New rows, newest first.
    pub rows: Vec<Row>,
    /// More new tickets than one poll brings.
    pub more: bool,
}

/// `GET /{service_id}/console/tickets/poll?view=…&after=<id>` — the tickets of the view newer
/// than `after`: 204 when there are none, otherwise the rows to put on top of the list and the
/// next poll (which replaces this one).
pub async fn poll(a: TicketAgent, args: web::Query<ListArgs>) -> Result<HttpResponse, AppError> {
    let Some(after) = ListArgs::id(&args.after) else {
        return Err(AppError::BadRequest("ticket.list.bad_poll"));
    };
    let mode = args.view_mode(&a);
    let Mode::View { view, group, star } = mode.clone() else {
        return Err(AppError::BadRequest("ticket.list.bad_poll"));
    };
    let (sid, me, kind) = (a.service.id, a.user().id, a.service.kind());
    let tz = service_tz(&a.service);
    let (rows, more) = a
        .viewer()
        .state
        .db
        .read(move |c| {
            let who = views::Viewer {
                service_id: sid,
                kind,
                user_id: me,
                groups: Group::ids_of_member(c, sid, me)?,
            };
            let w = Window {
                before: None,
                after: Some(after),
                starred_by: star.then_some(me),
            };
            let ids =
                views::page_ids(c, sid, &views::slices(view, &who, group), &w, PAGE_SIZE + 1)?;
            let more = ids.len() as i64 > PAGE_SIZE;
            let ids: Vec<i64> = ids.into_iter().take(PAGE_SIZE as usize).collect();
            Ok((rows::load(c, sid, &ids, me, tz, &[])?, more))
        })
        .await?;
    if rows.is_empty() {
        return Ok(HttpResponse::NoContent().finish());
    }
    let base = format!("/{}/console/tickets", a.service.code);
    let query = mode.query();
    let top = rows.first().map(|r| r.id).unwrap_or(after);
    let fragment = PollFragment {
        ctx: PageCtx::console(&a, "ticket.list.title"),
        here: format!("{base}?{query}"),
        poll_url: format!("{base}/poll?{query}&after={top}"),
        poll_seconds: POLL_SECONDS,
        rows,
        more,
        base,
    };
    w::html(StatusCode::OK, &fragment)
}

/// The star form of one row.
#[derive(Debug, Clone)]
pub struct StarRef {
    /// Public ID.
    pub public_id: String,
    /// Starred now.
    pub starred: bool,
}

/// The ☆ button after a toggle (htmx answer).
#[derive(Template)]
#[template(path = "tickets/console/_star_fragment.html")]
pub struct StarFragment {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/tickets`
    pub base: String,
    /// Where the form returns without JavaScript.
    pub here: String,
    /// The ticket.
    pub r: StarRef,
}

/// The star form.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct StarForm {
    /// `1` to star, `0` to clear.
    pub on: String,
    /// Where to go back without JavaScript.
    pub next: String,
}

/// `POST /{service_id}/console/tickets/{public_id}/star` — sets or clears the agent's ☆ on a
/// ticket of the service (404 for an unknown or foreign ticket).
pub async fn star(
    req: HttpRequest,
    a: TicketAgent,
    path: web::Path<(String, String)>,
    form: web::Form<StarForm>,
) -> Result<HttpResponse, AppError> {
    let (_, public_id) = path.into_inner();
    let on = match form.on.as_str() {
        "1" => true,
        "0" => false,
        _ => return Err(AppError::BadRequest("ticket.list.bad_star")),
    };
    let (sid, me) = (a.service.id, a.user().id);
    let pid = public_id.clone();
    let starred = a
        .viewer()
        .state
        .db
        .write(move |c| {
            let t = Ticket::find_by_public_id(c, sid, &pid)?.ok_or(AppError::NotFound)?;
            Ok(lifecycle::set_star(c, me, t.id, on)?)
        })
        .await?;
    let base = format!("/{}/console/tickets", a.service.code);
    let here = w::safe_next(Some(&form.next))
        .filter(|n| n.starts_with(&base))
        .unwrap_or_else(|| base.clone());
    if !w::is_htmx(&req) {
        return Ok(w::redirect(&req, &here));
    }
    let fragment = StarFragment {
        ctx: PageCtx::console(&a, "ticket.list.title"),
        base,
        here,
        r: StarRef { public_id, starred },
    };
    w::html(StatusCode::OK, &fragment)
}

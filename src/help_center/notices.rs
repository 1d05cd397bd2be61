//! Help-center notices (SPEC §4.3): headings (ordered, a name per language; at least one is
//! needed before a notice can be written, and one in use cannot be deleted), tags (a name per
//! language, several per notice), notice templates (title, heading, tags and body per language,
//! applied when a notice is created), and notices themselves with a display period (reserved →
//! in progress → done, to the minute), a display date, pin to top, draft or published, a read
//! count and the normalised `search_text` the full-text index covers.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::common::names::{Names, parse_names};
use crate::db::schema::{
    notice_contents, notice_headings, notice_tag_links, notice_tags, notice_templates, notices,
    users,
};
use crate::db::search::{FtsTable, SearchQuery, fts_filter, normalize};
use crate::db::{DbConn, now};
use crate::help_center::content::{DocStatus, LangContent, search_source};
use crate::help_center::faq::pick_localized;
use crate::i18n::Lang;

/// Most headings, tags or templates per service.
pub const MAX_META: i64 = 200;

/// A heading or a tag: id and names.
#[derive(Debug, Clone)]
pub struct Label {
    /// Key.
    pub id: i64,
    /// Names per language.
    pub names: Names,
}

/// The service's headings in display order.
pub fn headings(conn: &mut DbConn, service_id: i64) -> QueryResult<Vec<Label>> {
    let rows: Vec<(i64, String)> = notice_headings::table
        .filter(notice_headings::service_id.eq(service_id))
        .order((notice_headings::position.asc(), notice_headings::id.asc()))
        .limit(MAX_META)
        .select((notice_headings::id, notice_headings::names))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, n)| Label {
            id,
            names: parse_names(&n),
        })
        .collect())
}

/// The service's tags, oldest first.
pub fn tags(conn: &mut DbConn, service_id: i64) -> QueryResult<Vec<Label>> {
    let rows: Vec<(i64, String)> = notice_tags::table
        .filter(notice_tags::service_id.eq(service_id))
        .order(notice_tags::id.asc())
        .limit(MAX_META)
        .select((notice_tags::id, notice_tags::names))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, n)| Label {
            id,
            names: parse_names(&n),
        })
        .collect())
}

/// Adds a heading at the end of the order.
pub fn create_heading(conn: &mut DbConn, service_id: i64, names: &Names) -> QueryResult<i64> {
    let last: Option<i32> = notice_headings::table
        .filter(notice_headings::service_id.eq(service_id))
        .select(diesel::dsl::max(notice_headings::position))
        .first(conn)?;
    let t = now();
    diesel::insert_into(notice_headings::table)
        .values((
            notice_headings::service_id.eq(service_id),
            notice_headings::names.eq(serde_json::to_string(names).unwrap_or_default()),
            notice_headings::position.eq(last.map_or(0, |p| p + 1)),
            notice_headings::created_at.eq(t),
            notice_headings::updated_at.eq(t),
        ))
        .returning(notice_headings::id)
        .get_result(conn)
}

/// Renames a heading; returns whether it exists in the service.
pub fn rename_heading(
    conn: &mut DbConn,
    service_id: i64,
    id: i64,
    names: &Names,
) -> QueryResult<bool> {
    Ok(diesel::update(
        notice_headings::table
            .find(id)
            .filter(notice_headings::service_id.eq(service_id)),
    )
    .set((
        notice_headings::names.eq(serde_json::to_string(names).unwrap_or_default()),
        notice_headings::updated_at.eq(now()),
    ))
    .execute(conn)?
        > 0)
}

/// Notices using a heading.
pub fn heading_usage(conn: &mut DbConn, id: i64) -> QueryResult<i64> {
    notices::table
        .filter(notices::heading_id.eq(id))
        .count()
        .get_result(conn)
}

/// Deletes a heading; returns whether it existed.
pub fn delete_heading(conn: &mut DbConn, service_id: i64, id: i64) -> QueryResult<bool> {
    Ok(diesel::delete(
        notice_headings::table
            .find(id)
            .filter(notice_headings::service_id.eq(service_id)),
    )
    .execute(conn)?
        > 0)
}

/// Stores a new heading order (ids not of the service are ignored; missing ones go last).
pub fn order_headings(conn: &mut DbConn, service_id: i64, order: &[i64]) -> QueryResult<()> {
    let current: Vec<i64> = headings(conn, service_id)?.iter().map(|h| h.id).collect();
    let merged = crate::agents::form::merge_order(&current, order);
    for (pos, id) in merged.iter().enumerate() {
        diesel::update(notice_headings::table.find(id))
            .set(notice_headings::position.eq(i32::try_from(pos).unwrap_or(i32::MAX)))
            .execute(conn)?;
    }
    Ok(())
}

/// Adds a tag.
pub fn create_tag(conn: &mut DbConn, service_id: i64, names: &Names) -> QueryResult<i64> {
    let t = now();
    diesel::insert_into(notice_tags::table)
        .values((
            notice_tags::service_id.eq(service_id),
            notice_tags::names.eq(serde_json::to_string(names).unwrap_or_default()),
            notice_tags::created_at.eq(t),
            notice_tags::updated_at.eq(t),
        ))
        .returning(notice_tags::id)
        .get_result(conn)
}

/// Renames a tag; returns whether it exists in the service.
pub fn rename_tag(conn: &mut DbConn, service_id: i64, id: i64, names: &Names) -> QueryResult<bool> {
    Ok(diesel::update(
        notice_tags::table
            .find(id)
            .filter(notice_tags::service_id.eq(service_id)),
    )
    .set((
        notice_tags::names.eq(serde_json::to_string(names).unwrap_or_default()),
        notice_tags::updated_at.eq(now()),
    ))
    .execute(conn)?
        > 0)
}

/// Deletes a tag (it is removed from the notices that carry it); returns whether it existed.
pub fn delete_tag(conn: &mut DbConn, service_id: i64, id: i64) -> QueryResult<bool> {
    Ok(diesel::delete(
        notice_tags::table
            .find(id)
            .filter(notice_tags::service_id.eq(service_id)),
    )
    .execute(conn)?
        > 0)
}

/// A notice template.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notice_templates)]
pub struct NoticeTemplate {
    /// Key.
    pub id: i64,
    /// Service.
    pub service_id: i64,
    /// Name (what authors pick it by).
    pub name: String,
    /// Heading applied.
    pub heading_id: Option<i64>,
    /// Tags applied, comma separated.
    pub tag_ids: String,
    /// `{lang: {"title": …, "body": …}}`.
    pub contents: String,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Updated.
    pub updated_at: NaiveDateTime,
}

/// Title and body of a template in one language.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct TemplateText {
    /// Title.
    #[serde(default)]
    pub title: String,
    /// Body (sanitised HTML).
    #[serde(default)]
    pub body: String,
}

impl NoticeTemplate {
    /// Tag ids.
    pub fn tags(&self) -> Vec<i64> {
        self.tag_ids
            .split(',')
            .filter_map(|s| s.trim().parse().ok())
            .collect()
    }

    /// Texts per language as `(lang, title, body)` rows.
    pub fn rows(&self) -> Vec<(String, String, String)> {
        let map: HashMap<String, TemplateText> =
            serde_json::from_str(&self.contents).unwrap_or_default();
        map.into_iter().map(|(l, t)| (l, t.title, t.body)).collect()
    }
}

/// The service's templates by name.
pub fn templates(conn: &mut DbConn, service_id: i64) -> QueryResult<Vec<NoticeTemplate>> {
    notice_templates::table
        .filter(notice_templates::service_id.eq(service_id))
        .order((notice_templates::name.asc(), notice_templates::id.asc()))
        .limit(MAX_META)
        .select(NoticeTemplate::as_select())
        .load(conn)
}

/// One template of a service.
pub fn find_template(
    conn: &mut DbConn,
    service_id: i64,
    id: i64,
) -> QueryResult<Option<NoticeTemplate>> {
    notice_templates::table
        .find(id)
        .filter(notice_templates::service_id.eq(service_id))
        .select(NoticeTemplate::as_select())
        .first(conn)
        .optional()
}

/// A template as submitted.
#[derive(Debug, Clone)]
pub struct TemplateInput {
    /// Name.
    pub name: String,
    /// Heading.
    pub heading_id: Option<i64>,
    /// Tags.
    pub tag_ids: Vec<i64>,
    /// Texts.
    pub contents: Vec<LangContent>,
}

fn template_json(contents: &[LangContent]) -> String {
    let map: HashMap<&str, TemplateText> = contents
        .iter()
        .filter(|c| !c.title.is_empty() || !c.body.is_empty())
        .map(|c| {
            (
                c.lang.as_str(),
                TemplateText {
                    title: c.title.clone(),
                    body: c.body.clone(),
                },
            )
        })
        .collect();
    serde_json::to_string(&map).unwrap_or_default()
}

fn join_ids(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// Saves a template (`id = None` creates one); returns its id, or `None` when it is not the
/// service's.
pub fn save_template(
    conn: &mut DbConn,
    service_id: i64,
    id: Option<i64>,
    input: &TemplateInput,
) -> QueryResult<Option<i64>> {
    let t = now();
    match id {
        None => diesel::insert_into(notice_templates::table)
            .values((
                notice_templates::service_id.eq(service_id),
                notice_templates::name.eq(&input.name),
                notice_templates::heading_id.eq(input.heading_id),
                notice_templates::tag_ids.eq(join_ids(&input.tag_ids)),
                notice_templates::contents.eq(template_json(&input.contents)),
                notice_templates::created_at.eq(t),
                notice_templates::updated_at.eq(t),
            ))
            .returning(notice_templates::id)
            .get_result(conn)
            .map(Some),
        Some(id) => {
            let n = diesel::update(
                notice_templates::table
                    .find(id)
                    .filter(notice_templates::service_id.eq(service_id)),
            )
            .set((
                notice_templates::name.eq(&input.name),
                notice_templates::heading_id.eq(input.heading_id),
                notice_templates::tag_ids.eq(join_ids(&input.tag_ids)),
                notice_templates::contents.eq(template_json(&input.contents)),
                notice_templates::updated_at.eq(t),
            ))
            .execute(conn)?;
            Ok((n > 0).then_some(id))
        }
    }
}

/// Deletes a template; returns whether it existed.
pub fn delete_template(conn: &mut DbConn, service_id: i64, id: i64) -> QueryResult<bool> {
    Ok(diesel::delete(
        notice_templates::table
            .find(id)
            .filter(notice_templates::service_id.eq(service_id)),
    )
    .execute(conn)?
        > 0)
}

/// A notice row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notices)]
pub struct Notice {
    /// Key.
    pub id: i64,
    /// Service.
    pub service_id: i64,
    /// Heading.
    pub heading_id: i64,
    /// `draft` or `published`.
    pub status: String,
    /// Pinned on top.
    pub pinned: bool,
    /// The date shown to customers (`YYYY-MM-DD`).
    pub display_date: String,
    /// Display start (UTC, minute precision); none = at once.
    pub starts_at: Option<NaiveDateTime>,
    /// Display end (UTC); none = never.
    pub ends_at: Option<NaiveDateTime>,
    /// Reads in the help center.
    pub view_count: i64,
    /// Creator.
    pub author_id: Option<i64>,
    /// Last editor.
    pub editor_id: Option<i64>,
    /// Published at.
    pub published_at: Option<NaiveDateTime>,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Updated.
    pub updated_at: NaiveDateTime,
}

impl Notice {
    /// The status.
    pub fn status(&self) -> DocStatus {
        DocStatus::parse(&self.status).unwrap_or(DocStatus::Draft)
    }
}

/// What an author submits.
#[derive(Debug, Clone)]
pub struct NoticeInput {
    /// Heading (required).
    pub heading_id: i64,
    /// Tags.
    pub tag_ids: Vec<i64>,
    /// Pinned on top.
    pub pinned: bool,
    /// Date shown (`YYYY-MM-DD`).
    pub display_date: String,
    /// Period start (UTC).
    pub starts_at: Option<NaiveDateTime>,
    /// Period end (UTC).
    pub ends_at: Option<NaiveDateTime>,
    /// Title and body per language.
    pub contents: Vec<LangContent>,
}

fn write_parts(conn: &mut DbConn, id: i64, input: &NoticeInput) -> QueryResult<()> {
    diesel::delete(notice_contents::table.filter(notice_contents::notice_id.eq(id)))
        .execute(conn)?;
    for c in &input.contents {
        if c.title.is_empty() && c.body.is_empty() {
            continue;
        }
        diesel::insert_into(notice_contents::table)
            .values((
                notice_contents::notice_id.eq(id),
                notice_contents::lang.eq(&c.lang),
                notice_contents::title.eq(&c.title),
                notice_contents::body_html.eq(&c.body),
            ))
            .execute(conn)?;
    }
    diesel::delete(notice_tag_links::table.filter(notice_tag_links::notice_id.eq(id)))
        .execute(conn)?;
    for tag in &input.tag_ids {
        diesel::insert_into(notice_tag_links::table)
            .values((
                notice_tag_links::notice_id.eq(id),
                notice_tag_links::tag_id.eq(tag),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Creates a notice; returns its id.
pub fn create(
    conn: &mut DbConn,
    service_id: i64,
    user_id: i64,
    input: &NoticeInput,
    status: DocStatus,
) -> QueryResult<i64> {
    let t = now();
    let id: i64 = diesel::insert_into(notices::table)
        .values((
            notices::service_id.eq(service_id),
            notices::heading_id.eq(input.heading_id),
            notices::status.eq(status.as_str()),
            notices::pinned.eq(input.pinned),
            notices::display_date.eq(&input.display_date),
            notices::starts_at.eq(input.starts_at),
            notices::ends_at.eq(input.ends_at),
            notices::view_count.eq(0i64),
            notices::author_id.eq(Some(user_id)),
            notices::editor_id.eq(Some(user_id)),
            notices::search_text.eq(normalize(&search_source(&input.contents))),
            notices::published_at.eq((status == DocStatus::Published).then_some(t)),
            notices::created_at.eq(t),
            notices::updated_at.eq(t),
        ))
        .returning(notices::id)
        .get_result(conn)?;
    write_parts(conn, id, input)?;
    Ok(id)
}

/// Saves a notice's fields and status.
pub fn update(
    conn: &mut DbConn,
    notice: &Notice,
    user_id: i64,
    input: &NoticeInput,
    status: DocStatus,
) -> QueryResult<()> {
    let t = now();
    let published_at = match status {
        DocStatus::Published => notice.published_at.or(Some(t)),
        DocStatus::Draft => None,
    };
    diesel::update(notices::table.find(notice.id))
        .set((
            notices::heading_id.eq(input.heading_id),
            notices::status.eq(status.as_str()),
            notices::pinned.eq(input.pinned),
            notices::display_date.eq(&input.display_date),
            notices::starts_at.eq(input.starts_at),
            notices::ends_at.eq(input.ends_at),
            notices::editor_id.eq(Some(user_id)),
            notices::search_text.eq(normalize(&search_source(&input.contents))),
            notices::published_at.eq(published_at),
            notices::updated_at.eq(t),
        ))
        .execute(conn)?;
    write_parts(conn, notice.id, input)
}

/// Publishes or withdraws a notice.
pub fn set_status(
    conn: &mut DbConn,
    notice: &Notice,
    user_id: i64,
    status: DocStatus,
) -> QueryResult<()> {
    let t = now();
    let published_at = match status {
        DocStatus::Published => notice.published_at.or(Some(t)),
        DocStatus::Draft => None,
    };
    diesel::update(notices::table.find(notice.id))
        .set((
            notices::status.eq(status.as_str()),
            notices::editor_id.eq(Some(user_id)),
            notices::published_at.eq(published_at),
            notices::updated_at.eq(t),
        ))
        .execute(conn)?;
    Ok(())
}

/// Deletes a notice (contents, tag links and attachment rows cascade).
pub fn delete(conn: &mut DbConn, id: i64) -> QueryResult<()> {
    diesel::delete(notices::table.find(id)).execute(conn)?;
    Ok(())
}

/// A notice of a service.
pub fn find(conn: &mut DbConn, service_id: i64, id: i64) -> QueryResult<Option<Notice>> {
    notices::table
        .find(id)
        .filter(notices::service_id.eq(service_id))
        .select(Notice::as_select())
        .first(conn)
        .optional()
}

/// A notice's `(lang, title, body)` rows.
pub fn contents(conn: &mut DbConn, id: i64) -> QueryResult<Vec<(String, String, String)>> {
    notice_contents::table
        .filter(notice_contents::notice_id.eq(id))
        .select((
            notice_contents::lang,
            notice_contents::title,
            notice_contents::body_html,
        ))
        .load(conn)
}

/// Title and body of many notices in `lang` (falling back as [`pick_localized`] does).
pub fn localized(
    conn: &mut DbConn,
    ids: &[i64],
    lang: Lang,
    fallback: Lang,
) -> QueryResult<HashMap<i64, (String, String)>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, String, String, String)> = notice_contents::table
        .filter(notice_contents::notice_id.eq_any(ids))
        .select((
            notice_contents::notice_id,
            notice_contents::lang,
            notice_contents::title,
            notice_contents::body_html,
        ))
        .load(conn)?;
    Ok(pick_localized(rows, lang, fallback))
}

/// Tag ids of many notices (one query).
pub fn tag_ids_of(conn: &mut DbConn, ids: &[i64]) -> QueryResult<HashMap<i64, Vec<i64>>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, i64)> = notice_tag_links::table
        .filter(notice_tag_links::notice_id.eq_any(ids))
        .order((notice_tag_links::notice_id, notice_tag_links::tag_id))
        .select((notice_tag_links::notice_id, notice_tag_links::tag_id))
        .load(conn)?;
    let mut map: HashMap<i64, Vec<i64>> = HashMap::new();
    for (n, t) in rows {
        map.entry(n).or_default().push(t);
    }
    Ok(map)
}

/// A back-office list row.
#[derive(Debug, Clone)]
pub struct AdminRow {
    /// The notice.
    pub notice: Notice,
    /// The last editor's name.
    pub editor_name: Option<String>,
}

/// Back-office list filters.
#[derive(Debug, Clone, Default)]
pub struct AdminFilter {
    /// Draft or published tab.
    pub status: Option<DocStatus>,
    /// Heading.
    pub heading_id: Option<i64>,
    /// Full-text query.
    pub query: Option<SearchQuery>,
    /// Keyset: ids below this.
    pub before: Option<i64>,
}

/// A page of notices, newest first, with the last editor's name; plus whether more follow.
pub fn admin_page(
    conn: &mut DbConn,
    service_id: i64,
    filter: &AdminFilter,
    limit: i64,
) -> QueryResult<(Vec<AdminRow>, bool)> {
    let mut q = notices::table
        .left_join(users::table.on(users::id.nullable().eq(notices::editor_id)))
        .filter(notices::service_id.eq(service_id))
        .select((Notice::as_select(), users::name.nullable()))
        .into_boxed();
    if let Some(s) = filter.status {
        q = q.filter(notices::status.eq(s.as_str()));
    }
    if let Some(h) = filter.heading_id {
        q = q.filter(notices::heading_id.eq(h));
    }
    if let Some(b) = filter.before {
        q = q.filter(notices::id.lt(b));
    }
    if let Some(query) = &filter.query {
        q = q.filter(fts_filter(conn, FtsTable::Notices, query));
    }
    let mut rows: Vec<(Notice, Option<String>)> =
        q.order(notices::id.desc()).limit(limit + 1).load(conn)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    Ok((
        rows.into_iter()
            .map(|(notice, editor_name)| AdminRow {
                notice,
                editor_name,
            })
            .collect(),
        more,
    ))
}

/// Portal filters.
#[derive(Debug, Clone, Default)]
pub struct PortalFilter {
    /// Heading tab.
    pub heading_id: Option<i64>,
    /// Tag.
    pub tag_id: Option<i64>,
    /// Full-text query.
    pub query: Option<SearchQuery>,
}

/// A page of visible notices (published and inside their display period at `at`): pinned first,
/// then by display date and id, newest first; plus whether more follow.
pub fn portal_page(
    conn: &mut DbConn,
    service_id: i64,
    filter: &PortalFilter,
    at: NaiveDateTime,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<Notice>, bool)> {
    let mut q = notices::table
        .filter(notices::service_id.eq(service_id))
        .filter(notices::status.eq(DocStatus::Published.as_str()))
        .filter(notices::starts_at.is_null().or(notices::starts_at.le(at)))
        .filter(notices::ends_at.is_null().or(notices::ends_at.gt(at)))
        .select(Notice::as_select())
        .into_boxed();
    if let Some(h) = filter.heading_id {
        q = q.filter(notices::heading_id.eq(h));
    }
    if let Some(t) = filter.tag_id {
        q = q.filter(
            notices::id.eq_any(
                notice_tag_links::table
                    .filter(notice_tag_links::tag_id.eq(t))
                    .select(notice_tag_links::notice_id),
            ),
        );
    }
    if let Some(query) = &filter.query {
        q = q.filter(fts_filter(conn, FtsTable::Notices, query));
    }
    let mut rows = q
        .order((
            notices::pinned.desc(),
            notices::display_date.desc(),
            notices::id.desc(),
        ))
        .offset(offset)
        .limit(limit + 1)
        .load(conn)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    Ok((rows, more))
}

/// A notice visible in the help center at `at`.
pub fn find_visible(
    conn: &mut DbConn,
    service_id: i64,
    id: i64,
    at: NaiveDateTime,
) -> QueryResult<Option<Notice>> {
    notices::table
        .find(id)
        .filter(notices::service_id.eq(service_id))
        .filter(notices::status.eq(DocStatus::Published.as_str()))
        .filter(notices::starts_at.is_null().or(notices::starts_at.le(at)))
        .filter(notices::ends_at.is_null().or(notices::ends_at.gt(at)))
        .select(Notice::as_select())
        .first(conn)
        .optional()
}

/// Counts one read (the update time is left alone).
pub fn count_view(conn: &mut DbConn, id: i64) -> QueryResult<()> {
    diesel::update(notices::table.find(id))
        .set(notices::view_count.eq(notices::view_count + 1))
        .execute(conn)?;
    Ok(())
}

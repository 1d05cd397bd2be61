//! FAQ documents (SPEC §4.2): a category from the service's FAQ tree (`categories` rows with
//! tree `faq`, read here directly), pin-to-main (which implies pin-in-category) and
//! pin-in-category flags, title and body per help-center language, draft or published, the last
//! editor, a read count and the normalised `search_text` the full-text index covers.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::common::names::{Names, parse_names, pick_name};
use crate::db::schema::{categories, faq_contents, faqs, users};
use crate::db::search::{FtsTable, SearchQuery, fts_filter, normalize};
use crate::db::types::CategoryTree;
use crate::db::{DbConn, now};
use crate::help_center::content::{DocStatus, LangContent, search_source};
use crate::i18n::Lang;

/// An FAQ row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = faqs)]
pub struct Faq {
    /// Key.
    pub id: i64,
    /// Service.
    pub service_id: i64,
    /// FAQ category.
    pub category_id: Option<i64>,
    /// `draft` or `published`.
    pub status: String,
    /// Pinned to the help-center main page.
    pub pin_main: bool,
    /// Pinned on top of its category.
    pub pin_category: bool,
    /// Reads in the help center.
    pub view_count: i64,
    /// Who created it.
    pub author_id: Option<i64>,
    /// Who saved it last.
    pub editor_id: Option<i64>,
    /// Published at.
    pub published_at: Option<NaiveDateTime>,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Last saved.
    pub updated_at: NaiveDateTime,
}

impl Faq {
    /// The status.
    pub fn status(&self) -> DocStatus {
        DocStatus::parse(&self.status).unwrap_or(DocStatus::Draft)
    }
}

/// What an author submits.
#[derive(Debug, Clone)]
pub struct FaqInput {
    /// Category (must be a node of the service's FAQ tree).
    pub category_id: Option<i64>,
    /// Pin to main (implies `pin_category`).
    pub pin_main: bool,
    /// Pin in its category.
    pub pin_category: bool,
    /// Title and body per language.
    pub contents: Vec<LangContent>,
}

/// A node of the FAQ category tree.
#[derive(Debug, Clone)]
pub struct FaqCategory {
    /// Key.
    pub id: i64,
    /// Parent.
    pub parent_id: Option<i64>,
    /// 1–3.
    pub level: i32,
    /// Names per language.
    pub names: Names,
}

/// The service's FAQ tree, parents before children, in display order.
pub fn category_tree(conn: &mut DbConn, service_id: i64) -> QueryResult<Vec<FaqCategory>> {
    let rows: Vec<(i64, Option<i64>, i32, String)> = categories::table
        .filter(categories::service_id.eq(service_id))
        .filter(categories::tree.eq(CategoryTree::Faq.as_str()))
        .filter(categories::active.eq(true))
        .filter(categories::level.le(3))
        .order((
            categories::level.asc(),
            categories::position.asc(),
            categories::id.asc(),
        ))
        .select((
            categories::id,
            categories::parent_id,
            categories::level,
            categories::names,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, parent_id, level, names)| FaqCategory {
            id,
            parent_id,
            level,
            names: parse_names(&names),
        })
        .collect())
}

/// Helpers over a loaded tree.
pub struct Tree<'a>(pub &'a [FaqCategory]);

impl Tree<'_> {
    /// A node.
    pub fn get(&self, id: i64) -> Option<&FaqCategory> {
        self.0.iter().find(|c| c.id == id)
    }

    /// Children of a node (or the roots), in order.
    pub fn children(&self, parent: Option<i64>) -> Vec<&FaqCategory> {
        self.0.iter().filter(|c| c.parent_id == parent).collect()
    }

    /// The node and all its descendants.
    pub fn subtree(&self, id: i64) -> Vec<i64> {
        let mut out = vec![id];
        let mut i = 0;
        while i < out.len() {
            let parent = out[i];
            out.extend(
                self.0
                    .iter()
                    .filter(|c| c.parent_id == Some(parent))
                    .map(|c| c.id),
            );
            i += 1;
        }
        out
    }

    /// Ancestors from the root down to the node itself.
    pub fn path(&self, id: i64) -> Vec<&FaqCategory> {
        let mut out = Vec::new();
        let mut cur = self.get(id);
        while let Some(c) = cur {
            out.push(c);
            if out.len() > 5 {
                break;
            }
            cur = c.parent_id.and_then(|p| self.get(p));
        }
        out.reverse();
        out
    }

    /// "Parent › Child" in a language.
    pub fn path_name(&self, id: i64, lang: Lang, fallback: Lang) -> String {
        self.path(id)
            .iter()
            .map(|c| pick_name(&c.names, lang, fallback))
            .collect::<Vec<_>>()
            .join(" › ")
    }
}

fn write_contents(conn: &mut DbConn, id: i64, contents: &[LangContent]) -> QueryResult<()> {
    diesel::delete(faq_contents::table.filter(faq_contents::faq_id.eq(id))).execute(conn)?;
    for c in contents {
        if c.title.is_empty() && c.body.is_empty() {
            continue;
        }
        diesel::insert_into(faq_contents::table)
            .values((
                faq_contents::faq_id.eq(id),
                faq_contents::lang.eq(&c.lang),
                faq_contents::title.eq(&c.title),
                faq_contents::body_html.eq(&c.body),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Creates a document; returns its id.
pub fn create(
    conn: &mut DbConn,
    service_id: i64,
    user_id: i64,
    input: &FaqInput,
    status: DocStatus,
) -> QueryResult<i64> {
    let t = now();
    let published_at = (status == DocStatus::Published).then_some(t);
    let id: i64 = diesel::insert_into(faqs::table)
        .values((
            faqs::service_id.eq(service_id),
            faqs::category_id.eq(input.category_id),
            faqs::status.eq(status.as_str()),
            faqs::pin_main.eq(input.pin_main),
            faqs::pin_category.eq(input.pin_category || input.pin_main),
            faqs::view_count.eq(0i64),
            faqs::author_id.eq(Some(user_id)),
            faqs::editor_id.eq(Some(user_id)),
            faqs::search_text.eq(normalize(&search_source(&input.contents))),
            faqs::published_at.eq(published_at),
            faqs::created_at.eq(t),
            faqs::updated_at.eq(t),
        ))
        .returning(faqs::id)
        .get_result(conn)?;
    write_contents(conn, id, &input.contents)?;
    Ok(id)
}

/// Saves a document's fields and status.
pub fn update(
    conn: &mut DbConn,
    faq: &Faq,
    user_id: i64,
    input: &FaqInput,
    status: DocStatus,
) -> QueryResult<()> {
    let t = now();
    let published_at = match status {
        DocStatus::Published => faq.published_at.or(Some(t)),
        DocStatus::Draft => None,
    };
    diesel::update(faqs::table.find(faq.id))
        .set((
            faqs::category_id.eq(input.category_id),
            faqs::status.eq(status.as_str()),
            faqs::pin_main.eq(input.pin_main),
            faqs::pin_category.eq(input.pin_category || input.pin_main),
            faqs::editor_id.eq(Some(user_id)),
            faqs::search_text.eq(normalize(&search_source(&input.contents))),
            faqs::published_at.eq(published_at),
            faqs::updated_at.eq(t),
        ))
        .execute(conn)?;
    write_contents(conn, faq.id, &input.contents)
}

/// Publishes or withdraws a document.
pub fn set_status(
    conn: &mut DbConn,
    faq: &Faq,
    user_id: i64,
    status: DocStatus,
) -> QueryResult<()> {
    let t = now();
    let published_at = match status {
        DocStatus::Published => faq.published_at.or(Some(t)),
        DocStatus::Draft => None,
    };
    diesel::update(faqs::table.find(faq.id))
        .set((
            faqs::status.eq(status.as_str()),
            faqs::editor_id.eq(Some(user_id)),
            faqs::published_at.eq(published_at),
            faqs::updated_at.eq(t),
        ))
        .execute(conn)?;
    Ok(())
}

/// Deletes a document (contents and attachment rows cascade).
pub fn delete(conn: &mut DbConn, id: i64) -> QueryResult<()> {
    diesel::delete(faqs::table.find(id)).execute(conn)?;
    Ok(())
}

/// A document of a service.
pub fn find(conn: &mut DbConn, service_id: i64, id: i64) -> QueryResult<Option<Faq>> {
    faqs::table
        .find(id)
        .filter(faqs::service_id.eq(service_id))
        .select(Faq::as_select())
        .first(conn)
        .optional()
}

/// A document's `(lang, title, body)` rows.
pub fn contents(conn: &mut DbConn, id: i64) -> QueryResult<Vec<(String, String, String)>> {
    faq_contents::table
        .filter(faq_contents::faq_id.eq(id))
        .select((
            faq_contents::lang,
            faq_contents::title,
            faq_contents::body_html,
        ))
        .load(conn)
}

/// Title and body of many documents in `lang`, falling back to `fallback` and then to any
/// language (one query).
pub fn localized(
    conn: &mut DbConn,
    ids: &[i64],
    lang: Lang,
    fallback: Lang,
) -> QueryResult<HashMap<i64, (String, String)>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, String, String, String)> = faq_contents::table
        .filter(faq_contents::faq_id.eq_any(ids))
        .select((
            faq_contents::faq_id,
            faq_contents::lang,
            faq_contents::title,
            faq_contents::body_html,
        ))
        .load(conn)?;
    Ok(pick_localized(rows, lang, fallback))
}

/// Picks, per document, the row in `lang`, else `fallback`, else the first.
pub fn pick_localized(
    rows: Vec<(i64, String, String, String)>,
    lang: Lang,
    fallback: Lang,
) -> HashMap<i64, (String, String)> {
    let rank = |l: &str| {
        if l == lang.code() {
            0
        } else if l == fallback.code() {
            1
        } else {
            2
        }
    };
    let mut best: HashMap<i64, (u8, String, String)> = HashMap::new();
    for (id, l, title, body) in rows {
        let r = rank(&l);
        match best.get(&id) {
            Some((br, _, _)) if *br <= r => {}
            _ => {
                best.insert(id, (r, title, body));
            }
        }
    }
    best.into_iter()
        .map(|(id, (_, t, b))| (id, (t, b)))
        .collect()
}

/// A back-office list row.
#[derive(Debug, Clone)]
pub struct AdminRow {
    /// The document.
    pub faq: Faq,
    /// The last editor's name.
    pub editor_name: Option<String>,
}

/// Back-office list filters.
#[derive(Debug, Clone, Default)]
pub struct AdminFilter {
    /// Draft or published tab.
    pub status: Option<DocStatus>,
    /// Category (with its subtree).
    pub categories: Option<Vec<i64>>,
    /// Full-text query.
    pub query: Option<SearchQuery>,
    /// Keyset: ids below this.
    pub before: Option<i64>,
}

/// A page of documents, newest first, with the last editor's name; plus whether more follow.
pub fn admin_page(
    conn: &mut DbConn,
    service_id: i64,
    filter: &AdminFilter,
    limit: i64,
) -> QueryResult<(Vec<AdminRow>, bool)> {
    let mut q = faqs::table
        .left_join(users::table.on(users::id.nullable().eq(faqs::editor_id)))
        .filter(faqs::service_id.eq(service_id))
        .select((Faq::as_select(), users::name.nullable()))
        .into_boxed();
    if let Some(s) = filter.status {
        q = q.filter(faqs::status.eq(s.as_str()));
    }
    if let Some(cats) = &filter.categories {
        q = q.filter(faqs::category_id.eq_any(cats.clone()));
    }
    if let Some(b) = filter.before {
        q = q.filter(faqs::id.lt(b));
    }
    if let Some(query) = &filter.query {
        q = q.filter(fts_filter(conn, FtsTable::Faqs, query));
    }
    let mut rows: Vec<(Faq, Option<String>)> =
        q.order(faqs::id.desc()).limit(limit + 1).load(conn)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    Ok((
        rows.into_iter()
            .map(|(faq, editor_name)| AdminRow { faq, editor_name })
            .collect(),
        more,
    ))
}

/// The main page's FAQs: up to `n` pinned-to-main documents, newest update first, filled up with
/// unpinned ones (two bounded queries).
pub fn main_page(conn: &mut DbConn, service_id: i64, n: i64) -> QueryResult<Vec<Faq>> {
    let published = faqs::table
        .filter(faqs::service_id.eq(service_id))
        .filter(faqs::status.eq(DocStatus::Published.as_str()));
    let mut rows: Vec<Faq> = published
        .filter(faqs::pin_main.eq(true))
        .order((faqs::updated_at.desc(), faqs::id.desc()))
        .limit(n)
        .select(Faq::as_select())
        .load(conn)?;
    let missing = n - rows.len() as i64;
    if missing > 0 {
        rows.extend(
            published
                .filter(faqs::pin_main.eq(false))
                .order((faqs::updated_at.desc(), faqs::id.desc()))
                .limit(missing)
                .select(Faq::as_select())
                .load(conn)?,
        );
    }
    Ok(rows)
}

/// A page of published documents for the portal: pinned first (pinned in the category when one
/// is chosen, pinned to main otherwise), then newest update first; plus whether more follow.
pub fn portal_page(
    conn: &mut DbConn,
    service_id: i64,
    categories: Option<&[i64]>,
    query: Option<&SearchQuery>,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<Faq>, bool)> {
    let mut q = faqs::table
        .filter(faqs::service_id.eq(service_id))
        .filter(faqs::status.eq(DocStatus::Published.as_str()))
        .select(Faq::as_select())
        .into_boxed();
    if let Some(cats) = categories {
        q = q.filter(faqs::category_id.eq_any(cats.to_vec())).order((
            faqs::pin_category.desc(),
            faqs::updated_at.desc(),
            faqs::id.desc(),
        ));
    } else {
        q = q.order((
            faqs::pin_main.desc(),
            faqs::updated_at.desc(),
            faqs::id.desc(),
        ));
    }
    if let Some(query) = query {
        q = q.filter(fts_filter(conn, FtsTable::Faqs, query));
    }
    let mut rows = q.offset(offset).limit(limit + 1).load(conn)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    Ok((rows, more))
}

/// A published document of a service.
pub fn find_published(conn: &mut DbConn, service_id: i64, id: i64) -> QueryResult<Option<Faq>> {
    faqs::table
        .find(id)
        .filter(faqs::service_id.eq(service_id))
        .filter(faqs::status.eq(DocStatus::Published.as_str()))
        .select(Faq::as_select())
        .first(conn)
        .optional()
}

/// Counts one read (the update time is left alone).
pub fn count_view(conn: &mut DbConn, id: i64) -> QueryResult<()> {
    diesel::update(faqs::table.find(id))
        .set(faqs::view_count.eq(faqs::view_count + 1))
        .execute(conn)?;
    Ok(())
}

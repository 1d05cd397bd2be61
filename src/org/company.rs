//! Company info (SPEC §2.3): records of company information, trademark/copyright and terms of
//! use that feed the help-center footer (a service's help-center configuration picks one).
//! `/admin/company-info` lists, adds, edits and deletes them.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::company_infos;
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::i18n::Lang;
use crate::org::form::{check_max, check_required, query_string};
use crate::web::{self as w, Flash, FormErrors, OrgAdmin, PageCtx};

/// Longest title.
pub const MAX_TITLE: usize = 100;
/// Longest company information text.
pub const MAX_COMPANY_INFO: usize = 5000;
/// Longest trademark/copyright text.
pub const MAX_COPYRIGHT: usize = 1000;
/// Longest terms of use.
pub const MAX_TERMS: usize = 20000;
/// Records per page.
const PAGE_SIZE: i64 = 50;

/// A company-info record.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = company_infos)]
pub struct CompanyInfo {
    /// Key.
    pub id: i64,
    /// Title (what administrators pick it by).
    pub title: String,
    /// Company information (address, registration numbers, contact).
    pub company_info: String,
    /// Trademark / copyright line.
    pub copyright: String,
    /// Terms of use.
    pub terms: String,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Updated.
    pub updated_at: NaiveDateTime,
}

/// The editable fields.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct CompanyForm {
    /// Title.
    #[serde(default)]
    pub title: String,
    /// Company information.
    #[serde(default)]
    pub company_info: String,
    /// Trademark / copyright.
    #[serde(default)]
    pub copyright: String,
    /// Terms of use.
    #[serde(default)]
    pub terms: String,
}

impl CompanyForm {
    /// Checks lengths (title required).
    pub fn validate(&self, lang: Lang) -> FormErrors {
        let mut errors = FormErrors::new(lang);
        // Lengths are counted as stored (LF line endings), the way the browser counts them.
        check_required(&mut errors, "title", &clean(&self.title), MAX_TITLE);
        check_max(
            &mut errors,
            "company_info",
            &clean(&self.company_info),
            MAX_COMPANY_INFO,
        );
        check_max(
            &mut errors,
            "copyright",
            &clean(&self.copyright),
            MAX_COPYRIGHT,
        );
        check_max(&mut errors, "terms", &clean(&self.terms), MAX_TERMS);
        errors
    }
}

/// Line endings from browsers are CRLF; store LF.
fn clean(s: &str) -> String {
    s.replace("\r\n", "\n").trim().to_string()
}

impl CompanyInfo {
    /// By id.
    pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<CompanyInfo>> {
        company_infos::table
            .find(id)
            .select(CompanyInfo::as_select())
            .first(conn)
            .optional()
    }

    /// A page of records, newest first (keyset by id); plus whether more follow.
    pub fn page(
        conn: &mut DbConn,
        before: Option<i64>,
        limit: i64,
    ) -> QueryResult<(Vec<CompanyInfo>, bool)> {
        let mut q = company_infos::table
            .select(CompanyInfo::as_select())
            .into_boxed();
        if let Some(b) = before {
            q = q.filter(company_infos::id.lt(b));
        }
        let mut rows = q
            .order(company_infos::id.desc())
            .limit(limit + 1)
            .load(conn)?;
        let more = rows.len() as i64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(0));
        Ok((rows, more))
    }

    /// Titles of all records, for pickers (bounded).
    pub fn titles(conn: &mut DbConn) -> QueryResult<Vec<(i64, String)>> {
        company_infos::table
            .order(company_infos::title.asc())
            .limit(500)
            .select((company_infos::id, company_infos::title))
            .load(conn)
    }

    /// Inserts a validated record; returns its id.
    pub fn create(conn: &mut DbConn, f: &CompanyForm) -> QueryResult<i64> {
        let t = now();
        diesel::insert_into(company_infos::table)
            .values((
                company_infos::title.eq(clean(&f.title)),
                company_infos::company_info.eq(clean(&f.company_info)),
                company_infos::copyright.eq(clean(&f.copyright)),
                company_infos::terms.eq(clean(&f.terms)),
                company_infos::created_at.eq(t),
                company_infos::updated_at.eq(t),
            ))
            .returning(company_infos::id)
            .get_result(conn)
    }

    /// Updates a validated record; returns whether it existed.
    pub fn update(conn: &mut DbConn, id: i64, f: &CompanyForm) -> QueryResult<bool> {
        let n = diesel::update(company_infos::table.find(id))
            .set((
                company_infos::title.eq(clean(&f.title)),
                company_infos::company_info.eq(clean(&f.company_info)),
                company_infos::copyright.eq(clean(&f.copyright)),
                company_infos::terms.eq(clean(&f.terms)),
                company_infos::updated_at.eq(now()),
            ))
            .execute(conn)?;
        Ok(n > 0)
    }

    /// Deletes a record; returns whether it existed.
    pub fn delete(conn: &mut DbConn, id: i64) -> QueryResult<bool> {
        Ok(diesel::delete(company_infos::table.find(id)).execute(conn)? > 0)
    }
}

/// A list row.
pub struct CompanyRow {
    /// Key.
    pub id: i64,
    /// Title.
    pub title: String,
    /// The first characters of the company information.
    pub excerpt: String,
    /// Last change (UTC).
    pub updated: String,
}

/// The list page.
#[derive(Template)]
#[template(path = "admin/company_list.html")]
pub struct CompanyListPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// Rows.
    pub rows: Vec<CompanyRow>,
    /// Next page.
    pub next_href: Option<String>,
}

/// The add/edit page.
#[derive(Template)]
#[template(path = "admin/company_form.html")]
pub struct CompanyFormPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// The record being edited (`None` when adding).
    pub id: Option<i64>,
    /// Values.
    pub form: CompanyForm,
    /// Field errors.
    pub errors: FormErrors,
    /// Limits for the hints.
    pub max_company_info: usize,
    /// Limit of the copyright text.
    pub max_copyright: usize,
    /// Limit of the terms.
    pub max_terms: usize,
}

/// Query of the list.
#[derive(serde::Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    before: String,
}

fn excerpt(s: &str) -> String {
    let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 80 {
        format!("{}…", one_line.chars().take(80).collect::<String>())
    } else {
        one_line
    }
}

/// `GET /admin/company-info`
pub async fn list_company_infos(
    admin: OrgAdmin,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let before = query.before.parse::<i64>().ok();
    let (rows, more) = admin
        .0
        .viewer
        .state
        .db
        .read(move |c| Ok(CompanyInfo::page(c, before, PAGE_SIZE)?))
        .await?;
    let next_href = match rows.last() {
        Some(last) if more => Some(format!(
            "/admin/company-info{}",
            query_string(&[("before", &last.id.to_string())])
        )),
        _ => None,
    };
    let page = CompanyListPage {
        ctx: PageCtx::admin(&admin.0, "company.title"),
        rows: rows
            .into_iter()
            .map(|r| CompanyRow {
                id: r.id,
                excerpt: excerpt(&r.company_info),
                title: r.title,
                updated: r.updated_at.format("%Y-%m-%d %H:%M").to_string(),
            })
            .collect(),
        next_href,
    };
    w::html(StatusCode::OK, &page)
}

fn form_page(
    admin: &OrgAdmin,
    id: Option<i64>,
    form: CompanyForm,
    errors: FormErrors,
) -> CompanyFormPage {
    let title = if id.is_some() {
        "company.edit_title"
    } else {
        "company.new_title"
    };
    CompanyFormPage {
        ctx: PageCtx::admin(&admin.0, title),
        id,
        form,
        errors,
        max_company_info: MAX_COMPANY_INFO,
        max_copyright: MAX_COPYRIGHT,
        max_terms: MAX_TERMS,
    }
}

/// `GET /admin/company-info/new`
pub async fn new_company_info(admin: OrgAdmin) -> Result<HttpResponse, AppError> {
    let lang = admin.0.viewer.lang;
    let page = form_page(&admin, None, CompanyForm::default(), FormErrors::new(lang));
    w::html(StatusCode::OK, &page)
}

/// `POST /admin/company-info`
pub async fn create_company_info(
    req: HttpRequest,
    admin: OrgAdmin,
    form: web::Form<CompanyForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let v = &admin.0.viewer;
    let errors = form.validate(v.lang);
    if !errors.is_empty() {
        let page = form_page(&admin, None, form, errors);
        return w::html(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    v.state
        .db
        .write(move |c| Ok(CompanyInfo::create(c, &form)?))
        .await?;
    v.flash(Flash::success(v.t("company.created")));
    Ok(w::redirect(&req, "/admin/company-info"))
}

/// `GET /admin/company-info/{id}`
pub async fn edit_company_info(
    admin: OrgAdmin,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let info = admin
        .0
        .viewer
        .state
        .db
        .read(move |c| Ok(CompanyInfo::find(c, id)?))
        .await?
        .ok_or(AppError::NotFound)?;
    let form = CompanyForm {
        title: info.title,
        company_info: info.company_info,
        copyright: info.copyright,
        terms: info.terms,
    };
    let page = form_page(&admin, Some(id), form, FormErrors::new(admin.0.viewer.lang));
    w::html(StatusCode::OK, &page)
}

/// `POST /admin/company-info/{id}`
pub async fn update_company_info(
    req: HttpRequest,
    admin: OrgAdmin,
    path: web::Path<i64>,
    form: web::Form<CompanyForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let form = form.into_inner();
    let v = &admin.0.viewer;
    let errors = form.validate(v.lang);
    if !errors.is_empty() {
        let page = form_page(&admin, Some(id), form, errors);
        return w::html(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let found = v
        .state
        .db
        .write(move |c| Ok(CompanyInfo::update(c, id, &form)?))
        .await?;
    if !found {
        return Err(AppError::NotFound);
    }
    v.flash(Flash::success(v.t("company.saved")));
    Ok(w::redirect(&req, "/admin/company-info"))
}

/// `POST /admin/company-info/{id}/delete`
pub async fn delete_company_info(
    req: HttpRequest,
    admin: OrgAdmin,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let v = &admin.0.viewer;
    let found = v
        .state
        .db
        .write(move |c| Ok(CompanyInfo::delete(c, id)?))
        .await?;
    if !found {
        return Err(AppError::NotFound);
    }
    v.flash(Flash::success(v.t("company.deleted")));
    Ok(w::redirect(&req, "/admin/company-info"))
}

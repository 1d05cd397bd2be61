//! Customer Information → Customer grades (`/{service_id}/console/settings/customer-grades`,
//! service administrators of a consultation service with the customer-info feature; SPEC
//! §6.2): the grades in their order (drag and drop, or up/down without JavaScript) with add,
//! edit and delete, and the classification rules — searchable by value, paginated newest first
//! by key (`?before=`) — with add, edit and delete.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::grades::{
    self, CheckedRule, Grade, GradeInput, KeyType, PALETTE, RULES_PER_PAGE, Rule, RuleInput,
};
use crate::agents::form::{Pairs, move_one};
use crate::common::time::local_display;
use crate::db::refuse;
use crate::db::types::ServiceKind;
use crate::error::AppError;
use crate::i18n::{self, Lang};
use crate::tenancy::service::service_tz;
use crate::web::{self as w, Flash, FormErrors, PageCtx, ServiceAdmin};

/// An option of a select: value, label.
pub type Choice = (String, String);

/// One grade in the list.
#[derive(Debug, Clone)]
pub struct GradeRow {
    /// The grade.
    pub grade: Grade,
    /// Tag classes.
    pub class: String,
    /// Colour name in the viewer's language.
    pub color_label: String,
}

/// One rule in the list.
#[derive(Debug, Clone)]
pub struct RuleRow {
    /// Key.
    pub id: i64,
    /// Key type name.
    pub key_label: String,
    /// Value as typed.
    pub value: String,
    /// Grade name.
    pub grade: String,
    /// Grade tag classes.
    pub grade_class: String,
    /// Note.
    pub note: String,
    /// Last changed, in the service's time zone.
    pub updated: String,
}

/// The settings page.
#[derive(Template)]
#[template(path = "customers/grades.html")]
pub struct GradesPage {
    /// Layout.
    pub ctx: PageCtx,
    /// `/{service}/console/settings/customer-grades`
    pub base: String,
    /// Grades in order.
    pub grades: Vec<GradeRow>,
    /// Palette: value, label.
    pub palette: Vec<Choice>,
    /// The add-grade form.
    pub grade_form: GradeInput,
    /// Its errors.
    pub grade_errors: FormErrors,
    /// Rules of this page.
    pub rules: Vec<RuleRow>,
    /// Search text.
    pub q: String,
    /// Link to the next page.
    pub next: Option<String>,
    /// Link back to the first page (when not on it).
    pub first: Option<String>,
    /// The add-rule form.
    pub rule_form: RuleInput,
    /// Its errors.
    pub rule_errors: FormErrors,
    /// Key types: value, label.
    pub key_types: Vec<Choice>,
    /// Grades for the rule form: value, label.
    pub grade_choices: Vec<Choice>,
}

/// The grade edit page.
#[derive(Template)]
#[template(path = "customers/grade_edit.html")]
pub struct GradeEditPage {
    /// Layout.
    pub ctx: PageCtx,
    /// `/{service}/console/settings/customer-grades`
    pub base: String,
    /// The grade.
    pub id: i64,
    /// Form values.
    pub form: GradeInput,
    /// Errors.
    pub errors: FormErrors,
    /// Palette: value, label.
    pub palette: Vec<Choice>,
    /// What deleting takes with it (the rules giving this grade).
    pub delete_hint: String,
}

/// The rule edit page.
#[derive(Template)]
#[template(path = "customers/rule_edit.html")]
pub struct RuleEditPage {
    /// Layout.
    pub ctx: PageCtx,
    /// `/{service}/console/settings/customer-grades`
    pub base: String,
    /// The rule.
    pub id: i64,
    /// Form values.
    pub form: RuleInput,
    /// Errors.
    pub errors: FormErrors,
    /// Key types: value, label.
    pub key_types: Vec<Choice>,
    /// Grades: value, label.
    pub grade_choices: Vec<Choice>,
}

/// `?q=&before=` of the list.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ListQuery {
    /// Search text.
    pub q: Option<String>,
    /// Show rules older than this key.
    pub before: Option<i64>,
}

fn base(code: &str) -> String {
    format!("/{code}/console/settings/customer-grades")
}

/// Grades belong to consultation services with the customer-info feature.
fn require_feature(a: &ServiceAdmin) -> Result<(), AppError> {
    if a.service.kind() == ServiceKind::Consultation && a.service.features().customer_info {
        Ok(())
    } else {
        Err(AppError::Forbidden("grade.feature_off"))
    }
}

fn palette(lang: Lang) -> Vec<Choice> {
    PALETTE
        .iter()
        .map(|c| ((*c).to_string(), i18n::t(lang, &format!("grade.color.{c}"))))
        .collect()
}

fn key_types(lang: Lang) -> Vec<Choice> {
    KeyType::ALL
        .iter()
        .map(|k| (k.as_str().to_string(), i18n::t(lang, k.label_key())))
        .collect()
}

fn grade_choices(grades: &[Grade]) -> Vec<Choice> {
    grades
        .iter()
        .map(|g| (g.id.to_string(), g.name.clone()))
        .collect()
}

fn grade_input(form: &Pairs) -> GradeInput {
    GradeInput {
        name: form
            .get("name")
            .chars()
            .take(grades::MAX_NAME_CHARS * 4)
            .collect(),
        color: form.get("color").chars().take(20).collect(),
    }
}

fn rule_input(form: &Pairs) -> RuleInput {
    RuleInput {
        key_type: form.get("key_type").chars().take(20).collect(),
        value: form
            .get("value")
            .chars()
            .take(grades::MAX_VALUE_CHARS * 2)
            .collect(),
        grade_id: form.get("grade_id").chars().take(20).collect(),
        note: form
            .get("note")
            .chars()
            .take(grades::MAX_NOTE_CHARS * 4)
            .collect(),
    }
}

/// What a re-rendered list page keeps from a failed form.
#[derive(Default)]
struct Forms {
    grade: Option<(GradeInput, FormErrors)>,
    rule: Option<(RuleInput, FormErrors)>,
}

async fn list_page(
    a: &ServiceAdmin,
    query: ListQuery,
    forms: Forms,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let sid = a.service.id;
    let lang = a.viewer().lang;
    let tz = service_tz(&a.service);
    let q: String = query
        .q
        .unwrap_or_default()
        .trim()
        .chars()
        .take(100)
        .collect();
    let q2 = q.clone();
    let before = query.before;
    let (all, (rules, next)) = a
        .viewer()
        .state
        .db
        .read(move |c| {
            Ok((
                Grade::all(c, sid)?,
                grades::rules_page(c, sid, &q2, before, RULES_PER_PAGE)?,
            ))
        })
        .await?;
    let b = base(&a.service.code);
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let next = next.map(|n| {
        if q.is_empty() {
            format!("{b}?before={n}")
        } else {
            format!("{b}?q={}&before={n}", enc(&q))
        }
    });
    let first = before.map(|_| {
        if q.is_empty() {
            b.clone()
        } else {
            format!("{b}?q={}", enc(&q))
        }
    });
    let color_label = |c: &str| i18n::t(lang, &format!("grade.color.{c}"));
    let rows = all
        .iter()
        .map(|g| GradeRow {
            class: g.tag_class(),
            color_label: color_label(&g.color),
            grade: g.clone(),
        })
        .collect();
    let rule_rows = rules
        .into_iter()
        .map(|(r, g)| rule_row(lang, tz, r, &g))
        .collect();
    let (grade_form, grade_errors) = forms.grade.unwrap_or_else(|| {
        (
            GradeInput {
                name: String::new(),
                color: PALETTE[0].to_string(),
            },
            FormErrors::new(lang),
        )
    });
    let (rule_form, rule_errors) = forms.rule.unwrap_or_else(|| {
        (
            RuleInput {
                key_type: KeyType::Email.as_str().into(),
                ..RuleInput::default()
            },
            FormErrors::new(lang),
        )
    });
    let page = GradesPage {
        ctx: PageCtx::console(a, "grade.title"),
        base: b,
        palette: palette(lang),
        grade_choices: grade_choices(&all),
        grades: rows,
        grade_form,
        grade_errors,
        rules: rule_rows,
        q,
        next,
        first,
        rule_form,
        rule_errors,
        key_types: key_types(lang),
    };
    w::html(status, &page)
}

fn rule_row(lang: Lang, tz: chrono_tz::Tz, r: Rule, g: &Grade) -> RuleRow {
    RuleRow {
        id: r.id,
        key_label: r
            .key()
            .map(|k| i18n::t(lang, k.label_key()))
            .unwrap_or_else(|| r.key_type.clone()),
        value: r.value,
        grade: g.name.clone(),
        grade_class: g.tag_class(),
        note: r.note,
        updated: local_display(tz, r.updated_at),
    }
}

/// `GET /{service_id}/console/settings/customer-grades`
pub async fn page(a: ServiceAdmin, query: web::Query<ListQuery>) -> Result<HttpResponse, AppError> {
    require_feature(&a)?;
    list_page(&a, query.into_inner(), Forms::default(), StatusCode::OK).await
}

/// `POST /{service_id}/console/settings/customer-grades/grades` — adds a grade.
pub async fn create_grade(
    req: HttpRequest,
    a: ServiceAdmin,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    require_feature(&a)?;
    let lang = a.viewer().lang;
    let input = grade_input(&form);
    let sid = a.service.id;
    let i2 = input.clone();
    let result = a
        .viewer()
        .state
        .db
        .write_or_refuse(move |c| {
            let mut errors = FormErrors::new(lang);
            grades::check_grade(c, sid, None, &i2, &mut errors)?;
            if !errors.is_empty() {
                return refuse(errors);
            }
            Ok(grades::create_grade(c, sid, &i2)?)
        })
        .await?;
    match result {
        Ok(_) => {
            a.viewer().flash(Flash::success(i18n::tf(
                lang,
                "grade.added",
                &[("name", input.name.trim())],
            )));
            Ok(w::redirect(&req, &base(&a.service.code)))
        }
        Err(errors) => {
            list_page(
                &a,
                ListQuery::default(),
                Forms {
                    grade: Some((input, errors)),
                    rule: None,
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

async fn grade_edit_page(
    a: &ServiceAdmin,
    id: i64,
    form: Option<(GradeInput, FormErrors)>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let sid = a.service.id;
    let lang = a.viewer().lang;
    let (grade, rule_count) = a
        .viewer()
        .state
        .db
        .read(move |c| {
            use crate::db::schema::customer_grade_rules as r;
            use diesel::prelude::*;
            let g = Grade::find(c, sid, id)?.ok_or(AppError::NotFound)?;
            let n: i64 = r::table
                .filter(r::grade_id.eq(id))
                .select(r::id)
                .limit(1001)
                .load::<i64>(c)?
                .len()
                .try_into()
                .unwrap_or(i64::MAX);
            Ok((g, n))
        })
        .await?;
    let (form, errors) = form.unwrap_or_else(|| {
        (
            GradeInput {
                name: grade.name.clone(),
                color: grade.color.clone(),
            },
            FormErrors::new(lang),
        )
    });
    let mut ctx = PageCtx::console(a, "grade.edit_grade");
    ctx.title = format!("{} · {}", i18n::t(lang, "grade.edit_grade"), grade.name);
    let page = GradeEditPage {
        ctx,
        base: base(&a.service.code),
        id,
        form,
        errors,
        palette: palette(lang),
        delete_hint: i18n::tf(
            lang,
            "grade.delete_hint",
            &[(
                "count",
                &if rule_count > 1000 {
                    "1000+".to_string()
                } else {
                    rule_count.to_string()
                },
            )],
        ),
    };
    w::html(status, &page)
}

/// `GET /{service_id}/console/settings/customer-grades/grades/{id}`
pub async fn edit_grade(
    a: ServiceAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    require_feature(&a)?;
    grade_edit_page(&a, path.1, None, StatusCode::OK).await
}

/// `POST /{service_id}/console/settings/customer-grades/grades/{id}` — saves a grade.
pub async fn update_grade(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, i64)>,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    require_feature(&a)?;
    let id = path.1;
    let lang = a.viewer().lang;
    let input = grade_input(&form);
    let sid = a.service.id;
    let i2 = input.clone();
    let result = a
        .viewer()
        .state
        .db
        .write_or_refuse(move |c| {
            if Grade::find(c, sid, id)?.is_none() {
                return Err(AppError::NotFound.into());
            }
            let mut errors = FormErrors::new(lang);
            grades::check_grade(c, sid, Some(id), &i2, &mut errors)?;
            if !errors.is_empty() {
                return refuse(errors);
            }
            grades::update_grade(c, sid, id, &i2)?;
            Ok(())
        })
        .await?;
    match result {
        Ok(()) => {
            a.viewer().flash(Flash::success(i18n::tf(
                lang,
                "grade.saved",
                &[("name", input.name.trim())],
            )));
            Ok(w::redirect(&req, &base(&a.service.code)))
        }
        Err(errors) => {
            grade_edit_page(
                &a,
                id,
                Some((input, errors)),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// `POST /{service_id}/console/settings/customer-grades/grades/{id}/delete` — deletes a grade
/// and its rules.
pub async fn delete_grade(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    require_feature(&a)?;
    let id = path.1;
    let sid = a.service.id;
    let lang = a.viewer().lang;
    let (name, rules) = a
        .viewer()
        .state
        .db
        .write(move |c| grades::delete_grade(c, sid, id)?.ok_or(AppError::NotFound))
        .await?;
    a.viewer().flash(Flash::success(i18n::tf(
        lang,
        "grade.deleted",
        &[("name", &name), ("rules", &rules.to_string())],
    )));
    Ok(w::redirect(&req, &base(&a.service.code)))
}

/// `POST /{service_id}/console/settings/customer-grades/order` — the grades' new order (drag
/// and drop posts every `grade_id` in order; the arrows post `up`/`down`).
pub async fn order(
    req: HttpRequest,
    a: ServiceAdmin,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    require_feature(&a)?;
    let form = form.into_inner();
    let mut ids = form.ids("grade_id");
    if let Some(id) = form.id("up") {
        move_one(&mut ids, id, true);
    } else if let Some(id) = form.id("down") {
        move_one(&mut ids, id, false);
    }
    let sid = a.service.id;
    a.viewer()
        .state
        .db
        .write(move |c| Ok(grades::reorder_grades(c, sid, &ids)?))
        .await?;
    Ok(w::redirect(&req, &base(&a.service.code)))
}

/// `POST /{service_id}/console/settings/customer-grades/rules` — classifies a customer.
pub async fn create_rule(
    req: HttpRequest,
    a: ServiceAdmin,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    require_feature(&a)?;
    let lang = a.viewer().lang;
    let input = rule_input(&form);
    let sid = a.service.id;
    let i2 = input.clone();
    let result = a
        .viewer()
        .state
        .db
        .write(move |c| {
            let mut errors = FormErrors::new(lang);
            let checked = grades::check_rule(c, sid, None, &i2, &mut errors)?;
            Ok(match checked {
                Some(r) => {
                    grades::create_rule(c, sid, &r)?;
                    Ok(r)
                }
                None => Err(errors),
            })
        })
        .await?;
    match result {
        Ok(r) => {
            flash_rule(&a, lang, "grade.rule_added", &r);
            Ok(w::redirect(&req, &base(&a.service.code)))
        }
        Err(errors) => {
            list_page(
                &a,
                ListQuery::default(),
                Forms {
                    grade: None,
                    rule: Some((input, errors)),
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

fn flash_rule(a: &ServiceAdmin, lang: Lang, key: &str, r: &CheckedRule) {
    a.viewer()
        .flash(Flash::success(i18n::tf(lang, key, &[("value", &r.value)])));
}

async fn rule_edit_page(
    a: &ServiceAdmin,
    id: i64,
    form: Option<(RuleInput, FormErrors)>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let sid = a.service.id;
    let lang = a.viewer().lang;
    let (rule, all) = a
        .viewer()
        .state
        .db
        .read(move |c| {
            let r = Rule::find(c, sid, id)?.ok_or(AppError::NotFound)?;
            Ok((r, Grade::all(c, sid)?))
        })
        .await?;
    let (form, errors) = form.unwrap_or_else(|| {
        (
            RuleInput {
                key_type: rule.key_type.clone(),
                value: rule.value.clone(),
                grade_id: rule.grade_id.to_string(),
                note: rule.note.clone(),
            },
            FormErrors::new(lang),
        )
    });
    let page = RuleEditPage {
        ctx: PageCtx::console(a, "grade.edit_rule"),
        base: base(&a.service.code),
        id,
        form,
        errors,
        key_types: key_types(lang),
        grade_choices: grade_choices(&all),
    };
    w::html(status, &page)
}

/// `GET /{service_id}/console/settings/customer-grades/rules/{id}`
pub async fn edit_rule(
    a: ServiceAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    require_feature(&a)?;
    rule_edit_page(&a, path.1, None, StatusCode::OK).await
}

/// `POST /{service_id}/console/settings/customer-grades/rules/{id}` — saves a rule.
pub async fn update_rule(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, i64)>,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    require_feature(&a)?;
    let id = path.1;
    let lang = a.viewer().lang;
    let input = rule_input(&form);
    let sid = a.service.id;
    let i2 = input.clone();
    let result = a
        .viewer()
        .state
        .db
        .write(move |c| {
            if Rule::find(c, sid, id)?.is_none() {
                return Err(AppError::NotFound);
            }
            let mut errors = FormErrors::new(lang);
            let checked = grades::check_rule(c, sid, Some(id), &i2, &mut errors)?;
            Ok(match checked {
                Some(r) => {
                    grades::update_rule(c, sid, id, &r)?;
                    Ok(r)
                }
                None => Err(errors),
            })
        })
        .await?;
    match result {
        Ok(r) => {
            flash_rule(&a, lang, "grade.rule_saved", &r);
            Ok(w::redirect(&req, &base(&a.service.code)))
        }
        Err(errors) => {
            rule_edit_page(
                &a,
                id,
                Some((input, errors)),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// `POST /{service_id}/console/settings/customer-grades/rules/{id}/delete`
pub async fn delete_rule(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    require_feature(&a)?;
    let id = path.1;
    let sid = a.service.id;
    let lang = a.viewer().lang;
    let value = a
        .viewer()
        .state
        .db
        .write(move |c| grades::delete_rule(c, sid, id)?.ok_or(AppError::NotFound))
        .await?;
    a.viewer().flash(Flash::success(i18n::tf(
        lang,
        "grade.rule_deleted",
        &[("value", &value)],
    )));
    Ok(w::redirect(&req, &base(&a.service.code)))
}

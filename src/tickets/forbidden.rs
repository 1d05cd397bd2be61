//! Forbidden words (SPEC §3.8): a per-service list of words that may not appear in a reply.
//! Process and Preview refuse a reply containing any of them (case-insensitively, in the text
//! of the reply) and name the words found. The list page is
//! `/{service_id}/console/settings/forbidden-words` (service administrators): add and delete,
//! at most [`MAX_WORDS`] words of at most [`MAX_WORD_CHARS`] characters.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::agents::form::Pairs;
use crate::common::text::html_to_text;
use crate::db::schema::forbidden_words;
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::i18n;
use crate::web::{self as w, Flash, FormErrors, PageCtx, ServiceAdmin};

/// Most words per service.
pub const MAX_WORDS: usize = 500;
/// Longest word or phrase.
pub const MAX_WORD_CHARS: usize = 50;

/// A forbidden word.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = forbidden_words)]
pub struct ForbiddenWord {
    /// Key.
    pub id: i64,
    /// Service.
    pub service_id: i64,
    /// The word as entered.
    pub word: String,
    /// Lower-cased, for matching and uniqueness.
    pub word_lower: String,
    /// Added.
    pub created_at: NaiveDateTime,
}

/// The service's words, alphabetically (bounded by [`MAX_WORDS`]).
pub fn list(conn: &mut DbConn, service_id: i64) -> QueryResult<Vec<ForbiddenWord>> {
    forbidden_words::table
        .filter(forbidden_words::service_id.eq(service_id))
        .order((forbidden_words::word_lower.asc(), forbidden_words::id.asc()))
        .limit(i64::try_from(MAX_WORDS).unwrap_or(i64::MAX))
        .select(ForbiddenWord::as_select())
        .load(conn)
}

/// The forbidden words found in a reply (HTML or text), case-insensitively, in list order.
pub fn find_in(conn: &mut DbConn, service_id: i64, reply: &str) -> QueryResult<Vec<String>> {
    let words = list(conn, service_id)?;
    Ok(matches(&words, reply))
}

/// The words of `words` that occur in `reply`.
pub fn matches(words: &[ForbiddenWord], reply: &str) -> Vec<String> {
    if words.is_empty() {
        return Vec::new();
    }
    let text = if reply.contains('<') {
        html_to_text(reply)
    } else {
        reply.to_string()
    }
    .to_lowercase();
    words
        .iter()
        .filter(|w| !w.word_lower.is_empty() && text.contains(&w.word_lower))
        .map(|w| w.word.clone())
        .collect()
}

/// Adds a word after checking it (1–50 characters, not yet listed, list not full). Returns the
/// key of the new word, or the field errors.
pub fn add(
    conn: &mut DbConn,
    service_id: i64,
    word: &str,
    errors: &mut FormErrors,
) -> QueryResult<Option<i64>> {
    let word = word.trim();
    let lower = word.to_lowercase();
    if word.is_empty() {
        errors.add("word", "validation.required");
    } else if word.chars().count() > MAX_WORD_CHARS {
        errors.add_with(
            "word",
            "validation.too_long",
            &[("max", &MAX_WORD_CHARS.to_string())],
        );
    }
    if !errors.is_empty() {
        return Ok(None);
    }
    let existing: i64 = forbidden_words::table
        .filter(forbidden_words::service_id.eq(service_id))
        .filter(forbidden_words::word_lower.eq(&lower))
        .count()
        .get_result(conn)?;
    if existing > 0 {
        errors.add("word", "forbidden.error.duplicate");
        return Ok(None);
    }
    let count: i64 = forbidden_words::table
        .filter(forbidden_words::service_id.eq(service_id))
        .count()
        .get_result(conn)?;
    if count >= i64::try_from(MAX_WORDS).unwrap_or(i64::MAX) {
        errors.add_with(
            "word",
            "forbidden.error.full",
            &[("max", &MAX_WORDS.to_string())],
        );
        return Ok(None);
    }
    let id = diesel::insert_into(forbidden_words::table)
        .values((
            forbidden_words::service_id.eq(service_id),
            forbidden_words::word.eq(word),
            forbidden_words::word_lower.eq(&lower),
            forbidden_words::created_at.eq(now()),
        ))
        .returning(forbidden_words::id)
        .get_result(conn)?;
    Ok(Some(id))
}

/// Deletes a word of the service; returns the word when it existed.
pub fn delete(conn: &mut DbConn, service_id: i64, id: i64) -> QueryResult<Option<String>> {
    let word: Option<String> = forbidden_words::table
        .filter(forbidden_words::service_id.eq(service_id))
        .filter(forbidden_words::id.eq(id))
        .select(forbidden_words::word)
        .first(conn)
        .optional()?;
    if word.is_some() {
        diesel::delete(forbidden_words::table.find(id)).execute(conn)?;
    }
    Ok(word)
}

/// The forbidden-words page.
#[derive(Template)]
#[template(path = "settings/forbidden_words.html")]
pub struct WordsPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/settings/forbidden-words`
    pub base: String,
    /// The words.
    pub words: Vec<ForbiddenWord>,
    /// Word typed into the add form.
    pub word: String,
    /// Errors.
    pub errors: FormErrors,
    /// Maximum count (for the hint).
    pub max_words: usize,
}

fn base(code: &str) -> String {
    format!("/{code}/console/settings/forbidden-words")
}

async fn render(
    a: &ServiceAdmin,
    word: String,
    errors: FormErrors,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let sid = a.service.id;
    let words = a.viewer().state.db.read(move |c| Ok(list(c, sid)?)).await?;
    let page = WordsPage {
        ctx: PageCtx::console(a, "forbidden.title"),
        base: base(&a.service.code),
        words,
        word,
        errors,
        max_words: MAX_WORDS,
    };
    w::html(status, &page)
}

/// `GET /{service_id}/console/settings/forbidden-words`
pub async fn list_words(a: ServiceAdmin) -> Result<HttpResponse, AppError> {
    let lang = a.viewer().lang;
    render(&a, String::new(), FormErrors::new(lang), StatusCode::OK).await
}

/// `POST /{service_id}/console/settings/forbidden-words`
pub async fn add_word(
    req: HttpRequest,
    a: ServiceAdmin,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    let lang = a.viewer().lang;
    let word: String = form.get("word").chars().take(MAX_WORD_CHARS * 4).collect();
    let sid = a.service.id;
    let w2 = word.clone();
    let result = a
        .viewer()
        .state
        .db
        .write(move |c| {
            let mut errors = FormErrors::new(lang);
            let id = add(c, sid, &w2, &mut errors)?;
            Ok(if errors.is_empty() {
                Ok(id)
            } else {
                Err(errors)
            })
        })
        .await?;
    match result {
        Ok(_) => {
            a.viewer().flash(Flash::success(i18n::tf(
                lang,
                "forbidden.added",
                &[("word", word.trim())],
            )));
            Ok(w::redirect(&req, &base(&a.service.code)))
        }
        Err(errors) => render(&a, word, errors, StatusCode::UNPROCESSABLE_ENTITY).await,
    }
}

/// `POST /{service_id}/console/settings/forbidden-words/{id}/delete`
pub async fn delete_word(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    let sid = a.service.id;
    let id = path.1;
    let word = a
        .viewer()
        .state
        .db
        .write(move |c| Ok(delete(c, sid, id)?))
        .await?
        .ok_or(AppError::NotFound)?;
    let lang = a.viewer().lang;
    a.viewer().flash(Flash::success(i18n::tf(
        lang,
        "forbidden.deleted",
        &[("word", &word)],
    )));
    Ok(w::redirect(&req, &base(&a.service.code)))
}

/// Registers the forbidden-words pages.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings/forbidden-words", web::get().to(list_words))
        .route("/settings/forbidden-words", web::post().to(add_word))
        .route(
            "/settings/forbidden-words/{id}/delete",
            web::post().to(delete_word),
        );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(w: &str) -> ForbiddenWord {
        ForbiddenWord {
            id: 1,
            service_id: 1,
            word: w.into(),
            word_lower: w.to_lowercase(),
            created_at: now(),
        }
    }

    #[test]
    fn matching_is_case_insensitive_on_the_text() {
        let words = [word("Stupid"), word("환불 불가"), word("b")];
        assert_eq!(
            matches(&words, "<p>That is STUPID, <b>환불 불가</b></p>"),
            vec!["Stupid", "환불 불가"]
        );
        assert!(matches(&words[..2], "<p>fine</p>").is_empty());
    }
}

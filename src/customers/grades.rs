//! Customer grades (SPEC §6.2): each consultation service keeps its own grades — a name, a
//! colour from a fixed palette and an order — and classification rules that give a customer a
//! grade by one identifying key: e-mail, phone, customer number or member ID (user code), with
//! a note. A rule's value is stored as typed and in a normalised form (e-mail lower-cased, phone
//! digits only, customer number upper-cased, member ID trimmed), which is unique per service and
//! key type.
//!
//! [`grade_for_ticket`] finds the grade of a ticket's customer: the rules matching any of the
//! customer's keys, the first by grade order. The ticket page shows it as a coloured tag and
//! triggers can test it (`customer_grade`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{customer_grade_rules, customer_grades, customers};
use crate::db::search::{contains_pattern, lower};
use crate::db::types::text_enum;
use crate::db::{DbConn, now};
use crate::tickets::Ticket;
use crate::web::FormErrors;

/// Longest grade name.
pub const MAX_NAME_CHARS: usize = 30;
/// Longest rule note.
pub const MAX_NOTE_CHARS: usize = 200;
/// Longest rule value (an e-mail address can be 254 characters).
pub const MAX_VALUE_CHARS: usize = 254;
/// Most grades per service.
pub const MAX_GRADES: usize = 50;
/// Rules per page of the settings list.
pub const RULES_PER_PAGE: i64 = 50;

/// The colours a grade can have (CSS classes `grade-<name>` in `app.css`; the content security
/// policy forbids inline styles, so colours are a palette, not free hex values).
pub const PALETTE: &[&str] = &[
    "red", "orange", "amber", "green", "teal", "blue", "indigo", "purple", "pink", "brown", "gray",
    "black",
];

text_enum! {
    /// The key a rule identifies customers by.
    KeyType label "grade.key." {
        /// The customer's e-mail address.
        Email => "email",
        /// The customer's phone number.
        Phone => "phone",
        /// The customer number issued by OpenContact (`C…`).
        CustomerNo => "customer_no",
        /// The member ID (user code) of a member-integrated help center.
        MemberId => "member_id",
    }
}

impl KeyType {
    /// The canonical form of a value for matching (empty: nothing to match).
    pub fn normalize(self, value: &str) -> String {
        let v = value.trim();
        match self {
            KeyType::Email => v.to_lowercase(),
            KeyType::Phone => v.chars().filter(char::is_ascii_digit).collect(),
            KeyType::CustomerNo => v.to_uppercase(),
            KeyType::MemberId => v.to_string(),
        }
    }

    /// Checks a typed value; returns the i18n key of the problem.
    pub fn check(self, value: &str) -> Result<(), &'static str> {
        let v = value.trim();
        if v.is_empty() {
            return Err("validation.required");
        }
        if v.chars().count() > MAX_VALUE_CHARS {
            return Err("grade.error.value_long");
        }
        match self {
            KeyType::Email if !crate::tenancy::user::is_valid_email(v) => {
                Err("grade.error.value_email")
            }
            KeyType::Phone => {
                let digits = self.normalize(v).len();
                let allowed = v
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')' | '.'));
                if allowed && (4..=20).contains(&digits) {
                    Ok(())
                } else {
                    Err("grade.error.value_phone")
                }
            }
            KeyType::CustomerNo
                if v.chars().count() > 40 || !v.chars().all(|c| c.is_ascii_alphanumeric()) =>
            {
                Err("grade.error.value_customer_no")
            }
            KeyType::MemberId
                if v.chars().count() > crate::customers::MAX_USERCODE_CHARS
                    || v.chars().any(char::is_control) =>
            {
                Err("grade.error.value_member_id")
            }
            _ => Ok(()),
        }
    }
}

/// A grade.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = customer_grades)]
pub struct Grade {
    /// Key.
    pub id: i64,
    /// Service.
    pub service_id: i64,
    /// Name as entered.
    pub name: String,
    /// Lower-cased name (unique per service).
    pub name_lower: String,
    /// Palette colour (one of [`PALETTE`]).
    pub color: String,
    /// Order (smaller first; decides which grade wins when several rules match).
    pub position: i32,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Changed.
    pub updated_at: NaiveDateTime,
}

impl Grade {
    /// The CSS classes of the grade's tag.
    pub fn tag_class(&self) -> String {
        let color = if PALETTE.contains(&self.color.as_str()) {
            self.color.as_str()
        } else {
            "gray"
        };
        format!("grade-tag grade-{color}")
    }

    /// The service's grades in order.
    pub fn all(conn: &mut DbConn, service_id: i64) -> QueryResult<Vec<Grade>> {
        customer_grades::table
            .filter(customer_grades::service_id.eq(service_id))
            .order((customer_grades::position.asc(), customer_grades::id.asc()))
            .select(Grade::as_select())
            .load(conn)
    }

    /// One grade of a service.
    pub fn find(conn: &mut DbConn, service_id: i64, id: i64) -> QueryResult<Option<Grade>> {
        customer_grades::table
            .filter(customer_grades::service_id.eq(service_id))
            .filter(customer_grades::id.eq(id))
            .select(Grade::as_select())
            .first(conn)
            .optional()
    }
}

/// A classification rule.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = customer_grade_rules)]
pub struct Rule {
    /// Key.
    pub id: i64,
    /// Service.
    pub service_id: i64,
    /// The grade given.
    pub grade_id: i64,
    /// Key type text (see [`KeyType`]).
    pub key_type: String,
    /// Value as typed.
    pub value: String,
    /// Normalised value.
    pub value_norm: String,
    /// Note.
    pub note: String,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Changed.
    pub updated_at: NaiveDateTime,
}

impl Rule {
    /// The key type.
    pub fn key(&self) -> Option<KeyType> {
        KeyType::parse(&self.key_type)
    }

    /// One rule of a service.
    pub fn find(conn: &mut DbConn, service_id: i64, id: i64) -> QueryResult<Option<Rule>> {
        customer_grade_rules::table
            .filter(customer_grade_rules::service_id.eq(service_id))
            .filter(customer_grade_rules::id.eq(id))
            .select(Rule::as_select())
            .first(conn)
            .optional()
    }
}

/// What the grade form submits.
#[derive(Debug, Clone, Default)]
pub struct GradeInput {
    /// Name.
    pub name: String,
    /// Palette colour.
    pub color: String,
}

/// Checks a grade (name 1–30 characters and unique in the service, colour from the palette,
/// at most [`MAX_GRADES`] grades); `id` is the grade edited. Errors go to `name` and `color`.
pub fn check_grade(
    conn: &mut DbConn,
    service_id: i64,
    id: Option<i64>,
    input: &GradeInput,
    errors: &mut FormErrors,
) -> QueryResult<()> {
    let name = input.name.trim();
    if name.is_empty() {
        errors.add("name", "validation.required");
    } else if name.chars().count() > MAX_NAME_CHARS {
        errors.add_with(
            "name",
            "validation.too_long",
            &[("max", &MAX_NAME_CHARS.to_string())],
        );
    } else {
        let taken: i64 = customer_grades::table
            .filter(customer_grades::service_id.eq(service_id))
            .filter(customer_grades::name_lower.eq(name.to_lowercase()))
            .filter(customer_grades::id.ne(id.unwrap_or(0)))
            .count()
            .get_result(conn)?;
        if taken > 0 {
            errors.add("name", "grade.error.name_taken");
        }
    }
    if !PALETTE.contains(&input.color.as_str()) {
        errors.add("color", "grade.error.color");
    }
    if id.is_none() {
        let n: i64 = customer_grades::table
            .filter(customer_grades::service_id.eq(service_id))
            .count()
            .get_result(conn)?;
        if n >= i64::try_from(MAX_GRADES).unwrap_or(i64::MAX) {
            errors.add_with(
                "name",
                "grade.error.too_many",
                &[("max", &MAX_GRADES.to_string())],
            );
        }
    }
    Ok(())
}

/// Adds a checked grade at the end of the order; returns its key.
pub fn create_grade(conn: &mut DbConn, service_id: i64, input: &GradeInput) -> QueryResult<i64> {
    let last: Option<i32> = customer_grades::table
        .filter(customer_grades::service_id.eq(service_id))
        .select(diesel::dsl::max(customer_grades::position))
        .first(conn)?;
    let t = now();
    let name = input.name.trim();
    diesel::insert_into(customer_grades::table)
        .values((
            customer_grades::service_id.eq(service_id),
            customer_grades::name.eq(name),
            customer_grades::name_lower.eq(name.to_lowercase()),
            customer_grades::color.eq(&input.color),
            customer_grades::position.eq(last.unwrap_or(0) + 1),
            customer_grades::created_at.eq(t),
            customer_grades::updated_at.eq(t),
        ))
        .returning(customer_grades::id)
        .get_result(conn)
}

/// Saves a checked grade; false when it is not the service's.
pub fn update_grade(
    conn: &mut DbConn,
    service_id: i64,
    id: i64,
    input: &GradeInput,
) -> QueryResult<bool> {
    let name = input.name.trim();
    let n = diesel::update(
        customer_grades::table
            .filter(customer_grades::service_id.eq(service_id))
            .filter(customer_grades::id.eq(id)),
    )
    .set((
        customer_grades::name.eq(name),
        customer_grades::name_lower.eq(name.to_lowercase()),
        customer_grades::color.eq(&input.color),
        customer_grades::updated_at.eq(now()),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Deletes a grade and its rules; returns its name and how many rules went with it.
pub fn delete_grade(
    conn: &mut DbConn,
    service_id: i64,
    id: i64,
) -> QueryResult<Option<(String, usize)>> {
    let Some(g) = Grade::find(conn, service_id, id)? else {
        return Ok(None);
    };
    let rules =
        diesel::delete(customer_grade_rules::table.filter(customer_grade_rules::grade_id.eq(id)))
            .execute(conn)?;
    diesel::delete(customer_grades::table.find(id)).execute(conn)?;
    Ok(Some((g.name, rules)))
}

/// Puts the service's grades in the submitted order (unknown ids ignored, missing ones after).
pub fn reorder_grades(conn: &mut DbConn, service_id: i64, submitted: &[i64]) -> QueryResult<()> {
    let current: Vec<i64> = Grade::all(conn, service_id)?.iter().map(|g| g.id).collect();
    let order = crate::agents::form::merge_order(&current, submitted);
    for (i, id) in order.iter().enumerate() {
        diesel::update(customer_grades::table.find(id))
            .set(customer_grades::position.eq(i32::try_from(i).unwrap_or(i32::MAX) + 1))
            .execute(conn)?;
    }
    Ok(())
}

/// What the rule form submits.
#[derive(Debug, Clone, Default)]
pub struct RuleInput {
    /// Key type text.
    pub key_type: String,
    /// Value.
    pub value: String,
    /// Grade key as text.
    pub grade_id: String,
    /// Note.
    pub note: String,
}

/// A rule that passed [`check_rule`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedRule {
    /// Key type.
    pub key: KeyType,
    /// Value as typed (trimmed).
    pub value: String,
    /// Normalised value.
    pub value_norm: String,
    /// Grade.
    pub grade_id: i64,
    /// Note (trimmed).
    pub note: String,
}

/// Checks a rule: a known key type, a value valid for it and not yet classified in the
/// service (by its normalised form), an existing grade of the service, a note of at most
/// [`MAX_NOTE_CHARS`]. `id` is the rule edited. Errors go to `key_type`, `value`, `grade_id`
/// and `note`.
pub fn check_rule(
    conn: &mut DbConn,
    service_id: i64,
    id: Option<i64>,
    input: &RuleInput,
    errors: &mut FormErrors,
) -> QueryResult<Option<CheckedRule>> {
    let key = KeyType::parse(&input.key_type);
    if key.is_none() {
        errors.add("key_type", "validation.choose_option");
    }
    let value = input.value.trim().to_string();
    let mut norm = String::new();
    if let Some(k) = key {
        match k.check(&value) {
            Err(e) => errors.add("value", e),
            Ok(()) => {
                norm = k.normalize(&value);
                let taken: i64 = customer_grade_rules::table
                    .filter(customer_grade_rules::service_id.eq(service_id))
                    .filter(customer_grade_rules::key_type.eq(k.as_str()))
                    .filter(customer_grade_rules::value_norm.eq(&norm))
                    .filter(customer_grade_rules::id.ne(id.unwrap_or(0)))
                    .count()
                    .get_result(conn)?;
                if taken > 0 {
                    errors.add("value", "grade.error.value_taken");
                }
            }
        }
    } else if value.is_empty() {
        errors.add("value", "validation.required");
    }
    let grade = match input.grade_id.trim().parse::<i64>() {
        Ok(g) => Grade::find(conn, service_id, g)?,
        Err(_) => None,
    };
    if grade.is_none() {
        errors.add("grade_id", "validation.choose_option");
    }
    let note = input.note.trim().to_string();
    if note.chars().count() > MAX_NOTE_CHARS {
        errors.add_with(
            "note",
            "validation.too_long",
            &[("max", &MAX_NOTE_CHARS.to_string())],
        );
    }
    Ok(match (key, grade) {
        (Some(key), Some(grade)) if errors.is_empty() => Some(CheckedRule {
            key,
            value,
            value_norm: norm,
            grade_id: grade.id,
            note,
        }),
        _ => None,
    })
}

/// Adds a checked rule; returns its key.
pub fn create_rule(conn: &mut DbConn, service_id: i64, r: &CheckedRule) -> QueryResult<i64> {
    let t = now();
    diesel::insert_into(customer_grade_rules::table)
        .values((
            customer_grade_rules::service_id.eq(service_id),
            customer_grade_rules::grade_id.eq(r.grade_id),
            customer_grade_rules::key_type.eq(r.key.as_str()),
            customer_grade_rules::value.eq(&r.value),
            customer_grade_rules::value_norm.eq(&r.value_norm),
            customer_grade_rules::note.eq(&r.note),
            customer_grade_rules::created_at.eq(t),
            customer_grade_rules::updated_at.eq(t),
        ))
        .returning(customer_grade_rules::id)
        .get_result(conn)
}

/// Saves a checked rule; false when it is not the service's.
pub fn update_rule(
    conn: &mut DbConn,
    service_id: i64,
    id: i64,
    r: &CheckedRule,
) -> QueryResult<bool> {
    let n = diesel::update(
        customer_grade_rules::table
            .filter(customer_grade_rules::service_id.eq(service_id))
            .filter(customer_grade_rules::id.eq(id)),
    )
    .set((
        customer_grade_rules::grade_id.eq(r.grade_id),
        customer_grade_rules::key_type.eq(r.key.as_str()),
        customer_grade_rules::value.eq(&r.value),
        customer_grade_rules::value_norm.eq(&r.value_norm),
        customer_grade_rules::note.eq(&r.note),
        customer_grade_rules::updated_at.eq(now()),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Deletes a rule; returns its value when it existed.
pub fn delete_rule(conn: &mut DbConn, service_id: i64, id: i64) -> QueryResult<Option<String>> {
    let Some(r) = Rule::find(conn, service_id, id)? else {
        return Ok(None);
    };
    diesel::delete(customer_grade_rules::table.find(id)).execute(conn)?;
    Ok(Some(r.value))
}

/// A page of rules with their grades, and the `before` key of the next page if any.
pub type RulesPage = (Vec<(Rule, Grade)>, Option<i64>);

/// One page of the service's rules, newest first, optionally only those whose value contains
/// `q` (case-insensitive), before the rule `before`. Returns the rules with their grades and
/// the key to pass as `before` for the next page, if there is one.
pub fn rules_page(
    conn: &mut DbConn,
    service_id: i64,
    q: &str,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<RulesPage> {
    let mut query = customer_grade_rules::table
        .inner_join(customer_grades::table)
        .filter(customer_grade_rules::service_id.eq(service_id))
        .into_boxed();
    if let Some(b) = before {
        query = query.filter(customer_grade_rules::id.lt(b));
    }
    let q = q.trim();
    if !q.is_empty() {
        let pattern = contains_pattern(q);
        // A phone number typed with other separators still finds its digits.
        let digits = KeyType::Phone.normalize(q);
        let norm_pattern = if KeyType::Phone.check(q).is_ok() && digits.len() >= 3 {
            contains_pattern(&digits)
        } else {
            pattern.clone()
        };
        query = query.filter(
            lower(customer_grade_rules::value)
                .like(pattern.clone())
                .escape('\\')
                .or(customer_grade_rules::value_norm.like(pattern).escape('\\'))
                .or(customer_grade_rules::value_norm
                    .like(norm_pattern)
                    .escape('\\')),
        );
    }
    let mut rows: Vec<(Rule, Grade)> = query
        .order(customer_grade_rules::id.desc())
        .limit(limit + 1)
        .select((Rule::as_select(), Grade::as_select()))
        .load(conn)?;
    let next = if rows.len() > usize::try_from(limit).unwrap_or(usize::MAX) {
        rows.truncate(usize::try_from(limit).unwrap_or(0));
        rows.last().map(|(r, _)| r.id)
    } else {
        None
    };
    Ok((rows, next))
}

/// The keys a customer can be classified by, normalised (empty keys left out).
pub fn customer_keys(conn: &mut DbConn, customer_id: i64) -> QueryResult<Vec<(KeyType, String)>> {
    let row: Option<(String, String, String, Option<String>)> = customers::table
        .find(customer_id)
        .select((
            customers::email,
            customers::phone,
            customers::customer_no,
            customers::usercode,
        ))
        .first(conn)
        .optional()?;
    let Some((email, phone, no, usercode)) = row else {
        return Ok(Vec::new());
    };
    Ok([
        (KeyType::Email, email),
        (KeyType::Phone, phone),
        (KeyType::CustomerNo, no),
        (KeyType::MemberId, usercode.unwrap_or_default()),
    ]
    .into_iter()
    .map(|(k, v)| (k, k.normalize(&v)))
    .filter(|(_, v)| !v.is_empty())
    .collect())
}

/// The grade of a customer of a service: of the rules matching any of the customer's keys, the
/// one whose grade comes first in the grade order.
pub fn grade_for_customer(
    conn: &mut DbConn,
    service_id: i64,
    customer_id: i64,
) -> QueryResult<Option<Grade>> {
    let keys = customer_keys(conn, customer_id)?;
    if keys.is_empty() {
        return Ok(None);
    }
    let types: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
    let values: Vec<&str> = keys.iter().map(|(_, v)| v.as_str()).collect();
    let found: Vec<(String, String, Grade)> = customer_grade_rules::table
        .inner_join(customer_grades::table)
        .filter(customer_grade_rules::service_id.eq(service_id))
        .filter(customer_grade_rules::key_type.eq_any(&types))
        .filter(customer_grade_rules::value_norm.eq_any(&values))
        .order((
            customer_grades::position.asc(),
            customer_grades::id.asc(),
            customer_grade_rules::id.asc(),
        ))
        .limit(20)
        .select((
            customer_grade_rules::key_type,
            customer_grade_rules::value_norm,
            Grade::as_select(),
        ))
        .load(conn)?;
    Ok(found
        .into_iter()
        .find(|(k, v, _)| keys.iter().any(|(kk, vv)| kk.as_str() == k && vv == v))
        .map(|(_, _, g)| g))
}

/// The grade of a ticket's customer (none without a customer or a matching rule).
pub fn grade_for_ticket(conn: &mut DbConn, ticket: &Ticket) -> QueryResult<Option<Grade>> {
    match ticket.customer_id {
        Some(c) => grade_for_customer(conn, ticket.service_id, c),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_normalised_per_key() {
        assert_eq!(
            KeyType::Email.normalize(" Ann@Example.COM "),
            "ann@example.com"
        );
        assert_eq!(
            KeyType::Phone.normalize("+82 (10) 1234-5678"),
            "821012345678"
        );
        assert_eq!(KeyType::CustomerNo.normalize("c123ab"), "C123AB");
        assert_eq!(KeyType::MemberId.normalize(" Member-7 "), "Member-7");
    }

    #[test]
    fn values_are_checked_per_key() {
        assert_eq!(KeyType::Email.check("nope"), Err("grade.error.value_email"));
        assert!(KeyType::Email.check("a@b.example").is_ok());
        assert!(KeyType::Phone.check("010-1234-5678").is_ok());
        assert_eq!(KeyType::Phone.check("12"), Err("grade.error.value_phone"));
        assert_eq!(
            KeyType::Phone.check("call me"),
            Err("grade.error.value_phone")
        );
        assert!(KeyType::CustomerNo.check("C1700000000ABCD").is_ok());
        assert_eq!(
            KeyType::CustomerNo.check("C-1"),
            Err("grade.error.value_customer_no")
        );
        assert_eq!(KeyType::MemberId.check("  "), Err("validation.required"));
        assert!(KeyType::MemberId.check("user_77").is_ok());
    }
}

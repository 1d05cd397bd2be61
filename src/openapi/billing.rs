//! Contracts (API.md §8.3, L9–L13), signed with the organization key: a service's contract
//! with its items. Contiple's contract items are OpenContact's per-service feature switches
//! ([`crate::tenancy::service::Features`]): an item that maps onto a switch *is* that switch —
//! its state is read from and written to the service's features, so the organization console's
//! toggles and this API always show the same thing. Items without a switch (those Contiple
//! announced as planned) are kept in `billing_settings`, which also gives every item a stable
//! ID. `ticket` is always on.
//!
//! Contract items may change once per day (Korea time, as the contract's `startDt`): a second
//! effective change that day is refused with `9015 billing.setting.today.already.changed`. An
//! update that changes nothing does not use up the day.
//!
//! `status` is derived: `create` before `startDt`, then `inuse` while the service is enabled
//! and `pause` while it is disabled; deleting the service ends the contract with it.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use chrono::NaiveDateTime;
use chrono_tz::Tz;
use diesel::prelude::*;
use serde_json::{Map, Value, json};

use crate::db::schema::{billing_contracts, billing_settings, service_members, services};
use crate::db::types::ServiceId;
use crate::db::{DbConn, now};
use crate::tenancy::service::Service;

use super::admin_api::{b_of, field_error, field_required, i_of, read_state, s_of, write_state};
use super::envelope::{
    ApiError, ApiResult, MAX_PAGE_SIZE, json_response, legacy_dt, millis, ok_content, ok_page,
    parse_bool, parse_legacy_dt,
};
use super::org_api::{OrgCall, type_code, verify_org_call};

/// A contract item: its code, the feature switch it is (if any), and whether it is offered.
#[derive(Debug, Clone, Copy)]
pub struct Item {
    /// Contiple's item code.
    pub code: &'static str,
    /// The feature switch ([`crate::tenancy::service::Features::NAMES`]) it maps onto.
    pub feature: Option<&'static str>,
}

/// Every contract item of API.md §8.3, in its order.
pub const ITEMS: &[Item] = &[
    Item {
        code: "ticket",
        feature: Some("ticket"),
    },
    Item {
        code: "chat",
        feature: Some("chat"),
    },
    Item {
        code: "telticket",
        feature: Some("phone"),
    },
    Item {
        code: "endusermanagement",
        feature: Some("customer_info"),
    },
    Item {
        code: "callback",
        feature: Some("callback"),
    },
    Item {
        code: "helpdoc",
        feature: Some("faq"),
    },
    Item {
        code: "knowledge",
        feature: Some("knowledge"),
    },
    Item {
        code: "issuetransferstatistics",
        feature: None,
    },
    Item {
        code: "reinquiryrate",
        feature: None,
    },
    Item {
        code: "smssend",
        feature: Some("sms"),
    },
    Item {
        code: "smssendingstatus",
        feature: None,
    },
    Item {
        code: "electronicboard",
        feature: None,
    },
    Item {
        code: "ticketevaluation",
        feature: Some("satisfaction"),
    },
    Item {
        code: "happycall",
        feature: None,
    },
    Item {
        code: "security",
        feature: Some("security"),
    },
];

/// The item with this code.
pub fn item(code: &str) -> Option<Item> {
    ITEMS.iter().copied().find(|i| i.code == code)
}

/// The zone of contract dates and of the once-per-day rule.
const KOREA: Tz = chrono_tz::Asia::Seoul;

/// Today in Korea (`YYYY-MM-DD`).
fn today() -> String {
    now()
        .and_utc()
        .with_timezone(&KOREA)
        .date_naive()
        .to_string()
}

/// The message of the once-per-day refusal.
pub const ALREADY_CHANGED: &str = "billing.setting.today.already.changed";

/// A contract row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = billing_contracts)]
pub struct Contract {
    /// Key (`billingId`).
    pub id: i64,
    /// Service.
    pub service_id: i64,
    /// Start.
    pub start_at: NaiveDateTime,
    /// Discount, percent.
    pub discount_rate: i32,
    /// Extra free-trial days.
    pub free_extension: i32,
    /// Contact e-mail.
    pub email: String,
    /// Free trial.
    pub free_trial: bool,
    /// Korean date of the last item change (`YYYY-MM-DD`), empty before the first.
    pub changed_on: String,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Updated.
    pub updated_at: NaiveDateTime,
}

/// A contract item row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = billing_settings)]
pub struct SettingRow {
    /// Key.
    pub id: i64,
    /// Contract.
    pub billing_id: i64,
    /// Item code.
    pub item_code: String,
    /// State of an item without a feature switch.
    pub active: bool,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Updated.
    pub updated_at: NaiveDateTime,
}

/// The state of an item: the feature switch when it maps onto one, else the stored flag.
fn item_active(service: &Service, row: &SettingRow) -> bool {
    match item(&row.item_code).and_then(|i| i.feature) {
        Some(f) => service.features().get(f),
        None => row.active,
    }
}

/// The status of a contract (see the module doc).
pub fn status_of(c: &Contract, service: &Service) -> &'static str {
    if c.start_at > now() {
        "create"
    } else if service.enabled {
        "inuse"
    } else {
        "pause"
    }
}

/// Everything a contract object shows.
struct Loaded {
    contract: Contract,
    service: Service,
    settings: Vec<SettingRow>,
    user_count: i64,
}

fn load(conn: &mut DbConn, contract: Contract, detail: bool) -> Result<Loaded, ApiError> {
    let service = Service::find(conn, ServiceId(contract.service_id))?.ok_or(ApiError::NotFound)?;
    let settings = billing_settings::table
        .filter(billing_settings::billing_id.eq(contract.id))
        .order(billing_settings::id.asc())
        .select(SettingRow::as_select())
        .load(conn)?;
    let user_count = if detail {
        service_members::table
            .filter(service_members::service_id.eq(service.id))
            .count()
            .get_result(conn)?
    } else {
        0
    };
    Ok(Loaded {
        contract,
        service,
        settings,
        user_count,
    })
}

fn by_id(conn: &mut DbConn, id: i64) -> QueryResult<Option<Contract>> {
    billing_contracts::table
        .find(id)
        .select(Contract::as_select())
        .first(conn)
        .optional()
}

fn by_service(conn: &mut DbConn, service_id: i64) -> QueryResult<Option<Contract>> {
    billing_contracts::table
        .filter(billing_contracts::service_id.eq(service_id))
        .select(Contract::as_select())
        .first(conn)
        .optional()
}

/// The contract object; `settings` adds `billingSettings` (with `userCount` and
/// `billingItem` when `detail`).
fn contract_json(call: &OrgCall, l: &Loaded, settings: bool, detail: bool) -> Value {
    let c = &l.contract;
    let mut v = json!({
        "id": c.id,
        "organizationId": call.org.org_uid,
        "organizationName": call.org.name,
        "serviceId": l.service.code,
        "serviceName": l.service.name,
        "type": type_code(&l.service),
        "language": l.service.default_lang,
        "status": status_of(c, &l.service),
        "startDt": legacy_dt(KOREA, c.start_at),
        "discountRate": c.discount_rate,
        "freeExtension": c.free_extension,
        "email": c.email,
        "active": l.service.enabled,
        "createdDt": millis(c.created_at),
        "updatedDt": millis(c.updated_at),
        "freeTrial": c.free_trial,
    });
    if settings {
        let items: Vec<Value> = l
            .settings
            .iter()
            .map(|s| {
                let mut o = json!({
                    "id": s.id,
                    "billingId": s.billing_id,
                    "billingItemCode": s.item_code,
                    "active": item_active(&l.service, s),
                });
                if detail {
                    let feature = item(&s.item_code).and_then(|i| i.feature);
                    o["userCount"] = json!(l.user_count);
                    o["billingItem"] = json!({
                        "code": s.item_code,
                        "parentCode": null,
                        "baseAmount": null,
                        "dayAmount": null,
                        "useUserCount": false,
                        "countFree": null,
                        "countLevel1": null,
                        "countLevel1Unit": null,
                        "countLevel2": null,
                        "countLevel2Unit": null,
                        "open": feature.is_some(),
                        "licenceCounterName": null,
                        "sumCounterName": null,
                        "resourceIdSuffix1": null,
                        "resourceIdSuffix2": null,
                    });
                }
                o
            })
            .collect();
        v["billingSettings"] = Value::Array(items);
    }
    v
}

/// One requested item: by setting ID and/or code, and the wanted state.
#[derive(Debug, Clone)]
struct Wanted {
    id: Option<i64>,
    billing_id: Option<i64>,
    code: Option<String>,
    active: bool,
}

/// `billingSettings[]` of a body (`billingItemCode`, or `billingSettingCode` [C-42]).
fn wanted_of(obj: &Map<String, Value>, required: bool) -> Result<Vec<Wanted>, ApiError> {
    let items = match obj.get("billingSettings") {
        None | Some(Value::Null) if !required => return Ok(Vec::new()),
        None | Some(Value::Null) => return Err(field_required("billingSettings")),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(field_error("billingSettings")),
    };
    if items.len() > ITEMS.len() * 2 {
        return Err(field_error("billingSettings"));
    }
    let mut out = Vec::new();
    for it in items {
        let Value::Object(o) = it else {
            return Err(field_error("billingSettings"));
        };
        let code = match s_of(o, "billingItemCode")? {
            Some(c) => Some(c),
            None => s_of(o, "billingSettingCode")?,
        };
        if let Some(c) = &code
            && item(c).is_none()
        {
            return Err(ApiError::Exception(format!(
                "billingItemCode is invalid: {}",
                c.chars().take(50).collect::<String>()
            )));
        }
        let id = i_of(o, "id")?;
        if id.is_none() && code.is_none() {
            return Err(field_required("billingSettings.billingItemCode"));
        }
        let active = b_of(o, "active")?.ok_or_else(|| field_required("billingSettings.active"))?;
        out.push(Wanted {
            id,
            billing_id: i_of(o, "billingId")?,
            code,
            active,
        });
    }
    Ok(out)
}

/// Sets the feature switches of the mapped items in `changes` (code → state) in one write.
fn apply_features(
    conn: &mut DbConn,
    call_secret: &crate::crypto::SecretKey,
    service: &Service,
    changes: &[(String, bool)],
) -> Result<(), ApiError> {
    let mut features = service.features();
    let mut touched = false;
    for (code, active) in changes {
        if let Some(f) = item(code).and_then(|i| i.feature) {
            features.set(f, *active);
            touched = true;
        }
    }
    if touched {
        features.ticket = true;
        Service::apply_features(conn, call_secret, service.id, &features)?;
    }
    Ok(())
}

fn refuse_ticket_off(w: &[Wanted]) -> Result<(), ApiError> {
    if w.iter()
        .any(|x| x.code.as_deref() == Some("ticket") && !x.active)
    {
        return Err(ApiError::Exception(
            "billingItemCode ticket is always active".into(),
        ));
    }
    Ok(())
}

/// `POST /openapi/v1/admin/billing/reg.json` (L9): registers a service's contract; every item
/// gets a setting (requested states applied, `ticket` always on, others as they are).
pub async fn register(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = verify_org_call(&req, payload).await?;
    let obj = call.json_object()?;
    let code = s_of(&obj, "serviceId")?.ok_or_else(|| field_required("serviceId"))?;
    let wanted = wanted_of(&obj, false)?;
    refuse_ticket_off(&wanted)?;
    if wanted.iter().any(|w| w.code.is_none()) {
        return Err(field_required("billingSettings.billingItemCode"));
    }
    let discount = i_of(&obj, "discountRate")?.unwrap_or(0);
    if !(0..=100).contains(&discount) {
        return Err(field_error("discountRate"));
    }
    let extension = i_of(&obj, "freeExtension")?.unwrap_or(0);
    if !(0..=3650).contains(&extension) {
        return Err(field_error("freeExtension"));
    }
    let email = s_of(&obj, "email")?.unwrap_or_default();
    if !email.is_empty() && !crate::tenancy::user::is_valid_email(&email) {
        return Err(field_error("email"));
    }
    let free_trial = b_of(&obj, "freeTrial")?.unwrap_or(false);
    let start_at = match s_of(&obj, "startDt")? {
        Some(s) => parse_legacy_dt(KOREA, &s).ok_or_else(|| field_error("startDt"))?,
        None => now(),
    };
    let secret = call.state.secret.clone();
    let loaded = write_state(&call.state, move |c| {
        let service = Service::find_by_code(c, code.trim())?
            .ok_or_else(|| ApiError::missing_ref("serviceId"))?;
        if by_service(c, service.id)?.is_some() {
            return Err(ApiError::duplicate("contract of the service"));
        }
        let t = now();
        let id: i64 = diesel::insert_into(billing_contracts::table)
            .values((
                billing_contracts::service_id.eq(service.id),
                billing_contracts::start_at.eq(start_at),
                billing_contracts::discount_rate.eq(i32::try_from(discount).unwrap_or(0)),
                billing_contracts::free_extension.eq(i32::try_from(extension).unwrap_or(0)),
                billing_contracts::email.eq(email.to_lowercase()),
                billing_contracts::free_trial.eq(free_trial),
                billing_contracts::changed_on.eq(""),
                billing_contracts::created_at.eq(t),
                billing_contracts::updated_at.eq(t),
            ))
            .returning(billing_contracts::id)
            .get_result(c)?;
        let requested: HashMap<&str, bool> = wanted
            .iter()
            .filter_map(|w| w.code.as_deref().map(|c| (c, w.active)))
            .collect();
        let features = service.features();
        for it in ITEMS {
            let active = match (requested.get(it.code), it.feature) {
                (_, Some("ticket")) => true,
                (Some(a), _) => *a,
                (None, Some(f)) => features.get(f),
                (None, None) => false,
            };
            diesel::insert_into(billing_settings::table)
                .values((
                    billing_settings::billing_id.eq(id),
                    billing_settings::item_code.eq(it.code),
                    billing_settings::active.eq(active),
                    billing_settings::created_at.eq(t),
                    billing_settings::updated_at.eq(t),
                ))
                .execute(c)?;
        }
        let changes: Vec<(String, bool)> = requested
            .iter()
            .map(|(k, v)| ((*k).to_string(), *v))
            .collect();
        apply_features(c, &secret, &service, &changes)?;
        let contract = by_id(c, id)?.ok_or(ApiError::NotFound)?;
        load(c, contract, true)
    })
    .await?;
    ok_content(contract_json(&call, &loaded, true, true))
}

/// What an update came to.
enum Updated {
    Done(Box<Loaded>),
    AlreadyChanged,
}

/// `PUT /openapi/v1/admin/billing/update/{billingId}.json` (L10): changes contract items, at
/// most once per day (`9015` in the exception shape otherwise).
pub async fn update(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = verify_org_call(&req, payload).await?;
    let Some(billing_id) = req
        .match_info()
        .get("billing_id")
        .and_then(|s| s.parse::<i64>().ok())
    else {
        return Err(ApiError::NotFound);
    };
    let obj = call.json_object()?;
    let body_id = i_of(&obj, "id")?;
    let service_code = s_of(&obj, "serviceId")?;
    let wanted = wanted_of(&obj, true)?;
    refuse_ticket_off(&wanted)?;
    let secret = call.state.secret.clone();
    let outcome = write_state(&call.state, move |c| {
        let contract = by_id(c, billing_id)?.ok_or(ApiError::NotFound)?;
        if body_id.is_some_and(|id| id != billing_id) {
            return Err(field_error("id"));
        }
        if wanted
            .iter()
            .any(|w| w.billing_id.is_some_and(|b| b != billing_id))
        {
            return Err(field_error("billingSettings.billingId"));
        }
        let service =
            Service::find(c, ServiceId(contract.service_id))?.ok_or(ApiError::NotFound)?;
        if service_code.as_deref().is_some_and(|s| s != service.code) {
            return Err(field_error("serviceId"));
        }
        let rows: Vec<SettingRow> = billing_settings::table
            .filter(billing_settings::billing_id.eq(contract.id))
            .select(SettingRow::as_select())
            .load(c)?;
        let mut changes: Vec<(i64, String, bool)> = Vec::new();
        for w in &wanted {
            let row = match (w.id, &w.code) {
                (Some(id), code) => {
                    let r = rows
                        .iter()
                        .find(|r| r.id == id)
                        .ok_or_else(|| ApiError::missing_ref("billingSettings.id"))?;
                    if code.as_deref().is_some_and(|c| c != r.item_code) {
                        return Err(field_error("billingSettings.billingItemCode"));
                    }
                    r
                }
                (None, Some(code)) => rows
                    .iter()
                    .find(|r| &r.item_code == code)
                    .ok_or_else(|| ApiError::missing_ref("billingSettings.billingItemCode"))?,
                (None, None) => return Err(field_required("billingSettings.billingItemCode")),
            };
            if row.item_code == "ticket" && !w.active {
                return Err(ApiError::Exception(
                    "billingItemCode ticket is always active".into(),
                ));
            }
            if item_active(&service, row) != w.active
                && !changes.iter().any(|(id, _, _)| *id == row.id)
            {
                changes.push((row.id, row.item_code.clone(), w.active));
            }
        }
        if !changes.is_empty() {
            let day = today();
            if contract.changed_on == day {
                return Ok(Updated::AlreadyChanged);
            }
            let t = now();
            for (id, _, active) in &changes {
                diesel::update(billing_settings::table.find(*id))
                    .set((
                        billing_settings::active.eq(*active),
                        billing_settings::updated_at.eq(t),
                    ))
                    .execute(c)?;
            }
            let by_code: Vec<(String, bool)> =
                changes.iter().map(|(_, k, a)| (k.clone(), *a)).collect();
            apply_features(c, &secret, &service, &by_code)?;
            diesel::update(billing_contracts::table.find(contract.id))
                .set((
                    billing_contracts::changed_on.eq(day),
                    billing_contracts::updated_at.eq(t),
                ))
                .execute(c)?;
        }
        let contract = by_id(c, billing_id)?.ok_or(ApiError::NotFound)?;
        Ok(Updated::Done(Box::new(load(c, contract, true)?)))
    })
    .await?;
    match outcome {
        Updated::Done(l) => ok_content(contract_json(&call, &l, true, true)),
        Updated::AlreadyChanged => Ok(json_response(
            StatusCode::OK,
            &json!({
                "header": {"resultCode": 9015, "resultMessage": ALREADY_CHANGED, "isSuccessful": false},
                "result": {"content": {"exception": "OcException", "message": ALREADY_CHANGED}},
            }),
        )),
    }
}

/// `GET /openapi/v1/admin/billing/list.json` (L11): contracts without their items, paged
/// (`pageSize` default 10); `billingSettingCode` keeps contracts whose item of that code is
/// in the `active` state (default on); `active` alone filters on the contract (service) state.
pub async fn list(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = verify_org_call(&req, payload).await?;
    let paging = call.params.paging(10, MAX_PAGE_SIZE)?;
    let code = call.params.get("billingSettingCode").map(str::to_string);
    if let Some(c) = &code
        && item(c).is_none()
    {
        return Err(ApiError::invalid("billingSettingCode"));
    }
    let active = match call.params.get("active") {
        None => None,
        Some(s) => Some(parse_bool(s).ok_or_else(|| ApiError::invalid("active"))?),
    };
    let all = read_state(&call.state, move |c| {
        // One contract per service: the organization's services bound this list.
        let contracts: Vec<Contract> = billing_contracts::table
            .inner_join(services::table)
            .order(billing_contracts::id.asc())
            .select(Contract::as_select())
            .load(c)?;
        let mut out = Vec::new();
        for contract in contracts {
            let l = load(c, contract, false)?;
            let keep = match (&code, active) {
                (Some(code), want) => l
                    .settings
                    .iter()
                    .find(|s| &s.item_code == code)
                    .is_some_and(|s| item_active(&l.service, s) == want.unwrap_or(true)),
                (None, Some(want)) => l.service.enabled == want,
                (None, None) => true,
            };
            if keep {
                out.push(l);
            }
        }
        Ok(out)
    })
    .await?;
    let total = i64::try_from(all.len()).unwrap_or(0);
    let start = usize::try_from(paging.offset()).unwrap_or(usize::MAX);
    let size = usize::try_from(paging.size).unwrap_or(0);
    let contents = all
        .iter()
        .skip(start)
        .take(size)
        .map(|l| contract_json(&call, l, false, false))
        .collect();
    ok_page(contents, total, paging)
}

/// `GET /openapi/v1/admin/billing/service/{serviceId}.json` (L12).
pub async fn by_service_code(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = verify_org_call(&req, payload).await?;
    let code = req
        .match_info()
        .get("service_id")
        .unwrap_or_default()
        .to_string();
    let l = read_state(&call.state, move |c| {
        let service = Service::find_by_code(c, code.trim())?.ok_or(ApiError::NotFound)?;
        let contract = by_service(c, service.id)?.ok_or(ApiError::NotFound)?;
        load(c, contract, true)
    })
    .await?;
    ok_content(contract_json(&call, &l, true, true))
}

/// `GET /openapi/v1/admin/billing/{billingId}.json` (L13).
pub async fn by_billing_id(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = verify_org_call(&req, payload).await?;
    let Some(id) = req
        .match_info()
        .get("billing_id")
        .and_then(|s| s.parse::<i64>().ok())
    else {
        return Err(ApiError::NotFound);
    };
    let l = read_state(&call.state, move |c| {
        let contract = by_id(c, id)?.ok_or(ApiError::NotFound)?;
        load(c, contract, true)
    })
    .await?;
    ok_content(contract_json(&call, &l, true, true))
}

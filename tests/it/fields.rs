//! Service Management → Fields: the catalogue (system and custom fields, codes never reused),
//! layouts (intake type first, consent last, inheritance), the shared validator through the
//! form definition, personal-data encryption and masking, and who may open the pages.

use diesel::prelude::*;
use opencontact::db::schema::{categories, field_defs, field_layouts, services};
use opencontact::db::types::{EditorType, ServiceKind};
use opencontact::fields::layout::{FormDefinition, agent_form, customer_form};
use opencontact::fields::model::{
    AgentPermission, Audience, Control, FieldDef, FieldInput, FieldOption, Texts, create_field,
};
use opencontact::fields::personal::{decrypt_value, mask, read_value, store_value};
use opencontact::fields::validate::{FieldError, RawValue, StoredValue};
use opencontact::i18n::Lang;
use opencontact::tenancy::service::{NewService, Service};

use crate::support::{Client, Resp, TestApp};

const FIELDS: &str = "/demo/console/settings/fields";

fn create_service(app: &TestApp, code: &str, kind: ServiceKind, langs: Vec<Lang>) -> i64 {
    let new = NewService {
        code: code.into(),
        kind,
        name: format!("{code} service"),
        default_lang: langs[0],
        languages: langs,
        timezone: "UTC".into(),
        editor_type: EditorType::Html,
    };
    app.state
        .db
        .write_blocking(|c| Service::create(c, &new))
        .unwrap()
}

fn service(app: &TestApp, id: i64) -> Service {
    app.db(|c| {
        services::table
            .find(id)
            .select(Service::as_select())
            .first(c)
    })
}

fn field_id(app: &TestApp, service_id: i64, code: &str) -> i64 {
    let code = code.to_string();
    app.db(move |c| {
        field_defs::table
            .filter(field_defs::service_id.eq(service_id))
            .filter(field_defs::code.eq(code))
            .select(field_defs::id)
            .first(c)
    })
}

fn field(app: &TestApp, service_id: i64, id: i64) -> FieldDef {
    app.db(move |c| FieldDef::find(c, service_id, id))
        .expect("live field")
}

/// The "General inquiry" intake type every new CM service gets.
fn general_inquiry(app: &TestApp, service_id: i64) -> i64 {
    app.db(move |c| {
        categories::table
            .filter(categories::service_id.eq(service_id))
            .filter(categories::tree.eq("intake"))
            .select(categories::id)
            .first(c)
    })
}

fn add_intake_child(app: &TestApp, service_id: i64, parent: i64, name: &str) -> i64 {
    let names = serde_json::json!({ "en": name }).to_string();
    let now = opencontact::db::now();
    app.db(move |c| {
        diesel::insert_into(categories::table)
            .values((
                categories::service_id.eq(service_id),
                categories::tree.eq("intake"),
                categories::parent_id.eq(Some(parent)),
                categories::level.eq(2),
                categories::position.eq(0),
                categories::names.eq(names),
                categories::helpcenter_enabled.eq(true),
                categories::active.eq(true),
                categories::created_at.eq(now),
                categories::updated_at.eq(now),
            ))
            .returning(categories::id)
            .get_result(c)
    })
}

fn form(app: &TestApp, service_id: i64, category: i64, lang: Lang) -> FormDefinition {
    let svc = service(app, service_id);
    app.db(move |c| customer_form(c, &svc, category, lang))
        .expect("an intake type of the service")
}

fn codes(def: &FormDefinition) -> Vec<String> {
    def.fields.iter().map(|f| f.code.clone()).collect()
}

async fn create_text_field(admin: &Client, code: &str, label: &str) -> Resp {
    admin
        .post_form(
            &format!("{FIELDS}/new"),
            &[
                ("audience", "customer"),
                ("control", "text"),
                ("code", code),
                ("label_en", label),
                ("help_en", "Found on your receipt"),
                ("placeholder_en", "A-1001"),
                ("max_length", "20"),
                ("required", "on"),
                ("visible", "on"),
                ("add_to_default", "on"),
            ],
        )
        .await
}

/// A custom field created directly (for layout and validator tests).
fn custom(
    app: &TestApp,
    service_id: i64,
    audience: Audience,
    control: Control,
    code: &str,
    required: bool,
    options: &[&str],
) -> i64 {
    let mut labels = Texts::default();
    labels.set(Lang::En, &format!("{code} label"));
    let input = FieldInput {
        code: code.into(),
        labels,
        max_length: if control == Control::Text { 5 } else { 0 },
        options: options
            .iter()
            .map(|v| FieldOption {
                value: (*v).to_string(),
                labels: Texts::default(),
            })
            .collect(),
        required,
        visible: true,
        agent_permission: AgentPermission::Agent,
        ..FieldInput::default()
    };
    app.db(move |c| create_field(c, service_id, audience, control, &input))
}

#[actix_web::test]
async fn system_fields_are_seeded_and_listed_per_audience() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let admin = app.login("admin").await;

    let list = admin.get(FIELDS).await;
    assert_eq!(list.status, 200);
    assert_eq!(
        list.texts("#fields td.code"),
        [
            "category",
            "name",
            "mail",
            "phone",
            "subject",
            "content",
            "attachment",
            "personalAgree"
        ]
    );
    assert_eq!(
        list.texts("#fields tr[data-code=mail] td.label")[0],
        "E-mail"
    );
    assert!(list.has("#fields tr[data-code=mail] .flag-personal"));
    assert!(list.has("#fields tr[data-code=mail] .flag-required"));
    assert!(list.has("#fields tr[data-code=subject] .flag-system"));
    assert!(!list.has("#fields tr[data-code=name] .flag-required"));
    // System fields have no delete link.
    assert!(!list.text.contains(&format!(
        "{FIELDS}/{}/delete",
        field_id(&app, fx.service_id, "mail")
    )));
    // The menu links here for service administrators.
    assert!(list.has(&format!(".sidebar a[href=\"{FIELDS}\"]")));

    let agents = admin.get(&format!("{FIELDS}?audience=agent")).await;
    assert_eq!(agents.status, 200);
    assert_eq!(
        agents.texts("#fields td.code"),
        ["resolutionType", "priority"]
    );

    // The form of the default intake type: intake type first, consent last.
    let gi = general_inquiry(&app, fx.service_id);
    let def = form(&app, fx.service_id, gi, Lang::En);
    assert_eq!(
        codes(&def),
        [
            "category",
            "name",
            "mail",
            "phone",
            "subject",
            "content",
            "attachment",
            "personalAgree"
        ]
    );
    let mail = def.field("MAIL").unwrap();
    assert!(mail.required && mail.personal);
    assert_eq!(mail.max_length, 100);
    let consent = def.fields.last().unwrap();
    assert_eq!(consent.placeholder, "I agree.");
    assert!(consent.help.starts_with("I agree that the personal data"));
    // Priority carries its options, labelled per language.
    let svc = service(&app, fx.service_id);
    let agent_fields = app.db(move |c| agent_form(c, &svc, Lang::Ko));
    let priority = &agent_fields[1];
    assert_eq!(priority.label, "우선순위");
    assert_eq!(priority.default_value, "normal");
    assert_eq!(
        priority
            .options
            .iter()
            .map(|o| o.label.as_str())
            .collect::<Vec<_>>(),
        ["긴급", "높음", "보통", "낮음"]
    );
}

#[actix_web::test]
async fn the_migration_seeds_the_same_fields_as_the_application() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let other = create_service(&app, "other", ServiceKind::Consultation, vec![Lang::En]);
    let load = |app: &TestApp| -> (Vec<FieldDef>, Vec<FieldDef>, Vec<String>) {
        let c = app.db(move |c| FieldDef::of_audience(c, other, Audience::Customer));
        let a = app.db(move |c| FieldDef::of_audience(c, other, Audience::Agent));
        let gi = general_inquiry(app, other);
        (c, a, codes(&form(app, other, gi, Lang::Ja)))
    };
    let (seeded_c, seeded_a, seeded_form) = load(&app);

    // Replay the migration's seed for this one service.
    app.db(move |c| {
        diesel::delete(field_layouts::table.filter(field_layouts::service_id.eq(other)))
            .execute(c)?;
        diesel::delete(field_defs::table.filter(field_defs::service_id.eq(other))).execute(c)
    });
    let backend = crate::support::backend_name();
    let sql = std::fs::read_to_string(format!(
        "migrations/{backend}/2026-11-22-000040_fields/up.sql"
    ))
    .unwrap();
    let seed = &sql[sql.find("INSERT INTO field_defs").unwrap()..];
    let seed = seed
        .replace(
            "WHERE s.kind = 'cm';",
            "WHERE s.kind = 'cm' AND s.code = 'other';",
        )
        .replace(
            "WHERE f.audience = 'customer'",
            "WHERE f.audience = 'customer' AND f.service_id = (SELECT id FROM services WHERE code = 'other')",
        );
    app.db(move |c| {
        use diesel::connection::SimpleConnection;
        c.batch_execute(&seed)
    });
    let (migrated_c, migrated_a, migrated_form) = load(&app);
    let strip = |v: Vec<FieldDef>| -> Vec<FieldDef> {
        v.into_iter()
            .map(|mut f| {
                f.id = 0;
                f
            })
            .collect()
    };
    assert_eq!(strip(migrated_c), strip(seeded_c));
    assert_eq!(strip(migrated_a), strip(seeded_a));
    assert_eq!(migrated_form, seeded_form);
    // The demo service was left alone.
    assert_eq!(
        app.db(move |c| FieldDef::of_audience(c, fx.service_id, Audience::Customer))
            .len(),
        8
    );
}

#[actix_web::test]
async fn an_admin_creates_edits_and_deletes_a_custom_field() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let admin = app.login("admin").await;

    // Step one: the control type picker; step two: the settings form.
    let picker = admin.get(&format!("{FIELDS}/new?audience=customer")).await;
    assert_eq!(picker.status, 200);
    assert_eq!(picker.texts("#controls a.control-choice").len(), 11);
    let blank = admin
        .get(&format!("{FIELDS}/new?audience=customer&control=text"))
        .await;
    assert_eq!(blank.status, 200);
    assert!(blank.has("input[name=code]") && blank.has("input[name=label_en]"));

    let created = create_text_field(&admin, "orderNumber", "Order number").await;
    assert_eq!((created.status, created.location().as_str()), (303, FIELDS));
    let list = admin.get(FIELDS).await;
    assert!(list.text.contains("The field Order number was created."));
    assert!(list.has("#fields tr[data-code=orderNumber] .flag-required"));
    let id = field_id(&app, fx.service_id, "orderNumber");
    let f = field(&app, fx.service_id, id);
    assert_eq!(f.max_length, 20);
    assert_eq!(f.placeholders.get(Lang::En), Some("A-1001"));
    assert!(f.required && f.visible && !f.personal && !f.is_system());

    // "Add to the default layout": it shows before the consent field.
    let gi = general_inquiry(&app, fx.service_id);
    let def = form(&app, fx.service_id, gi, Lang::En);
    let c = codes(&def);
    assert_eq!(c[c.len() - 2], "orderNumber");
    assert_eq!(c[c.len() - 1], "personalAgree");
    let order = def.field("orderNumber").unwrap();
    assert_eq!(
        (order.label.as_str(), order.help.as_str()),
        ("Order number", "Found on your receipt")
    );

    // Edit: the form shows the stored values; saving changes them.
    let edit = admin.get(&format!("{FIELDS}/{id}")).await;
    assert_eq!(edit.status, 200);
    assert!(edit.has("input[name=label_en][value=\"Order number\"]"));
    assert!(edit.has("input#f-code[readonly]"));
    let saved = admin
        .post_form(
            &format!("{FIELDS}/{id}"),
            &[
                ("label_en", "Order no."),
                ("max_length", "0"),
                ("personal", "on"),
                ("visible", "on"),
                ("code", "sneakyRename"),
            ],
        )
        .await;
    assert_eq!(
        (saved.status, saved.location()),
        (303, format!("{FIELDS}/{id}"))
    );
    let f = field(&app, fx.service_id, id);
    assert_eq!(f.labels.get(Lang::En), Some("Order no."));
    assert_eq!(f.code, "orderNumber", "the code never changes");
    assert!(f.personal && !f.required && f.max_length == 0);
    assert!(
        admin
            .get(&format!("{FIELDS}/{id}"))
            .await
            .text
            .contains("The field Order no. was saved.")
    );

    // Hidden fields stay in layouts but leave forms.
    admin
        .post_form(
            &format!("{FIELDS}/{id}"),
            &[("label_en", "Order no."), ("max_length", "0")],
        )
        .await;
    assert!(!field(&app, fx.service_id, id).visible);
    assert!(
        form(&app, fx.service_id, gi, Lang::En)
            .field("orderNumber")
            .is_none()
    );

    // Delete: a confirmation page first, then the tombstone.
    let confirm = admin.get(&format!("{FIELDS}/{id}/delete")).await;
    assert_eq!(confirm.status, 200);
    assert_eq!(confirm.texts("#layout-count"), ["1"]);
    assert!(confirm.has("form[data-confirm]"));
    let deleted = admin.post_form(&format!("{FIELDS}/{id}/delete"), &[]).await;
    assert_eq!((deleted.status, deleted.location().as_str()), (303, FIELDS));
    let list = admin.get(FIELDS).await;
    assert!(
        list.text
            .contains("The field Order no. (orderNumber) was deleted.")
    );
    assert!(!list.has("#fields tr[data-code=orderNumber]"));
    let (deleted_at, layouts): (Option<chrono::NaiveDateTime>, i64) = app.db(move |c| {
        let d = field_defs::table
            .find(id)
            .select(field_defs::deleted_at)
            .first(c)?;
        let n = field_layouts::table
            .filter(field_layouts::field_id.eq(id))
            .count()
            .get_result(c)?;
        Ok((d, n))
    });
    assert!(deleted_at.is_some() && layouts == 0);
    assert_eq!(admin.get(&format!("{FIELDS}/{id}")).await.status, 404);
    assert_eq!(
        admin
            .post_form(&format!("{FIELDS}/{id}/delete"), &[])
            .await
            .status,
        404
    );
}

#[actix_web::test]
async fn codes_are_unique_and_never_reused() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let admin = app.login("admin").await;
    assert_eq!(
        create_text_field(&admin, "orderNumber", "Order")
            .await
            .status,
        303
    );

    let again = create_text_field(&admin, "ORDERNUMBER", "Order again").await;
    assert_eq!(again.status, 422);
    assert_eq!(
        again.field_error("code"),
        "Another field of this service already uses this code."
    );
    // What was typed is kept.
    assert!(again.has("input[name=label_en][value=\"Order again\"]"));

    let id = field_id(&app, fx.service_id, "orderNumber");
    assert_eq!(
        admin
            .post_form(&format!("{FIELDS}/{id}/delete"), &[])
            .await
            .status,
        303
    );
    let reuse = create_text_field(&admin, "orderNumber", "Order").await;
    assert_eq!(reuse.status, 422);
    assert_eq!(
        reuse.field_error("code"),
        "A deleted field used this code; codes can never be reused."
    );
    let reserved = create_text_field(&admin, "mail", "Mail").await;
    assert_eq!(
        (reserved.status, reserved.field_error("code").as_str()),
        (
            422,
            "This code is reserved for a system field or the Open API."
        )
    );
    for bad in ["1order", "order-no", "주문", ""] {
        let r = create_text_field(&admin, bad, "Bad").await;
        assert_eq!(r.status, 422, "{bad}");
        assert!(!r.field_error("code").is_empty(), "{bad}");
    }
    let long = create_text_field(&admin, &"a".repeat(41), "Long").await;
    assert_eq!(long.field_error("code"), "At most 40 characters.");

    // Another service may use the same code.
    let other = create_service(&app, "other", ServiceKind::Consultation, vec![Lang::En]);
    let lee = app.create_member("lee", "Lee", false);
    app.add_to_service(other, lee, "admin");
    let lee_c = app.login("lee").await;
    let r = lee_c
        .post_form(
            "/other/console/settings/fields/new",
            &[
                ("audience", "agent"),
                ("control", "text"),
                ("code", "orderNumber"),
                ("label_en", "Order"),
                ("max_length", "10"),
                ("visible", "on"),
                ("agent_permission", "admin"),
            ],
        )
        .await;
    assert_eq!(
        (r.status, r.location().as_str()),
        (303, "/other/console/settings/fields?audience=agent")
    );
    let f = field(&app, other, field_id(&app, other, "orderNumber"));
    assert_eq!(
        (f.audience, f.agent_permission),
        (Audience::Agent, AgentPermission::Admin)
    );
}

#[actix_web::test]
async fn system_fields_are_edited_and_reset_but_never_deleted() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let admin = app.login("admin").await;
    let mail = field_id(&app, fx.service_id, "mail");
    let subject = field_id(&app, fx.service_id, "subject");

    let edit = admin.get(&format!("{FIELDS}/{mail}")).await;
    assert_eq!(edit.status, 200);
    assert!(edit.has("form[action$=\"/reset\"]"));
    assert!(!edit.text.contains(&format!("{FIELDS}/{mail}/delete")));

    // Deleting a system field is refused, whatever the request says.
    assert_eq!(
        admin.get(&format!("{FIELDS}/{mail}/delete")).await.status,
        400
    );
    assert_eq!(
        admin
            .post_form(&format!("{FIELDS}/{mail}/delete"), &[])
            .await
            .status,
        400
    );
    assert!(!field(&app, fx.service_id, mail).deleted);

    // Edit: label, length, optional, no longer personal.
    let r = admin
        .post_form(
            &format!("{FIELDS}/{mail}"),
            &[
                ("label_en", "Your e-mail"),
                ("help_en", "We reply here"),
                ("max_length", "60"),
                ("visible", "on"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let f = field(&app, fx.service_id, mail);
    assert_eq!(f.labels.get(Lang::En), Some("Your e-mail"));
    assert!(!f.required && !f.personal && f.max_length == 60);
    // E-mail may not be unlimited or longer than an address can be.
    let r = admin
        .post_form(&format!("{FIELDS}/{mail}"), &[("max_length", "0")])
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.field_error("max_length"), "Enter a number from 1 to 254.");

    // Subject stays required and visible, whatever is posted.
    let r = admin
        .post_form(&format!("{FIELDS}/{subject}"), &[("max_length", "150")])
        .await;
    assert_eq!(r.status, 303);
    let f = field(&app, fx.service_id, subject);
    assert!(f.required && f.visible && f.max_length == 150);

    // Reset restores the defaults.
    let r = admin
        .post_form(&format!("{FIELDS}/{mail}/reset"), &[])
        .await;
    assert_eq!((r.status, r.location()), (303, format!("{FIELDS}/{mail}")));
    let f = field(&app, fx.service_id, mail);
    assert_eq!(f.labels.get(Lang::En), Some("E-mail"));
    assert_eq!(f.labels.get(Lang::Ko), Some("이메일"));
    assert!(f.help.get(Lang::En).is_none());
    assert!(f.required && f.personal && f.max_length == 100);
    assert!(
        admin
            .get(&format!("{FIELDS}/{mail}"))
            .await
            .text
            .contains("was reset to its defaults")
    );

    // Custom fields cannot be "reset".
    let custom_id = custom(
        &app,
        fx.service_id,
        Audience::Customer,
        Control::Text,
        "extra",
        false,
        &[],
    );
    assert_eq!(
        admin
            .post_form(&format!("{FIELDS}/{custom_id}/reset"), &[])
            .await
            .status,
        400
    );
}

#[actix_web::test]
async fn choice_fields_take_ordered_unique_options_and_a_valid_default() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let admin = app.login("admin").await;
    let post = |fields: Vec<(&'static str, &'static str)>| {
        let admin = &admin;
        async move {
            let mut all = vec![
                ("audience", "customer"),
                ("control", "dropdown"),
                ("code", "device"),
                ("label_en", "Device"),
                ("visible", "on"),
            ];
            all.extend(fields);
            admin.post_form(&format!("{FIELDS}/new"), &all).await
        }
    };
    let none = post(vec![("opt_value", ""), ("opt_label_en", "")]).await;
    assert_eq!(none.status, 422);
    assert_eq!(none.field_error("options"), "Add at least one option.");
    let dup = post(vec![
        ("opt_value", "ios"),
        ("opt_label_en", "iPhone"),
        ("opt_value", "IOS"),
        ("opt_label_en", "Also iPhone"),
    ])
    .await;
    assert_eq!(
        dup.field_error("options"),
        "The value \"IOS\" appears twice."
    );
    // The rows typed come back in the form.
    assert!(dup.has("input[name=opt_value][value=IOS]"));
    let label_only = post(vec![("opt_value", ""), ("opt_label_en", "Orphan")]).await;
    assert_eq!(label_only.field_error("options"), "Row 1: enter a value.");
    let bad_default = post(vec![
        ("opt_value", "ios"),
        ("opt_label_en", "iPhone"),
        ("default_value", "android"),
    ])
    .await;
    assert_eq!(bad_default.status, 422);
    assert_eq!(
        bad_default.field_error("default_value"),
        "Choose one of the options."
    );

    let ok = post(vec![
        ("opt_value", "pc"),
        ("opt_label_en", "Computer"),
        ("opt_value", ""),
        ("opt_label_en", ""),
        ("opt_value", "ios"),
        ("opt_label_en", "iPhone"),
        ("default_value", "iPhone"),
    ])
    .await;
    assert_eq!(ok.status, 303);
    let f = field(&app, fx.service_id, field_id(&app, fx.service_id, "device"));
    assert_eq!(
        f.options
            .iter()
            .map(|o| o.value.as_str())
            .collect::<Vec<_>>(),
        ["pc", "ios"]
    );
    // A default given by label is stored as the option value.
    assert_eq!(f.default_value, "ios");

    // Checkbox defaults are comma-separated values; dates are checked too.
    let r = admin
        .post_form(
            &format!("{FIELDS}/new"),
            &[
                ("audience", "customer"),
                ("control", "checkbox"),
                ("code", "colours"),
                ("label_en", "Colours"),
                ("opt_value", "red"),
                ("opt_value", "blue"),
                ("default_value", "blue, red"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let f = field(
        &app,
        fx.service_id,
        field_id(&app, fx.service_id, "colours"),
    );
    assert_eq!(f.default_value, r#"["red","blue"]"#);
    let r = admin
        .post_form(
            &format!("{FIELDS}/new"),
            &[
                ("audience", "customer"),
                ("control", "date_period"),
                ("code", "stay"),
                ("label_en", "Stay"),
                ("default_value", "2024-06-03 ~ 2024-06-01"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.field_error("default_value"),
        "Enter both ends of the period, the end not before the start."
    );
}

#[actix_web::test]
async fn bad_input_is_refused_beside_the_fields() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let admin = app.login("admin").await;
    let r = admin
        .post_form(
            &format!("{FIELDS}/new"),
            &[
                ("audience", "customer"),
                ("control", "textarea"),
                ("code", "notes"),
                ("label_en", ""),
                ("max_length", "99999"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.field_error("label_en"),
        "Enter a label in the service's default language."
    );
    assert_eq!(
        r.field_error("max_length"),
        "Enter a number from 0 to 10000."
    );
    assert!(r.has("#f-label_en[aria-invalid=true]"));
    let long_label = "x".repeat(101);
    let r = admin
        .post_form(
            &format!("{FIELDS}/new"),
            &[
                ("audience", "customer"),
                ("control", "text"),
                ("code", "notes"),
                ("label_en", &long_label),
                ("max_length", "10"),
            ],
        )
        .await;
    assert_eq!(r.field_error("label_en"), "At most 100 characters.");
    let r = admin
        .post_form(
            &format!("{FIELDS}/new"),
            &[
                ("audience", "agent"),
                ("control", "text"),
                ("code", "notes"),
                ("label_en", "Notes"),
                ("max_length", "10"),
                ("agent_permission", "root"),
            ],
        )
        .await;
    assert_eq!(
        r.field_error("agent_permission"),
        "Choose one of the options."
    );
    // An unknown control type or audience is a bad request, not a form error.
    let r = admin
        .post_form(
            &format!("{FIELDS}/new"),
            &[
                ("audience", "customer"),
                ("control", "slider"),
                ("code", "x"),
            ],
        )
        .await;
    assert_eq!(r.status, 400);
    // Nothing was stored.
    let n: i64 = app.db(move |c| {
        field_defs::table
            .filter(field_defs::service_id.eq(fx.service_id))
            .filter(field_defs::is_system.eq(false))
            .count()
            .get_result(c)
    });
    assert_eq!(n, 0);
    // An edit with bad input keeps the stored field.
    let name = field_id(&app, fx.service_id, "name");
    let r = admin
        .post_form(
            &format!("{FIELDS}/{name}"),
            &[("max_length", "abc"), ("label_en", "Full name")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.has("input[name=label_en][value=\"Full name\"]"));
    assert_eq!(field(&app, fx.service_id, name).max_length, 100);
}

#[actix_web::test]
async fn layouts_keep_intake_first_and_consent_last_and_inherit_down_the_tree() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let admin = app.login("admin").await;
    let sid = fx.service_id;
    let gi = general_inquiry(&app, sid);
    let child = add_intake_child(&app, sid, gi, "Refunds");
    let order = custom(
        &app,
        sid,
        Audience::Customer,
        Control::Text,
        "orderNumber",
        false,
        &[],
    );
    let id = |code: &str| field_id(&app, sid, code);
    let (category, consent, subject, content, mail, name) = (
        id("category"),
        id("personalAgree"),
        id("subject"),
        id("content"),
        id("mail"),
        id("name"),
    );

    let overview = admin.get(&format!("{FIELDS}/layouts")).await;
    assert_eq!(overview.status, 200);
    assert_eq!(
        overview.texts("#intake-layouts td.name a"),
        ["General inquiry", "Refunds"]
    );
    assert_eq!(
        overview.texts("#intake-layouts td.source"),
        ["Inherited", "Inherited"]
    );

    let page = admin.get(&format!("{FIELDS}/layouts/{gi}")).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("This intake type uses the"));
    assert_eq!(page.texts("#layout-fixed-first li").len(), 1);
    assert!(page.has(&format!("#f-add-field option[value=\"{order}\"]")));

    // Post an order that tries to move the fixed fields and leaves subject out.
    let ids: Vec<String> = [consent, order, content, category, mail, name]
        .iter()
        .map(i64::to_string)
        .collect();
    let mut fields: Vec<(&str, &str)> = ids.iter().map(|v| ("field_id", v.as_str())).collect();
    let r = admin
        .post_form(&format!("{FIELDS}/layouts/{gi}"), &fields)
        .await;
    assert_eq!(
        (r.status, r.location()),
        (303, format!("{FIELDS}/layouts/{gi}"))
    );
    let def = form(&app, sid, gi, Lang::En);
    assert_eq!(
        codes(&def),
        [
            "category",
            "orderNumber",
            "content",
            "mail",
            "name",
            "subject",
            "personalAgree"
        ]
    );
    // The child inherits its parent's layout.
    assert_eq!(codes(&form(&app, sid, child, Lang::En)), codes(&def));
    let child_page = admin.get(&format!("{FIELDS}/layouts/{child}")).await;
    assert!(
        child_page
            .text
            .contains("This intake type uses the layout of")
    );
    assert!(child_page.has(&format!("#layout-source a[href$=\"/layouts/{gi}\"]")));

    // No-JS buttons: move down, remove (subject and content have no remove button).
    let page = admin.get(&format!("{FIELDS}/layouts/{gi}")).await;
    assert!(page.has(&format!("button[name=remove][value=\"{order}\"]")));
    assert!(!page.has(&format!("button[name=remove][value=\"{subject}\"]")));
    let current: Vec<String> = page
        .doc()
        .select(&scraper::Selector::parse("#layout-fields input[name=field_id]").unwrap())
        .map(|e| e.value().attr("value").unwrap().to_string())
        .collect();
    fields = current.iter().map(|v| ("field_id", v.as_str())).collect();
    let order_s = order.to_string();
    let mut down = fields.clone();
    down.push(("down", &order_s));
    admin
        .post_form(&format!("{FIELDS}/layouts/{gi}"), &down)
        .await;
    assert_eq!(
        codes(&form(&app, sid, gi, Lang::En))[1..3],
        ["content".to_string(), "orderNumber".to_string()]
    );
    let subject_s = subject.to_string();
    let mut remove = fields.clone();
    remove.push(("remove", &order_s));
    remove.push(("remove", &subject_s));
    let r = admin
        .post_form(&format!("{FIELDS}/layouts/{gi}"), &remove)
        .await;
    assert_eq!(r.status, 303);
    let c = codes(&form(&app, sid, gi, Lang::En));
    assert!(!c.contains(&"orderNumber".to_string()) && c.contains(&"subject".to_string()));

    // Add it back at the end (before consent).
    let r = admin
        .post_form(
            &format!("{FIELDS}/layouts/{gi}/add"),
            &[("field_id", &order_s)],
        )
        .await;
    assert_eq!(r.status, 303);
    let c = codes(&form(&app, sid, gi, Lang::En));
    assert_eq!(
        c[c.len() - 2..],
        ["orderNumber".to_string(), "personalAgree".to_string()]
    );

    // The child gets its own layout; then goes back to inheriting.
    let name_s = name.to_string();
    let subject_only = [
        ("field_id", subject_s.as_str()),
        ("field_id", name_s.as_str()),
    ];
    admin
        .post_form(&format!("{FIELDS}/layouts/{child}"), &subject_only)
        .await;
    assert_eq!(
        codes(&form(&app, sid, child, Lang::En)),
        ["category", "subject", "name", "content", "personalAgree"]
    );
    let overview = admin.get(&format!("{FIELDS}/layouts")).await;
    assert_eq!(
        overview.texts("#intake-layouts td.source"),
        ["Own layout", "Own layout"]
    );
    let r = admin
        .post_form(&format!("{FIELDS}/layouts/{child}/inherit"), &[])
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(codes(&form(&app, sid, child, Lang::En)), c);
    // The default layout has nothing to inherit from.
    assert_eq!(
        admin
            .post_form(&format!("{FIELDS}/layouts/default/inherit"), &[])
            .await
            .status,
        400
    );

    // The default layout applies once the parent drops its own layout too.
    admin
        .post_form(&format!("{FIELDS}/layouts/{gi}/inherit"), &[])
        .await;
    let mail_s = mail.to_string();
    admin
        .post_form(
            &format!("{FIELDS}/layouts/default"),
            &[
                ("field_id", mail_s.as_str()),
                ("field_id", subject_s.as_str()),
            ],
        )
        .await;
    assert_eq!(
        codes(&form(&app, sid, child, Lang::En)),
        ["category", "mail", "subject", "content", "personalAgree"]
    );

    // Unknown scopes and other services' categories are not found.
    assert_eq!(
        admin.get(&format!("{FIELDS}/layouts/999999")).await.status,
        404
    );
    assert_eq!(
        admin.get(&format!("{FIELDS}/layouts/nope")).await.status,
        404
    );
    let other = create_service(&app, "other", ServiceKind::Consultation, vec![Lang::En]);
    let foreign = general_inquiry(&app, other);
    assert_eq!(
        admin
            .get(&format!("{FIELDS}/layouts/{foreign}"))
            .await
            .status,
        404
    );
    assert_eq!(
        admin
            .post_form(
                &format!("{FIELDS}/layouts/{foreign}"),
                &[("field_id", &mail_s)]
            )
            .await
            .status,
        404
    );
    let svc = service(&app, sid);
    assert!(
        app.db(move |c| customer_form(c, &svc, foreign, Lang::En))
            .is_none()
    );
}

#[actix_web::test]
async fn a_reorder_through_htmx_returns_the_card() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let admin = app.login("admin").await;
    let gi = general_inquiry(&app, fx.service_id);
    let mail = field_id(&app, fx.service_id, "mail").to_string();
    let token = admin.csrf().await;
    let r = admin
        .post_form_raw(
            &format!("{FIELDS}/layouts/{gi}"),
            &[("field_id", mail.as_str()), ("csrf_token", token.as_str())],
            &[("HX-Request", "true")],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.has("section#layout-card"));
    assert_eq!(
        r.texts("#layout-fields .item-label"),
        ["E-mail", "Subject", "Inquiry"]
    );
    assert!(r.has("#layout-inherit"));
}

#[actix_web::test]
async fn the_agent_layout_keeps_resolution_type_and_priority_on_top() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let admin = app.login("admin").await;
    let a = custom(
        &app,
        fx.service_id,
        Audience::Agent,
        Control::Text,
        "cause",
        false,
        &[],
    );
    let b = custom(
        &app,
        fx.service_id,
        Audience::Agent,
        Control::Date,
        "followUp",
        false,
        &[],
    );
    let page = admin.get(&format!("{FIELDS}/agent-layout")).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.texts("#agent-fixed li").len(), 2);
    assert_eq!(
        page.texts("#agent-fields .item-label"),
        ["cause label", "followUp label"]
    );

    let (a_s, b_s) = (a.to_string(), b.to_string());
    let r = admin
        .post_form(
            &format!("{FIELDS}/agent-layout"),
            &[
                ("field_id", a_s.as_str()),
                ("field_id", b_s.as_str()),
                ("up", b_s.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let svc = service(&app, fx.service_id);
    let order: Vec<String> = app
        .db(move |c| agent_form(c, &svc, Lang::En))
        .iter()
        .map(|f| f.code.clone())
        .collect();
    assert_eq!(order, ["resolutionType", "priority", "followUp", "cause"]);
    // A hidden agent field leaves the console form.
    let r = admin
        .post_form(
            &format!("{FIELDS}/{a}"),
            &[
                ("label_en", "Cause"),
                ("max_length", "5"),
                ("agent_permission", "admin"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let svc = service(&app, fx.service_id);
    let order: Vec<String> = app
        .db(move |c| agent_form(c, &svc, Lang::En))
        .iter()
        .map(|f| f.code.clone())
        .collect();
    assert_eq!(order, ["resolutionType", "priority", "followUp"]);
    let token = admin.csrf().await;
    let r = admin
        .post_form_raw(
            &format!("{FIELDS}/agent-layout"),
            &[("field_id", a_s.as_str()), ("csrf_token", token.as_str())],
            &[("HX-Request", "true")],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.texts("#agent-fields .item-label"),
        ["Cause", "followUp label"]
    );
}

#[actix_web::test]
async fn one_validator_reports_every_control_type() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let sid = fx.service_id;
    let controls = [
        (Control::Text, "cText"),
        (Control::Textarea, "cLong"),
        (Control::Checkbox, "cCheck"),
        (Control::Dropdown, "cDrop"),
        (Control::Radio, "cRadio"),
        (Control::Date, "cDate"),
        (Control::Datetime, "cDatetime"),
        (Control::DatePeriod, "cDates"),
        (Control::DatetimePeriod, "cTimes"),
        (Control::Agree, "cAgree"),
        (Control::File, "cFile"),
    ];
    let mut ids = Vec::new();
    for (control, code) in controls {
        ids.push(custom(
            &app,
            sid,
            Audience::Customer,
            control,
            code,
            true,
            &["a", "b"],
        ));
    }
    let gi = general_inquiry(&app, sid);
    let gi_s = gi.to_string();
    let id_strings: Vec<String> = ids.iter().map(i64::to_string).collect();
    let admin = app.login("admin").await;
    for s in &id_strings {
        admin
            .post_form(
                &format!("{FIELDS}/layouts/{gi}/add"),
                &[("field_id", s.as_str())],
            )
            .await;
    }
    let def = form(&app, sid, gi, Lang::En);
    assert_eq!(def.fields.len(), 8 + 11);

    // Every value wrong: one failure per field, with the stable codes.
    let bad = |code: &str| -> RawValue {
        match code {
            "category" => RawValue::text("x"),
            "mail" => RawValue::text("not-an-address"),
            "phone" => RawValue::text("call me"),
            "subject" | "content" => RawValue::Missing,
            "personalAgree" => RawValue::text("false"),
            "cText" => RawValue::text("too long"),
            "cLong" => RawValue::text(" "),
            "cCheck" => RawValue::Many(vec!["a".into(), "z".into()]),
            "cDrop" | "cRadio" => RawValue::text("z"),
            "cDate" => RawValue::text("2024-02-30"),
            "cDatetime" => RawValue::text("2024-02-01 24:00"),
            "cDates" => RawValue::text("2024-02-03 ~ 2024-02-01"),
            "cTimes" => RawValue::Period {
                from: "2024-02-01 10:00".into(),
                to: String::new(),
            },
            "cAgree" => RawValue::Missing,
            "cFile" => RawValue::Files((0..6).map(|i| format!("f{i}")).collect()),
            _ => RawValue::Missing,
        }
    };
    let failures = def.validate_all(|f| bad(&f.code)).unwrap_err();
    let got: Vec<(String, &str)> = failures
        .iter()
        .map(|f| (f.code.clone(), f.error.code()))
        .collect();
    let want = [
        ("category", "invalid_option"),
        ("mail", "invalid_email"),
        ("phone", "invalid_phone"),
        ("subject", "required"),
        ("content", "required"),
        ("cText", "too_long"),
        ("cLong", "required"),
        ("cCheck", "invalid_option"),
        ("cDrop", "invalid_option"),
        ("cRadio", "invalid_option"),
        ("cDate", "invalid_date"),
        ("cDatetime", "invalid_datetime"),
        ("cDates", "invalid_period"),
        ("cTimes", "invalid_period"),
        ("cAgree", "consent_required"),
        ("cFile", "too_many_files"),
        ("personalAgree", "consent_required"),
    ];
    for (code, error) in want {
        assert!(
            got.contains(&(code.to_string(), error)),
            "{code} should fail with {error}: {got:?}"
        );
    }
    // The Open API words and keys (API.md §1.6).
    let mail_failure = failures.iter().find(|f| f.code == "mail").unwrap();
    assert_eq!(
        mail_failure.error.api_key("mail"),
        "validate.ticket.mail.invalid"
    );
    assert_eq!(FieldError::TooLong { max: 5 }.api_validate(), "length");

    // Every value right.
    let good = |code: &str| -> RawValue {
        match code {
            "category" => RawValue::text(gi_s.clone()),
            "mail" => RawValue::text("ann@example.com"),
            "phone" => RawValue::text("010-1234-5678"),
            "subject" => RawValue::text("Refund"),
            "content" => RawValue::text("Where is it?"),
            "personalAgree" | "cAgree" => RawValue::text("on"),
            "cText" => RawValue::text("short"),
            "cLong" => RawValue::text("line one\nline two"),
            "cCheck" => RawValue::from_json(&serde_json::json!(["b", "a"])),
            "cDrop" | "cRadio" => RawValue::text("a"),
            "cDate" => RawValue::text("2024-02-29"),
            "cDatetime" => RawValue::text("2024-02-01T23:59"),
            "cDates" => RawValue::text("2024-02-01 ~ 2024-02-03"),
            "cTimes" => RawValue::Period {
                from: "2024-02-01 10:00".into(),
                to: "2024-02-01 10:00".into(),
            },
            "cFile" => RawValue::Files(vec!["3f1c0d9e8b7a4c6d".into()]),
            _ => RawValue::Missing,
        }
    };
    let values = def.validate_all(|f| good(&f.code)).unwrap();
    let get = |code: &str| {
        values
            .iter()
            .find(|(f, _)| f.code == code)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(
        get("cCheck"),
        StoredValue::Many(vec!["a".into(), "b".into()])
    );
    assert_eq!(
        get("cDatetime"),
        StoredValue::Text("2024-02-01 23:59".into())
    );
    assert_eq!(get("personalAgree"), StoredValue::Bool(true));
    assert_eq!(get("name"), StoredValue::Empty);
}

#[actix_web::test]
async fn personal_values_are_encrypted_at_rest_and_masked_in_lists() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let mail = field(&app, fx.service_id, field_id(&app, fx.service_id, "mail"));
    let subject = field(
        &app,
        fx.service_id,
        field_id(&app, fx.service_id, "subject"),
    );
    let secret = &app.state.secret;
    let value = StoredValue::Text("ann.lee@example.com".into());
    let stored = store_value(secret, &mail, &value);
    assert!(stored.starts_with("v1:") && !stored.contains("ann"));
    assert_eq!(read_value(secret, &mail, &stored), value);
    assert_eq!(decrypt_value(secret, &stored), "ann.lee@example.com");
    // Non-personal values are stored as they are; reading tolerates either form.
    let plain = store_value(secret, &subject, &StoredValue::Text("Refund".into()));
    assert_eq!(plain, "Refund");
    assert_eq!(
        read_value(secret, &mail, "old plain value"),
        StoredValue::Text("old plain value".into())
    );
    assert_eq!(store_value(secret, &mail, &StoredValue::Empty), "");
    assert_eq!(mask("ann.lee@example.com"), "an***@example.com");
    assert_eq!(mask("010-1234-5678"), "010-****-5678");
    assert_eq!(
        opencontact::fields::personal::list_text(&mail, "홍길동"),
        "홍*동"
    );
    assert_eq!(
        opencontact::fields::personal::list_text(&subject, "Refund"),
        "Refund"
    );
}

#[actix_web::test]
async fn labels_follow_the_form_language_with_a_fallback() {
    let app = TestApp::spawn().await;
    let _fx = app.setup();
    let sid = create_service(
        &app,
        "multi",
        ServiceKind::Consultation,
        vec![Lang::Ko, Lang::Ja],
    );
    let lee = app.create_member("lee", "Lee", false);
    app.add_to_service(sid, lee, "admin");
    let c = app.login("lee").await;
    let base = "/multi/console/settings/fields";
    let blank = c
        .get(&format!("{base}/new?audience=customer&control=radio"))
        .await;
    assert!(blank.has("input[name=label_ko]") && blank.has("input[name=label_ja]"));
    assert!(!blank.has("input[name=label_en]"));
    let r = c
        .post_form(
            &format!("{base}/new"),
            &[
                ("audience", "customer"),
                ("control", "radio"),
                ("code", "visit"),
                ("label_ko", "방문 여부"),
                ("label_ja", ""),
                ("opt_value", "yes"),
                ("opt_label_ko", "예"),
                ("opt_label_ja", "はい"),
                ("visible", "on"),
                ("add_to_default", "on"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let gi = general_inquiry(&app, sid);
    let ja = form(&app, sid, gi, Lang::Ja);
    let visit = ja.field("visit").unwrap();
    // No Japanese label: the service's default language (Korean) is used.
    assert_eq!(visit.label, "방문 여부");
    assert_eq!(visit.options[0].label, "はい");
    assert_eq!(ja.fields[0].label, "お問い合わせ種別");
    let ko = form(&app, sid, gi, Lang::Ko);
    assert_eq!(ko.field("visit").unwrap().options[0].label, "예");
    // A choice may be given by its label in the form's language.
    assert_eq!(
        visit.validate(&RawValue::text("はい"), Lang::Ja),
        Ok(StoredValue::Text("yes".into()))
    );
}

#[actix_web::test]
async fn who_may_open_the_field_pages() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let kim = app.create_member("kim", "Kim Agent", false);
    app.add_to_service(fx.service_id, kim, "agent");
    let other = create_service(&app, "other", ServiceKind::Consultation, vec![Lang::En]);
    let lee = app.create_member("lee", "Lee Other", false);
    app.add_to_service(other, lee, "admin");
    let issue = create_service(&app, "second", ServiceKind::Issue, vec![Lang::En]);
    app.add_to_service(issue, fx.admin_id, "admin");
    let mail = field_id(&app, fx.service_id, "mail");
    let gi = general_inquiry(&app, fx.service_id);

    let agent = app.login("kim").await;
    let outsider = app.login("lee").await;
    let pages = [
        FIELDS.to_string(),
        format!("{FIELDS}?audience=agent"),
        format!("{FIELDS}/new?audience=customer"),
        format!("{FIELDS}/new?audience=customer&control=text"),
        format!("{FIELDS}/{mail}"),
        format!("{FIELDS}/{mail}/delete"),
        format!("{FIELDS}/layouts"),
        format!("{FIELDS}/layouts/default"),
        format!("{FIELDS}/layouts/{gi}"),
        format!("{FIELDS}/agent-layout"),
    ];
    for page in &pages {
        assert_eq!(agent.get(page).await.status, 403, "agent on {page}");
        assert_eq!(outsider.get(page).await.status, 403, "outsider on {page}");
        let anon = app.client().get(page).await;
        assert_eq!(anon.status, 303, "signed out on {page}");
        assert!(anon.location().starts_with("/login?next="));
    }
    // The agent sees no menu entry; the outsider administers their own service's fields.
    assert!(!agent.get("/demo/console/").await.text.contains(FIELDS));
    assert_eq!(
        outsider.get("/other/console/settings/fields").await.status,
        200
    );

    let mail_s = mail.to_string();
    let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            format!("{FIELDS}/new"),
            vec![
                ("audience", "customer"),
                ("control", "text"),
                ("code", "sneaky"),
                ("label_en", "Sneaky"),
                ("max_length", "10"),
            ],
        ),
        (
            format!("{FIELDS}/{mail}"),
            vec![("label_en", "Hacked"), ("max_length", "50")],
        ),
        (format!("{FIELDS}/{mail}/reset"), vec![]),
        (format!("{FIELDS}/{mail}/delete"), vec![]),
        (
            format!("{FIELDS}/layouts/{gi}"),
            vec![("field_id", mail_s.as_str())],
        ),
        (
            format!("{FIELDS}/layouts/{gi}/add"),
            vec![("field_id", mail_s.as_str())],
        ),
        (format!("{FIELDS}/layouts/{gi}/inherit"), vec![]),
        (format!("{FIELDS}/agent-layout"), vec![]),
    ];
    let admin = app.login("admin").await;
    let _ = admin.get(FIELDS).await;
    for (path, fields) in &posts {
        assert_eq!(
            agent.post_form(path, fields).await.status,
            403,
            "agent POST {path}"
        );
        assert_eq!(
            outsider.post_form(path, fields).await.status,
            403,
            "outsider POST {path}"
        );
        let anon = app.client().post_form(path, fields).await;
        assert!(
            matches!(anon.status, 303 | 403),
            "signed out POST {path}: {}",
            anon.status
        );
        assert_eq!(
            admin.post_form_raw(path, fields, &[]).await.status,
            403,
            "no CSRF token on {path}"
        );
    }
    // Nothing changed.
    let f = field(&app, fx.service_id, mail);
    assert_eq!(f.labels.get(Lang::En), Some("E-mail"));
    assert!(
        app.db(move |c| FieldDef::find_by_code(c, fx.service_id, "sneaky"))
            .is_none()
    );
    let own: i64 = app.db(move |c| {
        field_layouts::table
            .filter(field_layouts::category_id.eq(gi))
            .count()
            .get_result(c)
    });
    assert_eq!(own, 0);

    // Issue-management services have no field catalogue here.
    assert_eq!(
        admin.get("/second/console/settings/fields").await.status,
        404
    );
    assert!(
        !admin
            .get("/second/console/settings/agents")
            .await
            .text
            .contains("/settings/fields")
    );
}

#[actix_web::test]
async fn layouts_are_reordered_by_dragging_in_the_browser() {
    use fantoccini::Locator;
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let gi = general_inquiry(&app, fx.service_id);
    custom(
        &app,
        fx.service_id,
        Audience::Customer,
        Control::Dropdown,
        "device",
        true,
        &["ios", "android"],
    );
    let b = crate::support::browser::Browser::start().await;
    let layout = format!("{FIELDS}/layouts/{gi}");
    b.sign_in(&app.base, "admin", &layout).await;
    b.wait_css("#layout-fields[data-sortable-ready]").await;
    // What SortableJS does at the end of a drag: the item moves, the form gets `sorted`; htmx
    // swaps the whole card, which now says the intake type has its own layout.
    b.client
        .execute(
            "const ol = document.querySelector('#layout-fields');
             ol.insertBefore(ol.lastElementChild, ol.firstElementChild);
             document.querySelector('#layout-card').setAttribute('data-before-swap', '1');
             htmx.trigger(document.querySelector('#layout-order'), 'sorted');",
            vec![],
        )
        .await
        .unwrap();
    b.wait_css("#layout-card:not([data-before-swap]) #layout-inherit")
        .await;
    let c = codes(&form(&app, fx.service_id, gi, Lang::En));
    assert_eq!(c[1], "attachment", "{c:?}");
    assert_eq!(
        (c[0].as_str(), c[c.len() - 1].as_str()),
        ("category", "personalAgree")
    );
    // The swapped list is sortable again once htmx settles (bounded wait).
    b.wait_css("#layout-fields[data-sortable-ready='1']").await;
    b.screenshot("fields-layout").await;

    // The options of a choice field are dragged without saving; the save keeps the new order.
    let device = field_id(&app, fx.service_id, "device");
    b.client
        .goto(&format!("{}{FIELDS}/{device}", app.base))
        .await
        .unwrap();
    b.wait_css("#options ol[data-sortable-ready]").await;
    b.client
        .execute(
            "const ol = document.querySelector('#options ol');
             ol.insertBefore(ol.children[1], ol.children[0]);",
            vec![],
        )
        .await
        .unwrap();
    b.screenshot("fields-edit").await;
    b.client
        .find(Locator::Css("#field-form button.primary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let flash = b.wait_css(".flash-success").await;
    assert!(flash.text().await.unwrap().contains("was saved"));
    let f = field(&app, fx.service_id, device);
    assert_eq!(
        f.options
            .iter()
            .map(|o| o.value.as_str())
            .collect::<Vec<_>>(),
        ["android", "ios"]
    );
    b.client
        .goto(&format!("{}{FIELDS}", app.base))
        .await
        .unwrap();
    b.wait_css("#fields").await;
    b.screenshot("fields-list").await;
    b.close().await;
}

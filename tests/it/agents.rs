//! Service Management → Agents, Groups, Menu access and Login history: who may open them, what
//! they store, the permission rules of SPEC §1.3 and the audit rows they write.

use diesel::prelude::*;
use opencontact::db::schema::{
    agent_groups, group_members, menu_restrictions, permission_audit, service_members, users,
};
use opencontact::db::types::{EditorType, Menu, ServiceKind};
use opencontact::db::types::{ServiceId, UserId};
use opencontact::i18n::Lang;
use opencontact::tenancy::member::Member;
use opencontact::tenancy::service::{NewService, Service};

use crate::support::{Client, PASSWORD, TestApp};

const AGENTS: &str = "/demo/console/settings/agents";
const GROUPS: &str = "/demo/console/settings/groups";
const MENUS: &str = "/demo/console/settings/menu-access";
const HISTORY: &str = "/demo/console/settings/login-history";

fn member(app: &TestApp, service_id: i64, user_id: i64) -> Option<Member> {
    app.db(|c| Member::find(c, ServiceId(service_id), UserId(user_id)))
}

fn create_service(app: &TestApp, code: &str) -> i64 {
    let new = NewService {
        code: code.into(),
        kind: ServiceKind::Consultation,
        name: format!("{code} service"),
        languages: vec![Lang::En],
        default_lang: Lang::En,
        timezone: "UTC".into(),
        editor_type: EditorType::Html,
    };
    app.state
        .db
        .write_blocking(|c| Service::create(c, &new))
        .unwrap()
}

fn audit_rows(app: &TestApp) -> Vec<(String, String, String, String)> {
    app.db(|c| {
        permission_audit::table
            .order(permission_audit::id.asc())
            .select((
                permission_audit::operation,
                permission_audit::target_name,
                permission_audit::before_value,
                permission_audit::after_value,
            ))
            .load(c)
    })
}

fn user_id(app: &TestApp, login: &str) -> i64 {
    let login = login.to_string();
    app.db(move |c| {
        users::table
            .filter(users::login.eq(login))
            .select(users::id)
            .first(c)
    })
}

async fn htmx_post(c: &Client, path: &str, fields: &[(&str, &str)]) -> crate::support::Resp {
    let token = c.csrf().await;
    let mut all = fields.to_vec();
    all.push(("csrf_token", &token));
    c.post_form_raw(path, &all, &[("HX-Request", "true")]).await
}

#[actix_web::test]
async fn admin_adds_edits_and_removes_an_agent_with_audit_rows() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let kim = app.create_member("kim", "Kim Minji", false);
    let admin = app.login("admin").await;

    let list = admin.get(AGENTS).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.texts("#agents td.login"), ["admin"]);

    // Search the organization's members, choose one, give a role and permissions.
    let found = admin.get(&format!("{AGENTS}/add?q=kim")).await;
    assert_eq!(found.status, 200);
    assert_eq!(found.texts("tr.candidate td:first-child"), ["Kim Minji"]);
    let chosen = admin.get(&format!("{AGENTS}/add?q=kim&user={kim}")).await;
    assert!(chosen.has("input[name=user_id]"));
    let kim_s = kim.to_string();
    let added = admin
        .post_form(
            &format!("{AGENTS}/add"),
            &[
                ("user_id", &kim_s),
                ("role", "agent"),
                ("perm_ticket", "on"),
                ("perm_forward", "on"),
                ("ticket_assignable", "on"),
            ],
        )
        .await;
    assert_eq!((added.status, added.location().as_str()), (303, AGENTS));
    let m = member(&app, fx.service_id, kim).expect("kim is a member");
    assert_eq!(m.role, "agent");
    assert!(m.perm_ticket && m.perm_forward && !m.perm_extract && !m.chat_assignable);
    let list = admin.get(&format!("{AGENTS}?q=minji")).await;
    assert_eq!(list.texts("#agents td.login"), ["kim"]);
    assert!(list.text.contains("Kim Minji was added to the service."));

    // Adding twice is refused beside the form.
    let again = admin
        .post_form(
            &format!("{AGENTS}/add"),
            &[("user_id", &kim_s), ("role", "agent")],
        )
        .await;
    assert_eq!(again.status, 422);
    assert_eq!(
        again.field_error("user_id"),
        "Already an agent of this service"
    );

    // Edit: permissions, then the role.
    let edit = admin.get(&format!("{AGENTS}/{kim}")).await;
    assert_eq!(edit.status, 200);
    assert!(edit.has("input[name=perm_forward][checked]"));
    let saved = admin
        .post_form(
            &format!("{AGENTS}/{kim}"),
            &[
                ("role", "agent"),
                ("perm_ticket", "on"),
                ("perm_extract", "on"),
                ("perm_view_logs", "on"),
                ("ticket_assignable", "on"),
                ("chat_assignable", "on"),
                ("assignment_control", "on"),
                ("cti_id", "kim.cti"),
                ("cti_no", "2001"),
            ],
        )
        .await;
    assert_eq!((saved.status, saved.location().as_str()), (303, AGENTS));
    let m = member(&app, fx.service_id, kim).unwrap();
    assert!(m.perm_extract && m.perm_view_logs && !m.perm_forward && m.assignment_control);
    let cti: (Option<String>, Option<String>) = app.db(|c| {
        users::table
            .find(kim)
            .select((users::cti_id, users::cti_no))
            .first(c)
    });
    assert_eq!(cti, (Some("kim.cti".into()), Some("2001".into())));
    let promoted = admin
        .post_form(
            &format!("{AGENTS}/{kim}"),
            &[
                ("role", "admin"),
                ("perm_ticket", "on"),
                ("perm_extract", "on"),
                ("perm_view_logs", "on"),
                ("assignment_control", "on"),
                ("cti_id", "kim.cti"),
                ("cti_no", "2001"),
            ],
        )
        .await;
    assert_eq!(promoted.status, 303);
    assert_eq!(member(&app, fx.service_id, kim).unwrap().role, "admin");

    // Remove: gone from the service, its groups and its menu restrictions.
    let gid: i64 = app.db(|c| {
        diesel::insert_into(agent_groups::table)
            .values((
                agent_groups::service_id.eq(fx.service_id),
                agent_groups::name.eq("Tier 1"),
                agent_groups::display_order.eq(0),
                agent_groups::created_at.eq(opencontact::db::now()),
                agent_groups::updated_at.eq(opencontact::db::now()),
            ))
            .returning(agent_groups::id)
            .get_result(c)
    });
    app.db(|c| {
        diesel::insert_into(group_members::table)
            .values((
                group_members::group_id.eq(gid),
                group_members::user_id.eq(kim),
                group_members::position.eq(0),
            ))
            .execute(c)?;
        diesel::insert_into(menu_restrictions::table)
            .values((
                menu_restrictions::service_id.eq(fx.service_id),
                menu_restrictions::menu.eq("tickets"),
                menu_restrictions::user_id.eq(kim),
            ))
            .execute(c)
    });
    let edit = admin.get(&format!("{AGENTS}/{kim}")).await;
    assert!(edit.has("form[data-confirm][action$=\"/remove\"]"));
    let removed = admin
        .post_form(&format!("{AGENTS}/{kim}/remove"), &[])
        .await;
    assert_eq!((removed.status, removed.location().as_str()), (303, AGENTS));
    assert!(member(&app, fx.service_id, kim).is_none());
    let leftovers: (i64, i64) = app.db(|c| {
        Ok((
            group_members::table
                .filter(group_members::user_id.eq(kim))
                .count()
                .get_result(c)?,
            menu_restrictions::table
                .filter(menu_restrictions::user_id.eq(kim))
                .count()
                .get_result(c)?,
        ))
    });
    assert_eq!(leftovers, (0, 0));
    assert_eq!(admin.get(&format!("{AGENTS}/{kim}")).await.status, 404);

    let audit = audit_rows(&app);
    let ops: Vec<&str> = audit.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        ops,
        [
            "agent_added",
            "agent_permissions_changed",
            "agent_role_changed",
            "agent_removed"
        ],
        "promoting with the same permissions changes only the role"
    );
    assert_eq!(
        audit[0],
        (
            "agent_added".into(),
            "Kim Minji".into(),
            "none".into(),
            "agent: ticket, forward".into()
        )
    );
    assert_eq!(
        (audit[1].2.as_str(), audit[1].3.as_str()),
        (
            "ticket, forward",
            "ticket, view_logs, extract, assignment_control"
        )
    );
    assert_eq!(
        (audit[2].2.as_str(), audit[2].3.as_str()),
        ("agent", "admin")
    );
    assert_eq!(audit[3].3, "none");
    assert_eq!(
        audit[3].2,
        "admin: ticket, view_logs, extract, assignment_control"
    );
}

#[actix_web::test]
async fn who_may_open_the_agent_pages() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let kim = app.create_member("kim", "Kim Agent", false);
    app.add_to_service(fx.service_id, kim, "agent");
    let other = create_service(&app, "other");
    let lee = app.create_member("lee", "Lee Other", false);
    app.add_to_service(other, lee, "admin");

    let agent = app.login("kim").await;
    let outsider = app.login("lee").await;
    let pages = [
        AGENTS.to_string(),
        format!("{AGENTS}/add"),
        format!("{AGENTS}/invite"),
        format!("{AGENTS}/{kim}"),
        GROUPS.to_string(),
        MENUS.to_string(),
        format!("{MENUS}/tickets"),
    ];
    for page in &pages {
        assert_eq!(agent.get(page).await.status, 403, "agent on {page}");
        assert_eq!(outsider.get(page).await.status, 403, "outsider on {page}");
        let anon = app.client().get(page).await;
        assert_eq!(anon.status, 303, "signed out on {page}");
        assert!(anon.location().starts_with("/login?next="));
    }
    // The outsider administers their own service fine.
    assert_eq!(
        outsider.get("/other/console/settings/agents").await.status,
        200
    );
    let posts: [(String, Vec<(&str, &str)>); 4] = [
        (
            format!("{AGENTS}/{kim}"),
            vec![("role", "admin"), ("perm_ticket", "on")],
        ),
        (format!("{AGENTS}/{kim}/remove"), vec![]),
        (GROUPS.to_string(), vec![("name", "Sneaky")]),
        (
            format!("{MENUS}/tickets"),
            vec![("mode", "partial"), ("user_id", "1")],
        ),
    ];
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
    }
    assert_eq!(member(&app, fx.service_id, kim).unwrap().role, "agent");

    // Without the CSRF token nothing is saved, even for the administrator.
    let admin = app.login("admin").await;
    let _ = admin.get(AGENTS).await;
    let r = admin
        .post_form_raw(
            &format!("{AGENTS}/{kim}"),
            &[("role", "admin"), ("perm_ticket", "on")],
            &[],
        )
        .await;
    assert_eq!(r.status, 403);
    let r = admin
        .post_form_raw(GROUPS, &[("name", "No token")], &[])
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(member(&app, fx.service_id, kim).unwrap().role, "agent");
}

#[actix_web::test]
async fn an_org_admin_manages_agents_without_being_a_member() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let boss = app.create_member("boss", "Org Boss", true);
    let kim = app.create_member("kim", "Kim Agent", false);
    app.add_to_service(fx.service_id, kim, "agent");
    let c = app.login("boss").await;
    let list = c.get(AGENTS).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.texts("#agents td.login"), ["admin", "kim"]);
    assert_eq!(c.get(GROUPS).await.status, 200);
    let saved = c
        .post_form(
            &format!("{AGENTS}/{kim}"),
            &[
                ("role", "agent"),
                ("perm_ticket", "on"),
                ("perm_forward", "on"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303);
    assert!(member(&app, fx.service_id, kim).unwrap().perm_forward);
    // …but consultation and service settings need a service role.
    assert_eq!(c.get("/demo/console/").await.status, 403);
    assert_eq!(c.get(MENUS).await.status, 403);
    assert_eq!(c.get(HISTORY).await.status, 403);
    assert!(member(&app, fx.service_id, boss).is_none());
}

#[actix_web::test]
async fn permission_rules_and_bad_input() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    app.set_features(fx.service_id, &["phone", "chat"], &[]);
    let kim = app.create_member("kim", "Kim Agent", false);
    let lee = app.create_member("lee", "Lee Agent", false);
    app.add_to_service(fx.service_id, kim, "agent");
    app.add_to_service(fx.service_id, lee, "agent");
    app.db(|c| {
        diesel::update(users::table.find(lee))
            .set((users::cti_id.eq("lee01"), users::cti_no.eq("3001")))
            .execute(c)
    });
    let admin = app.login("admin").await;
    let kim_edit = format!("{AGENTS}/{kim}");

    let form = admin.get(&kim_edit).await;
    assert!(form.has("input[name=perm_phone]") && form.has("input[name=perm_chat]"));

    // Duplicate CTI ID and NO across members: field errors, nothing saved.
    let dup = admin
        .post_form(
            &kim_edit,
            &[
                ("role", "agent"),
                ("perm_ticket", "on"),
                ("perm_forward", "on"),
                ("cti_id", "lee01"),
                ("cti_no", "3001"),
            ],
        )
        .await;
    assert_eq!(dup.status, 422);
    assert_eq!(
        dup.field_error("cti_id"),
        "Another member already uses this CTI ID."
    );
    assert_eq!(
        dup.field_error("cti_no"),
        "Another member already uses this CTI NO."
    );
    assert!(
        dup.has("input[name=perm_forward][checked]"),
        "the form keeps what was typed"
    );
    assert!(!member(&app, fx.service_id, kim).unwrap().perm_forward);
    let bad = admin
        .post_form(
            &kim_edit,
            &[
                ("role", "agent"),
                ("cti_id", "has space"),
                ("cti_no", "12a"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(!bad.field_error("cti_id").is_empty());
    assert_eq!(bad.field_error("cti_no"), "Use digits only, at most 20.");

    // Callback assignment needs phone for an agent.
    let cb = admin
        .post_form(
            &kim_edit,
            &[
                ("role", "agent"),
                ("perm_ticket", "on"),
                ("perm_callback_assign", "on"),
            ],
        )
        .await;
    assert_eq!(cb.status, 422);
    assert_eq!(
        cb.field_error("perm_callback_assign"),
        "An agent needs the phone permission to get callback assignment."
    );
    assert!(
        !member(&app, fx.service_id, kim)
            .unwrap()
            .perm_callback_assign
    );

    // Phone implies ticket, and then callback assignment is allowed.
    let ok = admin
        .post_form(
            &kim_edit,
            &[
                ("role", "agent"),
                ("perm_phone", "on"),
                ("perm_callback_assign", "on"),
                ("cti_id", "kim01"),
                ("cti_no", "3002"),
            ],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.text);
    let m = member(&app, fx.service_id, kim).unwrap();
    assert!(m.perm_phone && m.perm_ticket && m.perm_callback_assign);
    // An administrator may have callback assignment without phone.
    let adm = admin
        .post_form(
            &format!("{AGENTS}/{lee}"),
            &[
                ("role", "admin"),
                ("perm_ticket", "on"),
                ("perm_callback_assign", "on"),
                ("cti_id", "lee01"),
                ("cti_no", "3001"),
            ],
        )
        .await;
    assert_eq!(adm.status, 303);
    // Clearing CTI values frees them for others.
    let cleared = admin
        .post_form(
            &format!("{AGENTS}/{lee}"),
            &[
                ("role", "admin"),
                ("perm_ticket", "on"),
                ("cti_id", ""),
                ("cti_no", ""),
            ],
        )
        .await;
    assert_eq!(cleared.status, 303);
    let cti: Option<String> = app.db(|c| users::table.find(lee).select(users::cti_id).first(c));
    assert_eq!(cti, None);

    // Unknown role.
    let role = admin
        .post_form(&kim_edit, &[("role", "owner"), ("perm_ticket", "on")])
        .await;
    assert_eq!(role.status, 422);
    assert_eq!(role.field_error("role"), "Choose one of the options.");

    // The last administrator can be neither demoted nor removed.
    let admin_id = fx.admin_id;
    app.db(|c| {
        diesel::update(
            service_members::table
                .filter(service_members::user_id.eq(lee))
                .filter(service_members::service_id.eq(fx.service_id)),
        )
        .set(service_members::role.eq("agent"))
        .execute(c)
    });
    let demote = admin
        .post_form(
            &format!("{AGENTS}/{admin_id}"),
            &[("role", "agent"), ("perm_ticket", "on")],
        )
        .await;
    assert_eq!(demote.status, 422);
    assert_eq!(
        demote.field_error("role"),
        "This is the service's last administrator; make someone else administrator first."
    );
    let remove = admin
        .post_form(&format!("{AGENTS}/{admin_id}/remove"), &[])
        .await;
    assert_eq!(remove.status, 422);
    assert_eq!(
        remove.field_error("remove"),
        "The service's last administrator cannot be removed."
    );
    assert_eq!(member(&app, fx.service_id, admin_id).unwrap().role, "admin");
    // Unknown agents and non-numeric ids are 404.
    assert_eq!(admin.get(&format!("{AGENTS}/999999")).await.status, 404);
    assert_eq!(admin.get(&format!("{AGENTS}/abc")).await.status, 404);
}

#[actix_web::test]
async fn an_invited_member_sets_a_password_and_works_in_the_service() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let admin = app.login("admin").await;
    // The group the new agent joins.
    let created = admin.post_form(GROUPS, &[("name", "Billing")]).await;
    assert_eq!(created.status, 303);
    let gid: i64 = app.db(|c| agent_groups::table.select(agent_groups::id).first(c));

    let form = admin.get(&format!("{AGENTS}/invite")).await;
    assert_eq!(form.status, 200);
    assert!(form.has(&format!("input[name=group_id][value=\"{gid}\"]")));
    let bad = admin
        .post_form(
            &format!("{AGENTS}/invite"),
            &[
                ("name", ""),
                ("login", "admin"),
                ("email", "nope"),
                ("ui_lang", "xx"),
                ("role", "agent"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.field_error("name"), "This field is required.");
    assert_eq!(bad.field_error("login"), "This login ID is already in use.");
    assert_eq!(bad.field_error("email"), "Enter a valid e-mail address.");
    assert_eq!(bad.field_error("ui_lang"), "Choose one of the options.");

    let gid_s = gid.to_string();
    let sent = admin
        .post_form(
            &format!("{AGENTS}/invite"),
            &[
                ("name", "Park Newbie"),
                ("login", "park"),
                ("email", "park@acme.test"),
                ("ui_lang", "en"),
                ("role", "agent"),
                ("perm_ticket", "on"),
                ("perm_forward", "on"),
                ("perm_extract", "on"),
                ("ticket_assignable", "on"),
                ("group_id", &gid_s),
            ],
        )
        .await;
    assert_eq!((sent.status, sent.location().as_str()), (303, AGENTS));
    let list = admin.get(AGENTS).await;
    assert!(
        list.text
            .contains("Park Newbie was added. The invitation mail to park@acme.test is queued")
    );
    assert!(list.text.contains("Invitation pending"));
    let park = user_id(&app, "park");
    let m = member(&app, fx.service_id, park).unwrap();
    assert!(m.role == "agent" && m.perm_ticket && m.perm_forward && m.perm_extract);
    assert_eq!(audit_rows(&app)[0].3, "agent: ticket, forward, extract");

    let mail = &app.smtp.wait_for(1).await[0];
    assert_eq!(mail.to, vec!["park@acme.test".to_string()]);
    let path = mail
        .link_containing("/invite/")
        .unwrap()
        .trim_start_matches(&app.base)
        .to_string();
    let c = app.client();
    assert_eq!(c.get(&path).await.status, 200);
    let done = c
        .post_form(
            &path,
            &[("password", PASSWORD), ("password_confirm", PASSWORD)],
        )
        .await;
    assert_eq!(done.status, 303);
    let park_c = app.login("park").await;
    let home = park_c.get("/demo/console/").await;
    assert_eq!(home.status, 200);
    let badges = home.texts(".facts .badge");
    assert!(badges.contains(&"Agent".to_string()), "{badges:?}");
    assert!(badges.contains(&"Billing".to_string()), "{badges:?}");
    assert!(badges.contains(&"Ticket forwarding".to_string()));
    // An agent sees Home, tickets and the help-center menus, and cannot open the settings.
    assert_eq!(
        home.texts(".sidebar a"),
        [
            "Home",
            "Tickets",
            "Help center: FAQ",
            "Help center: Notices",
            "Go to help center"
        ]
    );
    for page in [AGENTS, GROUPS, MENUS, HISTORY] {
        assert_eq!(park_c.get(page).await.status, 403, "{page}");
    }
}

#[actix_web::test]
async fn a_failed_invitation_mail_is_reported() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    // No mail server configured: the mail waits in the outbox, and the flash says so.
    app.db(|c| diesel::delete(opencontact::db::schema::smtp_settings::table).execute(c));
    let admin = app.login("admin").await;
    let r = admin
        .post_form(
            &format!("{AGENTS}/invite"),
            &[
                ("name", "Mail Less"),
                ("login", "mailless"),
                ("email", "mailless@acme.test"),
                ("ui_lang", "ko"),
                ("role", "admin"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let list = admin.get(AGENTS).await;
    let flash = list.texts(".flash-error");
    assert_eq!(flash.len(), 1, "{}", list.text);
    assert!(
        flash[0].starts_with("Mail Less was added, but no mail server is configured"),
        "{flash:?}"
    );
    // Invited administrators start with every permission, like Member::add_admin.
    let m = member(&app, fx.service_id, user_id(&app, "mailless")).unwrap();
    assert_eq!(m.role, "admin");
    assert!(m.perm_ticket && m.perm_chat && m.perm_forward && m.perm_view_logs && m.perm_extract);
    assert!(m.perm_callback_assign && m.assignment_control);
}

fn group_names(app: &TestApp, service_id: i64) -> Vec<String> {
    app.db(|c| {
        agent_groups::table
            .filter(agent_groups::service_id.eq(service_id))
            .order(agent_groups::display_order.asc())
            .select(agent_groups::name)
            .load(c)
    })
}

fn group_order(app: &TestApp, gid: i64) -> Vec<i64> {
    app.db(|c| {
        group_members::table
            .filter(group_members::group_id.eq(gid))
            .order(group_members::position.asc())
            .select(group_members::user_id)
            .load(c)
    })
}

#[actix_web::test]
async fn groups_are_created_ordered_and_filled() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let kim = app.create_member("kim", "Kim Agent", false);
    let lee = app.create_member("lee", "Lee Agent", false);
    let outsider = app.create_member("out", "Not Member", false);
    app.add_to_service(fx.service_id, kim, "agent");
    app.add_to_service(fx.service_id, lee, "agent");
    let admin = app.login("admin").await;

    assert_eq!(admin.get(GROUPS).await.status, 200);
    for name in ["Tier 1", "Tier 2", "VIP"] {
        let r = admin.post_form(GROUPS, &[("name", name)]).await;
        assert_eq!(r.status, 303);
        assert!(r.location().starts_with(&format!("{GROUPS}/")));
    }
    let dup = admin.post_form(GROUPS, &[("name", "tier 1")]).await;
    assert_eq!(dup.status, 422);
    assert!(dup.has("input[name=name][value=\"tier 1\"]"));
    assert!(admin.get(GROUPS).await.has("input[name=name][value=\"\"]"));
    assert_eq!(
        dup.field_error("name"),
        "This service already has a group with this name."
    );
    let long = "x".repeat(51);
    let too_long = admin.post_form(GROUPS, &[("name", &long)]).await;
    assert_eq!(too_long.status, 422);
    assert_eq!(too_long.field_error("name"), "At most 50 characters.");
    assert_eq!(admin.post_form(GROUPS, &[("name", "  ")]).await.status, 422);
    assert_eq!(
        group_names(&app, fx.service_id),
        ["Tier 1", "Tier 2", "VIP"]
    );
    let ids: Vec<i64> = app.db(|c| {
        agent_groups::table
            .order(agent_groups::display_order.asc())
            .select(agent_groups::id)
            .load(c)
    });
    let (t1, t2, vip) = (ids[0], ids[1], ids[2]);

    // Drag and drop: htmx posts the ids in their new order and gets the list back.
    let (s1, s2, s3) = (t1.to_string(), t2.to_string(), vip.to_string());
    let r = htmx_post(
        &admin,
        &format!("{GROUPS}/order"),
        &[("group_id", &s3), ("group_id", &s1), ("group_id", &s2)],
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.text.trim_start().starts_with("<form id=\"group-order\""));
    assert_eq!(r.texts("a.group-name"), ["VIP", "Tier 1", "Tier 2"]);
    assert_eq!(
        group_names(&app, fx.service_id),
        ["VIP", "Tier 1", "Tier 2"]
    );
    // Without JavaScript: the up button posts the same form.
    let r = admin
        .post_form(
            &format!("{GROUPS}/order"),
            &[
                ("group_id", &s3),
                ("group_id", &s1),
                ("group_id", &s2),
                ("up", &s2),
            ],
        )
        .await;
    assert_eq!((r.status, r.location().as_str()), (303, GROUPS));
    assert_eq!(
        group_names(&app, fx.service_id),
        ["VIP", "Tier 2", "Tier 1"]
    );
    let page = admin.get(GROUPS).await;
    assert_eq!(page.texts("a.group-name"), ["VIP", "Tier 2", "Tier 1"]);
    assert!(page.has("form[hx-post][hx-trigger=sorted] ul[data-sortable]"));

    // Members: only agents of the service join, in order.
    let detail = format!("{GROUPS}/{t1}");
    let page = admin.get(&detail).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.texts("label.candidate").len(), 3, "admin, kim, lee");
    let (k, l, o, a) = (
        kim.to_string(),
        lee.to_string(),
        outsider.to_string(),
        fx.admin_id.to_string(),
    );
    let r = admin
        .post_form(
            &format!("{detail}/members"),
            &[
                ("user_id", &k),
                ("user_id", &l),
                ("user_id", &o),
                ("user_id", &a),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(group_order(&app, t1), [kim, lee, fx.admin_id]);
    let r = htmx_post(
        &admin,
        &format!("{detail}/members/order"),
        &[("user_id", &a), ("user_id", &k), ("user_id", &l)],
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.texts("span.member-name"),
        ["Ada Admin", "Kim Agent", "Lee Agent"]
    );
    assert_eq!(group_order(&app, t1), [fx.admin_id, kim, lee]);
    let r = admin
        .post_form(
            &format!("{detail}/members/order"),
            &[
                ("user_id", &a),
                ("user_id", &k),
                ("user_id", &l),
                ("down", &a),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(group_order(&app, t1), [kim, fx.admin_id, lee]);
    let page = admin.get(&detail).await;
    assert_eq!(
        page.texts("span.member-name"),
        ["Kim Agent", "Ada Admin", "Lee Agent"]
    );
    // An agent may be in several groups; the list and the console show them.
    admin
        .post_form(&format!("{GROUPS}/{vip}/members"), &[("user_id", &k)])
        .await;
    let list = admin.get(&format!("{AGENTS}?q=kim")).await;
    assert_eq!(list.texts("#agents td.groups .badge"), ["VIP", "Tier 1"]);
    // The agent form sets group membership by checkboxes.
    let s_t2 = t2.to_string();
    let r = admin
        .post_form(
            &format!("{AGENTS}/{kim}"),
            &[
                ("role", "agent"),
                ("perm_ticket", "on"),
                ("group_id", &s_t2),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let kim_groups: Vec<i64> = app.db(|c| {
        group_members::table
            .filter(group_members::user_id.eq(kim))
            .select(group_members::group_id)
            .load(c)
    });
    assert_eq!(kim_groups, [t2]);

    // Remove a member, rename, delete.
    let r = admin
        .post_form(&format!("{detail}/members/remove"), &[("remove", &l)])
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(group_order(&app, t1), [fx.admin_id]);
    assert!(
        admin
            .get(&detail)
            .await
            .has("input[name=name][value=\"Tier 1\"]")
    );
    let r = admin.post_form(&detail, &[("name", "VIP")]).await;
    assert_eq!(r.status, 422);
    assert!(
        r.has("input[name=name][value=VIP]"),
        "the typed name is kept"
    );
    assert_eq!(
        r.field_error("name"),
        "This service already has a group with this name."
    );
    let r = admin.post_form(&detail, &[("name", "First line")]).await;
    assert_eq!(r.status, 303);
    assert_eq!(
        group_names(&app, fx.service_id),
        ["VIP", "Tier 2", "First line"]
    );
    let page = admin.get(&detail).await;
    assert!(page.has("form[data-confirm][action$=\"/delete\"]"));
    let r = admin.post_form(&format!("{detail}/delete"), &[]).await;
    assert_eq!((r.status, r.location().as_str()), (303, GROUPS));
    assert_eq!(group_names(&app, fx.service_id), ["VIP", "Tier 2"]);
    assert!(group_order(&app, t1).is_empty());
    assert_eq!(admin.get(&detail).await.status, 404);

    // Another service's groups are out of reach.
    let other = create_service(&app, "other");
    let foreign: i64 = app.db(|c| {
        diesel::insert_into(agent_groups::table)
            .values((
                agent_groups::service_id.eq(other),
                agent_groups::name.eq("Theirs"),
                agent_groups::display_order.eq(0),
                agent_groups::created_at.eq(opencontact::db::now()),
                agent_groups::updated_at.eq(opencontact::db::now()),
            ))
            .returning(agent_groups::id)
            .get_result(c)
    });
    assert_eq!(admin.get(&format!("{GROUPS}/{foreign}")).await.status, 404);
    let r = admin
        .post_form(&format!("{GROUPS}/{foreign}/delete"), &[])
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(group_names(&app, other), ["Theirs"]);
}

#[actix_web::test]
async fn menu_access_restricts_chosen_members() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let kim = app.create_member("kim", "Kim Agent", false);
    let lee = app.create_member("lee", "Lee Agent", false);
    let out = app.create_member("out", "Not Member", false);
    app.add_to_service(fx.service_id, kim, "agent");
    app.add_to_service(fx.service_id, lee, "agent");
    let admin = app.login("admin").await;
    let restricted = |uid: i64| {
        app.db(|c| opencontact::agents::menu_access::restricted_menus(c, fx.service_id, uid))
    };

    let page = admin.get(MENUS).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.texts("#menus tbody tr").len(), Menu::ALL.len());
    assert_eq!(page.texts("tr[data-menu=tickets] td.mode"), ["Allow all"]);
    assert_eq!(admin.get(&format!("{MENUS}/tickets")).await.status, 200);
    assert_eq!(admin.get(&format!("{MENUS}/nosuch")).await.status, 404);

    let (k, o) = (kim.to_string(), out.to_string());
    let none = admin
        .post_form(&format!("{MENUS}/tickets"), &[("mode", "partial")])
        .await;
    assert_eq!(none.status, 422);
    assert!(!none.field_error("user_id").is_empty());
    let bad = admin
        .post_form(&format!("{MENUS}/tickets"), &[("mode", "maybe")])
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.field_error("mode"), "Choose one of the options.");

    let r = admin
        .post_form(
            &format!("{MENUS}/tickets"),
            &[("mode", "partial"), ("user_id", &k), ("user_id", &o)],
        )
        .await;
    assert_eq!((r.status, r.location().as_str()), (303, MENUS));
    let r = admin
        .post_form(
            &format!("{MENUS}/statistics"),
            &[("mode", "partial"), ("user_id", &k)],
        )
        .await;
    assert_eq!(r.status, 303);
    let kim_menus = restricted(kim);
    assert_eq!(kim_menus.len(), 2);
    assert!(kim_menus.contains(&Menu::Tickets) && kim_menus.contains(&Menu::Statistics));
    assert!(restricted(lee).is_empty());
    assert!(restricted(out).is_empty(), "non-members are ignored");
    let page = admin.get(MENUS).await;
    assert_eq!(
        page.texts("tr[data-menu=tickets] td.mode"),
        ["Partially allow"]
    );
    assert_eq!(
        page.texts("tr[data-menu=tickets] td.restricted .badge"),
        ["Kim Agent (kim)"]
    );
    let edit = admin.get(&format!("{MENUS}/tickets")).await;
    assert!(edit.has(&format!("input[name=user_id][value=\"{kim}\"][checked]")));
    assert!(edit.has("input[name=mode][value=partial][checked]"));

    // Back to "allow all": the restriction is lifted.
    let r = admin
        .post_form(
            &format!("{MENUS}/tickets"),
            &[("mode", "all"), ("user_id", &k)],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(restricted(kim), [Menu::Statistics]);
    let audit = audit_rows(&app);
    assert_eq!(
        audit,
        [
            (
                "menu_restricted".to_string(),
                "Kim Agent".to_string(),
                "tickets: allowed".to_string(),
                "tickets: restricted".to_string()
            ),
            (
                "menu_restricted".into(),
                "Kim Agent".into(),
                "statistics: allowed".into(),
                "statistics: restricted".into()
            ),
            (
                "menu_unrestricted".into(),
                "Kim Agent".into(),
                "tickets: restricted".into(),
                "tickets: allowed".into()
            ),
        ]
    );

    // Only service administrators (not org admins who are not members, not agents).
    app.create_member("boss", "Org Boss", true);
    let boss = app.login("boss").await;
    assert_eq!(boss.get(MENUS).await.status, 403);
    let agent = app.login("kim").await;
    assert_eq!(agent.get(MENUS).await.status, 403);
    let r = agent
        .post_form(&format!("{MENUS}/statistics"), &[("mode", "all")])
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(restricted(kim), [Menu::Statistics]);
    let anon = app.client().get(MENUS).await;
    assert_eq!(anon.status, 303);
}

#[actix_web::test]
async fn login_history_needs_the_view_permission() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let kim = app.create_member("kim", "Kim Agent", false);
    app.add_to_service(fx.service_id, kim, "agent");
    let other = create_service(&app, "other");
    let lee = app.create_member("lee", "Lee Other", false);
    app.add_to_service(other, lee, "admin");
    app.db(|c| {
        diesel::update(service_members::table.filter(service_members::user_id.eq(lee)))
            .set(service_members::perm_view_logs.eq(true))
            .execute(c)
    });
    // Some history: a refused sign-in, sign-ins, a sign-out.
    let r = app
        .client()
        .post_form("/login", &[("login", "kim"), ("password", "wrong-pass-1")])
        .await;
    assert_eq!(r.status, 401);
    let agent = app.login("kim").await;
    let admin = app.login("admin").await;

    // The setup administrator has the view permission.
    let page = admin.get(HISTORY).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.texts("#history td.kind"),
        ["Signed in", "Signed in", "Sign-in refused"]
    );
    assert_eq!(
        page.texts("#history td.member .login"),
        ["admin", "kim", "kim"]
    );
    assert!(page.texts("#history td.member")[1].starts_with("Kim Agent"));
    assert_eq!(page.texts("#history td.ip")[0], "127.0.0.1");
    let failed = admin.get(&format!("{HISTORY}?kind=failed")).await;
    assert_eq!(failed.texts("#history td.kind"), ["Sign-in refused"]);
    let by_login = admin.get(&format!("{HISTORY}?q=KI")).await;
    assert_eq!(by_login.texts("#history td.kind").len(), 2);
    let nothing = admin.get(&format!("{HISTORY}?q=zzz")).await;
    assert!(nothing.has("p.empty"));

    // The agent without the flag: 403, and no menu link; with it: 200 and a link.
    assert_eq!(agent.get(HISTORY).await.status, 403);
    let home = agent.get("/demo/console/").await;
    assert_eq!(
        home.texts(".sidebar a"),
        [
            "Home",
            "Tickets",
            "Help center: FAQ",
            "Help center: Notices",
            "Go to help center"
        ]
    );
    app.db(|c| {
        diesel::update(service_members::table.filter(service_members::user_id.eq(kim)))
            .set(service_members::perm_view_logs.eq(true))
            .execute(c)
    });
    assert_eq!(agent.get(HISTORY).await.status, 200);
    let home = agent.get("/demo/console/").await;
    assert_eq!(
        home.texts(".sidebar a"),
        [
            "Home",
            "Tickets",
            "Help center: FAQ",
            "Help center: Notices",
            "Login history",
            "Go to help center"
        ]
    );
    // An administrator without the flag is refused too.
    app.db(|c| {
        diesel::update(service_members::table.filter(service_members::user_id.eq(fx.admin_id)))
            .set(service_members::perm_view_logs.eq(false))
            .execute(c)
    });
    assert_eq!(admin.get(HISTORY).await.status, 403);
    // A viewer of another service is refused here; signed out goes to the login page.
    let outsider = app.login("lee").await;
    assert_eq!(outsider.get(HISTORY).await.status, 403);
    assert_eq!(
        outsider
            .get("/other/console/settings/login-history")
            .await
            .status,
        200
    );
    assert_eq!(app.client().get(HISTORY).await.status, 303);
}

#[actix_web::test]
async fn login_history_pages_by_id() {
    let app = TestApp::spawn().await;
    app.setup();
    app.db(|c| {
        for i in 0..60 {
            opencontact::auth::history::record(
                c,
                None,
                &format!("ghost{i}"),
                opencontact::db::types::LoginEventKind::Failed,
                "10.0.0.1",
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
            )?;
        }
        Ok(())
    });
    let admin = app.login("admin").await;
    let first = admin.get(&format!("{HISTORY}?kind=failed")).await;
    assert_eq!(first.texts("#history tbody tr").len(), 50);
    assert_eq!(first.texts("#history td.member .login")[0], "ghost59");
    assert!(first.texts("#history td.ua")[0].ends_with('…'));
    let next = first
        .doc()
        .select(&scraper::Selector::parse("a[rel=next]").unwrap())
        .next()
        .and_then(|a| a.value().attr("href"))
        .unwrap()
        .to_string();
    assert!(next.contains("kind=failed"));
    let second = admin.get(&next).await;
    assert_eq!(second.texts("#history tbody tr").len(), 10);
    assert_eq!(second.texts("#history td.member .login")[9], "ghost0");
    assert!(!second.has("a[rel=next]"));
}

#[actix_web::test]
async fn the_agent_list_is_paginated_and_searchable() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    for i in 0..55 {
        let id = app.create_member(&format!("agent{i:02}"), &format!("Agent {i:02}"), false);
        app.add_to_service(fx.service_id, id, "agent");
    }
    let admin = app.login("admin").await;
    let first = admin.get(AGENTS).await;
    let logins = first.texts("#agents td.login");
    assert_eq!(logins.len(), 50);
    assert_eq!(logins[0], "admin", "Ada Admin sorts first");
    let next = first
        .doc()
        .select(&scraper::Selector::parse("a[rel=next]").unwrap())
        .next()
        .and_then(|a| a.value().attr("href"))
        .unwrap()
        .to_string();
    let second = admin.get(&next).await;
    assert_eq!(second.texts("#agents td.login").len(), 6);
    let found = admin.get(&format!("{AGENTS}?q=AGENT07")).await;
    assert_eq!(found.texts("#agents td.login"), ["agent07"]);
    let none = admin.get(&format!("{AGENTS}?q=%25")).await;
    assert!(none.has("p.empty"), "LIKE wildcards are literal");
}

/// In a real browser: a drag (SortableJS's end event → htmx `sorted`) posts the new order with
/// the CSRF header and swaps the list in place; the up button still works as a plain submit.
#[actix_web::test]
async fn group_order_by_drag_and_by_button_in_the_browser() {
    use fantoccini::Locator;

    let app = TestApp::spawn().await;
    let fx = app.setup();
    let admin = app.login("admin").await;
    for name in ["Alpha", "Beta", "Gamma"] {
        assert_eq!(admin.post_form(GROUPS, &[("name", name)]).await.status, 303);
    }
    let b = crate::support::browser::Browser::start().await;
    b.sign_in(&app.base, "admin", &GROUPS).await;
    b.wait_css("#group-order ul[data-sortable]").await;
    // Sortable is attached to the list.
    let ready: serde_json::Value = b
        .client
        .execute(
            "return document.querySelector('#group-order ul').dataset.sortableReady || ''",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(ready, "1");
    // What SortableJS does at the end of a drag: the item moves, the form gets `sorted`.
    b.client
        .execute(
            "const ul = document.querySelector('#group-order ul');
             ul.insertBefore(ul.lastElementChild, ul.firstElementChild);
             document.querySelector('#group-order').setAttribute('data-before-swap', '1');
             htmx.trigger(document.querySelector('#group-order'), 'sorted');",
            vec![],
        )
        .await
        .unwrap();
    // The swapped-in form has no marker attribute.
    b.wait_css("#group-order:not([data-before-swap])").await;
    assert_eq!(group_names(&app, fx.service_id), ["Gamma", "Alpha", "Beta"]);
    // htmx re-initialises SortableJS on the swapped list once it settles (bounded wait).
    b.wait_css("#group-order ul[data-sortable-ready='1']").await;
    // The up button is a normal form submit (post, redirect, flash).
    let beta: i64 = app.db(|c| {
        agent_groups::table
            .filter(agent_groups::name.eq("Beta"))
            .select(agent_groups::id)
            .first(c)
    });
    b.client
        .find(Locator::Css(&format!("button[name=up][value=\"{beta}\"]")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let flash = b.wait_css(".flash-success").await;
    assert_eq!(flash.text().await.unwrap(), "The order was saved.");
    assert_eq!(group_names(&app, fx.service_id), ["Gamma", "Beta", "Alpha"]);
    b.screenshot("groups-order").await;
    b.close().await;
}

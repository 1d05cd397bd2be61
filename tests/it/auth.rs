//! Sign-in, throttling, history, password reset and invitations by mail, and my account.

use diesel::prelude::*;
use opencontact::db::schema::{account_tokens, login_events, users};

use crate::support::{PASSWORD, TestApp};

#[actix_web::test]
async fn sign_in_and_out_are_recorded() {
    let app = TestApp::spawn().await;
    app.setup();
    let c = app.client();
    let wrong = c
        .post_form(
            "/login",
            &[("login", "admin"), ("password", "wrong-password-1")],
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert!(
        wrong
            .text
            .contains("The login ID or password is incorrect.")
    );
    let ok = c
        .post_form(
            "/login",
            &[
                ("login", "admin"),
                ("password", PASSWORD),
                ("next", "/account"),
            ],
        )
        .await;
    assert_eq!((ok.status, ok.location().as_str()), (303, "/account"));
    assert!(
        ok.header("set-cookie").contains("oc_lang=en"),
        "UI language cookie follows the account"
    );
    let acct = c.get("/account").await;
    assert_eq!(acct.status, 200);
    c.reset_csrf();
    let _ = c.get("/account").await;
    let out = c.post_form("/logout", &[]).await;
    assert_eq!((out.status, out.location().as_str()), (303, "/login"));
    // Signed out: protected pages send to the login page with a way back.
    let again = c.get("/account").await;
    assert_eq!(
        (again.status, again.location().as_str()),
        (303, "/login?next=%2Faccount")
    );
    let kinds: Vec<(String, String)> = app.db(|c| {
        login_events::table
            .order(login_events::id.asc())
            .select((login_events::kind, login_events::login))
            .load(c)
    });
    let kinds: Vec<&str> = kinds.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["failed", "login", "logout"]);
    let ua: Vec<String> = app.db(|c| login_events::table.select(login_events::ip).load(c));
    assert!(ua.iter().all(|ip| ip == "127.0.0.1"));
}

#[actix_web::test]
async fn login_by_email_and_open_redirects_are_refused() {
    let app = TestApp::spawn().await;
    app.setup();
    let c = app.client();
    let ok = c
        .post_form(
            "/login",
            &[
                ("login", "admin@acme.test"),
                ("password", PASSWORD),
                ("next", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!((ok.status, ok.location().as_str()), (303, "/"));
}

#[actix_web::test]
async fn repeated_failures_throttle_the_account() {
    let app = TestApp::spawn().await;
    app.setup();
    let c = app.client();
    for _ in 0..5 {
        let r = c
            .post_form("/login", &[("login", "admin"), ("password", "nope-nope-1")])
            .await;
        assert_eq!(r.status, 401);
    }
    // Even the right password is refused now, with a clear message.
    let r = c
        .post_form("/login", &[("login", "admin"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status, 429);
    assert!(
        r.text
            .contains("Too many failed sign-in attempts. Try again in 15 minutes."),
        "{}",
        r.text
    );
    // Another account from the same address still works (the per-IP limit is higher).
    app.create_member("kim", "Kim Agent", false);
    let r = c
        .post_form("/login", &[("login", "kim"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status, 303);
}

#[actix_web::test]
async fn deactivated_members_cannot_sign_in_and_lose_their_session() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let kim = app.create_member("kim", "Kim Agent", false);
    app.add_to_service(fx.service_id, kim, "agent");
    let c = app.login("kim").await;
    assert_eq!(c.get("/demo/console/").await.status, 200);
    app.db(|c| {
        diesel::update(users::table.find(kim))
            .set(users::active.eq(false))
            .execute(c)
    });
    let r = c.get("/demo/console/").await;
    assert_eq!(r.status, 303, "the session ends at once");
    let r = app
        .client()
        .post_form("/login", &[("login", "kim"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status, 403);
    assert!(r.text.contains("deactivated"));
}

#[actix_web::test]
async fn forgot_password_sends_a_single_use_link() {
    let app = TestApp::spawn().await;
    app.setup();
    let c = app.client();
    let unknown = c
        .post_form("/password/forgot", &[("email", "nobody@acme.test")])
        .await;
    assert_eq!(unknown.status, 422);
    assert_eq!(
        unknown.field_error("email"),
        "No active account uses this e-mail address."
    );
    let bad = c.post_form("/password/forgot", &[("email", "nope")]).await;
    assert_eq!(bad.field_error("email"), "Enter a valid e-mail address.");

    let r = c
        .post_form("/password/forgot", &[("email", "ADMIN@acme.test")])
        .await;
    assert_eq!((r.status, r.location().as_str()), (303, "/login"));
    let mails = app.smtp.wait_for(1).await;
    let mail = &mails[0];
    assert_eq!(mail.to, vec!["admin@acme.test".to_string()]);
    assert_eq!(mail.subject(), "[Acme] Reset your password");
    assert!(mail.html().contains("Choose a new password"));
    let link = mail
        .link_containing("/password/reset/")
        .expect("reset link in the text part");
    let path = link.trim_start_matches(&app.base).to_string();

    let form = c.get(&path).await;
    assert_eq!(form.status, 200);
    let weak = c
        .post_form(
            &path,
            &[
                ("password", "abcdefghijk"),
                ("password_confirm", "abcdefghijk"),
            ],
        )
        .await;
    assert_eq!(weak.status, 422);
    assert_eq!(
        weak.field_error("password"),
        "Use at least two of: letters, digits, symbols."
    );
    let done = c
        .post_form(
            &path,
            &[
                ("password", "Brand-new-pass-7"),
                ("password_confirm", "Brand-new-pass-7"),
            ],
        )
        .await;
    assert_eq!((done.status, done.location().as_str()), (303, "/login"));
    // Reused link.
    let reused = c.get(&path).await;
    assert_eq!(reused.status, 410);
    assert!(reused.text.contains("This link was already used."));
    // Old password gone, new one works.
    let old = app
        .client()
        .post_form("/login", &[("login", "admin"), ("password", PASSWORD)])
        .await;
    assert_eq!(old.status, 401);
    let new = app
        .client()
        .post_form(
            "/login",
            &[("login", "admin"), ("password", "Brand-new-pass-7")],
        )
        .await;
    assert_eq!(new.status, 303);
    // Invalid and expired links.
    assert!(
        c.get("/password/reset/not-a-token")
            .await
            .text
            .contains("This link is not valid.")
    );
    let r = c
        .post_form("/password/forgot", &[("email", "admin@acme.test")])
        .await;
    assert_eq!(r.status, 303);
    let mails = app.smtp.wait_for(2).await;
    let path2 = mails[1]
        .link_containing("/password/reset/")
        .unwrap()
        .trim_start_matches(&app.base)
        .to_string();
    app.db(|c| {
        diesel::update(account_tokens::table)
            .set(
                account_tokens::expires_at
                    .eq(opencontact::db::now() - chrono::TimeDelta::minutes(1)),
            )
            .execute(c)
    });
    let expired = c
        .post_form(
            &path2,
            &[
                ("password", "Another-pass-8"),
                ("password_confirm", "Another-pass-8"),
            ],
        )
        .await;
    assert_eq!(expired.status, 410);
    assert!(expired.text.contains("This link has expired."));
}

#[actix_web::test]
async fn reset_mail_failure_is_reported_not_hidden() {
    let app = TestApp::spawn().await;
    app.setup();
    // Without a mail server the link could never arrive: the page says so (a refusal by a
    // configured server is retried and shown in the outbox: see mail_channel.rs).
    app.db(|c| diesel::delete(opencontact::db::schema::smtp_settings::table).execute(c));
    let r = app
        .client()
        .post_form("/password/forgot", &[("email", "admin@acme.test")])
        .await;
    assert_eq!(r.status, 422);
    assert!(r.field_error("email").contains("could not be sent"));
}

#[actix_web::test]
async fn an_invitation_link_sets_the_first_password() {
    let app = TestApp::spawn().await;
    app.setup();
    let base = app.base.clone();
    app.state
        .db
        .write_blocking(|c| {
            let (user, token) = opencontact::auth::invite::invite_member(
                c,
                &opencontact::tenancy::user::NewUser {
                    login: "newbie".into(),
                    name: "New Bie".into(),
                    email: "newbie@acme.test".into(),
                    ui_lang: opencontact::i18n::Lang::Ko,
                    password: None,
                    is_org_admin: false,
                },
            )?;
            opencontact::auth::invite::queue_account_mail(
                c,
                None,
                &base,
                &user,
                opencontact::db::types::TokenPurpose::Invite,
                &token,
                "Acme",
            )
        })
        .unwrap();
    app.run_pending_jobs().await;
    let mail = &app.smtp.wait_for(1).await[0];
    assert_eq!(
        mail.subject(),
        "[Acme] OpenContact에 초대되었습니다",
        "in the invitee's language"
    );
    let path = mail
        .link_containing("/invite/")
        .unwrap()
        .trim_start_matches(&app.base)
        .to_string();
    let c = app.client();
    // Cannot sign in before accepting.
    assert_eq!(
        c.post_form("/login", &[("login", "newbie"), ("password", PASSWORD)])
            .await
            .status,
        401
    );
    let page = c.get(&path).await;
    assert_eq!(page.status, 200);
    let mismatch = c
        .post_form(&path, &[("password", PASSWORD), ("password_confirm", "x")])
        .await;
    assert_eq!(mismatch.status, 422);
    let has_login = c
        .post_form(
            &path,
            &[
                ("password", "newbie-2026!"),
                ("password_confirm", "newbie-2026!"),
            ],
        )
        .await;
    assert_eq!(
        has_login.status, 422,
        "a password containing the login ID is refused"
    );
    let ok = c
        .post_form(
            &path,
            &[("password", PASSWORD), ("password_confirm", PASSWORD)],
        )
        .await;
    assert_eq!(ok.status, 303);
    assert_eq!(
        c.post_form("/login", &[("login", "newbie"), ("password", PASSWORD)])
            .await
            .status,
        303
    );
    assert_eq!(app.client().get(&path).await.status, 410);
}

#[actix_web::test]
async fn my_account_edits_profile_and_password() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let kim = app.create_member("kim", "Kim Agent", false);
    app.add_to_service(fx.service_id, kim, "agent");
    let c = app.login("kim").await;
    let other_session = app.login("kim").await;

    let bad = c
        .post_form(
            "/account",
            &[
                ("name", ""),
                ("email", "admin@acme.test"),
                ("phone", "abc"),
                ("ui_lang", "ja"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.field_error("name"), "This field is required.");
    assert_eq!(
        bad.field_error("email"),
        "This e-mail address is already in use."
    );
    assert!(!bad.field_error("phone").is_empty());

    let ok = c
        .post_form(
            "/account",
            &[
                ("name", "Kim Minji"),
                ("email", "minji@acme.test"),
                ("phone", "+82 10-1234-5678"),
                ("ui_lang", "ja"),
            ],
        )
        .await;
    assert_eq!(ok.status, 303);
    let page = c.get("/account").await;
    assert!(page.text.contains("<html lang=\"ja\">"));
    assert!(page.text.contains("Kim Minji"));

    let wrong = c
        .post_form(
            "/account/password",
            &[
                ("current_password", "nope"),
                ("password", "Fresh-pass-2027"),
                ("password_confirm", "Fresh-pass-2027"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert_eq!(
        wrong.field_error("current_password"),
        "現在のパスワードが正しくありません。"
    );
    let ok = c
        .post_form(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("password", "Fresh-pass-2027"),
                ("password_confirm", "Fresh-pass-2027"),
            ],
        )
        .await;
    assert_eq!(ok.status, 303);
    assert_eq!(
        c.get("/account").await.status,
        200,
        "this session stays signed in"
    );
    assert_eq!(
        other_session.get("/account").await.status,
        303,
        "other sessions end"
    );
}

#[actix_web::test]
async fn assignment_toggles_need_assignment_control() {
    use opencontact::db::schema::service_members as sm;
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let kim = app.create_member("kim", "Kim Agent", false);
    app.add_to_service(fx.service_id, kim, "agent");
    let c = app.login("kim").await;
    let page = c.get("/account").await;
    assert!(
        !page.text.contains("name=\"ticket\""),
        "no toggles without assignment control"
    );
    let r = c
        .post_form("/account/assignment", &[("service", "demo")])
        .await;
    assert_eq!(r.status, 403);
    app.db(|c| {
        diesel::update(sm::table.filter(sm::user_id.eq(kim)))
            .set(sm::assignment_control.eq(true))
            .execute(c)
    });
    let page = c.get("/account").await;
    assert!(page.text.contains("name=\"ticket\""));
    let r = c
        .post_form(
            "/account/assignment",
            &[("service", "demo"), ("chat", "on")],
        )
        .await;
    assert_eq!(r.status, 303);
    let (t, ch): (bool, bool) = app.db(|c| {
        sm::table
            .filter(sm::user_id.eq(kim))
            .select((sm::ticket_assignable, sm::chat_assignable))
            .first(c)
    });
    assert!(!t && ch);
    // Another service the member does not belong to.
    let r = c
        .post_form("/account/assignment", &[("service", "other")])
        .await;
    assert_eq!(r.status, 403);
}

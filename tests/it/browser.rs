//! Browser tests (headless Chromium): what only a real browser proves.

use fantoccini::Locator;

use crate::support::browser::Browser;
use crate::support::{PASSWORD, TestApp};

#[actix_web::test]
async fn a_newcomer_completes_setup_in_the_browser() {
    let app = TestApp::spawn().await;
    let b = Browser::start().await;
    b.client.goto(&app.base).await.unwrap();
    b.wait_css("form[action='/setup']").await;
    assert!(
        b.client
            .current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/setup")
    );
    for (name, value) in [
        ("org_name", "Acme"),
        ("service_id", "demo"),
        ("service_name", "Demo Support"),
        ("admin_login", "admin"),
        ("admin_name", "Ada Admin"),
        ("admin_email", "admin@acme.test"),
        ("password", PASSWORD),
        ("password_confirm", PASSWORD),
    ] {
        b.client
            .find(Locator::Css(&format!("[name={name}]")))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
    b.client
        .find(Locator::Css("select[name=language] option[value=en]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.client
        .find(Locator::Css("form[action='/setup'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let h1 = b.wait_css("main.content h1").await;
    assert!(h1.text().await.unwrap().starts_with("Demo Support"));
    assert_eq!(
        b.client.current_url().await.unwrap().path(),
        "/demo/console/"
    );
    // The stylesheet and scripts load under the CSP (htmx is present and initialised).
    let htmx: serde_json::Value = b
        .client
        .execute(
            "return typeof window.htmx + ' ' + window.htmx.version",
            vec![],
        )
        .await
        .unwrap();
    assert!(htmx.as_str().unwrap().starts_with("object 2.0."), "{htmx}");
    let bg: serde_json::Value = b
        .client
        .execute(
            "return getComputedStyle(document.querySelector('.topbar')).position",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(bg, "sticky", "app.css applied");
    b.screenshot("console-home").await;
    // The language switcher turns the page Korean.
    b.client
        .find(Locator::Css(".topbar .lang-switch a[lang=ko]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let label = b.wait_css("html[lang=ko] .sidebar a.active").await;
    assert_eq!(label.text().await.unwrap(), "홈");
    b.close().await;
}

/// Surge alerts reach every open console tab of a browser, while only one tab holds the stream
/// (the others get the alert over a BroadcastChannel), and leaving pages never stalls the next
/// ones (the stream is closed on `pagehide`).
#[actix_web::test]
async fn a_surge_alert_reaches_every_console_tab() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let admin = app.login("admin").await;
    let me = fx.admin_id.to_string();
    let mut fields = vec![
        ("enabled", "on"),
        ("threshold", "2"),
        ("window_minutes", "5"),
        ("cooldown_minutes", "60"),
        ("agent", me.as_str()),
        ("by_browser", "on"),
        ("browser_text", "#{count} new inquiries in #{minutes} min"),
    ];
    let days: Vec<String> = (0..7).map(|d| format!("day{d}")).collect();
    for d in &days {
        fields.push((d.as_str(), "on"));
    }
    let r = admin
        .post_form("/demo/console/settings/surge-alert", &fields)
        .await;
    assert_eq!(r.status, 303, "{:?}", r.texts(".field-error"));

    let b = Browser::start().await;
    b.sign_in(&app.base, "admin", "/demo/console/tickets").await;
    b.wait_css("#oc-alerts").await;
    // Page after page in the same tab: each loads at once (no stream left holding a connection).
    for _ in 0..8 {
        b.open(&app.base, "/demo/console/tickets?view=all").await;
        b.wait_css("#oc-alerts").await;
    }
    let first = b.client.window().await.unwrap();
    let second = b.client.new_window(true).await.unwrap().handle;
    b.client.switch_to_window(second.clone()).await.unwrap();
    b.open(&app.base, "/demo/console/tickets").await;
    b.wait_css("#oc-alerts").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;

    app.create_ticket(fx.service_id, "Outage 1", "a@example.com");
    app.create_ticket(fx.service_id, "Outage 2", "b@example.com");
    let text = b
        .wait_text(".surge-toast", "2 new inquiries in 5 min")
        .await;
    assert_eq!(text, "Inquiry-surge alert: 2 new inquiries in 5 min");
    b.client.switch_to_window(first).await.unwrap();
    b.wait_text(".surge-toast", "2 new inquiries in 5 min")
        .await;
    b.close().await;
}

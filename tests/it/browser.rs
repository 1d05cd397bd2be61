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

//! Headless Chromium driven through ChromeDriver (WebDriver) with fantoccini, for what only a
//! browser proves: htmx swaps, drag ordering, the look of a page. Chromium and ChromeDriver come
//! from Debian's packages; when they are missing the test fails with the install instruction.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder};

/// A running ChromeDriver and a browser session.
pub struct Browser {
    pub client: Client,
    driver: Child,
}

fn find(binary: &str, candidates: &[&str]) -> String {
    for c in candidates {
        if std::path::Path::new(c).exists() {
            return (*c).to_string();
        }
    }
    panic!(
        "{binary} not found: install it with `apt-get install chromium chromium-driver` (browser tests are never skipped)"
    );
}

impl Browser {
    /// Starts ChromeDriver on a free port and opens a headless Chromium session.
    pub async fn start() -> Browser {
        let driver_bin = find(
            "chromedriver",
            &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"],
        );
        let chromium = find(
            "chromium",
            &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::tempdir().unwrap().keep();
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                    "--window-size=1280,860", "--lang=en-US",
                    format!("--user-data-dir={}", profile.display()),
                ],
                "prefs": {"intl.accept_languages": "en-US,en"}
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut last_err = String::new();
        for _ in 0..50 {
            match ClientBuilder::native()
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => return Browser { client, driver },
                Err(e) => {
                    last_err = e.to_string();
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
        panic!("could not start a Chromium session through chromedriver: {last_err}");
    }

    /// Waits (bounded) for an element matching a CSS selector.
    pub async fn wait_css(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(fantoccini::Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("element {css} did not appear: {e}"))
    }

    /// Signs in through the login form, then lands on `next`.
    pub async fn sign_in(&self, base: &str, login: &str, next: impl AsRef<str>) {
        let url = format!("{base}/login?next={}", next.as_ref());
        self.client.goto(&url).await.unwrap();
        self.wait_css("input[name=login]")
            .await
            .send_keys(login)
            .await
            .unwrap();
        self.client
            .find(fantoccini::Locator::Css("input[name=password]"))
            .await
            .unwrap()
            .send_keys(crate::support::PASSWORD)
            .await
            .unwrap();
        self.client
            .find(fantoccini::Locator::Css("form button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    /// Opens a path of the app.
    pub async fn open(&self, base: &str, path: &str) {
        self.client
            .goto(&format!("{base}{path}"))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
    }

    /// Scrolls an element to the middle of the window and clicks it (the sticky top bar never
    /// covers it). An element that htmx replaced meanwhile is looked up again.
    pub async fn click(&self, css: &str) {
        let mut last = String::new();
        for _ in 0..20 {
            let el = self.wait_css(css).await;
            let scrolled = self
                .client
                .execute(
                    "arguments[0].scrollIntoView({block: 'center'})",
                    vec![serde_json::to_value(&el).unwrap()],
                )
                .await;
            let clicked = match scrolled {
                Ok(_) => el.click().await,
                Err(e) => Err(e),
            };
            match clicked {
                Ok(()) => return,
                Err(e) => {
                    last = e.to_string();
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        panic!("click {css}: {last}");
    }

    /// Types into a field (after clearing it; a rich-text editor is typed into as is).
    pub async fn fill(&self, css: &str, text: &str) {
        let el = self.wait_css(css).await;
        if el.attr("contenteditable").await.ok().flatten().is_none() {
            el.clear().await.unwrap();
        }
        self.client
            .execute(
                "arguments[0].scrollIntoView({block: 'center'}); arguments[0].focus()",
                vec![serde_json::to_value(&el).unwrap()],
            )
            .await
            .unwrap();
        el.send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// Picks the option with `value` of a select.
    pub async fn select(&self, css: &str, value: &str) {
        self.click(&format!("{css} option[value='{value}']")).await;
    }

    /// The text of the first element matching `css` (empty when there is none).
    pub async fn text(&self, css: &str) -> String {
        match self.client.find(fantoccini::Locator::Css(css)).await {
            Ok(el) => el.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Waits (bounded) until the element's text contains `needle`; returns the text.
    pub async fn wait_text(&self, css: &str, needle: &str) -> String {
        let mut last = String::new();
        for _ in 0..100 {
            last = self.text(css).await;
            if last.contains(needle) {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} never showed {needle:?}; last text: {last:?}");
    }

    /// Saves a screenshot under `target/screenshots/`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        std::fs::create_dir_all("target/screenshots").unwrap();
        std::fs::write(format!("target/screenshots/{name}.png"), png).unwrap();
    }

    /// Ends the session and the driver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}

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

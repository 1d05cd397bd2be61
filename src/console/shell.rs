//! URLs of a service's console, shared by every console feature.

/// The console root of a service (`/{code}/console`).
pub fn console_base(code: &str) -> String {
    format!("/{code}/console")
}

/// The settings path prefix of a service (`/{code}/console/settings`).
pub fn settings_base(code: &str) -> String {
    format!("{}/settings", console_base(code))
}

#[cfg(test)]
mod tests {
    #[test]
    fn bases() {
        assert_eq!(super::console_base("demo"), "/demo/console");
        assert_eq!(super::settings_base("demo"), "/demo/console/settings");
    }
}

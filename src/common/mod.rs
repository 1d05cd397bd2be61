//! Helpers every layer shares and that know nothing of the web or of a feature.

pub mod validation;

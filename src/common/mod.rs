//! Helpers every layer shares and that know nothing of the web or of a feature.

pub mod names;
pub mod text;
pub mod time;
pub mod validation;

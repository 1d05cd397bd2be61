//! Outside systems a service connects to: [`dooray`] (issue management, second line) and
//! [`customer_info`] (the service's own customer systems).

pub mod customer_info;
pub mod dooray;

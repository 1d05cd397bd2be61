//! Who and where: organizations, services, users, a service's members and groups, and agents'
//! presence — the entities and their queries, with no web types. Features build on these.

pub mod group;
pub mod member;
pub mod organization;
pub mod presence;
pub mod service;
pub mod user;

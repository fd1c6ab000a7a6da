//! The HTTP face of gitops-mutator: configuration, authentication, the `/v1` routes and the
//! mutation service that plans intents and commits them through a [`mutator_forge::Forge`].
//!
//! Handlers stay thin: they parse requests into domain types and call [`service::Mutator`].
//! Errors become `application/problem+json` in one place ([`problem`] and
//! `service::ServiceError`). This crate must not know how any forge talks to its server.

pub mod api;
pub mod app;
pub mod auth;
pub mod config;
pub mod extract;
pub mod openapi;
pub mod policy;
pub mod problem;
pub mod routes;
pub mod security;
pub mod service;
pub mod startup;

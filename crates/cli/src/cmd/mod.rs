//! One module per capability: each owns its clap subcommands and a `run` that parses, makes one
//! Portal call and renders the result through `output`.

pub mod account;
pub mod analytics;
pub mod audit;
pub mod clients;
mod common;
pub mod escalation;
pub mod events;
pub mod funnels;
pub mod incidents;
pub mod info;
pub mod integrations;
pub mod jobs;
pub mod keys;
pub mod oidc;
pub mod secrets;
pub mod seed;
pub mod sla;
pub mod sync;

//! The conformance suite: the same stories against the SQLite and the PostgreSQL store, through
//! the LocalPortal. One binary, modules per capability.

mod audit;
mod concurrency;
mod keys;
mod secrets;
mod tenants;

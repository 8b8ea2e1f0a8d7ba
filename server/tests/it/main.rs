//! Integration tests: one binary, each test starting the real server in-process
//! on port 0 with its own temporary SQLite file.

mod api_keys;
mod auth;
mod authz;
mod cli;
mod dashboard_api;
mod drain;
mod engineio_patch;
mod event_log_api;
mod harness;
mod hostile;
mod logs;
mod mongo_server;
mod multinode;
mod notifications_api;
mod openapi;
mod operations;
mod pages;
mod probes;
mod providers;
mod realtime;
mod security_headers;
mod sender;
mod settings_api;
mod signing_examples;
mod standard_webhooks;
mod store_conformance;
mod team;
mod team_inbox;
mod tools;
mod webhook_endpoints;
mod webhooks;

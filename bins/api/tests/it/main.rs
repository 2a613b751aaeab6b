//! HTTP tests: the real app on port 0, a fresh database per test, every engine available.

#![allow(clippy::unwrap_used)]

mod agents;
mod api_keys;
mod bad_input;
mod billing;
mod channels;
mod conversations;
mod email;
mod faults;
mod forwarding;
mod harness;
mod isolation;
mod live;
mod notifications;
mod numbers;
mod ops;
mod phone_lines;
mod roles;
mod security;
mod startup;
mod webhooks;
mod workspaces;

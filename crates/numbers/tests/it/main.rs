//! Monthly rentals on every engine: the anniversary rule, catch-up, nothing after release, and
//! exactly once under concurrent, repeated and interrupted runs.

#![allow(clippy::unwrap_used)]

mod rentals;

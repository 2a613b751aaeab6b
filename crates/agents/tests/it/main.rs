//! agents integration tests

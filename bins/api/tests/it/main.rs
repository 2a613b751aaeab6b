//! api integration tests

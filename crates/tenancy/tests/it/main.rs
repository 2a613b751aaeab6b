//! tenancy integration tests

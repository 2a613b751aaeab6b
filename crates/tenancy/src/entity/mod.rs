//! sea-orm entities of the tables this crate owns.

pub mod api_key;
pub mod system_flag;
pub mod workspace;

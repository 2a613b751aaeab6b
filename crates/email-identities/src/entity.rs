pub mod agent_email {
    use sea_orm::entity::prelude::*;
    use switchboard_core::{AgentId, WorkspaceId};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "agent_email")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub agent_id: AgentId,
        pub workspace_id: WorkspaceId,
        pub email_alias: Option<String>,
        /// The system domain the alias was claimed on.
        pub alias_domain: Option<String>,
        pub inbound_address: Option<String>,
        pub reply_from: Option<String>,
        pub reply_display_name: Option<String>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod identity {
    use sea_orm::entity::prelude::*;
    use switchboard_core::WorkspaceId;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "email_identities")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub workspace_id: WorkspaceId,
        #[sea_orm(primary_key, auto_increment = false)]
        pub identity: String,
        /// `address` or `domain`.
        pub kind: String,
        /// `not_started | pending | verified | failed | temporary_failure`.
        pub status: String,
        pub verified_for_sending: bool,
        /// JSON array of DKIM tokens.
        pub dkim_tokens: String,
        pub checked_at: DateTimeUtc,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

//! Tables of migration 011.

pub mod endpoint {
    use sea_orm::entity::prelude::*;
    use switchboard_core::{AgentId, WorkspaceId};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_endpoints")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub agent_id: AgentId,
        pub workspace_id: WorkspaceId,
        pub secret: String,
        pub consecutive_failures: i32,
        pub disabled_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod delivery {
    use sea_orm::entity::prelude::*;
    use switchboard_core::{AgentId, NotificationId, WebhookDeliveryId, WorkspaceId};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_deliveries")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: WebhookDeliveryId,
        pub workspace_id: WorkspaceId,
        pub agent_id: AgentId,
        pub notification_id: NotificationId,
        pub url: String,
        pub status: String,
        pub attempts: i32,
        pub round_attempts: i32,
        pub next_attempt_at: Option<DateTimeUtc>,
        pub last_status_code: Option<i32>,
        pub last_error: Option<String>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod attempt {
    use sea_orm::entity::prelude::*;
    use switchboard_core::{WebhookDeliveryId, WorkspaceId};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_attempts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub delivery_id: WebhookDeliveryId,
        #[sea_orm(primary_key, auto_increment = false)]
        pub attempt: i32,
        pub workspace_id: WorkspaceId,
        pub attempted_at: DateTimeUtc,
        pub status_code: Option<i32>,
        pub latency_ms: i64,
        pub error: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod email {
    use sea_orm::entity::prelude::*;
    use switchboard_core::{NotificationId, WorkspaceId};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "notification_emails")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub notification_id: NotificationId,
        pub workspace_id: WorkspaceId,
        pub to_address: String,
        pub status: String,
        pub provider_message_id: Option<String>,
        pub error: Option<String>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod conversation {
    use sea_orm::entity::prelude::*;
    use switchboard_core::{AgentId, ConversationId, NumberId, WhatsappConnectionId, WorkspaceId};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "conversations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: ConversationId,
        pub workspace_id: WorkspaceId,
        pub channel: String,
        pub business_address: String,
        pub contact: String,
        pub agent_id: Option<AgentId>,
        pub number_id: Option<NumberId>,
        pub status: String,
        pub ai_active: bool,
        pub escalated: bool,
        pub sentiment: Option<String>,
        pub summary: Option<String>,
        /// The WhatsApp connection the conversation runs on, when known.
        pub whatsapp_connection_id: Option<WhatsappConnectionId>,
        pub last_message_at: DateTimeUtc,
        pub last_inbound_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod message {
    use sea_orm::entity::prelude::*;
    use switchboard_core::{ConversationId, MessageId, WorkspaceId};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "conversation_messages")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: MessageId,
        pub workspace_id: WorkspaceId,
        pub conversation_id: ConversationId,
        pub direction: String,
        pub body: String,
        /// JSON array of URLs, `None` when the message has no media.
        pub media_urls: Option<String>,
        pub provider_message_id: Option<String>,
        pub status: String,
        pub error_code: Option<String>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

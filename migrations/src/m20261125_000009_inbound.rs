//! Inbound provider events (SPEC §10) and the conversation storage they feed (SPEC §11).
//!
//! - `inbound_events`: every authenticated webhook event, stored before it is acknowledged and
//!   keyed by the provider's own id: `(provider, kind, external_id)` is unique, so a redelivery
//!   inserts nothing. `state` is `received` until processing turns it into `processed`,
//!   `dropped` (with the reason), `unroutable` or `failed`; the `(state, received_at)` index is
//!   the scan of events still to process.
//! - `conversations`: one per workspace, channel, business address and contact.
//! - `conversation_messages`: the messages of a conversation; a provider's message id is unique
//!   per workspace, so appending the same inbound message twice stores it once.
//! - `opt_outs`: contacts who opted out of a channel, one row per workspace, channel and contact.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum InboundEvents {
    Table,
    Id,
    Provider,
    Kind,
    ExternalId,
    WorkspaceId,
    Payload,
    State,
    Reason,
    Attempts,
    ReceivedAt,
    ProcessedAt,
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Id,
    WorkspaceId,
    Channel,
    BusinessAddress,
    Contact,
    AgentId,
    NumberId,
    Status,
    AiActive,
    Escalated,
    Sentiment,
    Summary,
    LastMessageAt,
    LastInboundAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ConversationMessages {
    Table,
    Id,
    WorkspaceId,
    ConversationId,
    Direction,
    Body,
    MediaUrls,
    ProviderMessageId,
    Status,
    ErrorCode,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OptOuts {
    Table,
    Id,
    WorkspaceId,
    Channel,
    Contact,
    Source,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Workspaces {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Agents {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Numbers {
    Table,
    Id,
}

fn fk_workspace(
    table: impl IntoIden + 'static,
    col: impl IntoIden + 'static,
    name: &str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, col)
        .to(Workspaces::Table, Workspaces::Id)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(InboundEvents::Table)
                .col(ColumnDef::new(InboundEvents::Id).string_len(40).not_null().primary_key())
                .col(ColumnDef::new(InboundEvents::Provider).string_len(16).not_null())
                .col(ColumnDef::new(InboundEvents::Kind).string_len(40).not_null())
                .col(ColumnDef::new(InboundEvents::ExternalId).string_len(255).not_null())
                .col(ColumnDef::new(InboundEvents::WorkspaceId).string_len(40).null())
                .col(ColumnDef::new(InboundEvents::Payload).text().not_null())
                .col(ColumnDef::new(InboundEvents::State).string_len(16).not_null())
                .col(ColumnDef::new(InboundEvents::Reason).string_len(200).null())
                .col(ColumnDef::new(InboundEvents::Attempts).integer().not_null())
                .col(ColumnDef::new(InboundEvents::ReceivedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(InboundEvents::ProcessedAt).timestamp_with_time_zone().null())
                .foreign_key(&mut fk_workspace(
                    InboundEvents::Table,
                    InboundEvents::WorkspaceId,
                    "fk_inbound_events_workspace",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_inbound_events_key")
                .table(InboundEvents::Table)
                .col(InboundEvents::Provider)
                .col(InboundEvents::Kind)
                .col(InboundEvents::ExternalId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_inbound_events_state")
                .table(InboundEvents::Table)
                .col(InboundEvents::State)
                .col(InboundEvents::ReceivedAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_inbound_events_workspace")
                .table(InboundEvents::Table)
                .col(InboundEvents::WorkspaceId)
                .col(InboundEvents::Id)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Conversations::Table)
                .col(ColumnDef::new(Conversations::Id).string_len(40).not_null().primary_key())
                .col(ColumnDef::new(Conversations::WorkspaceId).string_len(40).not_null())
                .col(ColumnDef::new(Conversations::Channel).string_len(16).not_null())
                .col(ColumnDef::new(Conversations::BusinessAddress).string_len(320).not_null())
                .col(ColumnDef::new(Conversations::Contact).string_len(320).not_null())
                .col(ColumnDef::new(Conversations::AgentId).string_len(40).null())
                .col(ColumnDef::new(Conversations::NumberId).string_len(40).null())
                .col(ColumnDef::new(Conversations::Status).string_len(16).not_null())
                .col(ColumnDef::new(Conversations::AiActive).boolean().not_null())
                .col(ColumnDef::new(Conversations::Escalated).boolean().not_null())
                .col(ColumnDef::new(Conversations::Sentiment).string_len(40).null())
                .col(ColumnDef::new(Conversations::Summary).text().null())
                .col(ColumnDef::new(Conversations::LastMessageAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Conversations::LastInboundAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(Conversations::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Conversations::UpdatedAt).timestamp_with_time_zone().not_null())
                .foreign_key(&mut fk_workspace(
                    Conversations::Table,
                    Conversations::WorkspaceId,
                    "fk_conversations_workspace",
                ))
                .foreign_key(
                    // A conversation outlives its agent (SPEC §14: conversations are never lost).
                    ForeignKey::create()
                        .name("fk_conversations_agent")
                        .from(Conversations::Table, Conversations::AgentId)
                        .to(Agents::Table, Agents::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_conversations_number")
                        .from(Conversations::Table, Conversations::NumberId)
                        .to(Numbers::Table, Numbers::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_conversations_thread")
                .table(Conversations::Table)
                .col(Conversations::WorkspaceId)
                .col(Conversations::Channel)
                .col(Conversations::BusinessAddress)
                .col(Conversations::Contact)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_conversations_workspace")
                .table(Conversations::Table)
                .col(Conversations::WorkspaceId)
                .col(Conversations::Id)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ConversationMessages::Table)
                .col(ColumnDef::new(ConversationMessages::Id).string_len(40).not_null().primary_key())
                .col(ColumnDef::new(ConversationMessages::WorkspaceId).string_len(40).not_null())
                .col(ColumnDef::new(ConversationMessages::ConversationId).string_len(40).not_null())
                .col(ColumnDef::new(ConversationMessages::Direction).string_len(8).not_null())
                .col(ColumnDef::new(ConversationMessages::Body).text().not_null())
                .col(ColumnDef::new(ConversationMessages::MediaUrls).text().null())
                .col(ColumnDef::new(ConversationMessages::ProviderMessageId).string_len(255).null())
                .col(ColumnDef::new(ConversationMessages::Status).string_len(16).not_null())
                .col(ColumnDef::new(ConversationMessages::ErrorCode).string_len(16).null())
                .col(ColumnDef::new(ConversationMessages::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(ConversationMessages::UpdatedAt).timestamp_with_time_zone().not_null())
                .foreign_key(&mut fk_workspace(
                    ConversationMessages::Table,
                    ConversationMessages::WorkspaceId,
                    "fk_conversation_messages_workspace",
                ))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_conversation_messages_conversation")
                        .from(ConversationMessages::Table, ConversationMessages::ConversationId)
                        .to(Conversations::Table, Conversations::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_conversation_messages_provider_id")
                .table(ConversationMessages::Table)
                .col(ConversationMessages::WorkspaceId)
                .col(ConversationMessages::ProviderMessageId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_conversation_messages_conversation")
                .table(ConversationMessages::Table)
                .col(ConversationMessages::ConversationId)
                .col(ConversationMessages::Id)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(OptOuts::Table)
                .col(ColumnDef::new(OptOuts::Id).string_len(40).not_null().primary_key())
                .col(ColumnDef::new(OptOuts::WorkspaceId).string_len(40).not_null())
                .col(ColumnDef::new(OptOuts::Channel).string_len(16).not_null())
                .col(ColumnDef::new(OptOuts::Contact).string_len(320).not_null())
                .col(ColumnDef::new(OptOuts::Source).string_len(40).not_null())
                .col(ColumnDef::new(OptOuts::CreatedAt).timestamp_with_time_zone().not_null())
                .foreign_key(&mut fk_workspace(OptOuts::Table, OptOuts::WorkspaceId, "fk_opt_outs_workspace"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_opt_outs_contact")
                .table(OptOuts::Table)
                .col(OptOuts::WorkspaceId)
                .col(OptOuts::Channel)
                .col(OptOuts::Contact)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            OptOuts::Table.into_iden(),
            ConversationMessages::Table.into_iden(),
            Conversations::Table.into_iden(),
            InboundEvents::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

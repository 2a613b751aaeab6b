//! WhatsApp connections (SPEC §11): a Twilio sender or a Meta phone number id, assigned to an
//! agent. The Meta access token is stored only encrypted (`access_token_sealed`, AES-256-GCM,
//! nonce included) next to its last four characters. Deleting is soft (`deleted_at`).
//! Conversations remember the connection they run on (`whatsapp_connection_id`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WhatsappConnections {
    Table,
    Id,
    WorkspaceId,
    DisplayName,
    AgentId,
    Active,
    Provider,
    Sender,
    PhoneNumberId,
    BusinessAccountId,
    AccessTokenSealed,
    AccessTokenLast4,
    CanInitiate,
    VerificationStatus,
    VerificationMessage,
    VerificationCheckedAt,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    WhatsappConnectionId,
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

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use WhatsappConnections as W;
        m.create_table(
            Table::create()
                .table(W::Table)
                .col(ColumnDef::new(W::Id).string_len(40).not_null().primary_key())
                .col(ColumnDef::new(W::WorkspaceId).string_len(40).not_null())
                .col(ColumnDef::new(W::DisplayName).string_len(480).not_null())
                .col(ColumnDef::new(W::AgentId).string_len(40).null())
                .col(ColumnDef::new(W::Active).boolean().not_null())
                .col(ColumnDef::new(W::Provider).string_len(16).not_null())
                .col(ColumnDef::new(W::Sender).string_len(32).null())
                .col(ColumnDef::new(W::PhoneNumberId).string_len(64).null())
                .col(ColumnDef::new(W::BusinessAccountId).string_len(64).null())
                .col(ColumnDef::new(W::AccessTokenSealed).text().null())
                .col(ColumnDef::new(W::AccessTokenLast4).string_len(16).null())
                .col(ColumnDef::new(W::CanInitiate).boolean().not_null())
                .col(ColumnDef::new(W::VerificationStatus).string_len(16).null())
                .col(ColumnDef::new(W::VerificationMessage).text().null())
                .col(ColumnDef::new(W::VerificationCheckedAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(W::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(W::UpdatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(W::DeletedAt).timestamp_with_time_zone().null())
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_whatsapp_connections_workspace")
                        .from(W::Table, W::WorkspaceId)
                        .to(Workspaces::Table, Workspaces::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .foreign_key(
                    // A deleted agent leaves the connection unassigned (and so inactive).
                    ForeignKey::create()
                        .name("fk_whatsapp_connections_agent")
                        .from(W::Table, W::AgentId)
                        .to(Agents::Table, Agents::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_whatsapp_connections_workspace")
                .table(W::Table)
                .col(W::WorkspaceId)
                .col(W::Id)
                .to_owned(),
        )
        .await?;
        // Nullable and without a foreign key: SQLite cannot add one to an existing table, and a
        // conversation must outlive its connection anyway (connections are only soft-deleted).
        m.alter_table(
            Table::alter()
                .table(Conversations::Table)
                .add_column(ColumnDef::new(Conversations::WhatsappConnectionId).string_len(40).null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Conversations::Table)
                .drop_column(Conversations::WhatsappConnectionId)
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(WhatsappConnections::Table).to_owned()).await
    }
}

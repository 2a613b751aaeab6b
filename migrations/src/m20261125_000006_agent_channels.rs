//! An agent's channel settings (SPEC §8): WhatsApp switch, Vapi assistant, webhook addresses,
//! notification email. One row per agent, made on the first change; it goes with its agent.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AgentChannels {
    Table,
    AgentId,
    WorkspaceId,
    WhatsappEnabled,
    VapiAssistantId,
    ToolWebhookUrl,
    NotificationWebhookUrl,
    NotificationEmail,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Agents {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Workspaces {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AgentChannels::Table)
                .col(ColumnDef::new(AgentChannels::AgentId).string_len(40).not_null().primary_key())
                .col(ColumnDef::new(AgentChannels::WorkspaceId).string_len(40).not_null())
                .col(ColumnDef::new(AgentChannels::WhatsappEnabled).boolean().not_null())
                .col(ColumnDef::new(AgentChannels::VapiAssistantId).string_len(36).null())
                .col(ColumnDef::new(AgentChannels::ToolWebhookUrl).string_len(2048).null())
                .col(ColumnDef::new(AgentChannels::NotificationWebhookUrl).string_len(2048).null())
                .col(ColumnDef::new(AgentChannels::NotificationEmail).string_len(254).null())
                .col(ColumnDef::new(AgentChannels::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(AgentChannels::UpdatedAt).timestamp_with_time_zone().not_null())
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_agent_channels_agent")
                        .from(AgentChannels::Table, AgentChannels::AgentId)
                        .to(Agents::Table, Agents::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_agent_channels_workspace")
                        .from(AgentChannels::Table, AgentChannels::WorkspaceId)
                        .to(Workspaces::Table, Workspaces::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(AgentChannels::Table).to_owned()).await
    }
}

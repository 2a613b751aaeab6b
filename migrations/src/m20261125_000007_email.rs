//! Agents' email settings and sender identities (SPEC §7).
//!
//! An inbound alias is unique on its domain across all workspaces: a unique index on
//! `(alias_domain, email_alias)` (NULLs never collide), not a check in code. Identities are unique
//! per workspace and address/domain, and carry SES's last known state.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AgentEmail {
    Table,
    AgentId,
    WorkspaceId,
    EmailAlias,
    AliasDomain,
    InboundAddress,
    ReplyFrom,
    ReplyDisplayName,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum EmailIdentities {
    Table,
    WorkspaceId,
    Identity,
    Kind,
    Status,
    VerifiedForSending,
    DkimTokens,
    CheckedAt,
    CreatedAt,
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
                .table(AgentEmail::Table)
                .col(ColumnDef::new(AgentEmail::AgentId).string_len(40).not_null().primary_key())
                .col(ColumnDef::new(AgentEmail::WorkspaceId).string_len(40).not_null())
                .col(ColumnDef::new(AgentEmail::EmailAlias).string_len(64).null())
                .col(ColumnDef::new(AgentEmail::AliasDomain).string_len(253).null())
                .col(ColumnDef::new(AgentEmail::InboundAddress).string_len(254).null())
                .col(ColumnDef::new(AgentEmail::ReplyFrom).string_len(254).null())
                .col(ColumnDef::new(AgentEmail::ReplyDisplayName).string_len(400).null())
                .col(ColumnDef::new(AgentEmail::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(AgentEmail::UpdatedAt).timestamp_with_time_zone().not_null())
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_agent_email_agent")
                        .from(AgentEmail::Table, AgentEmail::AgentId)
                        .to(Agents::Table, Agents::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_agent_email_workspace")
                        .from(AgentEmail::Table, AgentEmail::WorkspaceId)
                        .to(Workspaces::Table, Workspaces::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_agent_email_alias")
                .table(AgentEmail::Table)
                .col(AgentEmail::AliasDomain)
                .col(AgentEmail::EmailAlias)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(EmailIdentities::Table)
                .col(ColumnDef::new(EmailIdentities::WorkspaceId).string_len(40).not_null())
                .col(ColumnDef::new(EmailIdentities::Identity).string_len(254).not_null())
                .col(ColumnDef::new(EmailIdentities::Kind).string_len(16).not_null())
                .col(ColumnDef::new(EmailIdentities::Status).string_len(24).not_null())
                .col(ColumnDef::new(EmailIdentities::VerifiedForSending).boolean().not_null())
                .col(ColumnDef::new(EmailIdentities::DkimTokens).text().not_null())
                .col(ColumnDef::new(EmailIdentities::CheckedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(EmailIdentities::CreatedAt).timestamp_with_time_zone().not_null())
                .primary_key(Index::create().col(EmailIdentities::WorkspaceId).col(EmailIdentities::Identity))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_email_identities_workspace")
                        .from(EmailIdentities::Table, EmailIdentities::WorkspaceId)
                        .to(Workspaces::Table, Workspaces::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_email_identities_status")
                .table(EmailIdentities::Table)
                .col(EmailIdentities::Status)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(EmailIdentities::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(AgentEmail::Table).to_owned()).await
    }
}

//! Workspaces, API keys, agents, and the system flags that make one-time work (the demo seed)
//! happen once even when several replicas start together.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Workspaces {
    Table,
    Id,
    Name,
    Timezone,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    WorkspaceId,
    Name,
    Role,
    KeyHash,
    KeyPrefix,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Agents {
    Table,
    Id,
    WorkspaceId,
    Name,
    Status,
    Timezone,
    Language,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SystemFlags {
    Table,
    Key,
    Value,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Workspaces::Table)
                .col(ColumnDef::new(Workspaces::Id).string_len(40).not_null().primary_key())
                .col(ColumnDef::new(Workspaces::Name).string_len(200).not_null())
                .col(ColumnDef::new(Workspaces::Timezone).string_len(64).not_null())
                .col(ColumnDef::new(Workspaces::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Workspaces::UpdatedAt).timestamp_with_time_zone().not_null())
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ApiKeys::Table)
                .col(ColumnDef::new(ApiKeys::Id).string_len(40).not_null().primary_key())
                .col(ColumnDef::new(ApiKeys::WorkspaceId).string_len(40).not_null())
                .col(ColumnDef::new(ApiKeys::Name).string_len(200).not_null())
                .col(ColumnDef::new(ApiKeys::Role).string_len(16).not_null())
                .col(ColumnDef::new(ApiKeys::KeyHash).string_len(64).not_null().unique_key())
                .col(ColumnDef::new(ApiKeys::KeyPrefix).string_len(16).not_null())
                .col(ColumnDef::new(ApiKeys::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(ApiKeys::LastUsedAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(ApiKeys::RevokedAt).timestamp_with_time_zone().null())
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_api_keys_workspace")
                        .from(ApiKeys::Table, ApiKeys::WorkspaceId)
                        .to(Workspaces::Table, Workspaces::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_api_keys_workspace")
                .table(ApiKeys::Table)
                .col(ApiKeys::WorkspaceId)
                .col(ApiKeys::Id)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Agents::Table)
                .col(ColumnDef::new(Agents::Id).string_len(40).not_null().primary_key())
                .col(ColumnDef::new(Agents::WorkspaceId).string_len(40).not_null())
                .col(ColumnDef::new(Agents::Name).string_len(480).not_null())
                .col(ColumnDef::new(Agents::Status).string_len(16).not_null())
                .col(ColumnDef::new(Agents::Timezone).string_len(64).not_null())
                .col(ColumnDef::new(Agents::Language).string_len(8).not_null())
                .col(ColumnDef::new(Agents::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Agents::UpdatedAt).timestamp_with_time_zone().not_null())
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_agents_workspace")
                        .from(Agents::Table, Agents::WorkspaceId)
                        .to(Workspaces::Table, Workspaces::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_agents_workspace")
                .table(Agents::Table)
                .col(Agents::WorkspaceId)
                .col(Agents::Id)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(SystemFlags::Table)
                .col(ColumnDef::new(SystemFlags::Key).string_len(64).not_null().primary_key())
                .col(ColumnDef::new(SystemFlags::Value).string_len(200).not_null())
                .col(ColumnDef::new(SystemFlags::CreatedAt).timestamp_with_time_zone().not_null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(SystemFlags::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Agents::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(ApiKeys::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Workspaces::Table).to_owned()).await
    }
}

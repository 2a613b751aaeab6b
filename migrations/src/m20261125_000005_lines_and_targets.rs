//! Phone lines (a Vapi number, one language, per agent) and call-forwarding targets.
//!
//! A Vapi phone-number id serves at most one line: a unique index, not a check in code.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PhoneLines {
    Table,
    Id,
    WorkspaceId,
    AgentId,
    VapiPhoneNumberId,
    PhoneNumber,
    Label,
    Language,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ForwardingTargets {
    Table,
    Id,
    WorkspaceId,
    AgentId,
    Name,
    PhoneNumber,
    Aliases,
    Description,
    ForwardingMessage,
    Mode,
    RingTimeoutSeconds,
    FallbackMessage,
    OpeningHours,
    Timezone,
    Active,
    CreatedAt,
    UpdatedAt,
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

/// Both tables belong to a workspace and an agent; neither may disappear under them.
fn owned_by(t: &mut TableCreateStatement, table: &str) {
    t.foreign_key(
        ForeignKey::create()
            .name(format!("fk_{table}_workspace"))
            .from(Alias::new(table), Alias::new("workspace_id"))
            .to(Workspaces::Table, Workspaces::Id)
            .on_delete(ForeignKeyAction::Restrict),
    )
    .foreign_key(
        ForeignKey::create()
            .name(format!("fk_{table}_agent"))
            .from(Alias::new(table), Alias::new("agent_id"))
            .to(Agents::Table, Agents::Id)
            .on_delete(ForeignKeyAction::Restrict),
    );
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut lines = Table::create();
        lines
            .table(PhoneLines::Table)
            .col(ColumnDef::new(PhoneLines::Id).string_len(40).not_null().primary_key())
            .col(ColumnDef::new(PhoneLines::WorkspaceId).string_len(40).not_null())
            .col(ColumnDef::new(PhoneLines::AgentId).string_len(40).not_null())
            .col(ColumnDef::new(PhoneLines::VapiPhoneNumberId).string_len(64).not_null())
            .col(ColumnDef::new(PhoneLines::PhoneNumber).string_len(16).not_null())
            .col(ColumnDef::new(PhoneLines::Label).string_len(320).null())
            .col(ColumnDef::new(PhoneLines::Language).string_len(8).not_null())
            .col(ColumnDef::new(PhoneLines::Active).boolean().not_null())
            .col(ColumnDef::new(PhoneLines::CreatedAt).timestamp_with_time_zone().not_null())
            .col(ColumnDef::new(PhoneLines::UpdatedAt).timestamp_with_time_zone().not_null());
        owned_by(&mut lines, "phone_lines");
        m.create_table(lines.to_owned()).await?;
        m.create_index(
            Index::create()
                .name("ux_phone_lines_vapi_id")
                .table(PhoneLines::Table)
                .col(PhoneLines::VapiPhoneNumberId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_phone_lines_agent")
                .table(PhoneLines::Table)
                .col(PhoneLines::WorkspaceId)
                .col(PhoneLines::AgentId)
                .col(PhoneLines::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_phone_lines_number")
                .table(PhoneLines::Table)
                .col(PhoneLines::PhoneNumber)
                .to_owned(),
        )
        .await?;

        let mut targets = Table::create();
        targets
            .table(ForwardingTargets::Table)
            .col(ColumnDef::new(ForwardingTargets::Id).string_len(40).not_null().primary_key())
            .col(ColumnDef::new(ForwardingTargets::WorkspaceId).string_len(40).not_null())
            .col(ColumnDef::new(ForwardingTargets::AgentId).string_len(40).not_null())
            .col(ColumnDef::new(ForwardingTargets::Name).string_len(480).not_null())
            .col(ColumnDef::new(ForwardingTargets::PhoneNumber).string_len(16).not_null())
            .col(ColumnDef::new(ForwardingTargets::Aliases).text().not_null())
            .col(ColumnDef::new(ForwardingTargets::Description).text().null())
            .col(ColumnDef::new(ForwardingTargets::ForwardingMessage).string_len(800).null())
            .col(ColumnDef::new(ForwardingTargets::Mode).string_len(8).not_null())
            .col(ColumnDef::new(ForwardingTargets::RingTimeoutSeconds).integer().not_null())
            .col(ColumnDef::new(ForwardingTargets::FallbackMessage).string_len(1600).null())
            .col(ColumnDef::new(ForwardingTargets::OpeningHours).text().null())
            .col(ColumnDef::new(ForwardingTargets::Timezone).string_len(64).null())
            .col(ColumnDef::new(ForwardingTargets::Active).boolean().not_null())
            .col(ColumnDef::new(ForwardingTargets::CreatedAt).timestamp_with_time_zone().not_null())
            .col(ColumnDef::new(ForwardingTargets::UpdatedAt).timestamp_with_time_zone().not_null());
        owned_by(&mut targets, "forwarding_targets");
        m.create_table(targets.to_owned()).await?;
        m.create_index(
            Index::create()
                .name("ix_forwarding_targets_agent")
                .table(ForwardingTargets::Table)
                .col(ForwardingTargets::WorkspaceId)
                .col(ForwardingTargets::AgentId)
                .col(ForwardingTargets::Id)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ForwardingTargets::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(PhoneLines::Table).to_owned()).await
    }
}

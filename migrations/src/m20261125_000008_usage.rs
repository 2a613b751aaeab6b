//! Usage metering (SPEC §9) and the notification inbox (SPEC §8).
//!
//! - `usage_counters`: per number and month (`YYYY-MM` in the workspace's zone) the minutes used,
//!   the minutes reserved by calls in progress, and the SMS used. Limits are enforced by
//!   conditional updates of this row, so concurrent admissions can never overshoot.
//! - `workspace_usage`: per workspace and month the minutes and SMS used — the shared free tier is
//!   allotted in the order of this counter's increments.
//! - `usage_records`: one row per metered SMS or call, keyed by its idempotency key
//!   (`sms:<message sid>`, `call:<call id>`), with how much of it was free and what it cost; a
//!   call's row also holds its reservation until it is settled or expires.
//! - `notifications`: the workspace inbox; `dedupe_key` makes raising the same notice twice a no-op.
//! - An index on `numbers.next_rental_at` for billing-cron's due-rentals scan.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UsageCounters {
    Table,
    NumberId,
    Period,
    WorkspaceId,
    MinutesUsed,
    MinutesReserved,
    SmsUsed,
}

#[derive(DeriveIden)]
enum WorkspaceUsage {
    Table,
    WorkspaceId,
    Period,
    MinutesUsed,
    SmsUsed,
}

#[derive(DeriveIden)]
enum UsageRecords {
    Table,
    Key,
    WorkspaceId,
    NumberId,
    Kind,
    Period,
    State,
    Quantity,
    Reserved,
    FreeQuantity,
    Charge,
    CreatedAt,
    ExpiresAt,
    SettledAt,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    WorkspaceId,
    AgentId,
    Kind,
    DedupeKey,
    Subject,
    Body,
    CreatedAt,
    ReadAt,
}

#[derive(DeriveIden)]
enum Workspaces {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Numbers {
    Table,
    Id,
    NextRentalAt,
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
                .table(UsageCounters::Table)
                .col(ColumnDef::new(UsageCounters::NumberId).string_len(40).not_null())
                .col(ColumnDef::new(UsageCounters::Period).string_len(7).not_null())
                .col(ColumnDef::new(UsageCounters::WorkspaceId).string_len(40).not_null())
                .col(ColumnDef::new(UsageCounters::MinutesUsed).big_integer().not_null())
                .col(ColumnDef::new(UsageCounters::MinutesReserved).big_integer().not_null())
                .col(ColumnDef::new(UsageCounters::SmsUsed).big_integer().not_null())
                .primary_key(Index::create().col(UsageCounters::NumberId).col(UsageCounters::Period))
                .foreign_key(&mut fk_workspace(
                    UsageCounters::Table,
                    UsageCounters::WorkspaceId,
                    "fk_usage_counters_workspace",
                ))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_usage_counters_number")
                        .from(UsageCounters::Table, UsageCounters::NumberId)
                        .to(Numbers::Table, Numbers::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(WorkspaceUsage::Table)
                .col(ColumnDef::new(WorkspaceUsage::WorkspaceId).string_len(40).not_null())
                .col(ColumnDef::new(WorkspaceUsage::Period).string_len(7).not_null())
                .col(ColumnDef::new(WorkspaceUsage::MinutesUsed).big_integer().not_null())
                .col(ColumnDef::new(WorkspaceUsage::SmsUsed).big_integer().not_null())
                .primary_key(Index::create().col(WorkspaceUsage::WorkspaceId).col(WorkspaceUsage::Period))
                .foreign_key(&mut fk_workspace(
                    WorkspaceUsage::Table,
                    WorkspaceUsage::WorkspaceId,
                    "fk_workspace_usage_workspace",
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(UsageRecords::Table)
                .col(ColumnDef::new(UsageRecords::Key).string_len(200).not_null().primary_key())
                .col(ColumnDef::new(UsageRecords::WorkspaceId).string_len(40).not_null())
                .col(ColumnDef::new(UsageRecords::NumberId).string_len(40).not_null())
                .col(ColumnDef::new(UsageRecords::Kind).string_len(8).not_null())
                .col(ColumnDef::new(UsageRecords::Period).string_len(7).not_null())
                .col(ColumnDef::new(UsageRecords::State).string_len(16).not_null())
                .col(ColumnDef::new(UsageRecords::Quantity).big_integer().not_null())
                .col(ColumnDef::new(UsageRecords::Reserved).big_integer().not_null())
                .col(ColumnDef::new(UsageRecords::FreeQuantity).big_integer().not_null())
                .col(ColumnDef::new(UsageRecords::Charge).big_integer().not_null())
                .col(ColumnDef::new(UsageRecords::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(UsageRecords::ExpiresAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(UsageRecords::SettledAt).timestamp_with_time_zone().null())
                .foreign_key(&mut fk_workspace(
                    UsageRecords::Table,
                    UsageRecords::WorkspaceId,
                    "fk_usage_records_workspace",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_usage_records_workspace_period")
                .table(UsageRecords::Table)
                .col(UsageRecords::WorkspaceId)
                .col(UsageRecords::Period)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_usage_records_state_expires")
                .table(UsageRecords::Table)
                .col(UsageRecords::State)
                .col(UsageRecords::ExpiresAt)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Notifications::Table)
                .col(ColumnDef::new(Notifications::Id).string_len(40).not_null().primary_key())
                .col(ColumnDef::new(Notifications::WorkspaceId).string_len(40).not_null())
                .col(ColumnDef::new(Notifications::AgentId).string_len(40).null())
                .col(ColumnDef::new(Notifications::Kind).string_len(40).not_null())
                .col(ColumnDef::new(Notifications::DedupeKey).string_len(200).not_null())
                .col(ColumnDef::new(Notifications::Subject).string_len(200).not_null())
                .col(ColumnDef::new(Notifications::Body).text().not_null())
                .col(ColumnDef::new(Notifications::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Notifications::ReadAt).timestamp_with_time_zone().null())
                .foreign_key(&mut fk_workspace(
                    Notifications::Table,
                    Notifications::WorkspaceId,
                    "fk_notifications_workspace",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_notifications_dedupe_key")
                .table(Notifications::Table)
                .col(Notifications::DedupeKey)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_notifications_workspace")
                .table(Notifications::Table)
                .col(Notifications::WorkspaceId)
                .col(Notifications::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_numbers_next_rental_at")
                .table(Numbers::Table)
                .col(Numbers::NextRentalAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ix_numbers_next_rental_at").table(Numbers::Table).to_owned())
            .await?;
        for table in [
            Notifications::Table.into_iden(),
            UsageRecords::Table.into_iden(),
            WorkspaceUsage::Table.into_iden(),
            UsageCounters::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

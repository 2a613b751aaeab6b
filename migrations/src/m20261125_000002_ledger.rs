//! The ledger: immutable entries, each with a unique idempotency key, so a charge or credit is
//! recorded at most once however often it is attempted. Amounts are signed integers in
//! 1/10 000 of the currency unit (credits positive, charges negative); the balance is their sum.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LedgerEntries {
    Table,
    Id,
    WorkspaceId,
    Kind,
    NumberId,
    Quantity,
    Amount,
    Currency,
    Period,
    IdempotencyKey,
    Description,
    CreatedAt,
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
                .table(LedgerEntries::Table)
                .col(ColumnDef::new(LedgerEntries::Id).string_len(40).not_null().primary_key())
                .col(ColumnDef::new(LedgerEntries::WorkspaceId).string_len(40).not_null())
                .col(ColumnDef::new(LedgerEntries::Kind).string_len(16).not_null())
                .col(ColumnDef::new(LedgerEntries::NumberId).string_len(40).null())
                .col(ColumnDef::new(LedgerEntries::Quantity).big_integer().not_null())
                .col(ColumnDef::new(LedgerEntries::Amount).big_integer().not_null())
                .col(ColumnDef::new(LedgerEntries::Currency).string_len(3).not_null())
                .col(ColumnDef::new(LedgerEntries::Period).string_len(7).null())
                .col(ColumnDef::new(LedgerEntries::IdempotencyKey).string_len(200).not_null())
                .col(ColumnDef::new(LedgerEntries::Description).string_len(400).not_null())
                .col(ColumnDef::new(LedgerEntries::CreatedAt).timestamp_with_time_zone().not_null())
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_ledger_entries_workspace")
                        .from(LedgerEntries::Table, LedgerEntries::WorkspaceId)
                        .to(Workspaces::Table, Workspaces::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_ledger_entries_idempotency_key")
                .table(LedgerEntries::Table)
                .col(LedgerEntries::IdempotencyKey)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_ledger_entries_workspace")
                .table(LedgerEntries::Table)
                .col(LedgerEntries::WorkspaceId)
                .col(LedgerEntries::Id)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(LedgerEntries::Table).to_owned()).await
    }
}

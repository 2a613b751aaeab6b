//! Phone numbers and request idempotency keys.
//!
//! `held_number` repeats `phone_number` while the number is held and is NULL once released, so a
//! unique index on it allows one live record per E.164 number while released records stay as
//! history (NULLs never collide, on SQLite or PostgreSQL).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Numbers {
    Table,
    Id,
    WorkspaceId,
    PhoneNumber,
    HeldNumber,
    FriendlyName,
    Name,
    Country,
    NumberType,
    CapVoice,
    CapSms,
    CapMms,
    CapFax,
    AgentId,
    CallsEnabled,
    SmsEnabled,
    MonthlyMinutesLimit,
    MonthlySmsLimit,
    Status,
    WhatsappStatus,
    TwilioSid,
    VapiPhoneNumberId,
    WhatsappSenderSid,
    MonthlyPrice,
    Currency,
    RentalAnchorDay,
    NextRentalAt,
    CreatedAt,
    UpdatedAt,
    ReleasedAt,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    WorkspaceId,
    Scope,
    Key,
    RequestHash,
    State,
    ResponseStatus,
    ResponseBody,
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

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Numbers::Table)
                .col(ColumnDef::new(Numbers::Id).string_len(40).not_null().primary_key())
                .col(ColumnDef::new(Numbers::WorkspaceId).string_len(40).not_null())
                .col(ColumnDef::new(Numbers::PhoneNumber).string_len(16).not_null())
                .col(ColumnDef::new(Numbers::HeldNumber).string_len(16).null())
                .col(ColumnDef::new(Numbers::FriendlyName).string_len(64).not_null())
                .col(ColumnDef::new(Numbers::Name).string_len(480).not_null())
                .col(ColumnDef::new(Numbers::Country).string_len(2).not_null())
                .col(ColumnDef::new(Numbers::NumberType).string_len(16).not_null())
                .col(ColumnDef::new(Numbers::CapVoice).boolean().not_null())
                .col(ColumnDef::new(Numbers::CapSms).boolean().not_null())
                .col(ColumnDef::new(Numbers::CapMms).boolean().not_null())
                .col(ColumnDef::new(Numbers::CapFax).boolean().not_null())
                .col(ColumnDef::new(Numbers::AgentId).string_len(40).null())
                .col(ColumnDef::new(Numbers::CallsEnabled).boolean().not_null())
                .col(ColumnDef::new(Numbers::SmsEnabled).boolean().not_null())
                .col(ColumnDef::new(Numbers::MonthlyMinutesLimit).big_integer().null())
                .col(ColumnDef::new(Numbers::MonthlySmsLimit).big_integer().null())
                .col(ColumnDef::new(Numbers::Status).string_len(16).not_null())
                .col(ColumnDef::new(Numbers::WhatsappStatus).string_len(16).not_null())
                .col(ColumnDef::new(Numbers::TwilioSid).string_len(64).null())
                .col(ColumnDef::new(Numbers::VapiPhoneNumberId).string_len(64).null())
                .col(ColumnDef::new(Numbers::WhatsappSenderSid).string_len(64).null())
                .col(ColumnDef::new(Numbers::MonthlyPrice).big_integer().not_null())
                .col(ColumnDef::new(Numbers::Currency).string_len(3).not_null())
                .col(ColumnDef::new(Numbers::RentalAnchorDay).integer().not_null())
                .col(ColumnDef::new(Numbers::NextRentalAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(Numbers::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Numbers::UpdatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Numbers::ReleasedAt).timestamp_with_time_zone().null())
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_numbers_workspace")
                        .from(Numbers::Table, Numbers::WorkspaceId)
                        .to(Workspaces::Table, Workspaces::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_numbers_agent")
                        .from(Numbers::Table, Numbers::AgentId)
                        .to(Agents::Table, Agents::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            ("ix_numbers_workspace", vec![Numbers::WorkspaceId, Numbers::Id]),
            ("ix_numbers_agent", vec![Numbers::AgentId]),
            ("ix_numbers_twilio_sid", vec![Numbers::TwilioSid]),
        ] {
            let mut idx = Index::create();
            idx.name(name).table(Numbers::Table);
            for c in cols {
                idx.col(c);
            }
            m.create_index(idx.to_owned()).await?;
        }
        m.create_index(
            Index::create()
                .name("ux_numbers_held_number")
                .table(Numbers::Table)
                .col(Numbers::HeldNumber)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(IdempotencyKeys::Table)
                .col(ColumnDef::new(IdempotencyKeys::WorkspaceId).string_len(40).not_null())
                .col(ColumnDef::new(IdempotencyKeys::Scope).string_len(64).not_null())
                .col(ColumnDef::new(IdempotencyKeys::Key).string_len(255).not_null())
                .col(ColumnDef::new(IdempotencyKeys::RequestHash).string_len(64).not_null())
                .col(ColumnDef::new(IdempotencyKeys::State).string_len(16).not_null())
                .col(ColumnDef::new(IdempotencyKeys::ResponseStatus).integer().null())
                .col(ColumnDef::new(IdempotencyKeys::ResponseBody).text().null())
                .col(ColumnDef::new(IdempotencyKeys::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(IdempotencyKeys::UpdatedAt).timestamp_with_time_zone().not_null())
                .primary_key(
                    Index::create()
                        .col(IdempotencyKeys::WorkspaceId)
                        .col(IdempotencyKeys::Scope)
                        .col(IdempotencyKeys::Key),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_idempotency_keys_workspace")
                        .from(IdempotencyKeys::Table, IdempotencyKeys::WorkspaceId)
                        .to(Workspaces::Table, Workspaces::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(IdempotencyKeys::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Numbers::Table).to_owned()).await
    }
}

//! Outgoing notification webhooks and notification mail (SPEC §8).
//!
//! - `webhook_endpoints`: one row per agent that ever had a delivery or asked for its secret —
//!   the Standard Webhooks signing secret (`whsec_…`), the count of consecutive deliveries that
//!   ended in failure, and `disabled_at` once that count reached the limit.
//! - `webhook_deliveries`: one per notification and agent (unique), carrying the retry state:
//!   `status` `pending | succeeded | failed`, attempts so far, when the next attempt is due.
//! - `webhook_attempts`: the log, one row per attempt (status code, latency, error).
//! - `notification_emails`: one per notification (the primary key is the notification), so a
//!   notification is mailed at most once however many runs see it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    AgentId,
    WorkspaceId,
    Secret,
    ConsecutiveFailures,
    DisabledAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    WorkspaceId,
    AgentId,
    NotificationId,
    Url,
    Status,
    Attempts,
    RoundAttempts,
    NextAttemptAt,
    LastStatusCode,
    LastError,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookAttempts {
    Table,
    DeliveryId,
    Attempt,
    WorkspaceId,
    AttemptedAt,
    StatusCode,
    LatencyMs,
    Error,
}

#[derive(DeriveIden)]
enum NotificationEmails {
    Table,
    NotificationId,
    WorkspaceId,
    ToAddress,
    Status,
    ProviderMessageId,
    Error,
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

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
}

fn fk(
    name: &str,
    from: (impl IntoIden + 'static, impl IntoIden + 'static),
    to: (impl IntoIden + 'static, impl IntoIden + 'static),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(WebhookEndpoints::Table)
                .col(ColumnDef::new(WebhookEndpoints::AgentId).string_len(40).not_null().primary_key())
                .col(ColumnDef::new(WebhookEndpoints::WorkspaceId).string_len(40).not_null())
                .col(ColumnDef::new(WebhookEndpoints::Secret).string_len(100).not_null())
                .col(ColumnDef::new(WebhookEndpoints::ConsecutiveFailures).integer().not_null())
                .col(ColumnDef::new(WebhookEndpoints::DisabledAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(WebhookEndpoints::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(WebhookEndpoints::UpdatedAt).timestamp_with_time_zone().not_null())
                .foreign_key(&mut fk(
                    "fk_webhook_endpoints_workspace",
                    (WebhookEndpoints::Table, WebhookEndpoints::WorkspaceId),
                    (Workspaces::Table, Workspaces::Id),
                ))
                .foreign_key(&mut fk(
                    "fk_webhook_endpoints_agent",
                    (WebhookEndpoints::Table, WebhookEndpoints::AgentId),
                    (Agents::Table, Agents::Id),
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(WebhookDeliveries::Table)
                .col(ColumnDef::new(WebhookDeliveries::Id).string_len(40).not_null().primary_key())
                .col(ColumnDef::new(WebhookDeliveries::WorkspaceId).string_len(40).not_null())
                .col(ColumnDef::new(WebhookDeliveries::AgentId).string_len(40).not_null())
                .col(ColumnDef::new(WebhookDeliveries::NotificationId).string_len(40).not_null())
                .col(ColumnDef::new(WebhookDeliveries::Url).string_len(2048).not_null())
                .col(ColumnDef::new(WebhookDeliveries::Status).string_len(16).not_null())
                .col(ColumnDef::new(WebhookDeliveries::Attempts).integer().not_null())
                .col(ColumnDef::new(WebhookDeliveries::RoundAttempts).integer().not_null())
                .col(ColumnDef::new(WebhookDeliveries::NextAttemptAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(WebhookDeliveries::LastStatusCode).integer().null())
                .col(ColumnDef::new(WebhookDeliveries::LastError).string_len(500).null())
                .col(ColumnDef::new(WebhookDeliveries::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(WebhookDeliveries::UpdatedAt).timestamp_with_time_zone().not_null())
                .foreign_key(&mut fk(
                    "fk_webhook_deliveries_workspace",
                    (WebhookDeliveries::Table, WebhookDeliveries::WorkspaceId),
                    (Workspaces::Table, Workspaces::Id),
                ))
                .foreign_key(&mut fk(
                    "fk_webhook_deliveries_agent",
                    (WebhookDeliveries::Table, WebhookDeliveries::AgentId),
                    (Agents::Table, Agents::Id),
                ))
                .foreign_key(&mut fk(
                    "fk_webhook_deliveries_notification",
                    (WebhookDeliveries::Table, WebhookDeliveries::NotificationId),
                    (Notifications::Table, Notifications::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_webhook_deliveries_notification_agent")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::NotificationId)
                .col(WebhookDeliveries::AgentId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_webhook_deliveries_due")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::Status)
                .col(WebhookDeliveries::NextAttemptAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_webhook_deliveries_workspace")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::WorkspaceId)
                .col(WebhookDeliveries::Id)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(WebhookAttempts::Table)
                .col(ColumnDef::new(WebhookAttempts::DeliveryId).string_len(40).not_null())
                .col(ColumnDef::new(WebhookAttempts::Attempt).integer().not_null())
                .col(ColumnDef::new(WebhookAttempts::WorkspaceId).string_len(40).not_null())
                .col(ColumnDef::new(WebhookAttempts::AttemptedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(WebhookAttempts::StatusCode).integer().null())
                .col(ColumnDef::new(WebhookAttempts::LatencyMs).big_integer().not_null())
                .col(ColumnDef::new(WebhookAttempts::Error).string_len(500).null())
                .primary_key(Index::create().col(WebhookAttempts::DeliveryId).col(WebhookAttempts::Attempt))
                .foreign_key(&mut fk(
                    "fk_webhook_attempts_delivery",
                    (WebhookAttempts::Table, WebhookAttempts::DeliveryId),
                    (WebhookDeliveries::Table, WebhookDeliveries::Id),
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(NotificationEmails::Table)
                .col(
                    ColumnDef::new(NotificationEmails::NotificationId)
                        .string_len(40)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(NotificationEmails::WorkspaceId).string_len(40).not_null())
                .col(ColumnDef::new(NotificationEmails::ToAddress).string_len(320).not_null())
                .col(ColumnDef::new(NotificationEmails::Status).string_len(16).not_null())
                .col(ColumnDef::new(NotificationEmails::ProviderMessageId).string_len(200).null())
                .col(ColumnDef::new(NotificationEmails::Error).string_len(500).null())
                .col(ColumnDef::new(NotificationEmails::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(NotificationEmails::UpdatedAt).timestamp_with_time_zone().not_null())
                .foreign_key(&mut fk(
                    "fk_notification_emails_notification",
                    (NotificationEmails::Table, NotificationEmails::NotificationId),
                    (Notifications::Table, Notifications::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_notification_emails_status")
                .table(NotificationEmails::Table)
                .col(NotificationEmails::Status)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(NotificationEmails::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(WebhookAttempts::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(WebhookDeliveries::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(WebhookEndpoints::Table).to_owned()).await
    }
}

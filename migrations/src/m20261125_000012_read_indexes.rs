//! Indexes for two reads that grew with their tables (found by the SQLite soak, issue 9):
//!
//! - A conversation's latest message (every row of a conversation list) and its messages in
//!   order: `(conversation_id, created_at, id)` answers both straight from the index. Before,
//!   SQLite chose the `(workspace_id, provider_message_id)` index and sorted every message of
//!   the workspace, for each conversation listed. It replaces `(conversation_id, id)`, whose
//!   every use it covers.
//! - The wallet balance (a sum over the workspace's ledger): `(workspace_id, id, amount)` lets
//!   both engines sum from the index alone and still pages the ledger in id order. It replaces
//!   `(workspace_id, id)`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ConversationMessages {
    Table,
    ConversationId,
    CreatedAt,
    Id,
}

#[derive(DeriveIden)]
enum LedgerEntries {
    Table,
    WorkspaceId,
    Id,
    Amount,
}

const OLD_MESSAGES: &str = "ix_conversation_messages_conversation";
const NEW_MESSAGES: &str = "ix_conversation_messages_conversation_time";
const OLD_LEDGER: &str = "ix_ledger_entries_workspace";
const NEW_LEDGER: &str = "ix_ledger_entries_workspace_amount";

fn messages_index(name: &str, with_time: bool) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(ConversationMessages::Table).col(ConversationMessages::ConversationId);
    if with_time {
        index.col(ConversationMessages::CreatedAt);
    }
    index.col(ConversationMessages::Id).to_owned()
}

fn ledger_index(name: &str, with_amount: bool) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(LedgerEntries::Table).col(LedgerEntries::WorkspaceId).col(LedgerEntries::Id);
    if with_amount {
        index.col(LedgerEntries::Amount);
    }
    index.to_owned()
}

fn drop(name: &str, table: impl IntoIden + 'static) -> IndexDropStatement {
    Index::drop().name(name).table(table).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(messages_index(NEW_MESSAGES, true)).await?;
        m.drop_index(drop(OLD_MESSAGES, ConversationMessages::Table)).await?;
        m.create_index(ledger_index(NEW_LEDGER, true)).await?;
        m.drop_index(drop(OLD_LEDGER, LedgerEntries::Table)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(ledger_index(OLD_LEDGER, false)).await?;
        m.drop_index(drop(NEW_LEDGER, LedgerEntries::Table)).await?;
        m.create_index(messages_index(OLD_MESSAGES, false)).await?;
        m.drop_index(drop(NEW_MESSAGES, ConversationMessages::Table)).await
    }
}

//! The billing API that binaries and other crates call.

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use switchboard_core::error::Violations;
use switchboard_core::text::required_text;
use switchboard_core::{Ctx, Currency, Error, Money, Page, PageRequest, Permission, Result, WorkspaceId};

use crate::ledger;
use crate::model::{EntryKind, LedgerEntry, NewCredit, NewEntry, Recorded, Wallet};
use crate::price::PriceList;

/// Wallet, ledger, credits and the price list of one deployment.
#[derive(Debug, Clone)]
pub struct BillingService {
    db: DatabaseConnection,
    prices: Arc<PriceList>,
    currency: Currency,
}

impl BillingService {
    pub fn new(db: DatabaseConnection, prices: Arc<PriceList>, currency: Currency) -> Self {
        Self { db, prices, currency }
    }

    pub fn prices(&self) -> &PriceList {
        &self.prices
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub async fn wallet(&self, ctx: &Ctx) -> Result<Wallet> {
        ctx.require(Permission::BillingRead)?;
        let balance = ledger::balance(&self.db, ctx.workspace_id()).await?;
        Ok(Wallet { workspace_id: ctx.workspace_id().clone(), balance: Money::new(balance, self.currency) })
    }

    pub async fn ledger(&self, ctx: &Ctx, page: &PageRequest) -> Result<Page<LedgerEntry>> {
        ctx.require(Permission::BillingRead)?;
        let rows = ledger::list(&self.db, ctx.workspace_id(), page).await?;
        Ok(Page::from_rows(rows, page, |e| e.id.to_string()).map(LedgerEntry::from))
    }

    /// Credits a workspace's wallet (the platform admin; the caller checked the admin token).
    /// Idempotent by `reference`: the same reference and amount return the first entry; the same
    /// reference with another amount is a conflict.
    pub async fn credit(&self, ws: &WorkspaceId, input: NewCredit) -> Result<Recorded> {
        let mut v = Violations::new();
        if !input.amount.is_positive() {
            v.add("amount", "must be greater than zero");
        }
        let reference = v.check("reference", required_text(&input.reference, 120));
        v.finish()?;
        let reference = reference.unwrap_or_default();
        let recorded = ledger::record(
            &self.db,
            self.currency,
            NewEntry {
                workspace_id: ws.clone(),
                kind: EntryKind::Credit,
                number_id: None,
                quantity: 1,
                amount: input.amount,
                period: None,
                idempotency_key: format!("credit:{ws}:{reference}"),
                description: format!("Credit {reference}"),
            },
        )
        .await
        .map_err(|e| {
            if switchboard_core::db::is_foreign_key_violation(&e) {
                Error::not_found("workspace")
            } else {
                e.into()
            }
        })?;
        if let Recorded::Existing(entry) = &recorded
            && entry.amount.amount != input.amount
        {
            return Err(Error::conflict(
                "reference_reused",
                format!("reference `{reference}` was already used for a credit of {}", entry.amount.amount),
            ));
        }
        if recorded.is_new() {
            tracing::info!(workspace_id = %ws, amount = %input.amount, "wallet credited");
        }
        Ok(recorded)
    }
}

//! What billing's metering needs of a number ([`Meter`]): its switches and limits, the rates of
//! its country and type, and its workspace's zone — read at the moment of admission.

use std::collections::HashMap;
use switchboard_billing::Meter;

use switchboard_core::{Ctx, E164, Error, NumberId, Result, WorkspaceId, Zone};

use crate::entity::{Column, Entity, Model};
use crate::model::{Number, NumberStatus};
use crate::service::NumberService;
use crate::store;

impl NumberService {
    /// The meter of a number of the caller's workspace (the API's send path).
    pub async fn meter(&self, ctx: &Ctx, id: &NumberId) -> Result<Meter> {
        let m = store::find(self.db(), ctx.workspace_id(), id).await?.ok_or(Error::not_found("number"))?;
        let zone = self.tenancy().workspace(ctx).await?.timezone;
        Ok(self.meter_of(&m, zone))
    }

    /// The number held as `phone` in any workspace, with its meter (the webhook path: a
    /// provider names the number, not the workspace). `None` when nobody holds it.
    pub async fn meter_by_phone(&self, phone: &E164) -> Result<Option<(Number, Meter)>> {
        Ok(self.meters_by_phone(std::slice::from_ref(phone)).await?.remove(phone))
    }

    /// [`NumberService::meter_by_phone`] for many numbers in two statements (webhook-ingest
    /// routes a batch of messages at once); numbers nobody holds are missing from the answer.
    pub async fn meters_by_phone(&self, phones: &[E164]) -> Result<HashMap<E164, (Number, Meter)>> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        if phones.is_empty() {
            return Ok(HashMap::new());
        }
        let held = Entity::find()
            .filter(Column::HeldNumber.is_in(phones.iter().map(E164::to_string)))
            .all(self.db())
            .await?;
        let workspaces: Vec<WorkspaceId> = held.iter().map(|m| m.workspace_id.clone()).collect();
        let zones: HashMap<WorkspaceId, Zone> = self
            .tenancy()
            .find_workspaces(&workspaces)
            .await?
            .into_iter()
            .map(|w| (w.id, w.timezone))
            .collect();
        Ok(held
            .into_iter()
            .filter_map(|m| {
                let phone = E164::parse(m.held_number.as_deref()?).ok()?;
                let zone = zones.get(&m.workspace_id).copied().unwrap_or(Zone::UTC);
                let meter = self.meter_of(&m, zone);
                Some((phone, (Number::from(m), meter)))
            })
            .collect())
    }

    fn meter_of(&self, m: &Model, zone: Zone) -> Meter {
        let number = Number::from(m.clone());
        Meter {
            workspace_id: m.workspace_id.clone(),
            number_id: m.id.clone(),
            zone,
            prices: self.billing().prices().prices(number.country, number.number_type),
            enabled: m.status == NumberStatus::Enabled,
            calls_enabled: m.calls_enabled,
            sms_enabled: m.sms_enabled,
            monthly_minutes_limit: m.monthly_minutes_limit,
            monthly_sms_limit: m.monthly_sms_limit,
        }
    }
}

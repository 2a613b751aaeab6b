//! What billing's metering needs of a number ([`Meter`]): its switches and limits, the rates of
//! its country and type, and its workspace's zone — read at the moment of admission.

use switchboard_billing::Meter;
use switchboard_core::{Ctx, E164, Error, NumberId, Result, Zone};

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
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let Some(m) = Entity::find().filter(Column::HeldNumber.eq(phone.to_string())).one(self.db()).await?
        else {
            return Ok(None);
        };
        let zone =
            self.tenancy().find_workspace(&m.workspace_id).await?.map(|w| w.timezone).unwrap_or(Zone::UTC);
        let meter = self.meter_of(&m, zone);
        Ok(Some((Number::from(m), meter)))
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

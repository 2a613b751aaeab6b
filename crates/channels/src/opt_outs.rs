//! Opt-outs (SPEC §11), storage part: contacts who asked not to be messaged on a channel —
//! by a keyword (STOP, START), by the provider refusing a send (Twilio 21610), or by email
//! feedback (a permanent bounce, a complaint). Sending to an opted-out contact is refused with
//! 409 `recipient_opted_out` by the send path (issue 8), which asks [`is_opted_out`].
//!
//! **Table**: `opt_outs`, unique per workspace, channel and contact, so opting out twice keeps
//! the first row (and its source) and opting in removes it.

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
};
use switchboard_core::{OptOutId, WorkspaceId};

use crate::conversations::Channel;

mod entity {
    use sea_orm::entity::prelude::*;
    use switchboard_core::{OptOutId, WorkspaceId};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "opt_outs")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: OptOutId,
        pub workspace_id: WorkspaceId,
        pub channel: String,
        pub contact: String,
        pub source: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use entity::{Column, Entity, Model};

/// Why a contact is opted out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptOutSource {
    /// The contact sent STOP, STOPALL, UNSUBSCRIBE, CANCEL, END or QUIT.
    Keyword,
    /// The provider refused a send because the contact unsubscribed (Twilio 21610).
    ProviderRefusal,
    /// A permanent email bounce.
    Bounce,
    /// An email complaint (marked as spam).
    Complaint,
}

impl OptOutSource {
    pub fn as_str(self) -> &'static str {
        match self {
            OptOutSource::Keyword => "keyword",
            OptOutSource::ProviderRefusal => "provider_refusal",
            OptOutSource::Bounce => "bounce",
            OptOutSource::Complaint => "complaint",
        }
    }
}

/// Records that `contact` opted out of `channel`; whether this is new (an existing opt-out is
/// kept as it was).
pub async fn opt_out(
    conn: &impl ConnectionTrait,
    ws: &WorkspaceId,
    channel: Channel,
    contact: &str,
    source: OptOutSource,
) -> Result<bool, DbErr> {
    let row = Model {
        id: OptOutId::new(),
        workspace_id: ws.clone(),
        channel: channel.as_str().to_owned(),
        contact: contact.to_owned(),
        source: source.as_str().to_owned(),
        created_at: switchboard_core::time::now(),
    };
    let inserted = Entity::insert(row.into_active_model())
        .on_conflict(
            OnConflict::columns([Column::WorkspaceId, Column::Channel, Column::Contact])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    if inserted > 0 {
        tracing::info!(channel = channel.as_str(), source = source.as_str(), "contact opted out");
    }
    Ok(inserted > 0)
}

/// Removes `contact`'s opt-out of `channel` (START, UNSTOP); whether there was one.
pub async fn opt_in(
    conn: &impl ConnectionTrait,
    ws: &WorkspaceId,
    channel: Channel,
    contact: &str,
) -> Result<bool, DbErr> {
    let r = Entity::delete_many()
        .filter(Column::WorkspaceId.eq(ws.clone()))
        .filter(Column::Channel.eq(channel.as_str()))
        .filter(Column::Contact.eq(contact))
        .exec(conn)
        .await?;
    if r.rows_affected > 0 {
        tracing::info!(channel = channel.as_str(), "contact opted back in");
    }
    Ok(r.rows_affected > 0)
}

/// Whether `contact` opted out of `channel` in `ws`.
pub async fn is_opted_out(
    conn: &impl ConnectionTrait,
    ws: &WorkspaceId,
    channel: Channel,
    contact: &str,
) -> Result<bool, DbErr> {
    let n = Entity::find()
        .filter(Column::WorkspaceId.eq(ws.clone()))
        .filter(Column::Channel.eq(channel.as_str()))
        .filter(Column::Contact.eq(contact))
        .count(conn)
        .await?;
    Ok(n > 0)
}

/// The keyword a whole inbound message is, if any: the message trimmed and compared without
/// regard to case, as carriers do (a sentence that contains "stop" is not one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    OptOut,
    OptIn,
}

impl Keyword {
    pub fn of(body: &str) -> Option<Self> {
        let word = body.trim();
        const OUT: [&str; 6] = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"];
        const IN: [&str; 2] = ["START", "UNSTOP"];
        if OUT.iter().any(|k| k.eq_ignore_ascii_case(word)) {
            Some(Keyword::OptOut)
        } else if IN.iter().any(|k| k.eq_ignore_ascii_case(word)) {
            Some(Keyword::OptIn)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_whole_messages_in_any_case() {
        for body in ["STOP", "stop", "  Stop\n", "StopAll", "unsubscribe", "CANCEL", "end", "Quit"] {
            assert_eq!(Keyword::of(body), Some(Keyword::OptOut), "{body:?}");
        }
        for body in ["START", " start ", "Unstop"] {
            assert_eq!(Keyword::of(body), Some(Keyword::OptIn), "{body:?}");
        }
        for body in ["please stop", "STOP!", "", "stopp", "restart", "S T O P"] {
            assert_eq!(Keyword::of(body), None, "{body:?}");
        }
    }
}

/// An opt-out as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct OptOut {
    pub id: OptOutId,
    pub channel: Channel,
    /// E.164 for SMS and WhatsApp, an address for email.
    pub contact: String,
    /// `keyword`, `provider_refusal`, `bounce`, `complaint` or `manual`.
    pub source: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<Model> for OptOut {
    fn from(m: Model) -> Self {
        Self {
            id: m.id,
            channel: Channel::parse(&m.channel).unwrap_or(Channel::Sms),
            contact: m.contact,
            source: m.source,
            created_at: m.created_at,
        }
    }
}

/// `POST /v1/opt-outs` and the body of `DELETE`'s query.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOptOut {
    pub channel: Channel,
    /// E.164 for SMS and WhatsApp (normalised), an email address for email.
    pub contact: String,
}

/// `GET /v1/opt-outs` filters.
#[derive(Debug, Clone, Default)]
pub struct OptOutFilter {
    pub channel: Option<Channel>,
    pub contact: Option<String>,
}

/// The workspace's opt-outs through the API (SPEC §11): anyone may list and add (honouring a
/// request never needs an admin); removing one — messaging someone who said STOP again — needs
/// `channels_write` (owner, admin).
#[derive(Debug, Clone)]
pub struct OptOutService {
    db: sea_orm::DatabaseConnection,
}

fn normalise(channel: Channel, contact: &str) -> Result<String, switchboard_core::Error> {
    match channel {
        Channel::Sms | Channel::Whatsapp => switchboard_core::E164::parse(contact.trim())
            .map(|n| n.to_string())
            .map_err(|e| switchboard_core::Error::invalid("contact", e.to_string())),
        Channel::Email => switchboard_core::email::EmailAddress::parse(contact.trim())
            .map(|e| e.to_string())
            .map_err(|e| switchboard_core::Error::invalid("contact", e.to_string())),
    }
}

impl OptOutService {
    pub fn new(db: sea_orm::DatabaseConnection) -> Self {
        Self { db }
    }

    pub async fn list(
        &self,
        ctx: &switchboard_core::Ctx,
        filter: &OptOutFilter,
        page: &switchboard_core::PageRequest,
    ) -> switchboard_core::Result<switchboard_core::Page<OptOut>> {
        use sea_orm::{QueryOrder, QuerySelect};
        ctx.require(switchboard_core::Permission::Read)?;
        let mut q = Entity::find().filter(Column::WorkspaceId.eq(ctx.workspace_id().clone()));
        if let Some(channel) = filter.channel {
            q = q.filter(Column::Channel.eq(channel.as_str()));
        }
        if let Some(contact) = &filter.contact {
            let contact = match filter.channel {
                Some(channel) => normalise(channel, contact)?,
                None => switchboard_core::E164::parse(contact.trim())
                    .map(|n| n.to_string())
                    .unwrap_or_else(|_| contact.trim().to_owned()),
            };
            q = q.filter(Column::Contact.eq(contact));
        }
        if let Some(after) = &page.after {
            q = q.filter(Column::Id.gt(after.as_str()));
        }
        let rows = q.order_by_asc(Column::Id).limit(page.fetch_limit()).all(&self.db).await?;
        Ok(switchboard_core::Page::from_rows(rows, page, |m| m.id.to_string()).map(OptOut::from))
    }

    /// Opts the contact out; an existing opt-out is answered as it is (`false`: not new).
    pub async fn add(
        &self,
        ctx: &switchboard_core::Ctx,
        input: NewOptOut,
    ) -> switchboard_core::Result<(OptOut, bool)> {
        ctx.require(switchboard_core::Permission::ConversationsManage)?;
        let contact = normalise(input.channel, &input.contact)?;
        let ws = ctx.workspace_id();
        let row = Model {
            id: OptOutId::new(),
            workspace_id: ws.clone(),
            channel: input.channel.as_str().to_owned(),
            contact: contact.clone(),
            source: "manual".into(),
            created_at: switchboard_core::time::now(),
        };
        let inserted = Entity::insert(row.into_active_model())
            .on_conflict(
                OnConflict::columns([Column::WorkspaceId, Column::Channel, Column::Contact])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await?;
        let stored = Entity::find()
            .filter(Column::WorkspaceId.eq(ws.clone()))
            .filter(Column::Channel.eq(input.channel.as_str()))
            .filter(Column::Contact.eq(contact))
            .one(&self.db)
            .await?
            .ok_or(switchboard_core::Error::not_found("opt-out"))?;
        if inserted > 0 {
            tracing::info!(channel = input.channel.as_str(), "contact opted out by API");
        }
        Ok((stored.into(), inserted > 0))
    }

    /// Removes an opt-out by id (the contact may be messaged again).
    pub async fn remove(&self, ctx: &switchboard_core::Ctx, id: &OptOutId) -> switchboard_core::Result<()> {
        ctx.require(switchboard_core::Permission::ChannelsWrite)?;
        let r = Entity::delete_many()
            .filter(Column::WorkspaceId.eq(ctx.workspace_id().clone()))
            .filter(Column::Id.eq(id.clone()))
            .exec(&self.db)
            .await?;
        if r.rows_affected == 0 {
            return Err(switchboard_core::Error::not_found("opt-out"));
        }
        tracing::info!(opt_out_id = %id, "opt-out removed by API");
        Ok(())
    }
}

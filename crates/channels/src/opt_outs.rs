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

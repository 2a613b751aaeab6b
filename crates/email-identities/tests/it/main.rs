//! Email settings and verification on every engine, against a scripted provider.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use switchboard_agents::{AgentService, NewAgent};
use switchboard_core::{AgentId, Ctx, Error, Permission, ProviderError, Role};
use switchboard_email_identities::{
    EmailIdentityProvider, EmailPatch, EmailService, IdentityKind, IdentityState, VerificationStatus,
};
use switchboard_tenancy::{NewApiKey, NewWorkspace, TenancyService};
use switchboard_testkit::{TestDb, each_engine};

/// Address identities verify on the first re-check; domains on the second.
#[derive(Default)]
struct Scripted {
    checks: Mutex<HashMap<String, u32>>,
}

impl Scripted {
    fn state(&self, identity: &str, checks: u32) -> IdentityState {
        let domain = !identity.contains('@');
        let verified = if domain { checks >= 2 } else { checks >= 1 };
        IdentityState {
            identity: identity.into(),
            kind: if domain { IdentityKind::Domain } else { IdentityKind::Address },
            status: if verified { VerificationStatus::Verified } else { VerificationStatus::Pending },
            verified_for_sending: verified,
            dkim_tokens: if domain { vec!["tok1".into(), "tok2".into(), "tok3".into()] } else { vec![] },
        }
    }
}

#[async_trait]
impl EmailIdentityProvider for Scripted {
    async fn create_identity(&self, identity: &str, _: IdentityKind) -> Result<IdentityState, ProviderError> {
        self.checks.lock().unwrap().insert(identity.into(), 0);
        Ok(self.state(identity, 0))
    }

    async fn get_identity(&self, identity: &str) -> Result<IdentityState, ProviderError> {
        let mut checks = self.checks.lock().unwrap();
        let n = checks
            .get_mut(identity)
            .ok_or(ProviderError::NotFound { provider: "test", message: identity.into() })?;
        *n += 1;
        Ok(self.state(identity, *n))
    }
}

struct Fixture {
    tenancy: TenancyService,
    email: EmailService,
    ctx: Ctx,
    agent: AgentId,
}

async fn fixture(db: &TestDb, domain: Option<&str>) -> Fixture {
    let tenancy = TenancyService::new(db.conn.clone());
    let agents = AgentService::new(db.conn.clone(), tenancy.clone());
    let (ws, _) = tenancy.create_workspace(NewWorkspace { name: "A".into(), timezone: None }).await.unwrap();
    let ctx = Ctx::system(ws.id);
    let agent = agents
        .create(&ctx, NewAgent { name: "Support".into(), status: None, timezone: None, language: None })
        .await
        .unwrap()
        .id;
    let email =
        EmailService::new(db.conn.clone(), agents, Arc::new(Scripted::default()), domain.map(str::to_owned));
    Fixture { tenancy, email, ctx, agent }
}

fn patch(alias: Option<&str>, inbound: Option<&str>, reply: Option<&str>, name: Option<&str>) -> EmailPatch {
    EmailPatch {
        email_alias: alias.map(|a| Some(a.to_owned())),
        inbound_address: inbound.map(|a| Some(a.to_owned())),
        reply_from: reply.map(|a| Some(a.to_owned())),
        reply_display_name: name.map(|a| Some(a.to_owned())),
    }
}

fn fields(err: &Error) -> Vec<String> {
    match err {
        Error::Invalid(f) => f.iter().map(|f| f.field.clone()).collect(),
        other => panic!("expected invalid input, got {other:?}"),
    }
}

#[tokio::test]
async fn an_alias_becomes_the_inbound_address_and_the_sender() {
    each_engine(|db| async move {
        let f = fixture(&db, Some("support.example.com")).await;
        let view = f
            .email
            .update(&f.ctx, &f.agent, patch(Some("  Sales.Team "), None, None, Some("Acme Sales")))
            .await
            .unwrap();
        assert_eq!(view.email_alias.as_deref(), Some("sales.team"));
        assert_eq!(view.inbound_address.as_deref(), Some("sales.team@support.example.com"));
        assert_eq!(view.effective_sender.as_deref(), Some("sales.team@support.example.com"));
        assert!(!view.can_send);
        assert!(view.reason.unwrap().contains("not verified"));
        let view = f
            .email
            .update(&f.ctx, &f.agent, patch(None, None, Some("hello@acme.example"), None))
            .await
            .unwrap();
        assert_eq!(view.effective_sender.as_deref(), Some("hello@acme.example"), "reply-from wins");
        assert!(matches!(
            f.email.sender_for(&f.ctx, &f.agent).await,
            Err(Error::Conflict { code: "sender_not_verified", .. })
        ));
    })
    .await;
}

#[tokio::test]
async fn every_email_rule_names_its_field() {
    each_engine(|db| async move {
        let f = fixture(&db, Some("support.example.com")).await;
        for (p, field) in [
            (patch(Some(".sales"), None, None, None), "email_alias"),
            (patch(Some("sa..les"), None, None, None), "email_alias"),
            (patch(Some("süd"), None, None, None), "email_alias"),
            (patch(None, Some("not-an-address"), None, None), "inbound_address"),
            (patch(None, None, Some("a@b"), None), "reply_from"),
            (patch(None, None, None, Some(&"x".repeat(101))), "reply_display_name"),
            (patch(None, None, None, Some("Acme\r\nBcc: victim@example.com")), "reply_display_name"),
        ] {
            assert_eq!(fields(&f.email.update(&f.ctx, &f.agent, p).await.unwrap_err()), [field]);
        }
        let no_domain = fixture(&db, None).await;
        let err = no_domain
            .email
            .update(&no_domain.ctx, &no_domain.agent, patch(Some("sales"), None, None, None))
            .await
            .unwrap_err();
        assert_eq!(fields(&err), ["email_alias"]);
        let view = no_domain
            .email
            .update(&no_domain.ctx, &no_domain.agent, patch(None, Some("support@legacy.example"), None, None))
            .await
            .unwrap();
        assert_eq!(
            view.inbound_address.as_deref(),
            Some("support@legacy.example"),
            "free text when no system domain"
        );
    })
    .await;
}

#[tokio::test]
async fn an_alias_is_unique_on_the_domain_across_workspaces_also_under_concurrent_claims() {
    each_engine(|db| async move {
        let a = fixture(&db, Some("support.example.com")).await;
        let b = fixture(&db, Some("support.example.com")).await;
        let (ra, rb) = tokio::join!(
            a.email.update(&a.ctx, &a.agent, patch(Some("help"), None, None, None)),
            b.email.update(&b.ctx, &b.agent, patch(Some("HELP"), None, None, None)),
        );
        let results = [ra.is_ok(), rb.is_ok()];
        assert_eq!(results.iter().filter(|ok| **ok).count(), 1, "exactly one claim wins: {results:?}");
        let loser = if results[0] { b } else { a };
        let err = loser
            .email
            .update(&loser.ctx, &loser.agent, patch(Some("help"), None, None, None))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Conflict { code: "alias_taken", .. }), "{err:?}");
    })
    .await;
}

#[tokio::test]
async fn address_and_domain_verification_follow_the_state_machine() {
    each_engine(|db| async move {
        let f = fixture(&db, Some("support.example.com")).await;
        assert!(matches!(
            f.email.verify(&f.ctx, &f.agent, IdentityKind::Address).await,
            Err(Error::Conflict { code: "no_sender", .. })
        ));
        f.email.update(&f.ctx, &f.agent, patch(None, None, Some("hello@acme.example"), None)).await.unwrap();

        let domain = f.email.verify(&f.ctx, &f.agent, IdentityKind::Domain).await.unwrap();
        assert_eq!(domain.identity.as_ref().unwrap().status, VerificationStatus::Pending);
        assert_eq!(domain.dns_records.len(), 3);
        assert_eq!(domain.dns_records[0].name, "tok1._domainkey.acme.example");
        assert_eq!(domain.dns_records[0].value, "tok1.dkim.amazonses.com");
        assert!(!domain.can_send);

        // billing-cron's re-check: the domain verifies on its second check.
        assert_eq!(f.email.recheck_pending(100).await.unwrap(), 0);
        assert_eq!(f.email.recheck_pending(100).await.unwrap(), 1);
        let view = f.email.get(&f.ctx, &f.agent).await.unwrap();
        assert!(view.can_send, "a verified domain verifies its addresses");
        assert_eq!(f.email.sender_for(&f.ctx, &f.agent).await.unwrap().as_str(), "hello@acme.example");
        assert_eq!(f.email.recheck_pending(100).await.unwrap(), 0, "nothing pending any more");
    })
    .await;
}

#[tokio::test]
async fn email_settings_stay_in_their_workspace_and_agent_keys_cannot_change_them() {
    each_engine(|db| async move {
        let f = fixture(&db, Some("support.example.com")).await;
        let other = fixture(&db, Some("support.example.com")).await;
        assert!(matches!(other.email.get(&other.ctx, &f.agent).await, Err(Error::NotFound { .. })));
        let key = f
            .tenancy
            .create_api_key(&f.ctx, NewApiKey { name: "bot".into(), role: Role::Agent })
            .await
            .unwrap();
        let agent_role = f.tenancy.authenticate(&key.key).await.unwrap().unwrap();
        let err =
            f.email.update(&agent_role, &f.agent, patch(Some("x"), None, None, None)).await.unwrap_err();
        assert!(matches!(err, Error::Forbidden(Permission::EmailWrite)));
        assert!(matches!(
            f.email.verify(&agent_role, &f.agent, IdentityKind::Address).await,
            Err(Error::Forbidden(_))
        ));
        assert!(f.email.get(&agent_role, &f.agent).await.is_ok());
    })
    .await;
}

#[tokio::test]
async fn an_identity_gone_at_the_provider_is_created_again_on_the_next_check() {
    each_engine(|db| async move {
        let f = fixture(&db, Some("support.example.com")).await;
        f.email.update(&f.ctx, &f.agent, patch(None, None, Some("hello@acme.example"), None)).await.unwrap();
        f.email.verify(&f.ctx, &f.agent, IdentityKind::Address).await.unwrap();
        // Another process (billing-cron) with a provider that never saw the identity.
        let tenancy = TenancyService::new(db.conn.clone());
        let agents = AgentService::new(db.conn.clone(), tenancy);
        let cron = EmailService::new(
            db.conn.clone(),
            agents,
            Arc::new(Scripted::default()),
            Some("support.example.com".into()),
        );
        assert_eq!(cron.recheck_pending(10).await.unwrap(), 0, "re-created: pending again");
        assert_eq!(cron.recheck_pending(10).await.unwrap(), 1, "then verified on its re-check");
        assert!(f.email.get(&f.ctx, &f.agent).await.unwrap().can_send);
    })
    .await;
}

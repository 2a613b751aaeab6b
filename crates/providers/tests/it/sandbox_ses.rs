//! The SES sandbox through its ports.

use switchboard_core::ProviderError;
use switchboard_email_identities::{
    EmailIdentityProvider, EmailSender, IdentityKind, OutgoingEmail, VerificationStatus,
};
use switchboard_providers::SandboxSes;

fn email(from: &str) -> OutgoingEmail {
    OutgoingEmail {
        from: from.into(),
        from_name: Some("Acme".into()),
        to: vec!["ana@customer.example".into()],
        subject: "Hi".into(),
        text: "Hello".into(),
    }
}

#[tokio::test]
async fn an_address_is_pending_then_verified_on_the_first_recheck() {
    let ses = SandboxSes::new();
    let created = ses.create_identity("sender@acme.example", IdentityKind::Address).await.unwrap();
    assert_eq!(created.status, VerificationStatus::Pending);
    assert!(!created.verified_for_sending);
    assert!(created.dkim_tokens.is_empty());
    assert_eq!(created.kind, IdentityKind::Address);

    let checked = ses.get_identity("sender@acme.example").await.unwrap();
    assert_eq!(checked.status, VerificationStatus::Verified);
    assert!(checked.verified_for_sending);
}

#[tokio::test]
async fn a_domain_is_pending_twice_then_verified_with_deterministic_tokens() {
    let ses = SandboxSes::new();
    let created = ses.create_identity("acme.example", IdentityKind::Domain).await.unwrap();
    assert_eq!(created.status, VerificationStatus::Pending);
    assert_eq!(created.dkim_tokens.len(), 3);
    for token in &created.dkim_tokens {
        assert_eq!(token.len(), 32);
        assert!(token.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()), "{token}");
    }

    let first = ses.get_identity("acme.example").await.unwrap();
    assert_eq!(first.status, VerificationStatus::Pending);
    assert!(!first.verified_for_sending);
    let second = ses.get_identity("acme.example").await.unwrap();
    assert_eq!(second.status, VerificationStatus::Verified);
    assert!(second.verified_for_sending);
    assert_eq!(second.dkim_tokens, created.dkim_tokens);

    // Another sandbox (another run) hands out the same tokens for the same domain.
    let again = SandboxSes::new().create_identity("acme.example", IdentityKind::Domain).await.unwrap();
    assert_eq!(again.dkim_tokens, created.dkim_tokens);
    let other = SandboxSes::new().create_identity("other.example", IdentityKind::Domain).await.unwrap();
    assert_ne!(other.dkim_tokens, created.dkim_tokens);
}

#[tokio::test]
async fn creating_twice_answers_the_current_state() {
    let ses = SandboxSes::new();
    ses.create_identity("sender@acme.example", IdentityKind::Address).await.unwrap();
    ses.get_identity("sender@acme.example").await.unwrap();
    let again = ses.create_identity("sender@acme.example", IdentityKind::Address).await.unwrap();
    assert_eq!(again.status, VerificationStatus::Verified);
}

#[tokio::test]
async fn fail_example_goes_failed_and_tempfail_example_goes_temporary_failure() {
    let ses = SandboxSes::new();
    for (identity, kind, expected) in [
        ("fail.example", IdentityKind::Domain, VerificationStatus::Failed),
        ("someone@fail.example", IdentityKind::Address, VerificationStatus::Failed),
        ("tempfail.example", IdentityKind::Domain, VerificationStatus::TemporaryFailure),
        ("someone@tempfail.example", IdentityKind::Address, VerificationStatus::TemporaryFailure),
    ] {
        let created = ses.create_identity(identity, kind).await.unwrap();
        assert_eq!(created.status, VerificationStatus::Pending, "{identity}");
        for _ in 0..3 {
            let state = ses.get_identity(identity).await.unwrap();
            assert_eq!(state.status, expected, "{identity}");
            assert!(!state.verified_for_sending);
        }
    }
}

#[tokio::test]
async fn an_unknown_identity_is_not_found() {
    let err = SandboxSes::new().get_identity("nobody@acme.example").await.unwrap_err();
    assert!(matches!(err, ProviderError::NotFound { provider: "ses", .. }), "{err:?}");
}

#[tokio::test]
async fn an_identity_that_does_not_match_its_kind_is_rejected() {
    let ses = SandboxSes::new();
    let err = ses.create_identity("acme.example", IdentityKind::Address).await.unwrap_err();
    assert!(matches!(err, ProviderError::Rejected { ref code, .. } if code == "BadRequestException"));
    let err = ses.create_identity("a@acme.example", IdentityKind::Domain).await.unwrap_err();
    assert!(matches!(err, ProviderError::Rejected { .. }));
}

#[tokio::test]
async fn send_from_an_unverified_sender_is_rejected_like_message_rejected() {
    let ses = SandboxSes::new();
    let err = ses.send(&email("sender@acme.example")).await.unwrap_err();
    assert!(matches!(err, ProviderError::Rejected { ref code, .. } if code == "MessageRejected"), "{err:?}");

    // Created but not re-checked yet: still pending, still rejected.
    ses.create_identity("sender@acme.example", IdentityKind::Address).await.unwrap();
    assert!(ses.send(&email("sender@acme.example")).await.is_err());
    assert!(ses.sent().is_empty());
}

#[tokio::test]
async fn send_from_a_verified_address_or_domain_is_recorded() {
    let ses = SandboxSes::new();
    ses.create_identity("sender@acme.example", IdentityKind::Address).await.unwrap();
    ses.get_identity("sender@acme.example").await.unwrap();
    ses.create_identity("brand.example", IdentityKind::Domain).await.unwrap();
    ses.get_identity("brand.example").await.unwrap();
    ses.get_identity("brand.example").await.unwrap();

    let first = ses.send(&email("sender@acme.example")).await.unwrap();
    // A clone shares the state.
    let second = ses.clone().send(&email("news@brand.example")).await.unwrap();
    assert_ne!(first, second);

    let sent = ses.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].message_id, first);
    assert_eq!(sent[0].email, email("sender@acme.example"));
    assert_eq!(sent[1].email.from, "news@brand.example");
}

#[tokio::test]
async fn send_from_a_failed_domain_stays_rejected() {
    let ses = SandboxSes::new();
    ses.create_identity("fail.example", IdentityKind::Domain).await.unwrap();
    for _ in 0..3 {
        ses.get_identity("fail.example").await.unwrap();
    }
    let err = ses.send(&email("news@fail.example")).await.unwrap_err();
    assert!(matches!(err, ProviderError::Rejected { ref code, .. } if code == "MessageRejected"));
}

#[tokio::test]
async fn send_without_recipients_is_a_bad_request() {
    let ses = SandboxSes::new();
    ses.create_identity("sender@acme.example", IdentityKind::Address).await.unwrap();
    ses.get_identity("sender@acme.example").await.unwrap();
    let mut no_one = email("sender@acme.example");
    no_one.to.clear();
    let err = ses.send(&no_one).await.unwrap_err();
    assert!(matches!(err, ProviderError::Rejected { ref code, .. } if code == "BadRequestException"));
}

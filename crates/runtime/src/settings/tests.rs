use std::collections::HashMap;
use std::path::{Path, PathBuf};

use secrecy::ExposeSecret;

use super::*;

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn no_dir() -> PathBuf {
    PathBuf::from("/nonexistent-switchboard-config")
}

fn load(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
    Settings::load_from(Binary::Api, &env(pairs), &no_dir())
}

#[test]
fn defaults_are_the_embedded_sandbox() {
    let s = load(&[]).unwrap();
    assert_eq!(s.http.addr.to_string(), "127.0.0.1:8080");
    assert_eq!(s.database.url(), "sqlite://data/switchboard.db?mode=rwc");
    assert!(s.database.migrate_on_start);
    assert_eq!(s.providers, ProviderMode::Sandbox);
    assert_eq!(s.public_base_url, "http://127.0.0.1:8081");
    assert!(s.admin_token.is_none());
    assert!(s.encryption_key_is_development);
    assert_eq!(s.email_system_domain.as_deref(), Some("support.switchboard.test"));
    assert_eq!(s.twilio.base_url, "https://api.twilio.com");
    assert_eq!(s.twilio.messaging_base_url, "https://messaging.twilio.com");
    assert_eq!(s.currency.as_str(), "EUR");
    assert_eq!(s.log.format, LogFormat::Pretty);
    let ingest = Settings::load_from(Binary::WebhookIngest, &env(&[]), &no_dir()).unwrap();
    assert_eq!(ingest.http.addr.to_string(), "127.0.0.1:8081");
    assert_eq!(s.database.sqlite_memory_mib, 8);
    assert_eq!(ingest.database.sqlite_memory_mib, 32);
    let cron = Settings::load_from(Binary::BillingCron, &env(&[]), &no_dir()).unwrap();
    assert_eq!(s.database.sqlite_checkpoint_pages, 1_000, "the API keeps SQLite's checkpoint size");
    assert_eq!(cron.database.sqlite_checkpoint_pages, 10_000, "batch jobs checkpoint in bulk");
    assert_eq!(
        [ingest.database.sqlite_checkpoint_every_ms, ingest.database.sqlite_checkpoint_pages],
        [20, 10_000],
        "webhook-ingest checkpoints in the background; its commits only when that falls behind"
    );
    assert_eq!(
        [s.database.sqlite_checkpoint_every_ms, cron.database.sqlite_checkpoint_every_ms],
        [0, 0],
        "the others leave checkpoints to their commits"
    );
}

#[test]
fn each_documented_key_overrides_its_default() {
    let key = STANDARD.encode([7u8; 32]);
    let s = load(&[
        ("APP__DATABASE__URL", "postgres://u:pw@db.internal:5432/sb"),
        ("APP__DATABASE__MIGRATE_ON_START", "false"),
        ("APP__DATABASE__MAX_CONNECTIONS", "42"),
        ("APP__DATABASE__SQLITE_MEMORY_MIB", "64"),
        ("APP__DATABASE__SQLITE_CHECKPOINT_PAGES", "250"),
        ("APP__DATABASE__SQLITE_CHECKPOINT_EVERY_MS", "5"),
        ("APP__HTTP__ADDR", "0.0.0.0:9000"),
        ("APP__HTTP__BODY_LIMIT_BYTES", "2048"),
        ("APP__PUBLIC_BASE_URL", "https://hooks.example.com/"),
        ("APP__AUTH__ADMIN_TOKEN", "a-very-long-admin-token"),
        ("APP__SECRETS__ENCRYPTION_KEY", &key),
        ("APP__EMAIL__SYSTEM_DOMAIN", "Support.Example.com"),
        ("APP__TWILIO__BASE_URL", "http://127.0.0.1:9001"),
        ("APP__TWILIO__ACCOUNT_SID", "AC123"),
        ("APP__TWILIO__AUTH_TOKEN", "tok"),
        ("APP__TWILIO__MESSAGING_BASE_URL", "http://127.0.0.1:9002"),
        ("APP__VAPI__BASE_URL", "http://127.0.0.1:9003"),
        ("APP__VAPI__API_KEY", "vk"),
        ("APP__VAPI__SERVER_SECRET", "vs"),
        ("APP__SES__ENDPOINT_URL", "http://127.0.0.1:9004"),
        ("APP__SES__REGION", "eu-west-1"),
        ("APP__META__GRAPH_BASE_URL", "http://127.0.0.1:9005"),
        ("APP__META__GRAPH_API_VERSION", "v24.0"),
        ("APP__META__APP_SECRET", "ms"),
        ("APP__META__VERIFY_TOKEN", "mv"),
        ("APP__BILLING__CURRENCY", "CHF"),
        ("APP__LOG__FORMAT", "json"),
        ("APP__DEMO__SEED", "false"),
    ])
    .unwrap();
    assert_eq!(s.database.url(), "postgres://u:pw@db.internal:5432/sb");
    assert!(!s.database.migrate_on_start);
    assert_eq!(s.database.max_connections, 42);
    assert_eq!(s.database.sqlite_memory_mib, 64);
    assert_eq!(s.database.sqlite_checkpoint_pages, 250);
    assert_eq!(s.database.sqlite_checkpoint_every_ms, 5);
    assert_eq!(s.http.addr.to_string(), "0.0.0.0:9000");
    assert_eq!(s.http.body_limit_bytes, 2048);
    assert_eq!(s.public_base_url, "https://hooks.example.com");
    assert_eq!(s.admin_token.unwrap().expose_secret(), "a-very-long-admin-token");
    assert_eq!(s.encryption_key.expose_secret(), &[7u8; 32]);
    assert!(!s.encryption_key_is_development);
    assert_eq!(s.email_system_domain.as_deref(), Some("support.example.com"));
    assert_eq!(s.twilio.base_url, "http://127.0.0.1:9001");
    assert_eq!(s.twilio.account_sid, "AC123");
    assert_eq!(s.twilio.auth_token.expose_secret(), "tok");
    assert_eq!(s.twilio.messaging_base_url, "http://127.0.0.1:9002");
    assert_eq!(s.vapi.base_url, "http://127.0.0.1:9003");
    assert_eq!(s.vapi.api_key.unwrap().expose_secret(), "vk");
    assert_eq!(s.vapi.server_secret.expose_secret(), "vs");
    assert_eq!(s.ses.endpoint_url.as_deref(), Some("http://127.0.0.1:9004"));
    assert_eq!(s.ses.region.as_deref(), Some("eu-west-1"));
    assert_eq!(s.meta.graph_base_url, "http://127.0.0.1:9005");
    assert_eq!(s.meta.graph_api_version, "v24.0");
    assert_eq!(s.meta.app_secret.unwrap().expose_secret(), "ms");
    assert_eq!(s.meta.verify_token.unwrap().expose_secret(), "mv");
    assert_eq!(s.currency.as_str(), "CHF");
    assert_eq!(s.log.format, LogFormat::Json);
    assert!(!s.demo_seed);
}

#[test]
fn a_price_list_file_must_exist() {
    let err = load(&[("APP__BILLING__PRICE_LIST", "/nonexistent/pricing.toml")]).unwrap_err();
    assert!(err.names("billing.price_list"));
    let file = std::env::temp_dir().join(format!("sb-prices-{}.toml", std::process::id()));
    std::fs::write(&file, "").unwrap();
    let s = load(&[("APP__BILLING__PRICE_LIST", file.to_str().unwrap())]).unwrap();
    assert_eq!(s.price_list.as_deref(), Some(file.as_path()));
    std::fs::remove_file(file).unwrap();
}

#[test]
fn providers_mode_live_is_read() {
    let err = load(&[("APP__PROVIDERS__MODE", "live")]).unwrap_err();
    assert!(err.names("public_base_url"));
}

#[test]
fn database_url_is_accepted_and_the_app_key_wins() {
    let s = load(&[("DATABASE_URL", "postgres://h/a")]).unwrap();
    assert_eq!(s.database.url(), "postgres://h/a");
    let s = load(&[("DATABASE_URL", "postgres://h/a"), ("APP__DATABASE__URL", "postgres://h/b")]).unwrap();
    assert_eq!(s.database.url(), "postgres://h/b");
}

#[test]
fn the_env_file_overrides_defaults_and_env_vars_override_the_file() {
    let dir = std::env::temp_dir().join(format!("sb-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("production.toml"), "[http]\naddr = \"0.0.0.0:7000\"\nbody_limit_bytes = 4096\n")
        .unwrap();
    let prod = |extra: &[(&str, &str)]| {
        let mut vars = env(&[("APP_ENV", "production")]);
        vars.extend(env(extra));
        Settings::load_from(Binary::Api, &vars, Path::new(&dir))
    };
    let s = prod(&[]).unwrap();
    assert_eq!(s.http.addr.to_string(), "0.0.0.0:7000");
    assert_eq!(s.http.body_limit_bytes, 4096);
    assert_eq!(s.log.format, LogFormat::Json, "production logs JSON by default");
    let s = prod(&[("APP__HTTP__ADDR", "0.0.0.0:7001")]).unwrap();
    assert_eq!(s.http.addr.to_string(), "0.0.0.0:7001");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn production_without_its_file_refuses_to_start_naming_the_folder() {
    let err = load(&[("APP_ENV", "production")]).unwrap_err();
    assert!(err.names("APP_CONFIG_DIR"));
    assert!(err.to_string().contains("/nonexistent-switchboard-config/production.toml"), "{err}");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
    let s = Settings::load_from(Binary::Api, &env(&[("APP_ENV", "production")]), &dir);
    let err = s.expect_err("the shipped production.toml wants live providers' secrets");
    assert!(!err.names("APP_CONFIG_DIR"), "the shipped file is found: {err}");
    assert!(err.names("twilio.auth_token"), "live providers, from the file: {err}");
}

#[test]
fn a_bad_value_names_its_key_in_both_forms() {
    let err = load(&[("APP__HTTP__ADDR", "not-an-address")]).unwrap_err();
    assert!(err.names("http.addr"));
    let text = err.to_string();
    assert!(
        text.contains("http.addr") && text.contains("APP__HTTP__ADDR") && text.contains("not-an-address"),
        "{text}"
    );
}

#[test]
fn every_bad_value_is_reported_at_once() {
    let err = load(&[
        ("APP__DATABASE__URL", "mysql://nope"),
        ("APP__DATABASE__MAX_CONNECTIONS", "lots"),
        ("APP__DATABASE__SQLITE_MEMORY_MIB", "0"),
        ("APP__DATABASE__SQLITE_CHECKPOINT_PAGES", "-1"),
        ("APP__DATABASE__SQLITE_CHECKPOINT_EVERY_MS", "soon"),
        ("APP__DATABASE__MIGRATE_ON_START", "maybe"),
        ("APP__PROVIDERS__MODE", "production"),
        ("APP__SECRETS__ENCRYPTION_KEY", "c2hvcnQ="),
        ("APP__BILLING__CURRENCY", "euro"),
        ("APP__LOG__FORMAT", "xml"),
        ("APP__AUTH__ADMIN_TOKEN", "short"),
        ("APP__TWILIO__BASE_URL", "ftp://twilio"),
        ("APP__EMAIL__SYSTEM_DOMAIN", "not a domain"),
        ("APP__META__GRAPH_API_VERSION", "23.0"),
    ])
    .unwrap_err();
    for key in [
        "database.url",
        "database.max_connections",
        "database.sqlite_memory_mib",
        "database.sqlite_checkpoint_pages",
        "database.sqlite_checkpoint_every_ms",
        "database.migrate_on_start",
        "providers.mode",
        "secrets.encryption_key",
        "billing.currency",
        "log.format",
        "auth.admin_token",
        "twilio.base_url",
        "email.system_domain",
        "meta.graph_api_version",
    ] {
        assert!(err.names(key), "{key} not reported in {err}");
    }
}

#[test]
fn unknown_keys_are_refused() {
    let err = load(&[("APP__HTTP__ADRR", "127.0.0.1:1")]).unwrap_err();
    assert!(err.names("http.adrr"), "{err}");
    let err = load(&[("APP_ENV", "staging")]).unwrap_err();
    assert!(err.names("APP_ENV"));
}

#[test]
fn live_mode_names_every_missing_setting() {
    let err = load(&[("APP__PROVIDERS__MODE", "live")]).unwrap_err();
    for key in [
        "public_base_url",
        "secrets.encryption_key",
        "twilio.account_sid",
        "twilio.auth_token",
        "vapi.api_key",
        "vapi.server_secret",
        "ses.region",
    ] {
        assert!(err.names(key), "{key} not reported in {err}");
    }
}

#[test]
fn live_mode_needs_https_for_the_public_url_and_starts_when_complete() {
    let key = STANDARD.encode([1u8; 32]);
    let mut vars = vec![
        ("APP__PROVIDERS__MODE", "live"),
        ("APP__PUBLIC_BASE_URL", "http://hooks.example.com"),
        ("APP__SECRETS__ENCRYPTION_KEY", key.as_str()),
        ("APP__TWILIO__ACCOUNT_SID", "AC1"),
        ("APP__TWILIO__AUTH_TOKEN", "t"),
        ("APP__VAPI__API_KEY", "k"),
        ("APP__VAPI__SERVER_SECRET", "s"),
        ("AWS_REGION", "eu-central-1"),
    ];
    let err = load(&vars).unwrap_err();
    assert!(err.names("public_base_url"));
    vars[1] = ("APP__PUBLIC_BASE_URL", "https://hooks.example.com");
    let s = load(&vars).unwrap();
    assert_eq!(s.providers, ProviderMode::Live);
    assert_eq!(s.ses.region.as_deref(), Some("eu-central-1"));
    assert!(s.email_system_domain.is_none(), "no sandbox domain in live mode");
}

#[test]
fn debug_output_redacts_secrets() {
    let s = load(&[
        ("APP__DATABASE__URL", "postgres://u:hunter2@h/db"),
        ("APP__AUTH__ADMIN_TOKEN", "admin-token-that-is-secret"),
    ])
    .unwrap();
    let debug = format!("{s:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(!debug.contains("admin-token-that-is-secret"));
    assert!(!debug.contains("sandbox-twilio-auth-token"));
}

#[test]
fn sns_topics_are_a_comma_separated_list_of_arns() {
    let s = load(&[]).unwrap();
    assert!(s.ses.sns_topic_arns.is_empty(), "no topic is accepted unless configured");
    let s = load(&[(
        "APP__SES__SNS_TOPIC_ARNS",
        "arn:aws:sns:eu-central-1:123456789012:ses-feedback, arn:aws-cn:sns:cn-north-1:123456789012:b",
    )])
    .unwrap();
    assert_eq!(
        s.ses.sns_topic_arns,
        ["arn:aws:sns:eu-central-1:123456789012:ses-feedback", "arn:aws-cn:sns:cn-north-1:123456789012:b"]
    );
    for bad in ["ses-feedback", "arn:aws:sqs:eu-central-1:123456789012:q", "arn:aws:sns:eu-central-1:123:t"] {
        let err = load(&[("APP__SES__SNS_TOPIC_ARNS", bad)]).unwrap_err();
        assert!(err.names("ses.sns_topic_arns"), "{bad}: {err}");
    }
}

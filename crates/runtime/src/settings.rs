//! Configuration, layered as SPEC §1 says: built-in defaults → `config/<APP_ENV>.toml` →
//! environment variables `APP__SECTION__KEY` (plus `DATABASE_URL`).
//!
//! Every value is read as text and parsed here with its key, so a bad value stops the binary with
//! a message naming both forms of the key (`http.addr` / `APP__HTTP__ADDR`) and what is expected.
//! All problems are reported at once. Unknown keys are errors too: a typo must not fall back to a
//! default silently.
//!
//! [`Settings::load_from`] takes the environment as a map so tests can exercise every key without
//! touching the process environment.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use config::{Config, Environment, File, FileFormat, Value, ValueKind};
use secrecy::{ExposeSecret, SecretBox, SecretString};
use switchboard_billing::UsageSettings;
use switchboard_core::Currency;
use switchboard_core::db::{Engine, redact_url};

/// Which binary is loading: they differ in their default listen address and SQLite tuning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binary {
    Api,
    WebhookIngest,
    BillingCron,
}

impl Binary {
    fn default_addr(self) -> &'static str {
        match self {
            Binary::Api => "127.0.0.1:8080",
            Binary::WebhookIngest | Binary::BillingCron => "127.0.0.1:8081",
        }
    }

    /// `database.sqlite_memory_mib`: the API's reads touch few pages, and a small budget fills
    /// within minutes, so its memory levels off early (the soak); the writers keep the index
    /// pages their inserts descend (webhook-ingest: 1,150 → 1,650 SMS processed/s at 8 → 32
    /// MiB) or scan many rows (billing-cron, whose `--loop` passes each start afresh).
    fn default_sqlite_memory_mib(self) -> u32 {
        match self {
            Binary::Api => switchboard_core::db::DEFAULT_SQLITE_MEMORY_MIB,
            Binary::WebhookIngest | Binary::BillingCron => switchboard_core::db::WRITER_SQLITE_MEMORY_MIB,
        }
    }

    /// `database.sqlite_checkpoint_pages`: the API keeps SQLite's default, since the commit that
    /// checkpoints stalls every request queued behind it (webhook-ingest's p99 at half load:
    /// 20–22 ms at 1,000 pages, 60–78 ms at 10,000); billing-cron copies fewer pages with big
    /// ones; webhook-ingest checkpoints in the background (below), so its commits only do it
    /// when that falls behind.
    fn default_sqlite_checkpoint_pages(self) -> u32 {
        match self {
            Binary::Api => switchboard_core::db::DEFAULT_SQLITE_CHECKPOINT_PAGES,
            Binary::WebhookIngest | Binary::BillingCron => switchboard_core::db::BULK_SQLITE_CHECKPOINT_PAGES,
        }
    }

    /// `database.sqlite_checkpoint_every_ms`: webhook-ingest writes the WAL fastest and every
    /// answer waits for a commit, so a task of its own copies the WAL every 20 ms instead of the
    /// commit that crosses the threshold (p99 at half load 19–21 → 15–17 ms, same throughput); the
    /// API writes little and billing-cron wants bulk copies, so they leave it to the commits.
    fn default_sqlite_checkpoint_every_ms(self) -> u32 {
        match self {
            Binary::WebhookIngest => 20,
            Binary::Api | Binary::BillingCron => 0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Test,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderMode {
    /// In-process simulations of every provider (SPEC §1), the embedded default.
    Sandbox,
    /// Real HTTP clients against the providers' APIs.
    Live,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// The sandbox's fixed development key for secrets at rest. Never valid in live mode.
const DEV_ENCRYPTION_KEY: [u8; 32] = *b"switchboard-sandbox-dev-key-0001";
const SANDBOX_TWILIO_SID: &str = "ACsandbox0000000000000000000000000";
const SANDBOX_TWILIO_TOKEN: &str = "sandbox-twilio-auth-token";
const SANDBOX_VAPI_SECRET: &str = "sandbox-vapi-server-secret";
const SANDBOX_META_SECRET: &str = "sandbox-meta-app-secret";
const SANDBOX_META_VERIFY: &str = "sandbox-meta-verify-token";

/// Built-in defaults. Mode-dependent ones (sandbox credentials, public URL) are applied after
/// loading, because they depend on `providers.mode`.
const DEFAULTS: &str = r#"
[database]
url = "sqlite://data/switchboard.db?mode=rwc"
migrate_on_start = true
max_connections = 10

[http]
body_limit_bytes = 65536
request_timeout_secs = 30

[providers]
mode = "sandbox"

[twilio]
base_url = "https://api.twilio.com"
messaging_base_url = "https://messaging.twilio.com"

[vapi]
base_url = "https://api.vapi.ai"

[meta]
graph_base_url = "https://graph.facebook.com"
graph_api_version = "v23.0"

[billing]
currency = "EUR"

[log]
filter = "info,sqlx=warn,sea_orm=warn"

[demo]
seed = true
"#;

/// Every key the binaries read (dotted file form).
const KNOWN_KEYS: &[&str] = &[
    "database.url",
    "database.migrate_on_start",
    "database.max_connections",
    "database.sqlite_memory_mib",
    "database.sqlite_checkpoint_pages",
    "database.sqlite_checkpoint_every_ms",
    "http.addr",
    "http.body_limit_bytes",
    "http.request_timeout_secs",
    "providers.mode",
    "public_base_url",
    "auth.admin_token",
    "secrets.encryption_key",
    "email.system_domain",
    "twilio.base_url",
    "twilio.messaging_base_url",
    "twilio.account_sid",
    "twilio.auth_token",
    "vapi.base_url",
    "vapi.api_key",
    "vapi.server_secret",
    "ses.endpoint_url",
    "ses.region",
    "ses.sns_topic_arns",
    "meta.graph_base_url",
    "meta.graph_api_version",
    "meta.app_secret",
    "meta.verify_token",
    "billing.currency",
    "billing.price_list",
    "billing.free_minutes",
    "billing.free_sms",
    "billing.max_call_minutes",
    "billing.reservation_grace_minutes",
    "log.format",
    "log.filter",
    "demo.seed",
];

/// The environment form of a dotted key: `http.addr` → `APP__HTTP__ADDR`.
pub fn env_name(key: &str) -> String {
    format!("APP__{}", key.replace('.', "__").to_ascii_uppercase())
}

/// One thing wrong with the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub key: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.contains('.') || KNOWN_KEYS.contains(&self.key.as_str()) {
            write!(f, "{} ({}): {}", self.key, env_name(&self.key), self.message)
        } else {
            write!(f, "{}: {}", self.key, self.message)
        }
    }
}

/// Why the configuration cannot be used; lists every problem.
#[derive(Debug, thiserror::Error)]
pub struct SettingsError(pub Vec<Problem>);

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid configuration:")?;
        for p in &self.0 {
            writeln!(f, "  - {p}")?;
        }
        Ok(())
    }
}

impl SettingsError {
    /// Whether a problem names `key` (dotted form).
    pub fn names(&self, key: &str) -> bool {
        self.0.iter().any(|p| p.key == key)
    }
}

#[derive(Clone)]
pub struct DatabaseSettings {
    url: SecretString,
    pub migrate_on_start: bool,
    pub max_connections: u32,
    /// SQLite only: the process's memory budget for SQLite (all page caches), in MiB.
    pub sqlite_memory_mib: u32,
    /// SQLite only: WAL pages after which a commit checkpoints them into the database file.
    pub sqlite_checkpoint_pages: u32,
    /// SQLite only: how often a background task checkpoints the WAL, in ms; 0 leaves it to the
    /// commits ([`crate::database::spawn_checkpointer`]).
    pub sqlite_checkpoint_every_ms: u32,
}

impl DatabaseSettings {
    pub fn url(&self) -> &str {
        self.url.expose_secret()
    }

    pub fn engine(&self) -> Engine {
        Engine::of_url(self.url()).unwrap_or(Engine::Sqlite)
    }
}

impl fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &redact_url(self.url()))
            .field("migrate_on_start", &self.migrate_on_start)
            .field("max_connections", &self.max_connections)
            .field("sqlite_memory_mib", &self.sqlite_memory_mib)
            .field("sqlite_checkpoint_pages", &self.sqlite_checkpoint_pages)
            .field("sqlite_checkpoint_every_ms", &self.sqlite_checkpoint_every_ms)
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub addr: SocketAddr,
    pub body_limit_bytes: usize,
    pub request_timeout_secs: u64,
}

#[derive(Debug, Clone)]
pub struct LogSettings {
    pub format: LogFormat,
    pub filter: String,
}

#[derive(Debug, Clone)]
pub struct TwilioSettings {
    pub base_url: String,
    pub messaging_base_url: String,
    pub account_sid: String,
    pub auth_token: SecretString,
}

#[derive(Debug, Clone)]
pub struct VapiSettings {
    pub base_url: String,
    pub api_key: Option<SecretString>,
    pub server_secret: SecretString,
}

#[derive(Debug, Clone)]
pub struct SesSettings {
    pub endpoint_url: Option<String>,
    pub region: Option<String>,
    /// The SNS topics whose messages webhook-ingest accepts (SES bounces, complaints); empty
    /// refuses every SNS message.
    pub sns_topic_arns: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct MetaSettings {
    pub graph_base_url: String,
    /// The Graph API version in every Cloud API path, `v23.0`.
    pub graph_api_version: String,
    pub app_secret: Option<SecretString>,
    pub verify_token: Option<SecretString>,
}

/// Everything a binary needs, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    pub env: AppEnv,
    pub database: DatabaseSettings,
    pub http: HttpSettings,
    pub providers: ProviderMode,
    /// Public base of webhook-ingest, without a trailing slash.
    pub public_base_url: String,
    pub admin_token: Option<SecretString>,
    /// 32-byte key for secrets at rest.
    pub encryption_key: Arc<SecretBox<[u8; 32]>>,
    /// True when the sandbox's built-in development key is in use.
    pub encryption_key_is_development: bool,
    pub email_system_domain: Option<String>,
    pub twilio: TwilioSettings,
    pub vapi: VapiSettings,
    pub ses: SesSettings,
    pub meta: MetaSettings,
    pub currency: Currency,
    /// Free tiers, the per-call cap and reservation expiry (`billing.*`).
    pub usage: UsageSettings,
    /// A price list file replacing the embedded `fixtures/pricing.toml`.
    pub price_list: Option<PathBuf>,
    pub log: LogSettings,
    pub demo_seed: bool,
}

impl Settings {
    /// Loads from the process environment and `./config` (or `APP_CONFIG_DIR`).
    pub fn load(binary: Binary) -> Result<Self, SettingsError> {
        let env: HashMap<String, String> = std::env::vars().collect();
        let dir = env.get("APP_CONFIG_DIR").map_or_else(|| PathBuf::from("config"), PathBuf::from);
        Self::load_from(binary, &env, &dir)
    }

    /// Loads with an explicit environment map and config folder.
    pub fn load_from(
        binary: Binary,
        env: &HashMap<String, String>,
        config_dir: &Path,
    ) -> Result<Self, SettingsError> {
        let mut problems = Vec::new();
        let app_env = match env.get("APP_ENV").map(String::as_str).unwrap_or("development") {
            "development" | "dev" | "local" => AppEnv::Development,
            "test" => AppEnv::Test,
            "production" | "prod" => AppEnv::Production,
            other => {
                problems.push(Problem {
                    key: "APP_ENV".into(),
                    message: format!("`{other}` is not one of development, test, production"),
                });
                AppEnv::Development
            }
        };
        let env_file = config_dir.join(match app_env {
            AppEnv::Development => "development.toml",
            AppEnv::Test => "test.toml",
            AppEnv::Production => "production.toml",
        });

        // Production's file is what switches providers to live (and logs to JSON, the demo seed
        // off): without it the built-in defaults would quietly run production on the sandbox.
        if app_env == AppEnv::Production && !env_file.is_file() {
            problems.push(Problem {
                key: "APP_CONFIG_DIR".into(),
                message: format!(
                    "APP_ENV=production reads {}, which is not there: set APP_CONFIG_DIR to the folder \
                     holding production.toml (without it production would run on sandbox providers)",
                    env_file.display()
                ),
            });
        }
        let app_vars: HashMap<String, String> =
            env.iter().filter(|(k, _)| k.starts_with("APP__")).map(|(k, v)| (k.clone(), v.clone())).collect();
        let mut builder = Config::builder()
            .add_source(File::from_str(DEFAULTS, FileFormat::Toml))
            .set_default("http.addr", binary.default_addr())
            .and_then(|b| b.set_default("database.sqlite_memory_mib", binary.default_sqlite_memory_mib()))
            .and_then(|b| {
                b.set_default("database.sqlite_checkpoint_pages", binary.default_sqlite_checkpoint_pages())
            })
            .and_then(|b| {
                b.set_default(
                    "database.sqlite_checkpoint_every_ms",
                    binary.default_sqlite_checkpoint_every_ms(),
                )
            })
            .map_err(|e| SettingsError(vec![Problem { key: "defaults".into(), message: e.to_string() }]))?
            .add_source(File::from(env_file.clone()).format(FileFormat::Toml).required(false));
        if let Some(url) = env.get("DATABASE_URL").filter(|u| !u.is_empty()) {
            builder = builder.set_override("database.url", url.clone()).map_err(|e| {
                SettingsError(vec![Problem { key: "database.url".into(), message: e.to_string() }])
            })?;
        }
        builder = builder.add_source(
            Environment::with_prefix("APP").prefix_separator("__").separator("__").source(Some(app_vars)),
        );
        if let Some(url) = env.get("APP__DATABASE__URL").filter(|u| !u.is_empty()) {
            // APP__DATABASE__URL wins over DATABASE_URL when both are set.
            builder = builder.set_override("database.url", url.clone()).map_err(|e| {
                SettingsError(vec![Problem { key: "database.url".into(), message: e.to_string() }])
            })?;
        }
        let cfg = builder.build().map_err(|e| {
            SettingsError(vec![Problem { key: env_file.display().to_string(), message: e.to_string() }])
        })?;

        let mut raw = BTreeMap::new();
        match cfg.try_deserialize::<config::Map<String, Value>>() {
            Ok(map) => flatten("", map, &mut raw),
            Err(e) => problems.push(Problem { key: "configuration".into(), message: e.to_string() }),
        }
        for key in raw.keys() {
            if !KNOWN_KEYS.contains(&key.as_str()) {
                problems.push(Problem { key: key.clone(), message: "unknown configuration key".into() });
            }
        }
        let mut r = Reader { raw, problems };
        let settings = r.settings(app_env, env);
        if r.problems.is_empty() { Ok(settings) } else { Err(SettingsError(r.problems)) }
    }
}

fn flatten(prefix: &str, map: config::Map<String, Value>, out: &mut BTreeMap<String, String>) {
    for (k, v) in map {
        let key = if prefix.is_empty() { k } else { format!("{prefix}.{k}") };
        match v.kind {
            ValueKind::Table(t) => flatten(&key, t, out),
            ValueKind::Nil => {}
            _ => {
                if let Ok(s) = v.into_string() {
                    out.insert(key, s);
                }
            }
        }
    }
}

struct Reader {
    raw: BTreeMap<String, String>,
    problems: Vec<Problem>,
}

impl Reader {
    /// The value of `key`; blank counts as absent.
    fn get(&self, key: &str) -> Option<String> {
        self.raw.get(key).map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
    }

    fn problem(&mut self, key: &str, message: impl Into<String>) {
        self.problems.push(Problem { key: key.into(), message: message.into() });
    }

    fn parse<T>(&mut self, key: &str, default: T, f: impl FnOnce(&str) -> Result<T, String>) -> T {
        match self.get(key) {
            None => default,
            Some(v) => f(&v).unwrap_or_else(|m| {
                self.problem(key, m);
                default
            }),
        }
    }

    fn bool(&mut self, key: &str, default: bool) -> bool {
        self.parse(key, default, |v| match v.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(format!("`{v}` is not true or false")),
        })
    }

    fn int<T: std::str::FromStr>(&mut self, key: &str, default: T, range: (i64, i64)) -> T {
        self.parse(key, default, |v| {
            let n: i64 = v.parse().map_err(|_| format!("`{v}` is not a whole number"))?;
            if n < range.0 || n > range.1 {
                return Err(format!("{n} is outside {}..={}", range.0, range.1));
            }
            v.parse().map_err(|_| format!("`{v}` is not a whole number"))
        })
    }

    fn url(&mut self, key: &str, default: &str) -> String {
        self.parse(key, default.to_owned(), |v| check_http_url(v).map(|u| u.trim_end_matches('/').to_owned()))
    }

    fn secret(&mut self, key: &str) -> Option<SecretString> {
        self.get(key).map(SecretString::from)
    }

    fn settings(&mut self, env: AppEnv, vars: &HashMap<String, String>) -> Settings {
        let mode = self.parse("providers.mode", ProviderMode::Sandbox, |v| match v {
            "sandbox" => Ok(ProviderMode::Sandbox),
            "live" => Ok(ProviderMode::Live),
            _ => Err(format!("`{v}` is not `sandbox` or `live`")),
        });
        let live = mode == ProviderMode::Live;

        let db_url = self.parse("database.url", String::new(), |v| match Engine::of_url(v) {
            Some(_) => Ok(v.to_owned()),
            None => Err(format!("`{}` is not a sqlite://… or postgres://… URL", redact_url(v))),
        });
        let database = DatabaseSettings {
            url: SecretString::from(db_url),
            migrate_on_start: self.bool("database.migrate_on_start", true),
            max_connections: self.int("database.max_connections", 10u32, (1, 1000)),
            sqlite_memory_mib: self.int(
                "database.sqlite_memory_mib",
                switchboard_core::db::DEFAULT_SQLITE_MEMORY_MIB,
                (1, 65_536),
            ),
            sqlite_checkpoint_pages: self.int(
                "database.sqlite_checkpoint_pages",
                switchboard_core::db::DEFAULT_SQLITE_CHECKPOINT_PAGES,
                (1, 1_000_000),
            ),
            sqlite_checkpoint_every_ms: self.int("database.sqlite_checkpoint_every_ms", 0u32, (0, 60_000)),
        };
        let addr = self.parse("http.addr", SocketAddr::from(([127, 0, 0, 1], 8080)), |v| {
            v.parse().map_err(|_| format!("`{v}` is not a socket address such as 127.0.0.1:8080"))
        });
        let http = HttpSettings {
            addr,
            body_limit_bytes: self.int("http.body_limit_bytes", 65_536usize, (1024, 64 * 1024 * 1024)),
            request_timeout_secs: self.int("http.request_timeout_secs", 30u64, (1, 3600)),
        };

        let public_base_url = match self.get("public_base_url") {
            Some(v) => match check_http_url(&v) {
                Ok(u) if live && !u.starts_with("https://") => {
                    self.problem(
                        "public_base_url",
                        "must be an https:// URL in live mode (providers call it)",
                    );
                    String::new()
                }
                Ok(u) => u.trim_end_matches('/').to_owned(),
                Err(m) => {
                    self.problem("public_base_url", m);
                    String::new()
                }
            },
            None if live => {
                self.problem(
                    "public_base_url",
                    "is required in live mode: the https address of webhook-ingest",
                );
                String::new()
            }
            None => "http://127.0.0.1:8081".to_owned(),
        };

        let admin_token = self.secret("auth.admin_token");
        if admin_token.as_ref().is_some_and(|t| t.expose_secret().len() < 16) {
            self.problem("auth.admin_token", "must be at least 16 characters");
        }

        let (encryption_key, encryption_key_is_development) = match self.get("secrets.encryption_key") {
            Some(v) => match STANDARD.decode(v.as_bytes()).ok().and_then(|b| <[u8; 32]>::try_from(b).ok()) {
                Some(key) => (key, false),
                None => {
                    self.problem(
                        "secrets.encryption_key",
                        "must be 32 bytes, base64-encoded (e.g. `openssl rand -base64 32`)",
                    );
                    (DEV_ENCRYPTION_KEY, false)
                }
            },
            None if live => {
                self.problem(
                    "secrets.encryption_key",
                    "is required in live mode (`openssl rand -base64 32`)",
                );
                (DEV_ENCRYPTION_KEY, false)
            }
            None => (DEV_ENCRYPTION_KEY, true),
        };

        let email_system_domain = match self.get("email.system_domain") {
            Some(d) => {
                let d = d.to_ascii_lowercase();
                if is_domain(&d) {
                    Some(d)
                } else {
                    self.problem(
                        "email.system_domain",
                        format!("`{d}` is not a domain name such as support.example.com"),
                    );
                    None
                }
            }
            None if live => None,
            None => Some("support.switchboard.test".to_owned()),
        };

        let required = |r: &mut Reader, key: &str, sandbox: &str| -> Option<String> {
            match r.get(key) {
                Some(v) => Some(v),
                None if live => {
                    r.problem(key, "is required in live mode");
                    None
                }
                None => Some(sandbox.to_owned()),
            }
        };
        let twilio = TwilioSettings {
            base_url: self.url("twilio.base_url", "https://api.twilio.com"),
            messaging_base_url: self.url("twilio.messaging_base_url", "https://messaging.twilio.com"),
            account_sid: required(self, "twilio.account_sid", SANDBOX_TWILIO_SID).unwrap_or_default(),
            auth_token: SecretString::from(
                required(self, "twilio.auth_token", SANDBOX_TWILIO_TOKEN).unwrap_or_default(),
            ),
        };
        let vapi_api_key = self.secret("vapi.api_key");
        if live && vapi_api_key.is_none() {
            self.problem("vapi.api_key", "is required in live mode");
        }
        let vapi = VapiSettings {
            base_url: self.url("vapi.base_url", "https://api.vapi.ai"),
            api_key: vapi_api_key,
            server_secret: SecretString::from(
                required(self, "vapi.server_secret", SANDBOX_VAPI_SECRET).unwrap_or_default(),
            ),
        };
        let ses_region = self
            .get("ses.region")
            .or_else(|| vars.get("AWS_REGION").or_else(|| vars.get("AWS_DEFAULT_REGION")).cloned());
        if live && ses_region.is_none() {
            self.problem("ses.region", "is required in live mode (or set AWS_REGION)");
        }
        let ses_endpoint = match self.get("ses.endpoint_url") {
            Some(v) => match check_http_url(&v) {
                Ok(u) => Some(u.trim_end_matches('/').to_owned()),
                Err(m) => {
                    self.problem("ses.endpoint_url", m);
                    None
                }
            },
            None => None,
        };
        let sns_topic_arns: Vec<String> = self
            .get("ses.sns_topic_arns")
            .map(|v| v.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default();
        if let Some(bad) = sns_topic_arns.iter().find(|t| !is_sns_topic_arn(t)) {
            let message =
                format!("`{bad}` is not an SNS topic ARN such as arn:aws:sns:eu-central-1:123456789012:ses");
            self.problem("ses.sns_topic_arns", message);
        }
        let ses = SesSettings { endpoint_url: ses_endpoint, region: ses_region, sns_topic_arns };
        let meta = MetaSettings {
            graph_base_url: self.url("meta.graph_base_url", "https://graph.facebook.com"),
            graph_api_version: self.parse("meta.graph_api_version", "v23.0".to_owned(), |v| {
                match switchboard_providers::meta::is_api_version(v) {
                    true => Ok(v.to_owned()),
                    false => Err(format!("`{v}` is not a Graph API version such as v23.0")),
                }
            }),
            app_secret: self
                .secret("meta.app_secret")
                .or_else(|| (!live).then(|| SANDBOX_META_SECRET.into())),
            verify_token: self
                .secret("meta.verify_token")
                .or_else(|| (!live).then(|| SANDBOX_META_VERIFY.into())),
        };
        let currency = self.parse("billing.currency", Currency::EUR, |v| v.parse());
        let price_list = self.get("billing.price_list").map(PathBuf::from);
        let defaults = UsageSettings::default();
        let usage = UsageSettings {
            free_minutes: self.int("billing.free_minutes", defaults.free_minutes, (0, 1_000_000)),
            free_sms: self.int("billing.free_sms", defaults.free_sms, (0, 1_000_000)),
            // Vapi accepts a call's maxDurationSeconds up to 43 200 (12 hours).
            max_call_minutes: self.int("billing.max_call_minutes", defaults.max_call_minutes, (1, 720)),
            reservation_grace_minutes: self.int(
                "billing.reservation_grace_minutes",
                defaults.reservation_grace_minutes,
                (1, 24 * 60),
            ),
        };
        if let Some(path) = price_list.as_ref().filter(|p| !p.is_file()) {
            self.problem("billing.price_list", format!("{} is not a readable file", path.display()));
        }
        let log = LogSettings {
            format: self.parse(
                "log.format",
                if env == AppEnv::Production { LogFormat::Json } else { LogFormat::Pretty },
                |v| match v {
                    "pretty" => Ok(LogFormat::Pretty),
                    "json" => Ok(LogFormat::Json),
                    _ => Err(format!("`{v}` is not `pretty` or `json`")),
                },
            ),
            filter: self.get("log.filter").unwrap_or_else(|| "info".into()),
        };
        if tracing_subscriber::EnvFilter::try_new(&log.filter).is_err() {
            self.problem(
                "log.filter",
                format!("`{}` is not a tracing filter such as `info,sqlx=warn`", log.filter),
            );
        }
        let demo_seed = self.bool("demo.seed", true);

        Settings {
            env,
            database,
            http,
            providers: mode,
            public_base_url,
            admin_token,
            encryption_key: Arc::new(SecretBox::new(Box::new(encryption_key))),
            encryption_key_is_development,
            email_system_domain,
            twilio,
            vapi,
            ses,
            meta,
            currency,
            usage,
            price_list,
            log,
            demo_seed,
        }
    }
}

fn check_http_url(v: &str) -> Result<&str, String> {
    let rest = v.strip_prefix("https://").or_else(|| v.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') && !v.contains(char::is_whitespace) => Ok(v),
        _ => Err(format!("`{v}` is not an http(s):// URL")),
    }
}

/// `arn:<partition>:sns:<region>:<12-digit account>:<topic name>`.
fn is_sns_topic_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.split(':').collect();
    matches!(parts.as_slice(), ["arn", partition, "sns", region, account, topic]
        if partition.starts_with("aws")
            && !region.is_empty()
            && account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && !topic.is_empty()
            && topic.len() <= 256)
}

fn is_domain(d: &str) -> bool {
    d.len() <= 253
        && d.contains('.')
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[cfg(test)]
mod tests;

//! The demo workspace of the embedded default (SPEC §1): on the first start in sandbox mode a
//! workspace with a few agents is created from `fixtures/demo.toml` and its owner key printed once.
//! "First" is decided by the database (a `system_flags` row), so replicas starting together seed
//! once, and a restart never prints a key again.

use serde::Deserialize;
use switchboard_agents::{AgentService, AgentStatus, NewAgent};
use switchboard_billing::{BillingService, NewCredit};
use switchboard_core::{Ctx, Language, Zone};
use switchboard_tenancy::{IssuedApiKey, NewWorkspace, TenancyService, Workspace};

const DEMO_FIXTURE: &str = include_str!("../../../fixtures/demo.toml");
const FLAG: &str = "demo_workspace_seeded";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    workspace: FixtureWorkspace,
    #[serde(default)]
    agents: Vec<FixtureAgent>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FixtureWorkspace {
    name: String,
    timezone: Option<Zone>,
    /// Sandbox credit so numbers can be provisioned at once.
    credit: Option<switchboard_core::Amount>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FixtureAgent {
    name: String,
    status: Option<AgentStatus>,
    language: Option<Language>,
    timezone: Option<Zone>,
}

/// The seeded workspace and its owner key.
#[derive(Debug)]
pub struct Seeded {
    pub workspace: Workspace,
    pub owner_key: IssuedApiKey,
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("fixtures/demo.toml is invalid: {0}")]
    Fixture(String),
    #[error("seeding the demo workspace failed: {0}")]
    Domain(#[from] switchboard_core::Error),
}

/// Seeds the demo workspace unless some start already did. `None` when nothing was done.
pub async fn seed_once(
    tenancy: &TenancyService,
    agents: &AgentService,
    billing: &BillingService,
) -> Result<Option<Seeded>, SeedError> {
    if !tenancy.claim_flag(FLAG, "claimed").await? {
        return Ok(None);
    }
    seed(tenancy, agents, billing).await.map(Some)
}

/// Seeds a demo workspace now (the `seed` subcommand; always creates a new one).
pub async fn seed(
    tenancy: &TenancyService,
    agents: &AgentService,
    billing: &BillingService,
) -> Result<Seeded, SeedError> {
    let fixture: Fixture = toml::from_str(DEMO_FIXTURE).map_err(|e| SeedError::Fixture(e.to_string()))?;
    let (workspace, owner_key) = tenancy
        .create_workspace(NewWorkspace { name: fixture.workspace.name, timezone: fixture.workspace.timezone })
        .await?;
    let ctx = Ctx::system(workspace.id.clone());
    for a in fixture.agents {
        agents
            .create(
                &ctx,
                NewAgent { name: a.name, status: a.status, timezone: a.timezone, language: a.language },
            )
            .await?;
    }
    if let Some(amount) = fixture.workspace.credit {
        billing.credit(&workspace.id, NewCredit { amount, reference: "demo-credit".into() }).await?;
    }
    tracing::info!(workspace_id = %workspace.id, "demo workspace seeded");
    Ok(Seeded { workspace, owner_key })
}

/// Prints the one-time banner with the owner key (stdout, so it can be captured by scripts).
#[allow(clippy::print_stdout)]
pub fn print_banner(seeded: &Seeded, api_base: &str) {
    println!(
        "\n  Demo workspace {} created.\n  Owner API key (shown once, store it now): {}\n  Try: curl -H 'Authorization: Bearer {}' {api_base}/v1/agents\n",
        seeded.workspace.id, seeded.owner_key.key, seeded.owner_key.key
    );
}

//! `switchboard-api`: load configuration, open and migrate the database, seed the demo workspace
//! on the embedded default's first start, and serve until SIGTERM/Ctrl-C.

use anyhow::Context;
use clap::{Parser, Subcommand};
use switchboard_api::{AppState, app, openapi_document, provider_set_for, seed, serve};

use switchboard_billing::PriceList;
use switchboard_runtime::{Binary, ProviderMode, Settings};

#[derive(Parser)]
#[command(version, about = "Switchboard's REST API")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Create a new demo workspace from fixtures/demo.toml and print its owner key.
    Seed,
    /// Print the OpenAPI document and exit.
    Openapi,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        return match openapi_document().to_pretty_json() {
            Ok(json) => {
                #[allow(clippy::print_stdout)]
                {
                    println!("{json}");
                }
                std::process::ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    let settings = match Settings::load(Binary::Api) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("switchboard-api cannot start: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    switchboard_runtime::telemetry::init(&settings.log);
    match run(settings, cli.command.unwrap_or(Command::Serve)).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "switchboard-api stopped");
            eprintln!("switchboard-api: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(settings: Settings, command: Command) -> anyhow::Result<()> {
    if settings.encryption_key_is_development {
        tracing::warn!(
            "using the sandbox's development encryption key; set APP__SECRETS__ENCRYPTION_KEY outside development"
        );
    }
    let db = switchboard_runtime::database::open(&settings.database).await?;
    let addr = settings.http.addr;
    let sandbox = settings.providers == ProviderMode::Sandbox;
    let demo = sandbox && settings.demo_seed;
    let prices = match &settings.price_list {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            PriceList::from_toml(&text)
                .with_context(|| format!("APP__BILLING__PRICE_LIST: {}", path.display()))?
        }
        None => PriceList::embedded().context("fixtures/pricing.toml")?,
    };
    let providers = provider_set_for(&settings)?;
    let state = AppState::new(db, settings, prices, providers);
    let api_base = format!("http://{addr}");

    if let Command::Seed = command {
        let seeded = seed::seed(&state.tenancy, &state.agents, &state.billing).await?;
        seed::print_banner(&seeded, &api_base);
        return Ok(());
    }
    if demo && let Some(seeded) = seed::seed_once(&state.tenancy, &state.agents, &state.billing).await? {
        seed::print_banner(&seeded, &api_base);
    }

    let listener =
        tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    tracing::info!(%addr, mode = if sandbox { "sandbox" } else { "live" }, "switchboard-api listening; docs at /docs");
    serve(listener, app(state), switchboard_runtime::shutdown_signal()).await.context("server error")?;
    tracing::info!("switchboard-api stopped cleanly");
    Ok(())
}

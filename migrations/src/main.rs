//! `switchboard-migrations [up|down|status|fresh|reset]` against `DATABASE_URL` (default: the
//! embedded SQLite file `data/switchboard.db`, created with its folder). `up` without `--num`
//! takes the same PostgreSQL advisory lock as the binaries' start-up migration.

use anyhow::Context;
use clap::{Parser, Subcommand};
use sea_orm_migration::MigratorTrait;
use switchboard_core::db::{DbOptions, connect, redact_url};
use switchboard_migrations::Migrator;

#[derive(Parser)]
#[command(version, about = "Apply or roll back Switchboard's schema on SQLite or PostgreSQL")]
struct Cli {
    /// sqlite://… or postgres://…
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://data/switchboard.db?mode=rwc",
        global = true
    )]
    database_url: String,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations (all, or the next N).
    Up {
        #[arg(short, long)]
        num: Option<u32>,
    },
    /// Roll back the last N applied migrations (default 1).
    Down {
        #[arg(short, long, default_value_t = 1)]
        num: u32,
    },
    /// List every migration and whether it is applied.
    Status,
    /// Roll back every applied migration.
    Reset,
    /// Drop every table, then apply all migrations.
    Fresh,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let url = redact_url(&cli.database_url);
    let db = connect(&DbOptions::new(cli.database_url.clone()))
        .await
        .with_context(|| format!("cannot connect to {url}"))?;
    let result = match cli.command.unwrap_or(Command::Up { num: None }) {
        // Everything pending: the same locked path the binaries take at start-up, so two
        // deploy steps racing (two hosts, a retried job) queue instead of colliding.
        Command::Up { num: None } => switchboard_migrations::apply(&db).await,
        Command::Up { num } => Migrator::up(&db, num).await,
        Command::Down { num } => Migrator::down(&db, Some(num)).await,
        Command::Reset => Migrator::down(&db, None).await,
        Command::Fresh => Migrator::fresh(&db).await,
        Command::Status => {
            for m in Migrator::get_migration_with_status(&db).await? {
                eprintln!("{:<8} {}", m.status().to_string(), m.name());
            }
            Ok(())
        }
    };
    result.with_context(|| format!("migration failed on {url}"))?;
    eprintln!("ok: {url}");
    Ok(())
}

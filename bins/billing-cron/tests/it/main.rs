//! The real binary: a run connects, migrates, reports and exits; bad arguments and bad
//! configuration stop it with a message naming the problem.

#![allow(clippy::unwrap_used)]

use std::process::{Command, Output, Stdio};

use sea_orm_migration_check::pending_after;

mod rentals;
mod webhooks;

const BIN: &str = env!("CARGO_BIN_EXE_switchboard-billing-cron");

fn cron(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args(args).stdin(Stdio::null()).output().unwrap()
}

fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sb-cron-{}", std::process::id()));
    let dir = dir.join(format!(
        "{}",
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

mod sea_orm_migration_check {
    use switchboard_migrations::MigratorTrait;

    /// Pending migrations of the SQLite file at `path`.
    pub fn pending_after(path: &std::path::Path) -> usize {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let url = format!("sqlite://{}", path.display());
            let db = switchboard_core::db::connect(&switchboard_core::db::DbOptions::new(url)).await.unwrap();
            switchboard_migrations::Migrator::get_pending_migrations(&db).await.unwrap().len()
        })
    }
}

#[test]
fn one_run_migrates_reports_and_exits() {
    let dir = temp_dir();
    let out = cron(&dir, &["--now", "2026-11-30T23:00:00Z", "--dry-run"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("2026-11-30T23:00:00+00:00") && stderr.contains("dry run"), "{stderr}");
    assert!(stderr.contains("would re-check 0 pending email identities"), "{stderr}");
    assert!(stderr.contains("rentals: would charge 0 periods of 0 numbers"), "{stderr}");
    assert_eq!(pending_after(&dir.join("data/switchboard.db")), 0, "the run migrated the embedded database");
}

#[test]
fn bad_arguments_and_configuration_are_refused_by_name() {
    let dir = temp_dir();
    let out = cron(&dir, &["--now", "yesterday"], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("RFC 3339"));
    let out = cron(&dir, &["--loop", "5d"], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("s, m or h"));
    let out = cron(&dir, &[], &[("APP__DATABASE__MAX_CONNECTIONS", "many")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("APP__DATABASE__MAX_CONNECTIONS"));
}

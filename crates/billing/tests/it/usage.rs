//! Metering on every engine: month boundaries in the workspace's zone, the shared free tier,
//! limits that hold under concurrency, reservations, settlement, expiry and the report.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use switchboard_billing::{
    CallDecision, Meter, PriceList, Refusal, SmsDecision, UsageService, UsageSettings, ledger,
};
use switchboard_core::{Amount, ApiKeyId, Ctx, Currency, DomainError, Role, WorkspaceId, Zone};
use switchboard_tenancy::{NewWorkspace, TenancyService};
use switchboard_testkit::rows::{NumberRow, insert_numbers};
use switchboard_testkit::{TestDb, each_engine};

struct Setup {
    usage: UsageService,
    ws: WorkspaceId,
    zone: Zone,
}

async fn setup(db: &TestDb, tz: &str, settings: UsageSettings) -> Setup {
    let tenancy = TenancyService::new(db.conn.clone());
    let ws = tenancy
        .create_workspace(NewWorkspace { name: "Acme".into(), timezone: Some(tz.parse().unwrap()) })
        .await
        .unwrap()
        .0
        .id;
    Setup {
        usage: UsageService::new(db.conn.clone(), tenancy, Currency::EUR, settings),
        ws,
        zone: tz.parse().unwrap(),
    }
}

/// A number row and its meter: DE local rates (0.0120/min, 0.0750/SMS).
async fn number(db: &TestDb, s: &Setup, phone: &str, minutes: Option<i64>, sms: Option<i64>) -> Meter {
    let mut row = NumberRow::new(&s.ws, phone);
    row.monthly_minutes_limit = minutes;
    row.monthly_sms_limit = sms;
    insert_numbers(&db.conn, std::slice::from_ref(&row)).await.unwrap();
    Meter {
        workspace_id: s.ws.clone(),
        number_id: row.id,
        zone: s.zone,
        prices: PriceList::embedded()
            .unwrap()
            .prices("DE".parse().unwrap(), switchboard_core::NumberType::Local),
        enabled: true,
        calls_enabled: true,
        sms_enabled: true,
        monthly_minutes_limit: minutes,
        monthly_sms_limit: sms,
    }
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn admitted(d: &SmsDecision) -> bool {
    matches!(d, SmsDecision::Admitted(a) if !a.duplicate)
}

fn owner(ws: &WorkspaceId) -> Ctx {
    Ctx::system(ws.clone())
}

async fn balance(db: &TestDb, ws: &WorkspaceId) -> String {
    ledger::balance(&db.conn, ws).await.unwrap().to_string()
}

fn minutes(n: u64) -> StdDuration {
    StdDuration::from_secs(n * 60)
}

#[tokio::test]
async fn months_follow_the_workspace_zone_and_the_free_tier_resets() {
    each_engine(|db| async move {
        let settings = UsageSettings { free_sms: 1, ..UsageSettings::default() };
        let s = setup(&db, "Europe/Berlin", settings).await;
        let m = number(&db, &s, "+4930100001", None, None).await;
        // 23:59:59 local on 30 November is 22:59:59 UTC; 00:00 local on 1 December is 23:00 UTC.
        let last = s.usage.admit_sms(&m, "SM-last", at("2026-11-30T22:59:59Z")).await.unwrap();
        let first = s.usage.admit_sms(&m, "SM-first", at("2026-11-30T23:00:00Z")).await.unwrap();
        let (SmsDecision::Admitted(last), SmsDecision::Admitted(first)) = (last, first) else { panic!() };
        assert_eq!((last.period.to_string(), last.free), ("2026-11".into(), true));
        assert_eq!(
            (first.period.to_string(), first.free),
            ("2026-12".into(), true),
            "a new month, a new free tier"
        );
        let third = s.usage.admit_sms(&m, "SM-third", at("2026-12-15T12:00:00Z")).await.unwrap();
        let SmsDecision::Admitted(third) = third else { panic!() };
        assert!(!third.free);
        assert_eq!(third.charge.amount.to_string(), "0.075");
        // DST: 29 March 2026 is 23 hours long in Berlin; 31 March 23:30 local is 21:30 UTC.
        let dst = s.usage.admit_sms(&m, "SM-dst", at("2026-03-31T21:30:00Z")).await.unwrap();
        let after = s.usage.admit_sms(&m, "SM-april", at("2026-03-31T22:00:00Z")).await.unwrap();
        let (SmsDecision::Admitted(dst), SmsDecision::Admitted(after)) = (dst, after) else { panic!() };
        assert_eq!((dst.period.to_string(), after.period.to_string()), ("2026-03".into(), "2026-04".into()));
        let report = s.usage.report(&owner(&s.ws), Some("2026-12".parse().unwrap())).await.unwrap();
        assert_eq!((report.sms.used, report.sms.free, report.sms.billable), (2, 1, 1));
        assert_eq!(report.sms.amount.amount.to_string(), "0.075");
        assert_eq!(balance(&db, &s.ws).await, "-0.075");
    })
    .await;
}

#[tokio::test]
async fn the_free_tier_is_shared_across_numbers() {
    each_engine(|db| async move {
        let settings = UsageSettings { free_sms: 3, free_minutes: 10, ..UsageSettings::default() };
        let s = setup(&db, "UTC", settings).await;
        let a = number(&db, &s, "+4930100001", None, None).await;
        let b = number(&db, &s, "+4930100002", None, None).await;
        let now = at("2026-11-10T10:00:00Z");
        for (i, m) in [&a, &b, &a, &b].into_iter().enumerate() {
            s.usage.admit_sms(m, &format!("SM{i}"), now).await.unwrap();
        }
        for (i, m) in [&a, &b].into_iter().enumerate() {
            let id = format!("CA{i}");
            s.usage.reserve_call(m, &id, now).await.unwrap();
            s.usage.settle_call(m, &id, minutes(7), now).await.unwrap();
        }
        let report = s.usage.report(&owner(&s.ws), Some("2026-11".parse().unwrap())).await.unwrap();
        assert_eq!((report.sms.used, report.sms.free, report.sms.billable), (4, 3, 1));
        assert_eq!((report.minutes.used, report.minutes.free, report.minutes.billable), (14, 10, 4));
        // 4 minutes × 0.0120 + 1 SMS × 0.0750
        assert_eq!(report.total.amount.to_string(), "0.123");
        let per_number: Vec<_> = report.numbers.iter().map(|n| (n.sms.used, n.minutes.used)).collect();
        assert_eq!(per_number.iter().map(|p| p.0).sum::<i64>(), 4);
        assert_eq!(per_number, vec![(2, 7), (2, 7)]);
        assert_eq!(balance(&db, &s.ws).await, "-0.123", "Σ ledger = the report's total");
    })
    .await;
}

#[tokio::test]
async fn limit_300_is_60_free_then_240_charged_then_refused() {
    each_engine(|db| async move {
        let s = setup(&db, "UTC", UsageSettings::default()).await;
        let m = number(&db, &s, "+4930100001", Some(300), None).await;
        let now = at("2026-11-10T10:00:00Z");
        for i in 0..5 {
            let id = format!("CA{i}");
            let CallDecision::Admitted(grant) = s.usage.reserve_call(&m, &id, now).await.unwrap() else {
                panic!("call {i} refused")
            };
            assert_eq!(grant.minutes, 60, "the per-call cap");
            assert_eq!(grant.max_duration_seconds(), 3600);
            // 59 min 1 s rounds up to 60 minutes.
            s.usage.settle_call(&m, &id, StdDuration::from_secs(59 * 60 + 1), now).await.unwrap();
        }
        assert_eq!(
            s.usage.reserve_call(&m, "CA-over", now).await.unwrap(),
            CallDecision::Refused(Refusal::LimitReached)
        );
        let report = s.usage.report(&owner(&s.ws), Some("2026-11".parse().unwrap())).await.unwrap();
        assert_eq!((report.minutes.used, report.minutes.free, report.minutes.billable), (300, 60, 240));
        assert_eq!(report.minutes.amount.amount.to_string(), "2.88"); // 240 × 0.0120
        assert_eq!(balance(&db, &s.ws).await, "-2.88");
        // Next month the limit and the free tier start again.
        let next = s.usage.reserve_call(&m, "CA-december", at("2026-12-01T00:00:00Z")).await.unwrap();
        assert!(matches!(next, CallDecision::Admitted(g) if g.minutes == 60));
    })
    .await;
}

#[tokio::test]
async fn reservations_hold_minutes_until_settled_or_expired() {
    each_engine(|db| async move {
        let s = setup(&db, "UTC", UsageSettings::default()).await;
        let m = number(&db, &s, "+4930100001", Some(100), None).await;
        let now = at("2026-11-10T10:00:00Z");
        let grant = |d: CallDecision| match d {
            CallDecision::Admitted(g) => g.minutes,
            CallDecision::Refused(r) => panic!("refused: {r:?}"),
        };
        assert_eq!(grant(s.usage.reserve_call(&m, "CA1", now).await.unwrap()), 60);
        assert_eq!(grant(s.usage.reserve_call(&m, "CA2", now).await.unwrap()), 40, "what the limit leaves");
        assert_eq!(
            s.usage.reserve_call(&m, "CA3", now).await.unwrap(),
            CallDecision::Refused(Refusal::LimitReached)
        );
        // The same call asking again gets the same grant, not a second one.
        let again = s.usage.reserve_call(&m, "CA1", now).await.unwrap();
        assert!(matches!(again, CallDecision::Admitted(g) if g.duplicate && g.minutes == 60));
        // CA1 used 10 minutes: 50 come back.
        let settled = s.usage.settle_call(&m, "CA1", minutes(10), now).await.unwrap();
        assert_eq!((settled.minutes, settled.duplicate), (10, false));
        assert_eq!(grant(s.usage.reserve_call(&m, "CA4", now).await.unwrap()), 50);
        // CA2's report never comes: after its 40 minutes and the 15-minute grace it is released.
        assert_eq!(s.usage.expire_reservations(now + Duration::minutes(54), 100).await.unwrap(), 0);
        assert_eq!(s.usage.expire_reservations(now + Duration::minutes(55), 100).await.unwrap(), 1);
        assert_eq!(grant(s.usage.reserve_call(&m, "CA5", now).await.unwrap()), 40);
        // A late report for CA2 still counts, up to its grant.
        let late = s.usage.settle_call(&m, "CA2", minutes(90), now).await.unwrap();
        assert_eq!(late.minutes, 40);
    })
    .await;
}

#[tokio::test]
async fn a_call_is_settled_once_whoever_reports_it() {
    each_engine(|db| async move {
        let s = setup(&db, "UTC", UsageSettings { free_minutes: 0, ..UsageSettings::default() }).await;
        let m = number(&db, &s, "+4930100001", None, None).await;
        let now = at("2026-11-10T10:00:00Z");
        s.usage.reserve_call(&m, "CA1", now).await.unwrap();
        let vapi = s.usage.settle_call(&m, "CA1", StdDuration::from_secs(61), now).await.unwrap();
        let twilio = s.usage.settle_call(&m, "CA1", StdDuration::from_secs(61), now).await.unwrap();
        assert_eq!((vapi.minutes, vapi.duplicate), (2, false));
        assert_eq!((twilio.minutes, twilio.duplicate, twilio.charge), (2, true, vapi.charge));
        // Never reserved (the status callback of a call that bypassed Vapi): counted as reported.
        let unreserved = s.usage.settle_call(&m, "CA2", StdDuration::from_secs(120), now).await.unwrap();
        assert_eq!(unreserved.minutes, 2);
        let report = s.usage.report(&owner(&s.ws), Some("2026-11".parse().unwrap())).await.unwrap();
        assert_eq!(report.minutes.used, 4);
        assert_eq!(balance(&db, &s.ws).await, "-0.048");
    })
    .await;
}

#[tokio::test]
async fn disabled_numbers_and_switched_off_services_admit_and_charge_nothing() {
    each_engine(|db| async move {
        let s = setup(&db, "UTC", UsageSettings { free_sms: 0, ..UsageSettings::default() }).await;
        let m = number(&db, &s, "+4930100001", None, Some(1)).await;
        let now = at("2026-11-10T10:00:00Z");
        let disabled = Meter { enabled: false, ..m.clone() };
        assert_eq!(
            s.usage.admit_sms(&disabled, "SM1", now).await.unwrap(),
            SmsDecision::Refused(Refusal::NumberDisabled)
        );
        assert_eq!(
            s.usage.reserve_call(&disabled, "CA1", now).await.unwrap(),
            CallDecision::Refused(Refusal::NumberDisabled)
        );
        let no_sms = Meter { sms_enabled: false, ..m.clone() };
        assert_eq!(
            s.usage.admit_sms(&no_sms, "SM2", now).await.unwrap(),
            SmsDecision::Refused(Refusal::SmsDisabled)
        );
        let no_calls = Meter { calls_enabled: false, ..m.clone() };
        assert_eq!(
            s.usage.reserve_call(&no_calls, "CA2", now).await.unwrap(),
            CallDecision::Refused(Refusal::CallsDisabled)
        );
        assert_eq!(balance(&db, &s.ws).await, "0.00");
        assert!(admitted(&s.usage.admit_sms(&m, "SM3", now).await.unwrap()));
        assert_eq!(
            s.usage.admit_sms(&m, "SM4", now).await.unwrap(),
            SmsDecision::Refused(Refusal::LimitReached)
        );
        assert_eq!(balance(&db, &s.ws).await, "-0.075", "the refused SMS cost nothing");
        // Reprocessing an admitted message finds it admitted, whatever happened to the number since.
        for later in [m.clone(), disabled.clone(), no_sms.clone()] {
            let again = s.usage.admit_sms(&later, "SM3", now).await.unwrap();
            assert!(matches!(&again, SmsDecision::Admitted(a) if a.duplicate), "{again:?}");
        }
        assert_eq!(balance(&db, &s.ws).await, "-0.075");
        let report = s.usage.report(&owner(&s.ws), Some("2026-11".parse().unwrap())).await.unwrap();
        assert_eq!(report.sms.used, 1);
    })
    .await;
}

#[tokio::test]
async fn the_same_message_is_counted_and_charged_once_even_concurrently() {
    each_engine(|db| async move {
        let s = setup(&db, "UTC", UsageSettings { free_sms: 0, ..UsageSettings::default() }).await;
        let m = number(&db, &s, "+4930100001", None, None).await;
        let now = at("2026-11-10T10:00:00Z");
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let (usage, m) = (s.usage.clone(), m.clone());
                tokio::spawn(async move { usage.admit_sms(&m, "SM-once", now).await.unwrap() })
            })
            .collect();
        let mut fresh = 0;
        for t in tasks {
            if admitted(&t.await.unwrap()) {
                fresh += 1;
            }
        }
        assert_eq!(fresh, 1);
        assert_eq!(balance(&db, &s.ws).await, "-0.075");
        let report = s.usage.report(&owner(&s.ws), Some("2026-11".parse().unwrap())).await.unwrap();
        assert_eq!(report.sms.used, 1);
    })
    .await;
}

/// 2,000 concurrent SMS admissions over 20 numbers with limits 31…50 admit exactly up to each
/// limit; 400 concurrent call reservations over the same numbers never reserve past the limit.
#[tokio::test]
async fn limits_hold_under_concurrency() {
    each_engine(|db| async move {
        let s =
            setup(&db, "UTC", UsageSettings { free_sms: 500, free_minutes: 0, ..UsageSettings::default() })
                .await;
        let mut meters = Vec::new();
        for i in 0..20 {
            let limit = 31 + i as i64;
            meters.push(number(&db, &s, &format!("+49301000{i:02}"), Some(limit * 10), Some(limit)).await);
        }
        let now = at("2026-11-10T10:00:00Z");
        let tasks: Vec<_> = (0..2000)
            .map(|i| {
                let (usage, m) = (s.usage.clone(), meters[i % 20].clone());
                tokio::spawn(
                    async move { (i % 20, usage.admit_sms(&m, &format!("SM{i}"), now).await.unwrap()) },
                )
            })
            .collect();
        let mut per_number = [0i64; 20];
        for t in tasks {
            let (n, d) = t.await.unwrap();
            match d {
                SmsDecision::Admitted(_) => per_number[n] += 1,
                SmsDecision::Refused(r) => assert_eq!(r, Refusal::LimitReached),
            }
        }
        for (i, admitted) in per_number.iter().enumerate() {
            assert_eq!(*admitted, 31 + i as i64, "number {i}");
        }
        let report = s.usage.report(&owner(&s.ws), Some("2026-11".parse().unwrap())).await.unwrap();
        assert_eq!(report.sms.used, per_number.iter().sum::<i64>());
        // 810 admitted, 500 free: 310 charged at 0.0750, exactly once each.
        assert_eq!((report.sms.free, report.sms.billable), (500, 310));
        assert_eq!(balance(&db, &s.ws).await, "-23.25");

        // Calls: limits 310…500 minutes, 60 per call at most; 400 concurrent reservations.
        let tasks: Vec<_> = (0..400)
            .map(|i| {
                let (usage, m) = (s.usage.clone(), meters[i % 20].clone());
                tokio::spawn(async move {
                    (i % 20, usage.reserve_call(&m, &format!("CA{i}"), now).await.unwrap())
                })
            })
            .collect();
        let mut reserved = [0i64; 20];
        for t in tasks {
            if let (n, CallDecision::Admitted(g)) = t.await.unwrap() {
                reserved[n] += g.minutes;
            }
        }
        for (i, r) in reserved.iter().enumerate() {
            assert_eq!(*r, (31 + i as i64) * 10, "number {i}: reservations fill the limit exactly");
        }
    })
    .await;
}

#[tokio::test]
async fn the_report_needs_billing_permission_and_defaults_to_this_month() {
    each_engine(|db| async move {
        let s = setup(&db, "Pacific/Auckland", UsageSettings::default()).await;
        let agent = Ctx::for_api_key(s.ws.clone(), ApiKeyId::new(), Role::Agent);
        let err = s.usage.report(&agent, None).await.unwrap_err();
        assert_eq!(err.code(), "forbidden");
        let report = s.usage.report(&owner(&s.ws), None).await.unwrap();
        let expected = switchboard_core::Period::containing(Utc::now(), "Pacific/Auckland".parse().unwrap());
        assert_eq!(report.period, expected);
        assert_eq!((report.total.amount, report.numbers.len()), (Amount::ZERO, 0));
    })
    .await;
}

#[tokio::test]
async fn an_sms_the_provider_did_not_send_is_taken_back_once() {
    each_engine(|db| async move {
        let s = setup(&db, "UTC", UsageSettings { free_sms: 1, ..UsageSettings::default() }).await;
        let m = number(&db, &s, "+4930100001", None, Some(2)).await;
        let now = at("2026-11-10T10:00:00Z");
        assert!(admitted(&s.usage.admit_sms(&m, "out-1", now).await.unwrap())); // free
        assert!(admitted(&s.usage.admit_sms(&m, "out-2", now).await.unwrap())); // charged
        assert_eq!(
            s.usage.admit_sms(&m, "out-3", now).await.unwrap(),
            SmsDecision::Refused(Refusal::LimitReached)
        );
        assert_eq!(balance(&db, &s.ws).await, "-0.075");
        // The provider refused out-2: released once, refunded once.
        assert!(s.usage.release_sms(&m, "out-2").await.unwrap());
        assert!(!s.usage.release_sms(&m, "out-2").await.unwrap());
        assert!(!s.usage.release_sms(&m, "never-admitted").await.unwrap());
        assert_eq!(balance(&db, &s.ws).await, "0.00");
        let report = s.usage.report(&owner(&s.ws), Some("2026-11".parse().unwrap())).await.unwrap();
        assert_eq!((report.sms.used, report.sms.billable), (1, 0));
        // Its place under the limit is free again.
        assert!(admitted(&s.usage.admit_sms(&m, "out-4", now).await.unwrap()));
    })
    .await;
}

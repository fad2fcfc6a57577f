//! Scheduled jobs fanned out over the jobs queue: each schedule's dispatcher enqueues a
//! unit per workspace or shard, the jobs worker does each within its time budget and
//! enqueues the rest, and one failing workspace does not hold up the others.

use chrono::{Duration, Utc};
use contacts_tests::{eventually, eventually_within, spawn_app_with, workspace, TestApp};
use model::channels::{CaptureEvent, CaptureKind, MessageRole, ProfileHints};
use model::domain::{Channel, ContactId, WorkspaceId};
use model::new_contact::NewContact;
use model::retention::{RunStatus, REVIEW_TAG};
use model::usecases::capture::{capture, CaptureSettings, Captured};
use std::collections::HashMap;

async fn app_with_budget(seconds: u32) -> TestApp {
    spawn_app_with(HashMap::from([("JOB_TIME_BUDGET_SECONDS".to_string(), seconds.to_string())])).await
}

/// `count` contacts idle for two years, through the bulk loader the bench uses; their ids.
async fn load_idle(app: &TestApp, ws: &WorkspaceId, count: u64) -> Vec<ContactId> {
    let long_ago = Utc::now() - Duration::days(730);
    let mut all = Vec::new();
    while (all.len() as u64) < count {
        let n = 1_000.min(count - all.len() as u64);
        let ids = app.store.allocate_contact_ids(ws, n).await.unwrap();
        let contacts = ids
            .iter()
            .map(|id| {
                let mut new = NewContact::on(Channel::Telegram);
                new.created_at = Some(long_ago);
                new.into_contact(*id, long_ago)
            })
            .collect();
        app.store.import_contacts(ws, contacts).await.unwrap();
        all.extend(ids);
    }
    all
}

#[tokio::test]
async fn retention_over_5000_inactive_contacts_goes_on_in_one_second_runs_and_handles_each_once() {
    let app = app_with_budget(1).await;
    let ids = load_idle(&app, &app.workspace, 5_000).await;
    let other = workspace(&app.store).await;
    let other_ids = load_idle(&app, &other, 3).await;
    // A workspace whose policy cannot be read: its unit fails every time.
    let broken = workspace(&app.store).await;
    app.store
        .client()
        .put_item()
        .table_name(app.store.table_name())
        .item("pk", aws_sdk_dynamodb::types::AttributeValue::S(format!("WS#{broken}#META")))
        .item("sk", aws_sdk_dynamodb::types::AttributeValue::S("RETENTION_POLICY".into()))
        .item("policy", aws_sdk_dynamodb::types::AttributeValue::S("{not a policy".into()))
        .send()
        .await
        .unwrap();

    let summary = (app.stack.jobs["retention"])().await.unwrap();
    assert!(summary.ends_with("workspaces queued for retention"), "{summary}");
    let runs = async || app.store.list_retention_runs(&app.workspace, 5).await.unwrap();
    let done = |r: &Vec<model::retention::RetentionRun>| r.first().is_some_and(|r| r.status == RunStatus::Done);
    let runs = eventually_within(std::time::Duration::from_secs(1800), "the retention run to finish", runs, done).await;
    assert_eq!(runs.len(), 1, "one run, continued across units");
    let run = &runs[0];
    assert_eq!((run.counts["examined"], run.counts["flagged"]), (5_000, 5_000), "{:?}", run.counts);
    assert!(run.step > 3, "saved after each batch, across several one-second runs: {}", run.step);
    for chunk in ids.chunks(100) {
        for id in chunk {
            let contact = app.store.get_contact(&app.workspace, *id).await.unwrap().unwrap();
            assert!(contact.tags.iter().any(|t| t.as_str() == REVIEW_TAG), "{id:?} flagged");
            assert_eq!(contact.version, 2, "{id:?} changed exactly once");
        }
    }

    // The other workspace is done despite the broken one, whose unit ends in the dead-letter queue.
    let other_runs = app.store.list_retention_runs(&other, 5).await.unwrap();
    assert_eq!(other_runs[0].status, RunStatus::Done);
    assert_eq!(other_runs[0].counts["flagged"], other_ids.len() as u64);
    // The audit log names the job as the actor of each scheduled run, start and end.
    let (entries, _) = app.store.list_audit(&other, &Default::default(), 10, None).await.unwrap();
    let logged: Vec<(String, String, Vec<String>)> =
        entries.into_iter().map(|e| (e.actor.id(), e.action, e.targets)).collect();
    let run_id = vec![other_runs[0].id.clone()];
    assert_eq!(
        logged,
        [
            ("job:retention".to_string(), "retention run done".to_string(), run_id.clone()),
            ("job:retention".to_string(), "retention run started".to_string(), run_id),
        ]
    );
    let dead = async || app.queue_depth("JobsDeadLetterQueue").await.waiting;
    eventually("the broken workspace's unit to be dead-lettered", dead, |n| *n == 1).await;

    // The next day's run reads only the slice since this run's cutoff: nothing new.
    let next = app
        .store
        .start_retention_run_from(&app.workspace, run.policy, true, Some(run.cutoff), Utc::now() + Duration::days(1))
        .await
        .unwrap();
    let next =
        app.store.continue_retention_run(&app.workspace, next, Utc::now() + Duration::seconds(30)).await.unwrap();
    assert_eq!(next.status, RunStatus::Done);
    assert!(next.counts.is_empty(), "{:?}", next.counts);
}

#[tokio::test]
async fn one_sweep_closes_the_idle_conversations_of_thirty_workspaces() {
    let app = app_with_budget(1).await;
    let settings = CaptureSettings { idle: Duration::minutes(30) };
    let event = |n: usize, at: chrono::DateTime<Utc>| CaptureEvent {
        event_id: format!("telegram:update:{n}"),
        channel: Channel::Telegram,
        external_id: format!("{}", 1_000 + n),
        occurred_at: at,
        profile: ProfileHints { name: Some(format!("Visitor {n}")), ..Default::default() },
        kind: CaptureKind::Message {
            role: MessageRole::User,
            text: Some("hello".into()),
            message_type: "text".into(),
            conversation_ref: None,
        },
        sequence: None,
    };
    let mut idle = Vec::new();
    for n in 0..30 {
        let ws = workspace(&app.store).await;
        let bot_id = contacts_tools::demo::bot_if_missing(&app.store, &ws).await.unwrap();
        let bot = app.store.get_bot(&bot_id).await.unwrap().unwrap();
        let at = Utc::now() - Duration::hours(2);
        let Captured::Applied { contact, .. } = capture(&app.store, &(), &bot, &event(n, at), &settings).await.unwrap()
        else {
            panic!("captured")
        };
        idle.push((ws, contact));
    }
    let (ws, _) = &idle[0];
    let bot = app.store.get_bot(&contacts_tools::demo::bot_if_missing(&app.store, ws).await.unwrap()).await.unwrap();
    let Captured::Applied { contact: active, .. } =
        capture(&app.store, &(), &bot.unwrap(), &event(99, Utc::now()), &settings).await.unwrap()
    else {
        panic!("captured")
    };

    let summary = (app.stack.jobs["conversation-sweeper"])().await.unwrap();
    assert_eq!(summary, "32 sweep shards queued");
    for (ws, id) in &idle {
        let open = async || app.store.get_contact(ws, *id).await.unwrap().unwrap().open_conversations.len();
        eventually("the sweep to close an idle conversation", open, |n| *n == 0).await;
    }
    let depth = async || app.queue_depth("JobsQueue").await;
    eventually("the sweep units to be done", depth, |d| *d == Default::default()).await;
    let still = app.store.get_contact(&idle[0].0, active).await.unwrap().unwrap();
    assert_eq!(still.open_conversations.len(), 1, "a conversation that is not idle stays open");
}

#[tokio::test]
async fn the_rollup_fills_in_missed_days_once_and_reages_every_lead_once_in_one_second_units() {
    let app = app_with_budget(1).await;
    let today = Utc::now().date_naive();
    // The workspace's snapshots stopped four days ago (an outage); a new workspace has none.
    assert!(app.store.write_snapshot(&app.workspace, today - Duration::days(4)).await.unwrap());
    let fresh = workspace(&app.store).await;
    // 600 leads last active a week and a half ago: new → follow_up by time alone.
    let week_ago = Utc::now() - Duration::days(7) - Duration::hours(12);
    let ids = app.store.allocate_contact_ids(&app.workspace, 600).await.unwrap();
    let leads = ids
        .iter()
        .map(|id| {
            let mut new = NewContact::on(Channel::Frame);
            new.created_at = Some(week_ago);
            new.into_contact(*id, week_ago)
        })
        .collect();
    app.store.import_contacts(&app.workspace, leads).await.unwrap();

    let summary = (app.stack.jobs["analytics-rollup"])().await.unwrap();
    assert!(summary.ends_with("workspaces queued for the rollup"), "{summary}");
    let days = async |ws: &WorkspaceId| {
        let written = app.store.snapshots(ws, today - Duration::days(40), today).await.unwrap();
        written.into_keys().collect::<Vec<_>>()
    };
    let missed: Vec<_> = (1..=4).rev().map(|d| today - Duration::days(d)).collect();
    assert_eq!(eventually("the missed days", async || days(&app.workspace).await, |d| d.len() == 4).await, missed);
    assert_eq!(
        // Behind the other workspace's back-fill and re-aging on the same queue.
        eventually_within(
            std::time::Duration::from_secs(600),
            "yesterday",
            async || days(&fresh).await,
            |d| { !d.is_empty() }
        )
        .await,
        [today - Duration::days(1)]
    );

    let reaged = async || {
        let mut n = 0;
        for id in &ids {
            let c = app.store.get_contact(&app.workspace, *id).await.unwrap().unwrap();
            n += usize::from(c.status == model::domain::LeadStatus::FollowUp);
        }
        n
    };
    eventually_within(std::time::Duration::from_secs(600), "every lead re-aged", reaged, |n| *n == ids.len()).await;
    for id in &ids {
        assert_eq!(
            app.store.get_contact(&app.workspace, *id).await.unwrap().unwrap().version,
            2,
            "{id:?} changed once"
        );
    }

    // The next hour's run finds yesterday written: nothing more.
    (app.stack.jobs["analytics-rollup"])().await.unwrap();
    let queue = async || app.queue_depth("JobsQueue").await;
    eventually("the units to be done", queue, |q| q.waiting + q.in_flight + q.delayed == 0).await;
    assert_eq!(days(&app.workspace).await, missed);
    assert_eq!(app.queue_depth("JobsDeadLetterQueue").await.waiting, 0);
}

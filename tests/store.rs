//! The repository through the real AWS SDK against the emulator: atomicity, concurrency, counters.

use aws_lambda_events::event::dynamodb::Event;
use contacts_functions::stream_counters;
use contacts_tests::{counted, fresh_store, stream_records, workspace};
use model::contact::Identity;
use model::contact::{Change, ContactPatch};
use model::domain::{Channel, Email, LeadStatus, Name, Tag, WorkspaceId};
use model::new_contact::NewContact;
use model::usecases::contacts;
use model::workspace::Workspace;
use store::meter::metered;
use store::{Store, StoreError};

/// Every item of a workspace. A full-table read: test-only, to prove what is (not) stored.
async fn items_of(store: &Store, ws: &WorkspaceId) -> Vec<String> {
    let mut keys = Vec::new();
    let mut start = None;
    loop {
        let out =
            store.client().scan().table_name(store.table_name()).set_exclusive_start_key(start).send().await.unwrap();
        for item in out.items() {
            let pk = item["pk"].as_s().unwrap();
            if pk.starts_with(&format!("WS#{ws}#")) {
                keys.push(format!("{pk} {}", item["sk"].as_s().unwrap()));
            }
        }
        match out.last_evaluated_key {
            Some(k) => start = Some(k),
            None => return keys,
        }
    }
}

fn with_email(email: &str) -> NewContact {
    let mut n = NewContact::on(Channel::Frame);
    n.email = Some(Email::parse(email).unwrap());
    n
}

#[tokio::test]
async fn a_refused_create_writes_nothing() {
    let store = fresh_store().await;
    let ws = workspace(&store).await;
    contacts::create(&store, &Workspace::with_defaults(ws.clone()), with_email("taken@example.com")).await.unwrap();
    let before = items_of(&store, &ws).await;
    let mut dup = with_email("TAKEN@example.com");
    dup.name = Some(Name::parse("Would Be Searchable").unwrap());
    dup.identity = Some(Identity::new(Channel::Telegram, "42"));
    match contacts::create(&store, &Workspace::with_defaults(ws.clone()), dup).await {
        Err(StoreError::Taken { field: "email", owner }) => assert_eq!(owner.0, 1),
        other => panic!("expected a taken email, got {other:?}"),
    }
    let after = items_of(&store, &ws).await;
    let new_items: Vec<_> = after.iter().filter(|k| !before.contains(k)).collect();
    assert!(new_items.is_empty(), "left behind: {new_items:?}");
    counted(&store).await;
    assert_eq!(store.counters(&ws).await.unwrap().total, 1);
}

#[tokio::test]
async fn concurrent_creates_get_distinct_ids_and_exact_counters() {
    let store = fresh_store().await;
    let ws = workspace(&store).await;
    let creates = (0..8).map(|i| {
        let store = store.clone();
        let ws = ws.clone();
        tokio::spawn(async move {
            let mut n = NewContact::on(if i % 2 == 0 { Channel::Frame } else { Channel::Whatsapp });
            n.email = Some(Email::parse(&format!("c{i}@example.com")).unwrap());
            contacts::create(&store, &Workspace::with_defaults(ws.clone()), n).await.unwrap().id.0
        })
    });
    let mut ids = Vec::new();
    for c in creates {
        ids.push(c.await.unwrap());
    }
    ids.sort();
    assert_eq!(ids, (1..=8).collect::<Vec<_>>());
    counted(&store).await;
    let counters = store.counters(&ws).await.unwrap();
    assert_eq!(counters.total, 8);
    assert_eq!(counters.channels[&Channel::Frame], 4);
    assert_eq!(counters.channels[&Channel::Whatsapp], 4);
    assert_eq!(counters.statuses["new"], 8);
}

#[tokio::test]
async fn a_stream_batch_delivered_again_counts_once() {
    let store = fresh_store().await;
    let ws = workspace(&store).await;
    let defaults = Workspace::with_defaults(ws.clone());
    for i in 0..3 {
        let mut n = with_email(&format!("r{i}@example.com"));
        n.tags.insert(Tag::parse("vip").unwrap());
        contacts::create(&store, &defaults, n).await.unwrap();
    }
    let records = stream_records(&store).await;
    let batch = |n: usize| {
        let mut event = Event::default();
        event.records = records[..n].to_vec();
        event
    };
    // A batch cut short by a failure, then delivered again whole (and once more).
    stream_counters::handle(&store, batch(records.len() / 2)).await.unwrap();
    for _ in 0..2 {
        stream_counters::handle(&store, batch(records.len())).await.unwrap();
    }
    let c = store.counters(&ws).await.unwrap();
    assert_eq!((c.total, c.channels[&Channel::Frame], c.statuses["new"]), (3, 3, 3));
    assert_eq!(store.tag_counts(&ws).await.unwrap(), vec![(Tag::parse("vip").unwrap(), 3)]);
}

#[tokio::test]
async fn concurrent_edits_without_if_match_are_both_kept() {
    let store = fresh_store().await;
    let ws = workspace(&store).await;
    let id = contacts::create(&store, &Workspace::with_defaults(ws.clone()), with_email("both@example.com"))
        .await
        .unwrap()
        .id;
    let defaults = Workspace::with_defaults(ws.clone());
    let rename = ContactPatch { name: Change::Set(Name::parse("Both Kept").unwrap()), ..Default::default() };
    let note = ContactPatch { notes: Change::Set("called back".into()), ..Default::default() };
    let (a, b) = tokio::join!(
        contacts::edit(&store, &defaults, id, rename, None),
        contacts::edit(&store, &defaults, id, note, None)
    );
    a.unwrap();
    b.unwrap();
    let c = store.get_contact(&ws, id).await.unwrap().unwrap();
    assert_eq!(c.name.unwrap().as_str(), "Both Kept");
    assert_eq!(c.notes.as_deref(), Some("called back"));
    assert_eq!(c.version, 3);
}

#[tokio::test]
async fn status_counters_follow_edits_and_deletes() {
    let store = fresh_store().await;
    let ws = workspace(&store).await;
    let id =
        contacts::create(&store, &Workspace::with_defaults(ws.clone()), with_email("s@example.com")).await.unwrap().id;
    let defaults = Workspace::with_defaults(ws.clone());
    let patch = ContactPatch { status: Some(LeadStatus::Archived), ..Default::default() };
    contacts::edit(&store, &defaults, id, patch, Some(1)).await.unwrap();
    counted(&store).await;
    let c = store.counters(&ws).await.unwrap();
    assert_eq!((c.statuses["new"], c.statuses["archived"]), (0, 1));
    store.purge_contact(&ws, id).await.unwrap();
    counted(&store).await;
    let c = store.counters(&ws).await.unwrap();
    assert_eq!((c.total, c.statuses["archived"], c.channels[&Channel::Frame]), (0, 0, 0));
    let left = items_of(&store, &ws).await;
    assert!(
        left.iter().all(|k| k.contains("#META ") || k.contains("#DAYS ")),
        "only workspace aggregates remain: {left:?}"
    );
}

#[tokio::test]
async fn every_call_is_metered_with_size_based_capacity() {
    let store = fresh_store().await;
    let ws = workspace(&store).await;
    let mut n = with_email("metered@example.com");
    n.name = Some(Name::parse("Metered Person").unwrap());
    let (created, usage) = metered(contacts::create(&store, &Workspace::with_defaults(ws.clone()), n)).await;
    created.unwrap();
    assert_eq!(usage.operations, ["UpdateItem", "TransactWriteItems"]);
    // The sequence (one block: 1), then the transaction: the profile (2) and its entries on
    // five indexes (5), the email guard (2). Its search words come from the stream.
    assert_eq!(usage.write_requests, 3, "{usage:?}");
    assert_eq!(usage.write_units, 10.0, "{usage:?}");
    assert_eq!(usage.read_units, 0.0);
}

//! Listing, filters, search and pagination over real HTTP.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use contacts_tests::{spawn_app, spawn_app_on, TestApp};
use model::domain::{Channel, Email, LeadStatus, Name, Phone, Tag};
use model::listing::day_start;
use model::new_contact::NewContact;
use model::usecases::contacts;
use model::workspace::Workspace;
use reqwest::Method;
use serde_json::json;
use std::collections::BTreeSet;

/// A contact created `days_ago`, straight through the store (the API always uses now).
async fn seed(app: &TestApp, channel: Channel, name: &str, days_ago: i64) -> u64 {
    seed_at(app, channel, name, Utc::now() - Duration::days(days_ago)).await
}

async fn seed_at(app: &TestApp, channel: Channel, name: &str, at: DateTime<Utc>) -> u64 {
    let mut new = NewContact::on(channel);
    new.name = Some(Name::parse(name).unwrap());
    new.created_at = Some(at);
    contacts::create(&app.store, &Workspace::with_defaults(app.workspace.clone()), new).await.unwrap().id.0
}

#[tokio::test]
async fn lists_newest_first_and_pages_through_everything_with_the_cursor() {
    let app = spawn_app().await;
    for (i, days) in [40, 10, 3, 1, 0].into_iter().enumerate() {
        seed(&app, Channel::Frame, &format!("Person {i}"), days).await;
    }
    let first = app.list("per_page=2").await.body;
    assert_eq!(first["total"], 5);
    assert_eq!((first["page"].as_u64(), first["per_page"].as_u64()), (Some(1), Some(2)));

    let mut seen = Vec::new();
    let mut query = "per_page=2".to_string();
    for page in 1.. {
        let r = app.list(&query).await.body;
        assert_eq!(r["page"], page);
        seen.extend(r["contacts"].as_array().unwrap().iter().map(|c| c["id"].as_u64().unwrap()));
        match r["next_cursor"].as_str() {
            Some(cursor) => query = format!("per_page=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, [5, 4, 3, 2, 1], "newest first, each once");
    assert_eq!(app.ids("per_page=2&page=2").await, [3, 2], "page numbers reach the same rows");
    assert_eq!(app.ids("per_page=2&page=4").await, Vec::<u64>::new());
}

#[tokio::test]
async fn filters_by_channel_status_and_tag_with_exact_totals() {
    let app = spawn_app().await;
    let tg = app.create(json!({"channel": "telegram", "tags": ["vip"]})).await;
    let wa = app.create(json!({"channel": "whatsapp", "status": "follow_up"})).await;
    let fr = app.create(json!({"channel": "frame", "status": "follow_up", "tags": ["vip", "pricing"]})).await;

    let r = app.list("channel=telegram").await.body;
    assert_eq!((r["total"].as_u64(), app.ids("channel=telegram").await), (Some(1), vec![tg]));
    assert_eq!(app.ids("status=follow_up").await, [fr, wa]);
    assert_eq!(app.list("status=follow_up").await.body["total"], 2);
    assert_eq!(app.ids("tag=vip").await, [fr, tg]);
    assert_eq!(app.list("tag=VIP").await.body["total"], 2, "tags compare case-insensitively");
    assert_eq!(app.ids("tag=vip&channel=frame").await, [fr]);
    assert_eq!(app.ids("status=follow_up&channel=whatsapp").await, [wa]);
    assert_eq!(app.list("status=follow_up&channel=whatsapp").await.body["total"], serde_json::Value::Null);

    // Totals follow edits.
    app.patch(wa, json!({"status": "archived", "tags": ["vip"]}), &[]).await;
    assert_eq!(app.list("status=follow_up").await.body["total"], 1);
    assert_eq!(app.list("status=archived").await.body["total"], 1);
    assert_eq!(app.list("tag=vip").await.body["total"], 3);
    app.patch(fr, json!({"tags": []}), &[]).await;
    assert_eq!(app.ids("tag=vip").await, [wa, tg]);
    assert_eq!(app.ids("tag=pricing").await, Vec::<u64>::new());
}

#[tokio::test]
async fn filters_by_creation_date() {
    let app = spawn_app().await;
    let old = seed(&app, Channel::Frame, "Old", 45).await;
    let month = seed(&app, Channel::Frame, "Month", 20).await;
    let week = seed(&app, Channel::Messenger, "Week", 3).await;
    let today = app.create(json!({"channel": "frame", "name": "Today"})).await;

    assert_eq!(app.ids("range=today").await, [today]);
    assert_eq!(app.ids("range=7d").await, [today, week]);
    assert_eq!(app.ids("range=30d").await, [today, week, month]);
    assert_eq!(app.ids("range=30d&channel=messenger").await, [week]);
    let after = (Utc::now() - Duration::days(50)).format("%Y-%m-%dT%H:%M:%SZ");
    let before = (Utc::now() - Duration::days(10)).format("%Y-%m-%dT%H:%M:%SZ");
    assert_eq!(app.ids(&format!("created_after={after}&created_before={before}")).await, [month, old]);
    assert_eq!(app.ids(&format!("created_before={before}")).await, [month, old]);
    app.list("range=1y").await.problem(400);
    app.list("created_after=last-week").await.problem(400);
}

async fn set_time_zone(app: &TestApp, zone: &str) -> contacts_tests::Reply {
    app.send(Method::PATCH, "/api/v1/workspace", Some(&app.key), Some(json!({"time_zone": zone})), &[]).await
}

#[tokio::test]
async fn the_workspace_keeps_an_iana_time_zone_and_refuses_unknown_ones() {
    let app = spawn_app().await;
    assert_eq!(app.get("/api/v1/workspace").await.body["time_zone"], "UTC", "the default");
    let set = set_time_zone(&app, "Europe/Berlin").await;
    assert_eq!((set.status.as_u16(), &set.body["time_zone"]), (200, &json!("Europe/Berlin")), "{}", set.body);
    assert_eq!(app.get("/api/v1/workspace").await.body["time_zone"], "Europe/Berlin");
    for bad in ["Mars/Olympus_Mons", "europe/berlin", "+02:00", ""] {
        let refused = set_time_zone(&app, bad).await;
        assert_eq!(refused.problem(400)["errors"][0]["field"], "time_zone", "{bad:?}");
    }
    let number = app.send(Method::PATCH, "/api/v1/workspace", Some(&app.key), Some(json!({"time_zone": 2})), &[]).await;
    number.problem(400);
    assert_eq!(app.get("/api/v1/workspace").await.body["time_zone"], "Europe/Berlin", "refusals change nothing");
}

#[tokio::test]
async fn range_today_starts_at_the_workspaces_local_midnight() {
    let app = spawn_app().await;
    let now = Utc::now().trunc_subsecs(0);
    let los_angeles = model::workspace::parse_time_zone("America/Los_Angeles").unwrap();
    let utc_start = day_start(&Utc, now.date_naive());
    let la_start = day_start(&los_angeles, now.with_timezone(&los_angeles).date_naive());
    // Each just before one of the two midnights: Los Angeles' is 7 or 8 hours from UTC's,
    // so the two days hold different contacts.
    let mut seeded = Vec::new();
    for (name, at) in
        [("Before LA", la_start - Duration::minutes(1)), ("Before UTC", utc_start - Duration::minutes(1)), ("Now", now)]
    {
        seeded.push((seed_at(&app, Channel::Frame, name, at).await, at));
    }
    let today_from = |start: DateTime<Utc>| {
        let mut ids: Vec<u64> = seeded.iter().filter(|(_, at)| *at >= start).map(|(id, _)| *id).collect();
        ids.sort_by_key(|id| std::cmp::Reverse(seeded.iter().find(|(i, _)| i == id).map(|(_, at)| *at)));
        ids
    };
    assert_ne!(today_from(utc_start), today_from(la_start));
    assert_eq!(app.ids("range=today").await, today_from(utc_start), "UTC days by default");

    assert_eq!(set_time_zone(&app, "America/Los_Angeles").await.status, 200);
    assert_eq!(app.ids("range=today").await, today_from(la_start), "Los Angeles' day");
    let listed = app.list("range=today").await.body;
    let first = listed["contacts"][0]["created_at"].as_str().unwrap().to_string();
    assert_eq!(first, model::listing::api_time(now), "timestamps stay RFC 3339 UTC");
    assert!(first.ends_with('Z'));

    assert_eq!(set_time_zone(&app, "UTC").await.status, 200);
    assert_eq!(app.ids("range=today").await, today_from(utc_start), "and back");
}

#[tokio::test]
async fn searches_names_emails_and_phones_by_prefix() {
    let app = spawn_app().await;
    let olivia = app.create(json!({"channel": "frame", "name": "Olivia Bennett", "email": "olivia@lumoco.dev", "phone": "+1 415 555 2671"})).await;
    let oliver = app.create(json!({"channel": "telegram", "name": "Oliver Brown"})).await;
    let mason = app.create(json!({"channel": "frame", "name": "Mason Clark", "email": "mason@northpeak.co", "phone": "+44 20 7946 0958"})).await;

    assert_eq!(app.ids("q=oli").await, [oliver, olivia]);
    assert_eq!(app.ids("q=OLIVIA").await, [olivia]);
    assert_eq!(app.ids("q=olivia%20ben").await, [olivia], "longer than the indexed prefix");
    assert_eq!(app.ids("q=olivia%20bro").await, Vec::<u64>::new());
    assert_eq!(app.ids("q=bennett").await, [olivia]);
    assert_eq!(app.ids("q=northpeak").await, [mason], "email domain");
    assert_eq!(app.ids("q=mason@north").await, [mason]);
    assert_eq!(app.ids("q=%2B44%2020%207946").await, [mason], "phone as typed");
    assert_eq!(app.ids("q=415555").await, [olivia], "national digits");
    assert_eq!(app.ids("q=oli&channel=telegram").await, [oliver]);
    assert_eq!(app.list("q=oli").await.body["total"], serde_json::Value::Null);
    app.list("q=o").await.problem(400);

    // Search follows edits.
    app.patch(olivia, json!({"name": "Liv Bennett"}), &[]).await;
    assert_eq!(app.ids("q=olivia%20b").await, Vec::<u64>::new());
    assert_eq!(app.ids("q=liv").await, [olivia]);
    assert_eq!(app.ids("q=olivia").await, [olivia], "still found by email");
}

#[tokio::test]
async fn search_pages_do_not_repeat_or_skip() {
    let app = spawn_app().await;
    let mut expected = Vec::new();
    for i in 0..7 {
        let mut new = NewContact::on(Channel::Frame);
        new.name = Some(Name::parse(&format!("Anna Example{i}")).unwrap());
        new.email = Some(Email::parse(&format!("anna{i}@example.com")).unwrap());
        new.phone = Some(Phone::parse(&format!("+1 415 555 01{i:02}"), None).unwrap());
        new.tags = BTreeSet::from([Tag::parse("lead").unwrap()]);
        new.status = Some(LeadStatus::Active);
        new.created_at = Some(Utc::now() - Duration::hours(i));
        expected.push(
            contacts::create(&app.store, &Workspace::with_defaults(app.workspace.clone()), new).await.unwrap().id.0,
        );
    }
    let mut seen = Vec::new();
    let mut query = "q=anna&per_page=3".to_string();
    loop {
        let r = app.list(&query).await.body;
        seen.extend(r["contacts"].as_array().unwrap().iter().map(|c| c["id"].as_u64().unwrap()));
        match r["next_cursor"].as_str() {
            Some(c) => query = format!("q=anna&per_page=3&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, expected, "name and email both match, yet each contact appears once");
}

#[tokio::test]
async fn digits_find_phones_by_their_start_then_by_their_end_each_contact_once() {
    let app = spawn_app().await;
    let starts = app.create(json!({"channel": "frame", "phone": "+1 415 555 0101"})).await;
    let both = app.create(json!({"channel": "frame", "phone": "+1 415 555 4155"})).await;
    let ends_us = app.create(json!({"channel": "frame", "phone": "+1 212 555 4155"})).await;
    let ends_uk = app.create(json!({"channel": "frame", "phone": "+44 20 7946 4155"})).await;
    app.create(json!({"channel": "frame", "phone": "+1 212 555 0199"})).await;
    // Starts first (by word), then ends (by the reversed digits: 5514555… before 5514649…).
    let expected = [starts, both, ends_us, ends_uk];
    assert_eq!(app.ids("q=4155").await, expected);
    for per_page in [1, 2, 3] {
        let mut seen = Vec::new();
        let mut query = format!("q=4155&per_page={per_page}");
        loop {
            let r = app.list(&query).await.body;
            seen.extend(r["contacts"].as_array().unwrap().iter().map(|c| c["id"].as_u64().unwrap()));
            match r["next_cursor"].as_str() {
                Some(c) => query = format!("q=4155&per_page={per_page}&cursor={c}"),
                None => break,
            }
        }
        assert_eq!(seen, expected, "{per_page} a page");
    }
    assert_eq!(app.ids("q=4155&per_page=1&page=3").await, [ends_us], "page=N counts across both");
    assert_eq!(app.ids("q=555%204155").await, [ends_us, both], "last digits as typed, by the reversed digits");
    assert_eq!(app.ids("q=9464155").await, [ends_uk]);
    assert_eq!(app.ids("q=0199").await.len(), 1);
}

#[tokio::test]
async fn a_telegram_username_is_found_with_or_without_its_at() {
    let app = spawn_app().await;
    let mut new = NewContact::on(Channel::Telegram);
    new.name = Some(Name::parse("Harper Mitchell").unwrap());
    new.identity = Some(model::contact::Identity {
        channel: Channel::Telegram,
        external_id: "7001".into(),
        username: Some("Harper_M".into()),
    });
    let harper =
        contacts::create(&app.store, &Workspace::with_defaults(app.workspace.clone()), new).await.unwrap().id.0;
    app.create(json!({"channel": "frame", "name": "Harpo Marx"})).await;
    assert_eq!(app.ids("q=harper_").await, [harper]);
    assert_eq!(app.ids("q=%40harper_m").await, [harper]);
}

#[tokio::test]
async fn cursors_are_checked() {
    let app = spawn_app().await;
    for _ in 0..3 {
        app.create(json!({"channel": "frame"})).await;
    }
    let cursor = app.list("per_page=1&channel=frame").await.body["next_cursor"].as_str().unwrap().to_string();
    assert_eq!(app.list(&format!("per_page=1&channel=frame&cursor={cursor}")).await.status, 200);
    for bad in [
        format!("per_page=1&channel=telegram&cursor={cursor}"),
        format!("per_page=2&channel=frame&cursor={cursor}"),
        "cursor=not-a-cursor".to_string(),
        format!("per_page=1&channel=frame&cursor={}x", &cursor[..cursor.len() - 3]),
    ] {
        let r = app.list(&bad).await;
        assert_eq!(r.problem(400)["errors"][0]["field"], "cursor", "{bad}");
    }
    // A position whose keys belong to another index is refused before DynamoDB sees it.
    let forged = tamper(&cursor, |c| {
        let k = c["k"].as_object_mut().unwrap();
        for (from, to) in [("gsi2pk", "gsi1pk"), ("gsi2sk", "gsi1sk")] {
            let v = k.remove(from).unwrap();
            k.insert(to.into(), v);
        }
    });
    let r = app.list(&format!("per_page=1&channel=frame&cursor={forged}")).await;
    assert_eq!(r.problem(400)["errors"][0]["field"], "cursor");

    let other = spawn_app_on(&app).await;
    let r = other.list(&format!("per_page=1&channel=frame&cursor={cursor}")).await;
    assert!(r.problem(400)["detail"].as_str().unwrap().contains("another workspace"));
}

#[tokio::test]
async fn bad_list_parameters_are_named() {
    let app = spawn_app().await;
    for (query, field) in [
        ("chanel=frame", "chanel"),
        ("per_page=500", "per_page"),
        ("page=0", "page"),
        ("status=hot", "status"),
        ("channel=frame&channel=telegram", "channel"),
    ] {
        assert_eq!(app.list(query).await.problem(400)["errors"][0]["field"], field, "{query}");
    }
}

/// Rewrites the JSON inside a cursor the API issued, keeping whatever follows the payload.
fn tamper(cursor: &str, edit: impl Fn(&mut serde_json::Value)) -> String {
    use base64::Engine;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (payload, rest) = cursor.split_once('.').map_or((cursor, None), |(p, r)| (p, Some(r)));
    let mut json: serde_json::Value = serde_json::from_slice(&engine.decode(payload).unwrap()).unwrap();
    edit(&mut json);
    let payload = engine.encode(serde_json::to_vec(&json).unwrap());
    rest.map_or(payload.clone(), |r| format!("{payload}.{r}"))
}

#[tokio::test]
async fn crafted_cursors_are_refused_not_followed() {
    let app = spawn_app().await;
    for _ in 0..3 {
        app.create(json!({"channel": "frame"})).await;
    }
    let cursor = app.list("per_page=1").await.body["next_cursor"].as_str().unwrap().to_string();
    let crafted = [
        tamper(&cursor, |c| c["p"] = json!(u32::MAX)),
        tamper(&cursor, |c| c["p"] = json!(0)),
        tamper(&cursor, |c| c["k"] = json!({})),
        tamper(&cursor, |c| c["k"]["sk"] = json!("PROFILE#elsewhere")),
    ];
    for bad in crafted {
        let r = app.list(&format!("per_page=1&cursor={bad}")).await;
        assert_eq!(r.problem(400)["errors"][0]["field"], "cursor", "{bad}");
    }
    // A contact's conversations page with the same kind of cursor.
    let id = app.create(json!({"channel": "frame"})).await;
    let r = app
        .get(&format!("/api/v1/contacts/{id}/conversations?cursor={}", tamper(&cursor, |c| c["p"] = json!(u32::MAX))))
        .await;
    assert_eq!(r.problem(400)["errors"][0]["field"], "cursor");
}

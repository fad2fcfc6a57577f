//! The dashboard's contact tools over real HTTP against the local emulator: segments
//! saved from the contacts page (listed with their sizes, renamed, deleted), bulk actions
//! with a result per contact, the trash with its purge dates and restore, and undoing a
//! merge from the survivor's page; each held to the roles (viewers read, agents act).

use contacts_tests::browser::{client, csrf, get, join_and_sign_in, SESSION};
use contacts_tests::{eventually, spawn_app, unique, TestApp};
use reqwest::{Method, Response};
use serde_json::{json, Value};

/// A new person of `role`, signed in: the session.
async fn person(app: &TestApp, role: &str) -> String {
    let email = format!("{}@tools-test.example", unique(role));
    join_and_sign_in(app, &email, role, "a long enough password").await
}

async fn page(app: &TestApp, path: &str, session: &str) -> String {
    let r = get(app, path, session).await;
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.unwrap()
}

/// Posts a form with the CSRF token of `page` (any page of the session will do).
async fn post(app: &TestApp, path: &str, session: &str, fields: &[(&str, &str)]) -> Response {
    let token = csrf(&page(app, "/contacts", session).await);
    let mut form = fields.to_vec();
    form.push(("csrf", &token));
    client().post(app.url(path)).header("cookie", format!("{SESSION}={session}")).form(&form).send().await.unwrap()
}

fn location(r: &Response) -> String {
    r.headers()["location"].to_str().unwrap().to_string()
}

async fn api(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> contacts_tests::Reply {
    app.send(method, path, Some(&app.key), body, &[]).await
}

/// The cells of the results table's row for a contact: (its id's cell, its result's cell).
fn result_row(html: &str, id: u64) -> String {
    let at = html.find(&format!(r#"data-contact-id="{id}""#)).unwrap_or_else(|| panic!("a row for {id}: {html}"));
    html[at..].split("</tr>").next().unwrap().to_string()
}

#[tokio::test]
async fn viewers_are_refused_bulk_actions_and_restores_that_agents_may_do() {
    let app = spawn_app().await;
    let (viewer, agent) = (person(&app, "viewer").await, person(&app, "agent").await);
    let id = app.create(json!({"name": "Ava Stone", "channel": "telegram"})).await;

    let contacts = page(&app, "/contacts", &viewer).await;
    assert!(!contacts.contains(r#"action="/contacts/bulk""#), "no bulk form for viewers");
    assert!(!contacts.contains(r#"action="/segments""#), "no Save as segment for viewers");
    let r =
        post(&app, "/contacts/bulk", &viewer, &[("action", "tag"), ("bulk_tag", "vip"), ("id", &id.to_string())]).await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("viewer"), "the refusal names the role");

    let contacts = page(&app, "/contacts", &agent).await;
    assert!(contacts.contains(r#"action="/contacts/bulk""#) && contacts.contains(r#"aria-label="Select Ava Stone""#));
    let r =
        post(&app, "/contacts/bulk", &agent, &[("action", "tag"), ("bulk_tag", "vip"), ("id", &id.to_string())]).await;
    assert_eq!(r.status(), 200);
    assert!(result_row(&r.text().await.unwrap(), id).contains("Done"));
    assert_eq!(api(&app, Method::GET, &format!("/api/v1/contacts/{id}"), None).await.body["tags"], json!(["vip"]));

    assert_eq!(api(&app, Method::DELETE, &format!("/api/v1/contacts/{id}"), None).await.status, 204);
    let trash = page(&app, "/trash", &viewer).await;
    assert!(
        trash.contains("Ava Stone") && !trash.contains("Restore Ava Stone"),
        "viewers see the trash, without Restore"
    );
    let restore = format!("/contacts/{id}/restore");
    assert_eq!(post(&app, &restore, &viewer, &[("from", "trash")]).await.status(), 403);
    let r = post(&app, &restore, &agent, &[("from", "trash")]).await;
    assert_eq!((r.status().as_u16(), location(&r)), (303, format!("/trash?restored={id}")));
    assert_eq!(api(&app, Method::GET, &format!("/api/v1/contacts/{id}"), None).await.status, 200);
}

#[tokio::test]
async fn a_segment_saved_from_the_contacts_page_is_the_apis_segment_with_its_size() {
    let app = spawn_app().await;
    let agent = person(&app, "agent").await;
    for name in ["Tom One", "Tom Two"] {
        app.create(json!({"name": name, "channel": "whatsapp"})).await;
    }
    app.create(json!({"name": "Other Channel", "channel": "frame"})).await;

    // A name is required: the page says so and keeps the filters.
    let r = post(&app, "/segments", &agent, &[("name", "  "), ("channel", "whatsapp")]).await;
    assert_eq!(r.status(), 400);
    let html = r.text().await.unwrap();
    assert!(html.contains("Name: ") && html.contains(r#"role="alert""#), "{html}");
    assert!(html.contains(r#"<option value="whatsapp" selected>"#), "the view is kept");

    let r = post(&app, "/segments", &agent, &[("name", "WhatsApp people"), ("channel", "whatsapp")]).await;
    assert_eq!(r.status(), 303);
    let to = location(&r);
    let id = to.trim_start_matches("/segments/").split('?').next().unwrap().to_string();
    let listed = api(&app, Method::GET, "/api/v1/segments", None).await;
    assert_eq!(listed.body["segments"][0]["name"], "WhatsApp people");
    assert_eq!(listed.body["segments"][0]["filters"], json!({"channel": "whatsapp"}));

    // Its size is the list's total for its filters, as the API answers it (counters follow the stream).
    let members = api(&app, Method::GET, &format!("/api/v1/segments/{id}/contacts"), None).await;
    assert_eq!(members.body["contacts"].as_array().unwrap().len(), 2);
    let list = eventually("the segment's size", || page(&app, "/segments", &agent), |h| h.contains("2 contacts")).await;
    assert!(list.contains(&format!(r#"href="/segments/{id}""#)) && list.contains("channel = whatsapp"));
    let shown = page(&app, &to, &agent).await;
    assert!(shown.contains("Segment saved.") && shown.contains("Tom One") && shown.contains("Tom Two"));
    assert!(!shown.contains("Other Channel"));

    // A segment of residual filters has no counter: not counted rather than read whole.
    let r =
        api(&app, Method::POST, "/api/v1/segments", Some(json!({"name": "Has email", "filters": {"has_email": true}})))
            .await;
    assert_eq!(r.status, 201);
    assert!(page(&app, "/segments", &agent).await.contains("not counted"));

    let r = post(&app, &format!("/segments/{id}/rename"), &agent, &[("name", "")]).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("Name: a segment name needs 1 to 100 characters"));
    let r = post(&app, &format!("/segments/{id}/rename"), &agent, &[("name", "WhatsApp leads")]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(api(&app, Method::GET, &format!("/api/v1/segments/{id}"), None).await.body["name"], "WhatsApp leads");

    assert!(page(&app, &format!("/segments/{id}/delete"), &agent).await.contains("No contact is deleted"));
    let r = post(&app, &format!("/segments/{id}/delete"), &agent, &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(api(&app, Method::GET, &format!("/api/v1/segments/{id}"), None).await.status, 404);
}

#[tokio::test]
async fn bulk_actions_answer_for_each_contact_and_deletes_are_confirmed_first() {
    let app = spawn_app().await;
    let agent = person(&app, "agent").await;
    let a = app.create(json!({"name": "Bulk A", "channel": "messenger"})).await;
    let b = app.create(json!({"name": "Bulk B", "channel": "messenger"})).await;
    let gone = app.create(json!({"name": "Bulk Gone", "channel": "messenger"})).await;
    assert_eq!(api(&app, Method::DELETE, &format!("/api/v1/contacts/{gone}"), None).await.status, 204);
    let (a_s, b_s, gone_s) = (a.to_string(), b.to_string(), gone.to_string());

    // A missing tag is refused beside its field, with the selection kept.
    let r = post(
        &app,
        "/contacts/bulk",
        &agent,
        &[("channel", "messenger"), ("action", "tag"), ("bulk_tag", ""), ("id", &a_s)],
    )
    .await;
    assert_eq!(r.status(), 400);
    let html = r.text().await.unwrap();
    assert!(html.contains("Tag: is required for this action"), "{html}");
    assert!(html.contains(&format!(r#"name="id" value="{a}" checked"#)), "the checked row stays checked");

    let r = post(
        &app,
        "/contacts/bulk",
        &agent,
        &[("action", "set_status"), ("bulk_status", "follow_up"), ("id", &a_s), ("id", &b_s), ("id", &gone_s)],
    )
    .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("2 done, 1 failed of 3 contacts."), "{html}");
    assert!(result_row(&html, a).contains("Done") && result_row(&html, b).contains("Done"));
    assert!(result_row(&html, gone).contains("Failed") && result_row(&html, gone).contains("was deleted"));
    for id in [a, b] {
        assert_eq!(api(&app, Method::GET, &format!("/api/v1/contacts/{id}"), None).await.body["status"], "follow_up");
    }

    // All matching the filters: the messenger contacts still visible (a and b), after a confirmation.
    let all = [("channel", "messenger"), ("action", "delete"), ("all", "1")];
    let r = post(&app, "/contacts/bulk", &agent, &all).await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("Delete 2 contacts?"), "{html}");
    assert_eq!(api(&app, Method::GET, &format!("/api/v1/contacts/{a}"), None).await.status, 200, "nothing deleted yet");
    let mut confirmed = vec![("action", "delete"), ("confirmed", "1"), ("channel", "messenger")];
    confirmed.extend([("id", a_s.as_str()), ("id", b_s.as_str())]);
    let r = post(&app, "/contacts/bulk", &agent, &confirmed).await;
    let html = r.text().await.unwrap();
    assert!(html.contains("2 done of 2 contacts.") && html.contains(r#"href="/trash""#), "{html}");
    assert_eq!(api(&app, Method::GET, &format!("/api/v1/contacts/{b}"), None).await.status, 404);

    let r = post(&app, "/contacts/bulk", &agent, &[("action", "untag"), ("bulk_tag", "x")]).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("select at least one contact"));
}

#[tokio::test]
async fn the_trash_lists_deleted_contacts_with_their_purge_date_by_a_query_of_its_own_key() {
    let app = spawn_app().await;
    let agent = person(&app, "agent").await;
    let id = app.create(json!({"name": "Trash Me", "email": "trash@tools-test.example", "channel": "frame"})).await;
    assert!(page(&app, "/trash", &agent).await.contains("The trash is empty."));
    assert_eq!(api(&app, Method::DELETE, &format!("/api/v1/contacts/{id}"), None).await.status, 204);
    let gone = api(&app, Method::GET, &format!("/api/v1/contacts/{id}"), None).await;
    let purge_after: chrono::DateTime<chrono::Utc> = gone.body["purge_after"].as_str().unwrap().parse().unwrap();

    let (rows, _) = app.store.list_deleted(&app.workspace, 25, None).await.expect("the trash key");
    assert_eq!(rows.iter().map(|(c, at)| (c.id.0, *at)).collect::<Vec<_>>(), [(id, purge_after)]);
    let trash = page(&app, "/trash", &agent).await;
    let row = result_row(&trash, id);
    assert!(row.contains("Trash Me") && row.contains("trash@tools-test.example"));
    // The workspace's zone is UTC: the purge date as the pages write times.
    assert!(row.contains(&purge_after.format("%-d.%-m.%Y %H:%M:%S").to_string()), "{row}");

    let r = post(&app, &format!("/contacts/{id}/restore"), &agent, &[("from", "trash")]).await;
    assert_eq!(location(&r), format!("/trash?restored={id}"));
    let trash = page(&app, &location(&r), &agent).await;
    assert!(trash.contains(&format!("Contact {id} restored.")) && trash.contains("The trash is empty."));
    assert!(
        app.store.list_deleted(&app.workspace, 25, None).await.unwrap().0.is_empty(),
        "restored: off the trash key"
    );
}

#[tokio::test]
async fn a_merge_is_undone_from_the_survivors_page_while_its_window_and_version_allow() {
    let app = spawn_app().await;
    let agent = person(&app, "agent").await;
    let viewer = person(&app, "viewer").await;
    let merge = |a: u64, b: u64| {
        let app = &app;
        async move {
            let r = api(app, Method::POST, &format!("/api/v1/contacts/{a}/merge"), Some(json!({"other_id": b}))).await;
            assert_eq!(r.status, 200, "{}", r.body);
            r.body["merge"]["id"].as_str().unwrap().to_string()
        }
    };
    let a = app.create(json!({"name": "Keep Me", "channel": "telegram"})).await;
    let b = app.create(json!({"name": "Merge Me", "email": "merge@tools-test.example", "channel": "frame"})).await;
    let id = merge(a, b).await;

    let survivor = page(&app, &format!("/contacts/{a}"), &agent).await;
    assert!(
        survivor.contains(&format!("Contact {b} (Merge Me)")) && survivor.contains("Undo merge (until "),
        "{survivor}"
    );
    assert!(survivor.contains(&format!(r#"action="/merges/{id}/undo""#)));
    assert!(!page(&app, &format!("/contacts/{a}"), &viewer).await.contains("Undo merge (until "), "not for viewers");
    assert_eq!(post(&app, &format!("/merges/{id}/undo"), &viewer, &[]).await.status(), 403);

    let r = post(&app, &format!("/merges/{id}/undo"), &agent, &[]).await;
    assert_eq!((r.status().as_u16(), location(&r)), (303, format!("/contacts/{a}?unmerged={b}")));
    assert!(page(&app, &location(&r), &agent).await.contains("Merge undone"));
    assert_eq!(
        api(&app, Method::GET, &format!("/api/v1/contacts/{b}"), None).await.body["email"],
        "merge@tools-test.example"
    );
    assert_eq!(api(&app, Method::GET, &format!("/api/v1/merges/{id}"), None).await.body["state"], "undone");

    // Once the survivor changes, the undo would lose the change: the page says so instead.
    let again = merge(a, b).await;
    let r = api(&app, Method::PATCH, &format!("/api/v1/contacts/{a}"), Some(json!({"notes": "called back"}))).await;
    assert_eq!(r.status, 200);
    let survivor = page(&app, &format!("/contacts/{a}"), &agent).await;
    assert!(survivor.contains("this contact changed after it") && !survivor.contains(&format!("/merges/{again}/undo")));
    let r = post(&app, &format!("/merges/{again}/undo"), &agent, &[]).await;
    assert_eq!(r.status(), 409, "the API's rule, checked again");
}

//! `/bots` and `/bots/{id}`, for admins and owners: the workspace's bots, making one, its
//! name and capture switches, and per channel the webhook address to give the channel and
//! its secrets, write-only (set, generate, remove). The rules are the API's
//! (`api::bots::create::create_bot`, `update::change_bot`, the body's `ChannelsBody`).

use super::contacts::time;
use super::format::{link, Form};
use super::layout::{html, page as shell, redirect};
use super::notice::Notice;
use super::session::{self, Visitor};
use super::{Dashboard, PageResult};
use crate::api::bots::body::{ChannelsBody, CreateBody, PatchBody};
use crate::api::bots::create::create_bot;
use crate::api::bots::update::change_bot;
use crate::api::bots::{bot_id, webhook_path};
use crate::http::{origin, request, Problem};
use lambda_http::Request;
use maud::{html as markup, Markup};
use model::bot::Bot;
use model::domain::Channel;
use serde_json::{json, Map, Value};

/// What these pages are for, as a refusal names it (admins and owners only).
const MANAGING: &str = "managing bots";

fn channel_name(c: Channel) -> &'static str {
    match c {
        Channel::Telegram => "Telegram",
        Channel::Messenger => "Messenger",
        Channel::Whatsapp => "WhatsApp",
        Channel::Frame => "Website widget",
        Channel::Livechat => "Live chat",
    }
}

/// A channel's secret fields: (form and API name, label, whether "Generate" may make it).
/// Meta's app secret and page token come from Meta, so only its verify token is ours to make.
fn secret_fields(c: Channel) -> &'static [(&'static str, &'static str, bool)] {
    match c {
        Channel::Telegram => &[("secret_token", "Secret token (setWebhook's secret_token)", true)],
        Channel::Messenger => &[
            ("app_secret", "App secret", false),
            ("verify_token", "Verify token", true),
            ("page_access_token", "Page access token (optional: visitors' names)", false),
        ],
        Channel::Whatsapp => &[("app_secret", "App secret", false), ("verify_token", "Verify token", true)],
        Channel::Frame | Channel::Livechat => &[("signing_secret", "Signing secret", true)],
    }
}

/// Where to paste the webhook address, in the channel's words.
fn setup_hint(c: Channel) -> &'static str {
    match c {
        Channel::Telegram => "Call Telegram's setWebhook with this url and the secret token below as secret_token.",
        Channel::Messenger | Channel::Whatsapp => {
            "In the Meta app's Webhooks settings, use this as the Callback URL and the verify token below; Meta signs events with the app secret."
        }
        Channel::Frame | Channel::Livechat => {
            "The widget posts its events here, signed with the signing secret below (HMAC-SHA256)."
        }
    }
}

pub async fn list(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require_admin(d, &req, MANAGING).await?;
    render_list(d, &v, None, "").await
}

async fn render_list(d: &Dashboard, v: &Visitor, notice: Option<Notice>, name: &str) -> PageResult {
    let bots = d.store.list_bots(&v.caller.workspace.id).await?;
    let zone = v.caller.workspace.time_zone;
    let status = notice.as_ref().map_or(200, Notice::status);
    let content = markup! {
        h1 { "Bots" }
        @if let Some(n) = &notice { (n.render()) }
        p.hint #bots-summary { "Each bot captures contacts from the channels set up for it. Open a bot to change its switches and its channels' secrets." }
        @if bots.is_empty() {
            p.empty { "No bots yet." }
        } @else {
            div.table-wrap {
                table.listing.bots aria-describedby="bots-summary" {
                    thead { tr {
                        th scope="col" { "Name" }
                        th scope="col" { "Channels set up" }
                        th scope="col" { "Email collect" }
                        th scope="col" { "Contact form" }
                        th scope="col" { "Made" }
                    } }
                    tbody {
                        @for b in &bots {
                            tr data-bot=(b.id) {
                                td data-label="Name" { a href=(format!("/bots/{}", b.id)) { (b.name) } }
                                td data-label="Channels set up" { (configured(b)) }
                                td data-label="Email collect" { (on_off(b.email_collect)) }
                                td data-label="Contact form" { (on_off(b.contact_form)) }
                                td data-label="Made" { (time(b.created_at, zone)) }
                            }
                        }
                    }
                }
            }
        }
        section.card {
            h2 { "Make a bot" }
            form.settings method="post" action="/bots" {
                input type="hidden" name="csrf" value=(v.csrf);
                label for="bot-name" { "Name" }
                input #bot-name type="text" name="name" required maxlength="100" value=(name) placeholder="e.g. Sales bot";
                (switches(true, true))
                button.primary type="submit" { "Make the bot" }
            }
            p.hint { "Its channels are set up on its page." }
        }
    };
    Ok(html(status, shell("Bots", Some(v), content)))
}

fn configured(b: &Bot) -> String {
    let set: Vec<&str> = Channel::ALL.into_iter().filter(|c| b.channels.is_configured(*c)).map(channel_name).collect();
    if set.is_empty() {
        "none".into()
    } else {
        set.join(", ")
    }
}

fn on_off(on: bool) -> &'static str {
    if on {
        "On"
    } else {
        "Off"
    }
}

/// The two capture switches as checkboxes.
fn switches(email_collect: bool, contact_form: bool) -> Markup {
    markup! {
        label.check { input type="checkbox" name="email_collect" checked[email_collect]; " Email Collect: keep emails visitors give the bot" }
        label.check { input type="checkbox" name="contact_form" checked[contact_form]; " Contact form: keep contact form submissions" }
    }
}

pub async fn create(d: &Dashboard, req: Request) -> PageResult {
    let (v, form) = session::admin_form(d, &req, MANAGING).await?;
    let input = CreateBody {
        name: form.get("name").to_string(),
        email_collect: form.get("email_collect") == "on",
        contact_form: form.get("contact_form") == "on",
        channels: ChannelsBody::default(),
    };
    match create_bot(&d.store, &v.caller, input).await {
        Ok(bot) => Ok(redirect(&link(&format!("/bots/{}", bot.id), &[("made", "1")]))),
        Err(p) => render_list(d, &v, Some(Notice::of(p)?), form.get("name")).await,
    }
}

async fn load(d: &Dashboard, v: &Visitor, req: &Request) -> Result<Bot, Problem> {
    let id = bot_id(req, &v.caller.workspace.id)?;
    d.store.get_bot(&id).await?.ok_or_else(|| Problem::not_found(format!("there is no bot {id} in this workspace")))
}

pub async fn page(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require_admin(d, &req, MANAGING).await?;
    let bot = load(d, &v, &req).await?;
    let query = Form::query(&req);
    let notice = if query.filled("made").is_some() {
        Some(Notice::Done(format!("{} made. Set up its channels below.", bot.name)))
    } else if query.filled("saved").is_some() {
        Some(Notice::Done("Saved.".into()))
    } else {
        query.filled("removed").and_then(|c| c.parse::<Channel>().ok()).map(|c| {
            Notice::Done(format!("{} removed: its events are refused until it is set up again.", channel_name(c)))
        })
    };
    Ok(render(&v, &req, &bot, notice, None))
}

/// The bot's page; `typed` keeps the settings form as sent when it was refused.
fn render(
    v: &Visitor,
    req: &Request,
    bot: &Bot,
    notice: Option<Notice>,
    typed: Option<(&str, bool, bool)>,
) -> lambda_http::Response<lambda_http::Body> {
    let status = notice.as_ref().map_or(200, Notice::status);
    let (name, email_collect, contact_form) = typed.unwrap_or((&bot.name, bot.email_collect, bot.contact_form));
    let base = origin(req);
    let content = markup! {
        p.crumbs { a href="/bots" { "← Bots" } }
        h1 { (bot.name) }
        @if let Some(n) = &notice { (n.render()) }
        section.card {
            h2 { "Settings" }
            form.settings method="post" action=(format!("/bots/{}", bot.id)) {
                input type="hidden" name="csrf" value=(v.csrf);
                input type="hidden" name="version" value=(bot.version);
                label for="bot-name" { "Name" }
                input #bot-name type="text" name="name" required maxlength="100" value=(name);
                (switches(email_collect, contact_form))
                button.primary type="submit" { "Save" }
            }
        }
        @for c in Channel::ALL { (channel_card(v, bot, c, &base)) }
    };
    html(status, shell(&bot.name, Some(v), content))
}

fn channel_card(v: &Visitor, bot: &Bot, c: Channel, base: &str) -> Markup {
    let set = bot.channels.is_configured(c);
    let url = format!("{base}{}", webhook_path(c, &bot.id));
    let fields = secret_fields(c);
    let id = |f: &str| format!("{c}-{f}");
    markup! {
        section.card.channel #(format!("channel-{c}")) aria-labelledby=(format!("{c}-title")) {
            h2 #(format!("{c}-title")) { (channel_name(c)) " "
                @if set { span.badge.badge-active { "Secrets set" } } @else { span.badge.badge-paused { "Not set up" } }
            }
            label for=(id("webhook")) { "Webhook URL" }
            input.link-shown #(id("webhook")) type="text" readonly value=(url);
            p.hint { (setup_hint(c)) }
            form.settings.channel-secrets method="post" action=(format!("/bots/{}/channels/{c}", bot.id)) {
                input type="hidden" name="csrf" value=(v.csrf);
                @for (field, label, _) in fields {
                    label for=(id(field)) { (label) }
                    input #(id(field)) type="password" name=(field) autocomplete="new-password" maxlength="512"
                        placeholder=(if set { "set; type a new one to replace it" } else { "" });
                }
                @if c == Channel::Messenger {
                    label for=(id("app_id")) { "Meta app id (optional: which echoes are the bot's)" }
                    input #(id("app_id")) type="text" name="app_id" inputmode="numeric" maxlength="32";
                }
                p.hint { "Saving replaces every secret of this channel; the webhook uses the change within a minute. Secrets are never shown again." }
                div.actions {
                    button.primary type="submit" name="action" value="set" { "Save new secrets" }
                    button.secondary type="submit" name="action" value="generate" { (generate_label(c)) }
                    @if set { button.danger type="submit" name="action" value="remove" formnovalidate { "Remove" } }
                }
            }
        }
    }
}

fn generate_label(c: Channel) -> &'static str {
    match c {
        Channel::Messenger | Channel::Whatsapp => "Save with a generated verify token",
        _ => "Generate a new secret",
    }
}

pub async fn save(d: &Dashboard, req: Request) -> PageResult {
    let (v, form) = session::admin_form(d, &req, MANAGING).await?;
    let bot = load(d, &v, &req).await?;
    let email_collect = form.get("email_collect") == "on";
    let contact_form = form.get("contact_form") == "on";
    let patch = PatchBody {
        name: Some(form.get("name").to_string()),
        email_collect: Some(email_collect),
        contact_form: Some(contact_form),
        channels: None,
    };
    // The version the form showed: a change made meanwhile is not overwritten.
    let version = form.get("version").parse().ok();
    match change_bot(&d.store, &v.caller, &bot.id, patch, version).await {
        Ok(bot) => Ok(redirect(&link(&format!("/bots/{}", bot.id), &[("saved", "1")]))),
        Err(p) => {
            let notice = Notice::of(p)?;
            let current = load(d, &v, &req).await?;
            Ok(render(&v, &req, &current, Some(notice), Some((form.get("name"), email_collect, contact_form))))
        }
    }
}

pub async fn channel(d: &Dashboard, req: Request) -> PageResult {
    let (v, form) = session::admin_form(d, &req, MANAGING).await?;
    let bot = load(d, &v, &req).await?;
    let c = request::path_param(&req, "channel", |raw: &str| raw.parse::<Channel>().map_err(|e| e.to_string()))?;
    let (secrets, generated) = match form.get("action") {
        "remove" => (None, None),
        action => {
            let (secrets, generated) = secrets_of(c, &form, action == "generate");
            (Some(secrets), generated)
        }
    };
    let removing = secrets.is_none();
    let result = match ChannelsBody::one(c, secrets) {
        Ok(channels) => {
            let patch = PatchBody { name: None, email_collect: None, contact_form: None, channels: Some(channels) };
            change_bot(&d.store, &v.caller, &bot.id, patch, None).await
        }
        Err(p) => Err(p),
    };
    match result {
        Ok(_) if removing => Ok(redirect(&link(&format!("/bots/{}", bot.id), &[("removed", c.as_str())]))),
        Ok(changed) => {
            let notice = match generated {
                Some((label, secret)) => {
                    Notice::Secret { what: format!("{}: new {} made and saved.", channel_name(c), label), secret }
                }
                None => Notice::Done(format!("{}: new secrets saved.", channel_name(c))),
            };
            Ok(render(&v, &req, &changed, Some(notice), None))
        }
        Err(p) => Ok(render(&v, &req, &bot, Some(Notice::of(p)?), None)),
    }
}

/// The channel's secrets as the API's body has them, from the form's fields (blank ones
/// left out, so the API's rules name what is missing); with `generate`, the field we may
/// make gets a new random secret, returned to be shown once.
fn secrets_of(c: Channel, form: &Form, generate: bool) -> (Value, Option<(String, String)>) {
    let mut secrets = Map::new();
    let mut generated = None;
    for (field, label, makeable) in secret_fields(c) {
        if generate && *makeable {
            // As `provision` makes them: 24 random bytes, 48 hex digits.
            let secret = model::hex::random(24);
            secrets.insert(field.to_string(), json!(secret));
            let short = label.split(" (").next().unwrap_or(label).to_lowercase();
            generated = Some((short, secret));
        } else if let Some(value) = form.filled(field) {
            secrets.insert(field.to_string(), json!(value));
        }
    }
    if let Some(app_id) = form.filled("app_id").filter(|_| c == Channel::Messenger) {
        secrets.insert("app_id".into(), json!(app_id));
    }
    (Value::Object(secrets), generated)
}

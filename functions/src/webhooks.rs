//! The channels' webhooks: verify, parse, hand off to the capture queue, answer fast.
//! Nothing here writes a contact; a 2xx means the events are durably queued.

use crate::bot_cache::BotCache;
use crate::capture_queue::{CaptureMessage, CaptureQueue};
use crate::http::{request, route_key, Problem};
use chrono::{DateTime, Utc};
use lambda_http::http::HeaderMap;
use lambda_http::{Body, Request, Response};
use model::bot::{Bot, BotId};
use model::channels::{self, AuthError, CaptureEvent, PayloadError};
use model::domain::Channel;
use std::convert::Infallible;
use std::time::Instant;
use store::meter::metered;

/// Every route this function serves, exactly as `infra/template.yaml` declares them.
pub const ROUTES: [&str; 7] = [
    "POST /webhooks/telegram/{bot_id}",
    "GET /webhooks/messenger/{bot_id}",
    "POST /webhooks/messenger/{bot_id}",
    "GET /webhooks/whatsapp/{bot_id}",
    "POST /webhooks/whatsapp/{bot_id}",
    "POST /webhooks/frame/{bot_id}",
    "POST /webhooks/livechat/{bot_id}",
];

/// Channel payloads above this are refused (Meta batches stay far below it).
pub const MAX_WEBHOOK_BYTES: usize = 1024 * 1024;

#[derive(Debug)]
pub struct Webhooks {
    pub bots: BotCache,
    pub queue: CaptureQueue,
}

pub async fn handle(hooks: &Webhooks, req: Request) -> Result<Response<Body>, Infallible> {
    let started = Instant::now();
    let route = route_key(&req).unwrap_or_default();
    let (result, usage) = metered(dispatch(hooks, &route, &req)).await;
    let response = result.unwrap_or_else(Problem::into_response);
    tracing::info!(
        route = %route,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        ddb_calls = usage.calls,
        ddb_read_units = usage.read_units,
        "webhook"
    );
    Ok(response)
}

async fn dispatch(hooks: &Webhooks, route: &str, req: &Request) -> Result<Response<Body>, Problem> {
    let (method, path) = route.split_once(' ').unwrap_or(("", ""));
    let channel: Channel = path
        .split('/')
        .nth(2)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| Problem::not_found(format!("no webhook route `{route}`")))?;
    let body = req.body().as_ref();
    if body.len() > MAX_WEBHOOK_BYTES {
        return Err(Problem::too_large(format!("webhook bodies are limited to {} KiB", MAX_WEBHOOK_BYTES / 1024)));
    }
    let bot = bot(hooks, req, channel).await?;
    if method == "GET" {
        return handshake(req, &bot, channel);
    }
    let messages = accept(&bot, channel, req.headers(), body, Utc::now()).map_err(|e| match e {
        Refusal::Unverified(e) => unverified(&bot, e),
        Refusal::Payload(e) => Problem::bad_request(e.to_string()),
    })?;
    if !messages.is_empty() {
        hooks.queue.send(&messages).await.map_err(|e| {
            tracing::error!(error = %e, bot = %bot.id, "capture hand-off failed");
            Problem::unavailable("events could not be queued; retry the delivery")
        })?;
    }
    tracing::info!(bot = %bot.id, channel = %channel, events = messages.len(), "webhook accepted");
    Ok(crate::http::json(200, &serde_json::json!({"ok": true, "queued": messages.len()})))
}

/// Why [`accept`] turned a call down.
#[derive(Debug)]
pub enum Refusal {
    Unverified(AuthError),
    Payload(PayloadError),
}

/// The work of a webhook call between reading the bot and queueing, without I/O (so that
/// `make bench` can time it): verify the channel's credential, parse the body, and make
/// one capture queue message per event, its time clamped to `received_at`.
pub fn accept(
    bot: &Bot,
    channel: Channel,
    headers: &HeaderMap,
    body: &[u8],
    received_at: DateTime<Utc>,
) -> Result<Vec<CaptureMessage>, Refusal> {
    verify(headers, bot, channel, body, received_at).map_err(Refusal::Unverified)?;
    let mut events = parse(bot, channel, body).map_err(Refusal::Payload)?;
    events.iter_mut().for_each(|event| event.clamp_time(received_at));
    Ok(events.into_iter().map(|event| CaptureMessage { bot_id: bot.id.clone(), event }).collect())
}

async fn bot(hooks: &Webhooks, req: &Request, channel: Channel) -> Result<Bot, Problem> {
    let id = request::path_param(req, "bot_id", BotId::parse)?;
    let Some(bot) = hooks.bots.get(&id).await? else {
        return Err(refused("no such bot", &id));
    };
    if !bot.channels.is_configured(channel) {
        return Err(refused("the bot has no settings for this channel", &id));
    }
    Ok(bot)
}

/// Every webhook call that is not verified gets this one answer, whatever the reason (no
/// such bot, no settings for the channel, a missing or wrong credential), so that nobody
/// can probe which bot ids exist. The reason is logged.
fn refused(reason: &str, detail: &dyn std::fmt::Display) -> Problem {
    tracing::warn!(reason, detail = %detail, "webhook call refused");
    Problem::forbidden("this webhook call could not be verified")
}

fn unverified(bot: &Bot, e: AuthError) -> Problem {
    if matches!(e, AuthError::SecretNotConfigured) {
        tracing::error!(bot = %bot.id, "webhook secret misconfigured");
    }
    refused(&e.to_string(), &bot.id)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Meta's subscription handshake (`hub.mode`, `hub.verify_token`, `hub.challenge`).
fn handshake(req: &Request, bot: &Bot, channel: Channel) -> Result<Response<Body>, Problem> {
    let settings = bot
        .channels
        .meta(channel)
        .ok_or_else(|| Problem::method_not_allowed("only Messenger and WhatsApp webhooks answer GET"))?;
    let params = request::query_pairs(req);
    let get = |k: &str| params.iter().find(|(name, _)| name == k).map(|(_, v)| v.as_str());
    let challenge = channels::meta::verify_subscription(
        get("hub.mode"),
        get("hub.verify_token"),
        get("hub.challenge"),
        settings.verify_token.expose(),
    )
    .map_err(|e| unverified(bot, e))?;
    Ok(Response::builder()
        .status(200)
        .header("content-type", "text/plain")
        .body(Body::Text(challenge))
        .expect("valid response"))
}

fn verify(headers: &HeaderMap, bot: &Bot, channel: Channel, body: &[u8], now: DateTime<Utc>) -> Result<(), AuthError> {
    match channel {
        Channel::Telegram => {
            let expected = bot.channels.telegram.as_ref().map(|t| t.secret_token.expose()).unwrap_or_default();
            channels::telegram::verify_secret_token(header(headers, channels::telegram::SECRET_TOKEN_HEADER), expected)
        }
        Channel::Messenger | Channel::Whatsapp => {
            let secret = bot.channels.meta(channel).map(|m| m.app_secret.expose()).unwrap_or_default();
            channels::meta::verify_signature(header(headers, channels::meta::SIGNATURE_HEADER), body, secret)
        }
        Channel::Frame | Channel::Livechat => {
            let secret = bot.channels.widget(channel).map(|w| w.signing_secret.expose()).unwrap_or_default();
            let timestamp = header(headers, channels::widget::TIMESTAMP_HEADER);
            let signature = header(headers, channels::widget::SIGNATURE_HEADER);
            channels::widget::verify_signature(timestamp, signature, body, secret, now)
        }
    }
}

fn parse(bot: &Bot, channel: Channel, body: &[u8]) -> Result<Vec<CaptureEvent>, PayloadError> {
    match channel {
        Channel::Telegram => channels::telegram::parse_update(body),
        Channel::Messenger => {
            channels::messenger::parse(body, bot.channels.messenger.as_ref().and_then(|m| m.app_id.as_deref()))
        }
        Channel::Whatsapp => channels::whatsapp::parse(body),
        Channel::Frame | Channel::Livechat => channels::widget::parse(channel, body),
    }
}

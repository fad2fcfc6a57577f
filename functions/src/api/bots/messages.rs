//! `POST /api/v1/bots/{id}/messages`: the bot runtime records what it sent to a visitor on any
//! channel, so that transcripts hold both sides. The message goes through the capture queue,
//! in the visitor's FIFO group, like the visitor's own messages: the worker writes it, in
//! order, idempotently (the event id comes from the channel and `message_id`).

use super::bot_id;
use crate::api::openapi::schemas::ProblemDetails;
use crate::api::Api;
use crate::capture_queue::CaptureMessage;
use crate::http::{json, request, HttpResult, Problem};
use chrono::{DateTime, Utc};
use lambda_http::Request;
use model::auth::Scope;
use model::channels::{CaptureEvent, CaptureKind, MessageRole, ProfileHints};
use model::domain::Channel;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// Texts are capped like the channels' (4096 characters).
const MAX_TEXT_CHARS: usize = 4096;

/// A message the bot, or an agent, sent to a visitor. Every member is required.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SentMessage, example = json!({"channel": "telegram", "recipient": "5120034411",
    "text": "Our plans start at $29 a month.", "sent_at": "2025-08-22T05:02:31Z",
    "message_id": "734", "sender": "bot"}))]
pub struct SentMessageBody {
    /// The channel it was sent on.
    #[schema(value_type = crate::api::openapi::schemas::ChannelName)]
    channel: Value,
    /// The visitor's id on that channel, as its webhooks give it: Telegram user id, Messenger
    /// PSID, WhatsApp wa_id, widget visitor id.
    #[schema(value_type = String, min_length = 1, max_length = 128)]
    recipient: Value,
    /// What was sent, 1 to 4096 characters.
    #[schema(value_type = String, min_length = 1, max_length = 4096)]
    text: Value,
    /// When it was sent (RFC 3339). A time more than 5 minutes ahead is brought back to then.
    #[schema(value_type = String, format = DateTime)]
    sent_at: Value,
    /// The channel's id of the sent message (Telegram `message_id`, Messenger `mid`, WhatsApp
    /// `wamid`, or the runtime's own): 1 to 128 visible ASCII characters. Sending the same
    /// one again records nothing more. A Telegram `message_id` also orders messages of the
    /// same second.
    #[schema(value_type = String, min_length = 1, max_length = 128)]
    message_id: Value,
    /// `bot` or `agent` (a person of the team).
    #[schema(value_type = String, pattern = "^(bot|agent)$")]
    sender: Value,
}

/// The message is queued for its transcript.
#[derive(Serialize, ToSchema)]
#[schema(as = QueuedMessage)]
pub struct QueuedView {
    /// The capture event id it is recorded under.
    #[schema(example = "telegram:sent:5120034411:734")]
    event_id: String,
}

fn string<'a>(field: &str, value: &'a Value) -> Result<&'a str, Problem> {
    value.as_str().map(str::trim).ok_or_else(|| Problem::invalid_field(field, "must be a string"))
}

fn id_like(field: &str, value: &Value) -> Result<String, Problem> {
    let s = string(field, value)?;
    if s.is_empty() || s.len() > 128 || !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Problem::invalid_field(field, "needs 1 to 128 visible ASCII characters, no spaces"));
    }
    Ok(s.to_string())
}

impl SentMessageBody {
    /// The capture event it becomes, received at `now`.
    fn event(&self, now: DateTime<Utc>) -> Result<CaptureEvent, Problem> {
        let channel: Channel = string("channel", &self.channel)?.parse().map_err(|_| {
            let names: Vec<&str> = Channel::ALL.iter().map(|c| c.as_str()).collect();
            Problem::invalid_field("channel", format!("must be one of {}", names.join(", ")))
        })?;
        let recipient = id_like("recipient", &self.recipient)?;
        let text = string("text", &self.text)?;
        if text.is_empty() || text.chars().count() > MAX_TEXT_CHARS {
            return Err(Problem::invalid_field("text", format!("needs 1 to {MAX_TEXT_CHARS} characters")));
        }
        let sent_at = string("sent_at", &self.sent_at)?;
        let sent_at = DateTime::parse_from_rfc3339(sent_at)
            .map_err(|_| {
                Problem::invalid_field(
                    "sent_at",
                    format!("must be an RFC 3339 timestamp such as \"2025-08-22T05:02:29Z\", got {sent_at:?}"),
                )
            })?
            .with_timezone(&Utc);
        let message_id = id_like("message_id", &self.message_id)?;
        let role = match string("sender", &self.sender)? {
            "bot" => MessageRole::Bot,
            "agent" => MessageRole::Agent,
            _ => return Err(Problem::invalid_field("sender", "must be `bot` or `agent`")),
        };
        // Telegram message ids count up within a chat, both ways, and are unique only there;
        // a private chat's id is the visitor's, the conversation reference of their messages.
        let (event_id, sequence, conversation_ref) = match channel {
            Channel::Telegram => (
                format!("telegram:sent:{recipient}:{message_id}"),
                message_id.parse::<u64>().ok().map(u128::from),
                Some(recipient.clone()),
            ),
            _ => (format!("{channel}:sent:{message_id}"), None, None),
        };
        let mut event = CaptureEvent {
            event_id,
            channel,
            external_id: recipient,
            occurred_at: sent_at,
            profile: ProfileHints::default(),
            kind: CaptureKind::Message {
                role,
                text: Some(text.to_string()),
                message_type: "text".to_string(),
                conversation_ref,
            },
            sequence,
        };
        event.clamp_time(now);
        Ok(event)
    }
}

/// Records a message the bot or an agent sent to a visitor: it joins the visitor's open
/// conversation on that channel (or opens one), in the order sent, and counts toward
/// response times. Queued through the capture pipeline; it shows in the transcript within
/// seconds.
#[utoipa::path(
    post,
    path = "/api/v1/bots/{id}/messages",
    tag = "bots",
    params(("id" = String, Path, description = "The bot that sent it, such as `acme.k3j9x2m4q8`")),
    request_body = SentMessageBody,
    security(("api_key" = ["write"])),
    responses(
        (status = 202, description = "Queued for the visitor's transcript (again: recorded once)", body = QueuedView),
        (status = 404, description = "No such bot in this workspace, or no contact with that channel identity", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Write).await?;
    request::no_query(&req)?;
    let id = bot_id(&req, &caller.workspace.id)?;
    let body: SentMessageBody = request::json_body(&req)?;
    let event = body.event(Utc::now())?;
    let queue = api.capture.as_ref().ok_or_else(|| {
        tracing::error!("CAPTURE_QUEUE_URL is not set: sent messages cannot be recorded");
        Problem::unavailable("messages cannot be recorded right now")
    })?;
    if api.store.get_bot(&id).await?.is_none() {
        return Err(Problem::not_found(format!("there is no bot {id} in this workspace")));
    }
    let ws = &caller.workspace.id;
    let known = api.store.contact_for_identity(ws, event.channel, &event.external_id).await?;
    if !known.is_some_and(|c| c.is_visible()) {
        return Err(Problem::not_found(format!(
            "no contact has the {} identity `{}`: record a message after the visitor wrote",
            event.channel, event.external_id
        ))
        .with("field", "recipient"));
    }
    let event_id = event.event_id.clone();
    queue.send(&[CaptureMessage { bot_id: id.clone(), event }]).await.map_err(|e| {
        tracing::error!(error = %e, bot = %id, "sent message hand-off failed");
        Problem::unavailable("the message could not be queued; send it again")
    })?;
    tracing::info!(workspace = %ws, bot = %id, key = %caller.log_name(), "sent message queued");
    Ok(json(202, &QueuedView { event_id }))
}

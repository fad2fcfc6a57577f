//! `/api/v1/bots`: bots, their capture settings and channel secrets (write-only).

pub mod create;
pub mod get;
pub mod list;
pub mod messages;
pub mod update;

pub mod body;

use crate::http::{request, Problem};
use lambda_http::Request;
use model::bot::{Bot, BotId};
use model::domain::{Channel, WorkspaceId};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A bot as the API shows it: settings, and for each channel only whether it is set up.
#[derive(Serialize, ToSchema)]
#[schema(as = Bot)]
pub struct BotView<'a> {
    #[schema(example = "acme.k3j9x2m4q8")]
    id: String,
    #[schema(value_type = String, example = "Sales bot")]
    name: &'a str,
    /// When false, `email_collected` events are ignored.
    email_collect: bool,
    /// When false, `contact_form_submitted` events are ignored.
    contact_form: bool,
    /// Every channel.
    channels: BTreeMap<String, ChannelHook>,
    #[schema(format = DateTime)]
    created_at: String,
    /// Starts at 1 and grows with every change; send it back as `If-Match: "<version>"`.
    #[schema(minimum = 1)]
    version: u64,
}

/// A channel of a bot: whether its secrets are set, and its webhook's path.
#[derive(Serialize, ToSchema)]
pub struct ChannelHook {
    configured: bool,
    #[schema(example = "/webhooks/telegram/acme.k3j9x2m4q8")]
    webhook_path: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = BotList)]
pub struct BotList<'a> {
    /// Newest first.
    bots: Vec<BotView<'a>>,
}

impl<'a> From<&'a Bot> for BotView<'a> {
    fn from(bot: &'a Bot) -> Self {
        let channels = Channel::ALL
            .into_iter()
            .map(|c| {
                let hook =
                    ChannelHook { configured: bot.channels.is_configured(c), webhook_path: webhook_path(c, &bot.id) };
                (c.to_string(), hook)
            })
            .collect();
        BotView {
            id: bot.id.to_string(),
            name: &bot.name,
            email_collect: bot.email_collect,
            contact_form: bot.contact_form,
            channels,
            created_at: model::listing::api_time(bot.created_at),
            version: bot.version,
        }
    }
}

/// Where a channel sends the bot's events, on this site.
pub fn webhook_path(channel: Channel, bot: &BotId) -> String {
    format!("/webhooks/{channel}/{bot}")
}

/// The bot named in the path, in the caller's workspace only.
pub(crate) fn bot_id(req: &Request, workspace: &WorkspaceId) -> Result<BotId, Problem> {
    let id = request::path_param(req, "id", BotId::parse)?;
    if id.workspace() != workspace {
        return Err(Problem::not_found(format!("there is no bot {id} in this workspace")));
    }
    Ok(id)
}

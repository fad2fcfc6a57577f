//! `/api/v1/bots`: bots, their capture settings and channel secrets (write-only).

pub mod create;
pub mod get;
pub mod list;
pub mod update;

mod body;

use crate::http::{request, Problem};
use lambda_http::Request;
use model::bot::{Bot, BotId};
use model::domain::{Channel, WorkspaceId};
use serde::Serialize;

/// A bot as the API shows it: settings, and for each channel only whether it is set up.
#[derive(Serialize)]
pub struct BotView<'a> {
    id: String,
    name: &'a str,
    email_collect: bool,
    contact_form: bool,
    channels: serde_json::Map<String, serde_json::Value>,
    created_at: String,
    version: u64,
}

impl<'a> From<&'a Bot> for BotView<'a> {
    fn from(bot: &'a Bot) -> Self {
        let channels = Channel::ALL
            .into_iter()
            .map(|c| {
                let configured = bot.channels.is_configured(c);
                let value =
                    serde_json::json!({"configured": configured, "webhook_path": format!("/webhooks/{c}/{}", bot.id)});
                (c.to_string(), value)
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

/// The bot named in the path, in the caller's workspace only.
fn bot_id(req: &Request, workspace: &WorkspaceId) -> Result<BotId, Problem> {
    let id = request::path_param(req, "id", BotId::parse)?;
    if id.workspace() != workspace {
        return Err(Problem::not_found(format!("there is no bot {id} in this workspace")));
    }
    Ok(id)
}

//! `PATCH /api/v1/bots/{id}`.

use super::body::{self, PatchBody};
use super::{bot_id, BotView};
use crate::api::openapi::schemas::{IfMatch, ProblemDetails};
use crate::api::Api;
use crate::http::auth::Caller;
use crate::http::{json, request, HttpResult, Problem};
use lambda_http::Request;
use model::auth::Scope;
use model::bot::{Bot, BotId};
use store::Store;

/// Changes a bot; changing channel secrets needs `admin` as well.
#[utoipa::path(
    patch,
    path = "/api/v1/bots/{id}",
    tag = "bots",
    params(("id" = String, Path, description = "The bot, such as `acme.k3j9x2m4q8`"), IfMatch),
    request_body = PatchBody,
    security(("api_key" = ["write"])),
    responses(
        (status = 200, description = "The bot", body = BotView),
        (status = 404, description = "No such bot in this workspace", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` is stale, or the bot changed meanwhile", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Write).await?;
    request::no_query(&req)?;
    let id = bot_id(&req, &caller.workspace.id)?;
    let patch: PatchBody = request::json_body(&req)?;
    let bot = change_bot(&api.store, &caller, &id, patch, request::if_match(&req)?).await?;
    Ok(json(200, &BotView::from(&bot)))
}

/// Applies `patch` to the bot, at `expected` version when given (the API's and the
/// dashboard's); changing channel secrets needs `admin` as well.
pub async fn change_bot(
    store: &Store,
    caller: &Caller,
    id: &BotId,
    patch: PatchBody,
    expected: Option<u64>,
) -> Result<Bot, Problem> {
    if patch.channels.as_ref().is_some_and(|c| c.touches_secrets()) {
        caller.require(Scope::Admin)?;
    }
    let current = store
        .get_bot(id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("there is no bot {id} in this workspace")))?;
    if let Some(expected) = expected.filter(|v| *v != current.version) {
        return Err(Problem::precondition_failed(format!("the bot is at version {}, not {expected}", current.version)));
    }
    let mut bot = current.clone();
    if let Some(name) = &patch.name {
        bot.name = body::name(name)?;
    }
    bot.email_collect = patch.email_collect.unwrap_or(bot.email_collect);
    bot.contact_form = patch.contact_form.unwrap_or(bot.contact_form);
    if let Some(channels) = patch.channels {
        channels.apply(&mut bot.channels)?;
    }
    bot.version += 1;
    store.update_bot(&bot, current.version).await.map_err(|e| match e {
        store::StoreError::VersionMismatch { .. } => Problem::precondition_failed(
            "the bot was changed by someone else meanwhile; reload it and apply your change again",
        ),
        other => other.into(),
    })?;
    tracing::info!(workspace = %caller.workspace.id, bot = %bot.id, key = %caller.log_name(), "bot updated");
    Ok(bot)
}

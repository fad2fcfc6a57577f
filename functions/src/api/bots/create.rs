//! `POST /api/v1/bots`.

use super::body::{self, CreateBody};
use super::BotView;
use crate::api::Api;
use crate::http::auth::Caller;
use crate::http::{json, request, HttpResult, Problem};
use lambda_http::Request;
use model::auth::Scope;
use model::bot::{Bot, BotId, ChannelSettings};
use store::Store;

/// Creates a bot; setting channel secrets needs `admin` as well.
#[utoipa::path(
    post,
    path = "/api/v1/bots",
    tag = "bots",
    request_body = CreateBody,
    security(("api_key" = ["write"])),
    responses((status = 201, description = "The bot (secrets are never shown)", body = BotView, headers(("Location" = String)))),
)]
pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Write).await?;
    request::no_query(&req)?;
    let input: CreateBody = request::json_body(&req)?;
    let bot = create_bot(&api.store, &caller, input).await?;
    let mut response = json(201, &BotView::from(&bot));
    let location = format!("/api/v1/bots/{}", bot.id);
    response.headers_mut().insert("location", location.parse().map_err(|_| Problem::internal())?);
    Ok(response)
}

/// Checks and stores a new bot (the API's and the dashboard's); setting channel secrets
/// needs `admin` as well.
pub async fn create_bot(store: &Store, caller: &Caller, input: CreateBody) -> Result<Bot, Problem> {
    if input.channels.touches_secrets() {
        caller.require(Scope::Admin)?;
    }
    let mut channels = ChannelSettings::default();
    input.channels.apply(&mut channels)?;
    let bot = Bot {
        id: BotId::generate(&caller.workspace.id),
        name: body::name(&input.name)?,
        email_collect: input.email_collect,
        contact_form: input.contact_form,
        channels,
        created_at: chrono::Utc::now(),
        version: 1,
    };
    store.create_bot(&bot).await?;
    tracing::info!(workspace = %caller.workspace.id, bot = %bot.id, key = %caller.log_name(), "bot created");
    Ok(bot)
}

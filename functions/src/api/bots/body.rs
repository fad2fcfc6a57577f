//! Bot request bodies. Secrets are parsed into [`Secret`]s at once so they cannot be logged.

use crate::http::request;
use crate::http::Problem;
use model::bot::{parse_bot_name, ChannelSettings, MetaSettings, Secret, TelegramSettings, WidgetSettings};
use model::domain::Channel;
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewBot, example = json!({"name": "Sales bot", "email_collect": true, "channels": {"telegram": {"secret_token": "tg-secret-8f3a2c"}}}))]
pub struct CreateBody {
    /// Whitespace collapsed, 1 to 100 characters.
    pub name: String,
    #[serde(default)]
    pub email_collect: bool,
    #[serde(default)]
    pub contact_form: bool,
    #[serde(default, deserialize_with = "request::object")]
    pub channels: ChannelsBody,
}

/// Absent members are left alone.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = BotPatch)]
pub struct PatchBody {
    pub name: Option<String>,
    pub email_collect: Option<bool>,
    pub contact_form: Option<bool>,
    #[serde(default, deserialize_with = "request::optional_object")]
    pub channels: Option<ChannelsBody>,
}

/// Per channel: absent = unchanged, `null` = remove, an object = set. Needs a key with `admin` too.
#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ChannelSecrets)]
pub struct ChannelsBody {
    #[serde(default, deserialize_with = "request::present_object")]
    #[schema(value_type = Option<TelegramBody>)]
    telegram: Option<Option<TelegramBody>>,
    #[serde(default, deserialize_with = "request::present_object")]
    #[schema(value_type = Option<MetaBody>)]
    messenger: Option<Option<MetaBody>>,
    #[serde(default, deserialize_with = "request::present_object")]
    #[schema(value_type = Option<MetaBody>)]
    whatsapp: Option<Option<MetaBody>>,
    #[serde(default, deserialize_with = "request::present_object")]
    #[schema(value_type = Option<WidgetBody>)]
    frame: Option<Option<WidgetBody>>,
    #[serde(default, deserialize_with = "request::present_object")]
    #[schema(value_type = Option<WidgetBody>)]
    livechat: Option<Option<WidgetBody>>,
}

/// Every secret: 8 to 512 visible ASCII characters, surrounding whitespace trimmed.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = TelegramSecrets)]
struct TelegramBody {
    /// The `secret_token` given to Telegram's `setWebhook`: 8 to 256 of `A-Z`, `a-z`, `0-9`, `_`, `-`.
    #[schema(min_length = 8, max_length = 256, pattern = "^[A-Za-z0-9_-]+$")]
    secret_token: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MetaSecrets)]
struct MetaBody {
    #[schema(min_length = 8, max_length = 512)]
    app_secret: String,
    #[schema(min_length = 8, max_length = 512)]
    verify_token: String,
    /// Messenger: lets capture read visitors' names from the Graph API.
    #[schema(min_length = 8, max_length = 512)]
    page_access_token: Option<String>,
    /// Messenger: the Meta app the bot sends with (not a secret). Echoes of its messages are
    /// the bot's, echoes from any other app (the Page inbox) agents'; without it every echo
    /// is the bot's.
    #[schema(min_length = 1, max_length = 32, pattern = "^[0-9]+$", example = "1517776481860111")]
    app_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = WidgetSecrets)]
struct WidgetBody {
    #[schema(min_length = 8, max_length = 512)]
    signing_secret: String,
}

fn secret(field: &str, raw: &str) -> Result<Secret, Problem> {
    Secret::parse(raw).map_err(|e| Problem::invalid_field(field, e.0))
}

/// Telegram's setWebhook accepts 1-256 characters of A-Z, a-z, 0-9, `_` and `-`.
fn telegram_token(raw: &str) -> Result<Secret, Problem> {
    let field = "channels.telegram.secret_token";
    if raw.len() > 256 || !raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return Err(Problem::invalid_field(
            field,
            "Telegram accepts 1 to 256 characters of A-Z, a-z, 0-9, `_` and `-`",
        ));
    }
    secret(field, raw)
}

/// Meta app ids are decimal numbers.
fn app_id(field: &str, raw: &str) -> Result<String, Problem> {
    let id = raw.trim();
    if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Problem::invalid_field(field, "a Meta app id is 1 to 32 digits"));
    }
    Ok(id.to_string())
}

pub fn name(raw: &str) -> Result<String, Problem> {
    parse_bot_name(raw).map_err(|e| Problem::invalid_field("name", e.0))
}

impl ChannelsBody {
    /// One channel's secrets as a body's `channels` member has them (`None` removes the
    /// channel): the dashboard's forms are read by the API's rules.
    pub fn one(channel: Channel, secrets: Option<serde_json::Value>) -> Result<Self, Problem> {
        serde_json::from_value(serde_json::json!({ channel.as_str(): secrets }))
            .map_err(|e| Problem::invalid_field(&format!("channels.{channel}"), e.to_string()))
    }

    /// Whether the body sets or removes any channel's secrets: that needs the `admin` scope,
    /// since whoever knows a channel's secret can forge its events.
    pub fn touches_secrets(&self) -> bool {
        self.telegram.is_some()
            || self.messenger.is_some()
            || self.whatsapp.is_some()
            || self.frame.is_some()
            || self.livechat.is_some()
    }

    /// Applies the changes to `settings`.
    pub fn apply(self, settings: &mut ChannelSettings) -> Result<(), Problem> {
        fn meta(channel: &str, b: MetaBody) -> Result<MetaSettings, Problem> {
            Ok(MetaSettings {
                app_secret: secret(&format!("channels.{channel}.app_secret"), &b.app_secret)?,
                verify_token: secret(&format!("channels.{channel}.verify_token"), &b.verify_token)?,
                page_access_token: b
                    .page_access_token
                    .map(|t| secret(&format!("channels.{channel}.page_access_token"), &t))
                    .transpose()?,
                app_id: b.app_id.map(|id| app_id(&format!("channels.{channel}.app_id"), &id)).transpose()?,
            })
        }
        fn widget(channel: &str, b: WidgetBody) -> Result<WidgetSettings, Problem> {
            Ok(WidgetSettings {
                signing_secret: secret(&format!("channels.{channel}.signing_secret"), &b.signing_secret)?,
            })
        }
        if let Some(t) = self.telegram {
            settings.telegram =
                t.map(|b| telegram_token(&b.secret_token).map(|s| TelegramSettings { secret_token: s })).transpose()?;
        }
        if let Some(m) = self.messenger {
            settings.messenger = m.map(|b| meta("messenger", b)).transpose()?;
        }
        if let Some(w) = self.whatsapp {
            settings.whatsapp = w.map(|b| meta("whatsapp", b)).transpose()?;
        }
        if let Some(f) = self.frame {
            settings.frame = f.map(|b| widget("frame", b)).transpose()?;
        }
        if let Some(l) = self.livechat {
            settings.livechat = l.map(|b| widget("livechat", b)).transpose()?;
        }
        Ok(())
    }
}

//! Bot request bodies. Secrets are parsed into [`Secret`]s at once so they cannot be logged.

use crate::http::Problem;
use model::bot::{parse_bot_name, ChannelSettings, MetaSettings, Secret, TelegramSettings, WidgetSettings};
use serde::{Deserialize, Deserializer};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    pub name: String,
    #[serde(default)]
    pub email_collect: bool,
    #[serde(default)]
    pub contact_form: bool,
    #[serde(default)]
    pub channels: ChannelsBody,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchBody {
    pub name: Option<String>,
    pub email_collect: Option<bool>,
    pub contact_form: Option<bool>,
    pub channels: Option<ChannelsBody>,
}

/// Per channel: absent = unchanged, `null` = remove, an object = set.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ChannelsBody {
    #[serde(default, deserialize_with = "present")]
    telegram: Option<Option<TelegramBody>>,
    #[serde(default, deserialize_with = "present")]
    messenger: Option<Option<MetaBody>>,
    #[serde(default, deserialize_with = "present")]
    whatsapp: Option<Option<MetaBody>>,
    #[serde(default, deserialize_with = "present")]
    frame: Option<Option<WidgetBody>>,
    #[serde(default, deserialize_with = "present")]
    livechat: Option<Option<WidgetBody>>,
}

fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TelegramBody {
    secret_token: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MetaBody {
    app_secret: String,
    verify_token: String,
    page_access_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WidgetBody {
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

pub fn name(raw: &str) -> Result<String, Problem> {
    parse_bot_name(raw).map_err(|e| Problem::invalid_field("name", e.0))
}

impl ChannelsBody {
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

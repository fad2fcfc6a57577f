//! Bots: where captures come from, their capture settings and channel secrets.

use crate::domain::{Channel, InvalidValue, WorkspaceId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A bot's id: its workspace and a random part (`acme.k3j9x2m4q8`), so a webhook path
/// alone leads to a key that contains the workspace.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BotId {
    workspace: WorkspaceId,
    local: String,
}

impl BotId {
    pub fn generate(workspace: &WorkspaceId) -> Self {
        const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
        let mut bytes = [0u8; 10];
        getrandom::fill(&mut bytes).expect("the OS has a random source");
        let local = bytes.iter().map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char).collect();
        BotId { workspace: workspace.clone(), local }
    }

    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let invalid = || InvalidValue::new(format!("`{s}` is not a bot id such as acme.k3j9x2m4q8"));
        let (ws, local) = s.rsplit_once('.').ok_or_else(invalid)?;
        let workspace = WorkspaceId::parse(ws).map_err(|_| invalid())?;
        if local.len() != 10 || !local.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) {
            return Err(invalid());
        }
        Ok(BotId { workspace, local: local.to_string() })
    }

    pub fn workspace(&self) -> &WorkspaceId {
        &self.workspace
    }
}

impl fmt::Display for BotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.workspace, self.local)
    }
}

impl TryFrom<String> for BotId {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        BotId::parse(&s)
    }
}

impl From<BotId> for String {
    fn from(b: BotId) -> String {
        b.to_string()
    }
}

/// A channel secret. Stored, compared, never shown: `Debug` redacts it and the API
/// only ever says whether one is set.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let s = s.trim();
        if s.len() < 8 || s.len() > 512 || !s.chars().all(|c| c.is_ascii_graphic()) {
            return Err(InvalidValue::new("a secret needs 8 to 512 visible ASCII characters"));
        }
        Ok(Secret(s.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(redacted)")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TelegramSettings {
    /// The `secret_token` given to setWebhook; Telegram echoes it in every call.
    pub secret_token: Secret,
}

/// Messenger and WhatsApp (Meta apps) share the handshake and signature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetaSettings {
    pub app_secret: Secret,
    pub verify_token: Secret,
    /// Messenger only: reads visitors' profile names from the Graph API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_access_token: Option<Secret>,
    /// Messenger only: the Meta app the bot sends with. Echoes of its messages are the bot's;
    /// echoes from any other app (the Page inbox, where people answer) are agents'. Without
    /// it every echo counts as the bot's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WidgetSettings {
    pub signing_secret: Secret,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChannelSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telegram: Option<TelegramSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messenger: Option<MetaSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whatsapp: Option<MetaSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame: Option<WidgetSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub livechat: Option<WidgetSettings>,
}

impl ChannelSettings {
    pub fn is_configured(&self, channel: Channel) -> bool {
        match channel {
            Channel::Telegram => self.telegram.is_some(),
            Channel::Messenger => self.messenger.is_some(),
            Channel::Whatsapp => self.whatsapp.is_some(),
            Channel::Frame => self.frame.is_some(),
            Channel::Livechat => self.livechat.is_some(),
        }
    }

    pub fn widget(&self, channel: Channel) -> Option<&WidgetSettings> {
        match channel {
            Channel::Frame => self.frame.as_ref(),
            Channel::Livechat => self.livechat.as_ref(),
            _ => None,
        }
    }

    pub fn meta(&self, channel: Channel) -> Option<&MetaSettings> {
        match channel {
            Channel::Messenger => self.messenger.as_ref(),
            Channel::Whatsapp => self.whatsapp.as_ref(),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bot {
    pub id: BotId,
    pub name: String,
    /// When off, emails the bot collects add nothing to contacts.
    pub email_collect: bool,
    /// When off, contact forms add nothing to contacts.
    pub contact_form: bool,
    pub channels: ChannelSettings,
    pub created_at: DateTime<Utc>,
    pub version: u64,
}

pub const MAX_BOT_NAME: usize = 100;

pub fn parse_bot_name(s: &str) -> Result<String, InvalidValue> {
    let name = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() || name.chars().count() > MAX_BOT_NAME {
        return Err(InvalidValue::new(format!("a bot name needs 1 to {MAX_BOT_NAME} characters")));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bot_ids_carry_their_workspace() {
        let ws = WorkspaceId::parse("acme-01").unwrap();
        let id = BotId::generate(&ws);
        let parsed = BotId::parse(&id.to_string()).unwrap();
        assert_eq!(parsed, id);
        assert_eq!(parsed.workspace(), &ws);
        for bad in ["acme", "acme.short", "Acme.k3j9x2m4q8", ".k3j9x2m4q8", "acme.K3J9X2M4Q8"] {
            assert!(BotId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn secrets_never_print() {
        let s = Secret::parse("super-secret-value").unwrap();
        assert_eq!(format!("{s:?}"), "Secret(redacted)");
        let settings = TelegramSettings { secret_token: s };
        assert!(!format!("{settings:?}").contains("super-secret"));
        assert!(Secret::parse("short").is_err());
    }
}

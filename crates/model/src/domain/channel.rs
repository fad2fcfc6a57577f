//! The chat channel a contact came from.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A channel through which a visitor talks to a bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// The website widget.
    Frame,
    Livechat,
    Telegram,
    Messenger,
    Whatsapp,
}

impl Channel {
    pub const ALL: [Channel; 5] =
        [Channel::Frame, Channel::Livechat, Channel::Telegram, Channel::Messenger, Channel::Whatsapp];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Frame => "frame",
            Channel::Livechat => "livechat",
            Channel::Telegram => "telegram",
            Channel::Messenger => "messenger",
            Channel::Whatsapp => "whatsapp",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown channel `{0}`: expected one of frame, livechat, telegram, messenger, whatsapp")]
pub struct UnknownChannel(pub String);

impl FromStr for Channel {
    type Err = UnknownChannel;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s).ok_or_else(|| UnknownChannel(s.to_string()))
    }
}

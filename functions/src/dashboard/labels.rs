//! What the product calls channels, lead statuses and scores on the pages.

use model::domain::{Channel, LeadStatus};
use model::lead::Score;

/// What each channel is, in the product's words.
pub fn channel_label(c: Channel) -> &'static str {
    match c {
        Channel::Frame => "Website widget",
        Channel::Livechat => "Live chat",
        Channel::Telegram => "Telegram",
        Channel::Messenger => "Facebook Messenger",
        Channel::Whatsapp => "WhatsApp",
    }
}

pub fn status_label(s: LeadStatus) -> &'static str {
    match s {
        LeadStatus::New => "New contact",
        LeadStatus::Active => "Active lead",
        LeadStatus::FollowUp => "Follow-up needed",
        LeadStatus::Archived => "Archived",
    }
}

pub fn score_label(s: Score) -> &'static str {
    match s {
        Score::Hot => "Hot lead",
        Score::Warm => "Warm lead",
        Score::Cold => "Cold lead",
    }
}

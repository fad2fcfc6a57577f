//! Domain values, parsed once at the boundary so invalid ones cannot exist inside.

mod channel;
mod consent;
mod email;
mod ids;
mod name;
mod phone;
mod status;
mod tag;

pub use channel::{Channel, UnknownChannel};
pub use consent::{Consent, ConsentStatus};
pub use email::Email;
pub use ids::{is_time_ordered_id, time_ordered_id, ContactId, WorkspaceId};
pub use name::Name;
pub use phone::{Phone, Region};
pub use status::{LeadStatus, Score};
pub use tag::Tag;

/// Why a value was refused; the message is written for the person who sent it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub String);

impl InvalidValue {
    pub fn new(message: impl Into<String>) -> Self {
        InvalidValue(message.into())
    }
}

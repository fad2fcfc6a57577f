//! Realistic demo contacts for the local stack: spread over channels (in roughly the
//! product's proportions) and the last six months, deterministic for a given count.

use chrono::{DateTime, Duration, Utc};
use futures::{StreamExt, TryStreamExt};
use model::contact::{Contact, Identity};
use model::domain::{Channel, Consent, ConsentStatus, Email, LeadStatus, Name, Phone, Tag, WorkspaceId};
use model::lead;
use model::new_contact::NewContact;
use model::workspace::Workspace;
use store::{Store, StoreResult};

const FIRST: [&str; 40] = [
    "Olivia",
    "Mason",
    "Harper",
    "Liam",
    "Emma",
    "Noah",
    "Ava",
    "Elijah",
    "Sophia",
    "Lucas",
    "Isabella",
    "Amelia",
    "Mia",
    "James",
    "Charlotte",
    "Benjamin",
    "Evelyn",
    "Henry",
    "Aria",
    "Sebastian",
    "Léa",
    "Jonas",
    "Mateo",
    "Sofía",
    "Yuki",
    "Aarav",
    "Zoe",
    "Hannah",
    "Felix",
    "Nora",
    "Omar",
    "Ingrid",
    "Priya",
    "Diego",
    "Chloé",
    "Lukas",
    "Maya",
    "Theo",
    "Elena",
    "Samuel",
];
const LAST: [&str; 30] = [
    "Bennett",
    "Clark",
    "Mitchell",
    "Johnson",
    "Chen",
    "Garcia",
    "Müller",
    "Rossi",
    "Nakamura",
    "Patel",
    "Kowalski",
    "Silva",
    "Andersson",
    "Dubois",
    "Novak",
    "Okafor",
    "Haddad",
    "Larsen",
    "Moreau",
    "Fischer",
    "Reyes",
    "Walsh",
    "Brennan",
    "Ivanova",
    "Schmidt",
    "Costa",
    "Kim",
    "Singh",
    "Hughes",
    "Weber",
];
const DOMAINS: [&str; 12] = [
    "lumoco.dev",
    "northpeak.co",
    "sparkwave.app",
    "techstartup.com",
    "company.com",
    "brightlane.io",
    "gmail.com",
    "outlook.com",
    "fjordlabs.no",
    "acme.de",
    "mapleworks.ca",
    "sunhub.com.au",
];
const TAGS: [&str; 6] = ["pricing", "demo request", "enterprise", "newsletter", "support", "vip"];

/// A tiny deterministic generator (xorshift), so demo data is the same on every machine.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Channel shares close to the product's example breakdown.
fn channel(dice: &mut Dice) -> Channel {
    match dice.below(100) {
        0..=64 => Channel::Frame,
        65..=69 => Channel::Livechat,
        70..=87 => Channel::Messenger,
        88..=95 => Channel::Telegram,
        _ => Channel::Whatsapp,
    }
}

/// The contact's number `i` keeps numbers distinct within a demo workspace.
fn phone(dice: &mut Dice, i: u64) -> String {
    let i = i % 10_000;
    match dice.below(5) {
        0 => format!("+1 415-555-{i:04}"),
        1 => format!("+44 20 7946 {i:04}"),
        2 => format!("+49 30 9018{i:04}"),
        3 => format!("+33 6 12 34 {:02} {:02}", i / 100, i % 100),
        // Numbers as visitors really type them, some not parseable.
        _ => format!("+{}-{}-{i:04}", 100 + dice.below(900), 100 + dice.below(900)),
    }
}

/// The i-th of `count` demo contacts (1-based), created over the six months before `now`.
pub fn contact(i: u64, count: u64, now: DateTime<Utc>) -> NewContact {
    let mut dice = Dice(0x9E37_79B9_7F4A_7C15 ^ (i.wrapping_mul(0x2545_F491_4F6C_DD1D)));
    let channel = channel(&mut dice);
    let first = *dice.pick(&FIRST);
    let last = *dice.pick(&LAST);
    let mut new = NewContact::on(channel);
    // Older contacts first, so ids grow with time like real captures; the last ones are from today.
    let minutes_ago = (180 * 24 * 60) * (count.saturating_sub(i)) / count.max(1) + dice.below(120);
    new.created_at = Some(now - Duration::minutes(minutes_ago as i64));
    let has_name = channel != Channel::Frame || dice.chance(85);
    if has_name {
        new.name = Name::parse(&format!("{first} {last}")).ok();
    }
    let ascii_first: String = first.to_lowercase().chars().filter(char::is_ascii_alphabetic).collect();
    let has_email = matches!(channel, Channel::Frame | Channel::Livechat) || dice.chance(25);
    if has_email {
        new.email = Email::parse(&format!(
            "{ascii_first}.{}{}@{}",
            last.to_lowercase().chars().filter(char::is_ascii_alphabetic).collect::<String>(),
            i,
            *dice.pick(&DOMAINS)
        ))
        .ok();
    }
    if channel == Channel::Whatsapp || dice.chance(45) {
        new.phone = Phone::parse(&phone(&mut dice, i), None).ok();
    }
    let external_id = match channel {
        Channel::Frame | Channel::Livechat => format!("visitor-{:08x}", dice.next() as u32),
        Channel::Telegram => (100_000_000 + dice.below(900_000_000)).to_string(),
        Channel::Messenger => (6_000_000_000_000_000 + dice.below(999_999_999_999_999)).to_string(),
        Channel::Whatsapp => new
            .phone
            .as_ref()
            .and_then(|p| p.e164())
            .map(|e| e.trim_start_matches('+').to_string())
            .unwrap_or_else(|| format!("{}", 491_500_000_000u64 + i)),
    };
    new.identity = Some(Identity::new(channel, external_id));
    if dice.chance(30) {
        new.tags.insert(Tag::parse(dice.pick::<&str>(&TAGS)).expect("demo tags are valid"));
    }
    new.status = Some(*dice.pick(&[
        LeadStatus::New,
        LeadStatus::New,
        LeadStatus::Active,
        LeadStatus::FollowUp,
        LeadStatus::Archived,
    ]));
    if new.email.is_some() && dice.chance(60) {
        new.consent =
            Consent { status: ConsentStatus::Granted, source: Some("form".into()), updated_at: new.created_at };
    }
    new
}

/// Contacts written per bulk load: bounds memory whatever the count.
const LOAD_CHUNK: u64 = 1_000;

/// Loads `count` demo contacts unless the workspace already has contacts. They are written
/// in bulk (`Store::import_contacts`): the items a create writes, without one transaction
/// per contact; conversations go through the real capture path (`conversations_if_empty`).
pub async fn load_if_empty(store: &Store, ws: &WorkspaceId, count: u64) -> StoreResult<u64> {
    if store.counters(ws).await?.total > 0 {
        return Ok(0);
    }
    // One chunk at a time: each checks the values the ones before it took.
    for_each_chunk(store, ws, count, 1, |contacts| async move { store.import_contacts(ws, contacts).await.map(drop) })
        .await?;
    Ok(count)
}

/// Loads the profiles alone of `count` demo contacts (`Store::load_profiles_only`), a few
/// chunks at a time: a workspace for the export benchmark, larger than the emulator holds whole.
pub async fn load_profiles_only(store: &Store, ws: &WorkspaceId, count: u64) -> StoreResult<()> {
    for_each_chunk(store, ws, count, 4, |contacts| async move { store.load_profiles_only(ws, &contacts).await }).await
}

/// Makes the `count` demo contacts, [`LOAD_CHUNK`] at a time with their ids and lead
/// status, and hands each chunk to `write`, `in_flight` chunks at once.
async fn for_each_chunk<F, Fut>(
    store: &Store,
    ws: &WorkspaceId,
    count: u64,
    in_flight: usize,
    write: F,
) -> StoreResult<()>
where
    F: Fn(Vec<Contact>) -> Fut,
    Fut: std::future::Future<Output = StoreResult<()>>,
{
    let workspace = store.get_workspace(ws).await?.unwrap_or_else(|| Workspace::with_defaults(ws.clone()));
    let (now, write, workspace) = (Utc::now(), &write, &workspace);
    let chunks = (0..count).step_by(LOAD_CHUNK as usize).map(|loaded| (loaded, LOAD_CHUNK.min(count - loaded)));
    futures::stream::iter(chunks)
        .map(|(loaded, n)| async move {
            let ids = store.allocate_contact_ids(ws, n).await?;
            let contacts = ids
                .into_iter()
                .zip(loaded + 1..)
                .map(|(id, i)| {
                    let mut contact = contact(i, count, now).into_contact(id, now);
                    lead::refresh(&mut contact, now, workspace.lead_rules.policy);
                    contact
                })
                .collect();
            write(contacts).await
        })
        .buffered(in_flight)
        .try_collect()
        .await
}

/// Every channel secret of the demo bot, so local webhooks can be signed by hand.
pub const BOT_SECRET: &str = "demo-bot-secret-change-me";

/// The demo workspace's bot with every channel set up (secrets: [`BOT_SECRET`]).
pub async fn bot_if_missing(store: &Store, ws: &WorkspaceId) -> StoreResult<model::bot::BotId> {
    use model::bot::{Bot, BotId, ChannelSettings, MetaSettings, Secret, TelegramSettings, WidgetSettings};
    if let Some(bot) = store.list_bots(ws).await?.into_iter().next() {
        return Ok(bot.id);
    }
    let secret = || Secret::parse(BOT_SECRET).expect("a valid secret");
    let meta = || MetaSettings { app_secret: secret(), verify_token: secret(), page_access_token: None, app_id: None };
    let bot = Bot {
        id: BotId::generate(ws),
        name: "Demo bot".into(),
        email_collect: true,
        contact_form: true,
        channels: ChannelSettings {
            telegram: Some(TelegramSettings { secret_token: secret() }),
            messenger: Some(meta()),
            whatsapp: Some(meta()),
            frame: Some(WidgetSettings { signing_secret: secret() }),
            livechat: Some(WidgetSettings { signing_secret: secret() }),
        },
        created_at: Utc::now(),
        version: 1,
    };
    store.create_bot(&bot).await?;
    Ok(bot.id)
}

/// Visitors who talked to the demo bot: real capture events (website widget), so that
/// conversations, transcripts, scores and analytics have something to show. Runs once.
pub async fn conversations_if_empty(store: &Store, bot: &model::bot::BotId, visitors: u64) -> StoreResult<u64> {
    use model::channels::{CaptureEvent, CaptureKind, MessageRole, ProfileHints};
    use model::usecases::capture::{capture, CaptureSettings};
    let Some(bot) = store.get_bot(bot).await? else { return Ok(0) };
    if store.contact_for_identity(bot.id.workspace(), Channel::Frame, "demo-visitor-1").await?.is_some() {
        return Ok(0);
    }
    const QUESTIONS: [&str; 6] = [
        "Hi! What do your plans cost?",
        "Can I book a demo for my team?",
        "Do you offer a free trial?",
        "Where are your servers located?",
        "Do you have enterprise options with SSO?",
        "How do I reset my password?",
    ];
    let settings = CaptureSettings { idle: Duration::minutes(30) };
    let now = Utc::now();
    for i in 1..=visitors {
        let mut dice = Dice(0xA5A5_5A5A_1234_5678 ^ i.wrapping_mul(0x9E37_79B9));
        let visitor = format!("demo-visitor-{i}");
        let name = format!("{} {}", dice.pick::<&str>(&FIRST), dice.pick::<&str>(&LAST));
        let conversations = 1 + dice.below(3) as i64;
        let first_day = 1 + dice.below(25) as i64;
        let mut n = 0;
        let mut event = |kind: CaptureKind, at: DateTime<Utc>| {
            n += 1;
            let profile = ProfileHints { name: Some(name.clone()), ..Default::default() };
            CaptureEvent {
                event_id: format!("demo:{i}:{n}"),
                channel: Channel::Frame,
                external_id: visitor.clone(),
                occurred_at: at,
                profile,
                kind,
                sequence: None,
            }
        };
        let mut events = Vec::new();
        for c in 0..conversations {
            let start = now - Duration::days(first_day - c * 3 / 2) - Duration::minutes(dice.below(600) as i64);
            let reference = Some(format!("{visitor}-c{c}"));
            let text = *dice.pick::<&str>(&QUESTIONS);
            events.push(event(CaptureKind::ConversationStarted { conversation_ref: reference.clone() }, start));
            events.push(event(
                CaptureKind::Message {
                    role: MessageRole::User,
                    text: Some(text.into()),
                    message_type: "text".into(),
                    conversation_ref: reference.clone(),
                },
                start + Duration::seconds(5),
            ));
            let reply = 2 + dice.below(40) as i64;
            events.push(event(
                CaptureKind::Message {
                    role: MessageRole::Bot,
                    text: Some("Happy to help! Could I have your email to send the details?".into()),
                    message_type: "text".into(),
                    conversation_ref: reference.clone(),
                },
                start + Duration::seconds(5 + reply),
            ));
            if dice.chance(60) {
                let email = format!("visitor{i}@{}", dice.pick::<&str>(&DOMAINS));
                events.push(event(
                    CaptureKind::EmailCollected { email, conversation_ref: reference.clone() },
                    start + Duration::seconds(60 + reply),
                ));
            }
            events.push(event(
                CaptureKind::ConversationEnded { conversation_ref: reference },
                start + Duration::minutes(4),
            ));
        }
        for e in &events {
            capture(store, &(), &bot, e, &settings).await?;
        }
    }
    Ok(visitors)
}

/// Connects the workspace to the local vendors (`make dev`): HubSpot, Salesforce, Zoho and a
/// webhook, made as the API makes them, without a backfill (a resync sends the demo
/// contacts). Answers the webhook's signing secret, for the local receiver to verify with
/// (none when the demo webhook was deleted).
pub async fn integrations_if_missing(
    store: &Store,
    ws: &WorkspaceId,
    vendors: &crate::vendors::LocalVendors,
) -> StoreResult<Option<String>> {
    use crate::vendors::demo_credentials::*;
    use model::integration::spec::{self, Spec, SpecCredentials};
    use model::integration::Credentials;
    let existing = store.list_integrations(ws).await?;
    let secret_of = |all: &[store::StoredIntegration]| {
        all.iter().find_map(|i| match &i.credentials {
            Credentials::Signing { secret } => Some(secret.clone()),
            _ => None,
        })
    };
    // Made on an earlier start (a kept emulator): left as they are, even if some were deleted.
    if !existing.is_empty() {
        return Ok(secret_of(&existing));
    }
    let refresh = || {
        Some(SpecCredentials {
            client_id: Some(CLIENT_ID.into()),
            client_secret: Some(CLIENT_SECRET.into()),
            refresh_token: Some(REFRESH_TOKEN.into()),
            access_token: None,
        })
    };
    let specs = [
        Spec {
            kind: Some("hubspot".into()),
            name: Some("Local HubSpot".into()),
            base_url: Some(vendors.hubspot.base()),
            credentials: Some(SpecCredentials { access_token: Some(HUBSPOT_TOKEN.into()), ..Default::default() }),
            ..Default::default()
        },
        Spec {
            kind: Some("salesforce".into()),
            name: Some("Local Salesforce".into()),
            base_url: Some(vendors.salesforce.base()),
            token_url: Some(format!("{}/services/oauth2/token", vendors.salesforce.base())),
            credentials: refresh(),
            ..Default::default()
        },
        Spec {
            kind: Some("zoho".into()),
            name: Some("Local Zoho CRM".into()),
            base_url: Some(vendors.zoho.base()),
            accounts_url: Some(vendors.zoho.base()),
            credentials: refresh(),
            ..Default::default()
        },
        Spec {
            kind: Some("webhook".into()),
            name: Some("Local webhook receiver".into()),
            url: Some(vendors.webhooks.url()),
            ..Default::default()
        },
    ];
    let policy = model::integration::address::AddressPolicy { allow_local_http: true };
    for spec in specs {
        let (integration, credentials) = spec::create(spec, policy, Utc::now())
            .map_err(|e| store::StoreError::Corrupt(format!("demo integration: {}: {}", e.field, e.detail)))?;
        store.put_integration(ws, &integration, &credentials, true).await?;
    }
    let made = store.list_integrations(ws).await?;
    Ok(secret_of(&made))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_contacts_are_deterministic_and_valid() {
        let now = Utc::now();
        let a = contact(7, 300, now);
        let b = contact(7, 300, now);
        assert_eq!(a, b);
        let channels: std::collections::BTreeSet<_> = (1..=300).map(|i| contact(i, 300, now).channel).collect();
        assert_eq!(channels.len(), 5, "every channel appears");
        let emails: std::collections::BTreeSet<_> =
            (1..=300).filter_map(|i| contact(i, 300, now).email.map(|e| e.key())).collect();
        let with_email = (1..=300).filter(|i| contact(*i, 300, now).email.is_some()).count();
        assert_eq!(emails.len(), with_email, "emails are unique");
    }
}

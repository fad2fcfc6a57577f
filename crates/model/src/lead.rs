//! Lead status and lead score, derived from activity and explainable.
//!
//! Status (`new → active → follow_up → archived`) follows activity unless a person set it:
//! archived when inactive for `archive_after_days` or opted out; follow-up when silent for
//! `follow_up_after_days`, or engaged (2+ conversations) without an email or phone to reach
//! them by; active with 2+ conversations or a buying intent; new otherwise.
//!
//! Score (`hot | warm | cold`) adds points with a reason each: conversations (2: +1,
//! 3+: +2), intents found in the visitor's messages (pricing or plans +2, demo +2,
//! trial +2, enterprise +1) and recency (< 7 days +2, 7–30 days +1). Hot from 5 points,
//! warm from 2; nothing older than 30 days is more than cold.

use crate::contact::Contact;
use crate::domain::LeadStatus;
pub use crate::domain::Score;
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

/// The buying intents the score looks for.
pub const INTENTS: [(&str, i32, &str); 4] = [
    ("pricing", 2, "asked about pricing"),
    ("demo", 2, "requested a demo"),
    ("trial", 2, "asked for a trial"),
    ("enterprise", 1, "asked about enterprise options"),
];

/// Phrases per intent: the defaults, or a workspace's own list.
pub type Phrases = Vec<(String, Vec<String>)>;

/// Default phrases per intent, in English, German, French, Spanish, Portuguese and Italian.
/// A workspace may replace them.
pub fn default_phrases() -> Phrases {
    let defaults: Vec<(&str, Vec<&str>)> = vec![
        (
            "pricing",
            vec![
                "price",
                "pricing",
                "cost",
                "how much",
                "plan",
                "plans",
                "subscription",
                "quote",
                "preis",
                "kosten",
                "tarif",
                "prix",
                "coût",
                "combien",
                "precio",
                "cuánto",
                "cuanto",
                "preço",
                "quanto custa",
                "prezzo",
                "quanto costa",
            ],
        ),
        (
            "demo",
            vec![
                "demo",
                "demonstration",
                "walkthrough",
                "book a call",
                "vorführung",
                "démo",
                "démonstration",
                "demostración",
                "demonstração",
                "dimostrazione",
            ],
        ),
        (
            "trial",
            vec![
                "trial",
                "free trial",
                "try it",
                "testversion",
                "kostenlos testen",
                "essai",
                "essai gratuit",
                "prueba",
                "prueba gratis",
                "teste grátis",
                "avaliação",
                "prova gratuita",
            ],
        ),
        ("enterprise", vec!["enterprise", "sso", "sla", "volume", "unternehmen", "entreprise", "empresa", "azienda"]),
    ];
    defaults.into_iter().map(|(i, p)| (i.to_string(), p.into_iter().map(str::to_string).collect())).collect()
}

/// A workspace's lead rules: thresholds and intent phrases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadRules {
    pub policy: LeadPolicy,
    pub phrases: Phrases,
}

impl Default for LeadRules {
    fn default() -> Self {
        LeadRules { policy: LeadPolicy::default(), phrases: default_phrases() }
    }
}

/// Checks a workspace's phrase list: known intents only, 1 to 100 phrases each.
pub fn parse_phrases(
    raw: &std::collections::BTreeMap<String, Vec<String>>,
) -> Result<Phrases, crate::domain::InvalidValue> {
    let mut out = Vec::new();
    for (intent, phrases) in raw {
        if !INTENTS.iter().any(|(known, _, _)| known == intent) {
            return Err(crate::domain::InvalidValue::new(format!(
                "`{intent}` is not an intent: expected pricing, demo, trial or enterprise"
            )));
        }
        let cleaned: Vec<String> = phrases
            .iter()
            .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase())
            .filter(|p| !p.is_empty())
            .collect();
        if cleaned.is_empty() || cleaned.len() > 100 {
            return Err(crate::domain::InvalidValue::new(format!("`{intent}` needs 1 to 100 phrases")));
        }
        out.push((intent.clone(), cleaned));
    }
    Ok(out)
}

/// Intents found in a visitor's message (whole words or phrases, case-insensitive).
pub fn intents_in(text: &str, phrases: &[(String, Vec<String>)]) -> BTreeSet<String> {
    let lowered = text.to_lowercase();
    let words: Vec<&str> = lowered.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let joined = format!(" {} ", words.join(" "));
    phrases
        .iter()
        .filter(|(_, list)| list.iter().any(|p| joined.contains(&format!(" {} ", p.to_lowercase()))))
        .map(|(intent, _)| intent.to_string())
        .collect()
}

/// The thresholds behind status and recency, per workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeadPolicy {
    pub follow_up_after_days: i64,
    pub archive_after_days: i64,
}

impl Default for LeadPolicy {
    fn default() -> Self {
        LeadPolicy { follow_up_after_days: 7, archive_after_days: 90 }
    }
}

fn days_ago(then: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (now - then).num_days().max(0)
}

/// The score and why.
pub fn score(c: &Contact, now: DateTime<Utc>) -> (Score, Vec<String>) {
    let mut points = 0;
    let mut reasons = Vec::new();
    let conversations = c.activity.conversations;
    match conversations {
        0 => {}
        1 => reasons.push("1 conversation".to_string()),
        2 => {
            points += 1;
            reasons.push("2 conversations".to_string());
        }
        n => {
            points += 2;
            reasons.push(format!("{n} conversations"));
        }
    }
    for (intent, weight, reason) in INTENTS {
        if c.activity.intents.contains(intent) {
            points += weight;
            reasons.push(reason.to_string());
        }
    }
    let idle = days_ago(c.last_activity_at, now);
    if conversations == 0 {
        reasons.push("no conversations yet".to_string());
    } else {
        reasons.push(match idle {
            0 => "active today".to_string(),
            1 => "active yesterday".to_string(),
            d => format!("active {d} days ago"),
        });
        points += match idle {
            0..7 => 2,
            7..=30 => 1,
            _ => 0,
        };
    }
    let score = match (idle > 30, points) {
        (true, _) => Score::Cold,
        (false, p) if p >= 5 => Score::Hot,
        (false, p) if p >= 2 => Score::Warm,
        _ => Score::Cold,
    };
    (score, reasons)
}

/// The status activity implies (callers keep a person's choice: see [`refresh`]).
pub fn derived_status(c: &Contact, now: DateTime<Utc>, policy: LeadPolicy) -> LeadStatus {
    let idle = days_ago(c.last_activity_at, now);
    if idle >= policy.archive_after_days || c.consent.opted_out() {
        LeadStatus::Archived
    } else if idle >= policy.follow_up_after_days
        || (c.activity.conversations >= 2 && c.email.is_none() && c.phone.is_none())
    {
        LeadStatus::FollowUp
    } else if c.activity.conversations >= 2 || !c.activity.intents.is_empty() {
        LeadStatus::Active
    } else {
        LeadStatus::New
    }
}

/// Recomputes score and (unless a person set it) status; says whether either changed.
pub fn refresh(c: &mut Contact, now: DateTime<Utc>, policy: LeadPolicy) -> bool {
    let (score, _) = score(c, now);
    let status = if c.status_manual { c.status } else { derived_status(c, now, policy) };
    let changed = score != c.score || status != c.status;
    c.score = score;
    c.status = status;
    changed
}

/// The day counts where score or status can change with time alone (recency and
/// follow-up/archive thresholds): the daily job re-ages contacts idle for about that long.
pub fn aging_boundaries(policy: LeadPolicy) -> Vec<i64> {
    let mut b = vec![7, 31, policy.follow_up_after_days, policy.archive_after_days];
    b.sort_unstable();
    b.dedup();
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Channel, ContactId, Email};
    use crate::new_contact::NewContact;
    use chrono::Duration;

    fn now() -> DateTime<Utc> {
        "2025-09-01T12:00:00Z".parse().unwrap()
    }

    fn contact(conversations: u32, intents: &[&str], idle_days: i64) -> Contact {
        let mut c = NewContact::on(Channel::Frame).into_contact(ContactId(1), now() - Duration::days(60));
        c.activity.conversations = conversations;
        c.activity.intents = intents.iter().map(|s| s.to_string()).collect();
        c.last_activity_at = now() - Duration::days(idle_days);
        c
    }

    #[test]
    fn the_product_examples_score_as_described() {
        let (s, reasons) = score(&contact(3, &["pricing", "demo"], 1), now());
        assert_eq!(s, Score::Hot);
        assert_eq!(reasons, ["3 conversations", "asked about pricing", "requested a demo", "active yesterday"]);
        assert_eq!(score(&contact(2, &[], 10), now()).0, Score::Warm);
        assert_eq!(score(&contact(1, &[], 3), now()).0, Score::Warm);
        assert_eq!(score(&contact(1, &[], 45), now()).0, Score::Cold);
        assert_eq!(score(&contact(5, &["pricing", "demo", "trial"], 31), now()).0, Score::Cold, "no recent activity");
        assert_eq!(score(&contact(0, &[], 0), now()), (Score::Cold, vec!["no conversations yet".to_string()]));
    }

    #[test]
    fn intents_are_found_in_several_languages_by_whole_words() {
        let p = default_phrases();
        assert_eq!(intents_in("Hi! What do your PLANS cost?", &p), BTreeSet::from(["pricing".to_string()]));
        assert_eq!(intents_in("Können wir eine Vorführung buchen?", &p), BTreeSet::from(["demo".to_string()]));
        assert_eq!(
            intents_in("¿Tienen prueba gratis para empresa?", &p),
            BTreeSet::from(["trial".to_string(), "enterprise".to_string()])
        );
        assert!(intents_in("I plant trees", &p).is_empty(), "`plant` is not `plan`");
    }

    #[test]
    fn status_follows_activity_until_a_person_sets_it() {
        let policy = LeadPolicy::default();
        assert_eq!(derived_status(&contact(1, &[], 0), now(), policy), LeadStatus::New);
        let mut engaged = contact(2, &[], 0);
        engaged.email = Some(Email::parse("a@example.com").unwrap());
        assert_eq!(derived_status(&engaged, now(), policy), LeadStatus::Active);
        assert_eq!(derived_status(&contact(2, &[], 0), now(), policy), LeadStatus::FollowUp, "engaged but unreachable");
        assert_eq!(derived_status(&contact(1, &[], 8), now(), policy), LeadStatus::FollowUp);
        assert_eq!(derived_status(&contact(1, &[], 100), now(), policy), LeadStatus::Archived);
        let mut manual = contact(1, &[], 100);
        manual.status = LeadStatus::Active;
        manual.status_manual = true;
        refresh(&mut manual, now(), policy);
        assert_eq!(manual.status, LeadStatus::Active);
    }
}

//! The analytics report, computed from counters and daily activity (never from contacts).
//!
//! Definitions: conversion rate = share of contacts that left an email or a phone;
//! repeat visitor rate = share with 2+ conversations; average response time = mean time
//! from a visitor's message to the next bot or agent reply in the period, in all and per
//! channel (replies captured before channels were counted count in all only); channel
//! shares are of all contacts.

use crate::domain::Channel;
use crate::workspace::Counters;
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelShare {
    pub count: u64,
    pub share: f64,
    /// Mean wait for a bot or agent reply on this channel in the period; `None` without replies.
    pub avg_response_time_seconds: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Day {
    pub date: String,
    pub new_contacts: i64,
    pub conversations: i64,
    pub messages: i64,
    /// Contacts at the end of the day, where the daily snapshot exists.
    pub total_contacts: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub from: String,
    pub to: String,
    pub total_contacts: u64,
    pub new_this_month: i64,
    pub new_in_period: i64,
    pub active_conversations: u64,
    pub awaiting_follow_up: u64,
    pub channels: BTreeMap<String, ChannelShare>,
    pub avg_conversations_per_contact: f64,
    pub avg_response_time_seconds: Option<f64>,
    pub conversion_rate: f64,
    pub repeat_visitor_rate: f64,
    pub scores: BTreeMap<String, u64>,
    pub statuses: BTreeMap<String, u64>,
    pub daily: Vec<Day>,
}

/// Mean seconds to a tenth; `None` when nothing was counted.
fn average(seconds: i64, count: i64) -> Option<f64> {
    crate::conversation::average(seconds.max(0) as u64, count.max(0) as u64)
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 / whole as f64 * 1000.0).round() / 1000.0
    }
}

/// `days` must cover both the period and the current month; `snapshots` the period.
pub fn report(
    counters: &Counters,
    days: &[DayStats],
    snapshots: &BTreeMap<NaiveDate, BTreeMap<String, i64>>,
    from: NaiveDate,
    to: NaiveDate,
    month_start: NaiveDate,
) -> Report {
    let total = counters.total;
    let in_period: Vec<&DayStats> = days.iter().filter(|d| d.date >= from && d.date <= to).collect();
    let sum = |name: &str| in_period.iter().map(|d| d.get(name)).sum::<i64>();
    let responses = sum("response_count");
    let mut daily = Vec::new();
    let mut date = from;
    while date <= to {
        let d = in_period.iter().find(|d| d.date == date);
        let get = |name: &str| d.map_or(0, |d| d.get(name));
        daily.push(Day {
            date: date.format("%Y-%m-%d").to_string(),
            new_contacts: get("new_contacts"),
            conversations: get("conversations"),
            messages: get("messages"),
            total_contacts: snapshots.get(&date).and_then(|s| s.get("total_contacts").copied()),
        });
        date = date.succ_opt().expect("dates go on");
    }
    Report {
        from: from.format("%Y-%m-%d").to_string(),
        to: to.format("%Y-%m-%d").to_string(),
        total_contacts: total,
        new_this_month: days.iter().filter(|d| d.date >= month_start).map(|d| d.get("new_contacts")).sum(),
        new_in_period: sum("new_contacts"),
        active_conversations: counters.open_conversations,
        awaiting_follow_up: counters.statuses.get("follow_up").copied().unwrap_or(0),
        channels: Channel::ALL
            .into_iter()
            .map(|c| {
                let count = counters.channels.get(&c).copied().unwrap_or(0);
                let avg_response_time_seconds =
                    average(sum(&format!("response_seconds_{c}")), sum(&format!("response_count_{c}")));
                (c.to_string(), ChannelShare { count, share: ratio(count, total), avg_response_time_seconds })
            })
            .collect(),
        avg_conversations_per_contact: if total == 0 {
            0.0
        } else {
            (counters.contact_conversations as f64 / total as f64 * 100.0).round() / 100.0
        },
        avg_response_time_seconds: average(sum("response_seconds"), responses),
        conversion_rate: ratio(counters.reachable, total),
        repeat_visitor_rate: ratio(counters.repeat_visitors, total),
        scores: counters.scores.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        statuses: counters.statuses.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        daily,
    }
}

/// One day's activity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayStats {
    pub date: NaiveDate,
    pub counts: BTreeMap<String, i64>,
}

impl DayStats {
    pub fn get(&self, name: &str) -> i64 {
        self.counts.get(name).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn figures_come_from_counters_and_days() {
        let mut c = Counters {
            total: 4,
            reachable: 1,
            repeat_visitors: 2,
            contact_conversations: 10,
            open_conversations: 3,
            ..Default::default()
        };
        c.channels.insert(Channel::Frame, 3);
        c.channels.insert(Channel::Telegram, 1);
        c.statuses.insert("follow_up", 2);
        let day = |date: &str, counts: &[(&str, i64)]| DayStats {
            date: d(date),
            counts: counts.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        };
        let days = [
            day("2025-08-30", &[("new_contacts", 2)]),
            day(
                "2025-09-01",
                &[
                    ("new_contacts", 1),
                    ("response_seconds", 30),
                    ("response_count", 2),
                    ("response_seconds_telegram", 25),
                    ("response_count_telegram", 1),
                    ("conversations", 1),
                ],
            ),
            // Outside the period.
            day("2025-09-03", &[("response_seconds_frame", 100), ("response_count_frame", 1)]),
        ];
        let r = report(&c, &days, &BTreeMap::new(), d("2025-08-31"), d("2025-09-02"), d("2025-09-01"));
        assert_eq!((r.new_this_month, r.new_in_period), (1, 1));
        assert_eq!(r.channels["frame"], ChannelShare { count: 3, share: 0.75, avg_response_time_seconds: None });
        assert_eq!(r.channels["telegram"].avg_response_time_seconds, Some(25.0));
        assert_eq!(r.avg_conversations_per_contact, 2.5);
        assert_eq!(r.avg_response_time_seconds, Some(15.0));
        assert_eq!((r.conversion_rate, r.repeat_visitor_rate), (0.25, 0.5));
        assert_eq!((r.active_conversations, r.awaiting_follow_up), (3, 2));
        assert_eq!(r.daily.len(), 3);
        assert_eq!(r.daily[1].conversations, 1);
    }
}

//! `GET /analytics`: the workspace's figures (the API's `GET /api/v1/analytics` report,
//! computed the same way) with charts: channel breakdown, new contacts per day, score
//! distribution. Charts are inline SVG sized by attributes (no inline styles, which the
//! pages' Content-Security-Policy forbids), each with its numbers as text beside it.

use super::contacts::{channel_label, score_label};
use super::format::Form;
use super::layout::{html, page};
use super::session;
use super::{Dashboard, PageResult};
use chrono::{NaiveDate, Utc};
use lambda_http::Request;
use maud::{html as markup, Markup};
use model::analytics::Report;
use model::domain::Channel;
use model::lead::Score;
use model::usecases::analytics::{self, Period};

pub async fn page_handler(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require(d, &req).await?;
    let ws = &v.caller.workspace.id;
    let query = Form::query(&req);
    let today = Utc::now().with_timezone(&v.caller.workspace.time_zone).date_naive();
    let period = Period::parse(query.filled("from"), query.filled("to"), today)?;
    let (from, to) = (period.from, period.to);
    let r = analytics::report(&d.store, ws, period, today).await?;
    let content = markup! {
        h1 { "Analytics" }
        form.filters method="get" action="/analytics" aria-label="Period" {
            div.field { label for="from" { "From" } input #from type="date" name="from" value=(from.format("%Y-%m-%d")); }
            div.field { label for="to" { "To" } input #to type="date" name="to" value=(to.format("%Y-%m-%d")); }
            div.actions { button.primary type="submit" { "Show" } }
        }
        p.hint { "Days are the workspace's days, in " (v.caller.workspace.time_zone.name()) "." }
        (figures(&r))
        div.columns {
            section.card aria-labelledby="channels-heading" {
                h2 #channels-heading { "Channel breakdown" }
                (bars("channels", &Channel::ALL.iter().map(|c| {
                    let share = r.channels.get(c.as_str());
                    (format!("{} ({})", channel_label(*c), c.as_str()), share.map_or(0, |s| s.count), share.map_or(0.0, |s| s.share))
                }).collect::<Vec<_>>()))
            }
            section.card aria-labelledby="scores-heading" {
                h2 #scores-heading { "Score distribution" }
                @let total = r.scores.values().sum::<u64>().max(1) as f64;
                (bars("scores", &Score::ALL.iter().map(|s| {
                    let n = r.scores.get(s.as_str()).copied().unwrap_or(0);
                    (score_label(*s).to_string(), n, n as f64 / total)
                }).collect::<Vec<_>>()))
            }
        }
        section.card aria-labelledby="responses-heading" {
            h2 #responses-heading { "Response time by channel" }
            table #responses {
                thead { tr { th scope="col" { "Channel" } th scope="col" { "Avg. response time" } } }
                tbody {
                    @for c in Channel::ALL {
                        tr {
                            th scope="row" { (channel_label(c)) }
                            td { (wait(r.channels.get(c.as_str()).and_then(|s| s.avg_response_time_seconds))) }
                        }
                    }
                }
            }
        }
        section.card aria-labelledby="daily-heading" {
            h2 #daily-heading { "New contacts per day" }
            (daily(&r, from, to))
        }
    };
    Ok(html(200, page("Analytics", Some(&v), content)))
}

fn percent(x: f64) -> String {
    format!("{:.0} %", x * 100.0)
}

/// A mean wait: seconds up to a minute and a half, then minutes; a dash without replies.
fn wait(seconds: Option<f64>) -> String {
    seconds.map_or("—".to_string(), |s| if s < 90.0 { format!("{s:.0} s") } else { format!("{:.1} min", s / 60.0) })
}

fn figures(r: &Report) -> Markup {
    let response = wait(r.avg_response_time_seconds);
    markup! {
        dl.figures {
            div { dt { "Total contacts" } dd #total-contacts { (r.total_contacts) } }
            div { dt { "New this month" } dd { (r.new_this_month) } }
            div { dt { "New in this period" } dd { (r.new_in_period) } }
            div { dt { "Active conversations" } dd { (r.active_conversations) } }
            div { dt { "Awaiting follow-up" } dd { (r.awaiting_follow_up) } }
            div { dt { "Avg. conversations per contact" } dd { (format!("{:.1}", r.avg_conversations_per_contact)) } }
            div { dt { "Avg. response time" } dd { (response) } }
            div { dt { "Conversion rate" } dd { (percent(r.conversion_rate)) } }
            div { dt { "Repeat visitors" } dd { (percent(r.repeat_visitor_rate)) } }
        }
    }
}

/// Horizontal bars: label, count, share of the whole (0 to 1).
fn bars(id: &str, rows: &[(String, u64, f64)]) -> Markup {
    markup! {
        table.bars id=(id) {
            thead { tr { th scope="col" { "Group" } th scope="col" { "Contacts" } th scope="col" { "Share" } } }
            tbody {
                @for (label, count, share) in rows {
                    tr {
                        th scope="row" { (label) }
                        td.count { (count) }
                        td.bar {
                            svg width="100%" height="14" viewBox="0 0 100 14" preserveAspectRatio="none" aria-hidden="true" focusable="false" {
                                rect x="0" y="0" width="100" height="14" class="track" {}
                                rect x="0" y="0" width=(format!("{:.2}", share * 100.0)) height="14" class="fill" {}
                            }
                            span { (percent(*share)) }
                        }
                    }
                }
            }
        }
    }
}

/// One column per day of the period (days without activity are zero), scaled to the
/// busiest day; the numbers follow in a table.
fn daily(r: &Report, from: NaiveDate, to: NaiveDate) -> Markup {
    let counts: Vec<(NaiveDate, i64)> = from
        .iter_days()
        .take_while(|d| *d <= to)
        .map(|d| {
            let key = d.format("%Y-%m-%d").to_string();
            (d, r.daily.iter().find(|x| x.date == key).map_or(0, |x| x.new_contacts))
        })
        .collect();
    let max = counts.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1) as f64;
    let width = 100.0 / counts.len().max(1) as f64;
    markup! {
        svg.daily viewBox="0 0 100 40" preserveAspectRatio="none" role="img" aria-label="New contacts per day; the numbers are in the table below" {
            @for (i, (d, n)) in counts.iter().enumerate() {
                @let h = *n as f64 / max * 38.0;
                rect x=(format!("{:.3}", i as f64 * width + width * 0.1)) y=(format!("{:.3}", 40.0 - h)) width=(format!("{:.3}", width * 0.8)) height=(format!("{:.3}", h)) class="fill" {
                    title { (super::format::day(*d)) ": " (n) }
                }
            }
        }
        p.axis { span { (super::format::day(from)) } span { (super::format::day(to)) } }
        details {
            summary { "Show the numbers" }
            div.table-wrap {
                table.contacts #daily-table {
                    thead { tr { th scope="col" { "Day" } th scope="col" { "New contacts" } th scope="col" { "Conversations" } th scope="col" { "Messages" } } }
                    tbody {
                        @for d in &r.daily {
                            tr { td data-label="Day" { (d.date) } td data-label="New contacts" { (d.new_contacts) } td data-label="Conversations" { (d.conversations) } td data-label="Messages" { (d.messages) } }
                        }
                    }
                }
            }
        }
    }
}

//! The message above a settings page's forms: what was done, a secret shown this once, or
//! what is wrong with the input (the problem's own words, without the API's field path).

use crate::http::Problem;
use maud::{html, Markup};

pub enum Notice {
    Done(String),
    /// `what` was made; `secret` is shown only this once.
    Secret {
        what: String,
        secret: String,
    },
    Problem(String),
}

impl Notice {
    /// A refusal of bad input (400, 409, 412, 413) as a notice; anything else stays an error.
    pub fn of(p: Problem) -> Result<Notice, Problem> {
        match p.status {
            400 | 409 | 412 | 413 => {
                let text = match p.details.errors.first() {
                    Some(e) => e.detail.clone(),
                    None => p.detail,
                };
                Ok(Notice::Problem(text))
            }
            _ => Err(p),
        }
    }

    /// The status a page showing this notice answers with.
    pub fn status(&self) -> u16 {
        match self {
            Notice::Problem(_) => 400,
            _ => 200,
        }
    }

    pub fn render(&self) -> Markup {
        html! {
            @match self {
                Notice::Done(text) => p.notice role="status" { (text) },
                Notice::Secret { what, secret } => div.notice.issued role="status" {
                    p { (what) " Copy it now: it is shown only this once." }
                    input.link-shown #new-secret type="text" readonly value=(secret) aria-label="The new secret";
                },
                Notice::Problem(text) => p.error role="alert" { (text) },
            }
        }
    }
}

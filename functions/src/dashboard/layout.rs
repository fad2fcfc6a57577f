//! The page shell (header, navigation, sign-out), responses with their security headers,
//! and problems shown as pages.

use super::session::Visitor;
use crate::http::Problem;
use lambda_http::{Body, Response};
use maud::{html, Markup, DOCTYPE};

/// Pages load styles and scripts only from this site, and no other site may frame them.
const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// A full page: `title` names the page in the tab and for screen readers.
pub fn page(title: &str, visitor: Option<&Visitor>, content: Markup) -> Markup {
    page_refreshing(title, visitor, None, content)
}

/// A page that reloads itself after `refresh` seconds, when given.
pub fn page_refreshing(title: &str, visitor: Option<&Visitor>, refresh: Option<u32>, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if let Some(seconds) = refresh { meta http-equiv="refresh" content=(seconds); }
                title { (title) " · AI Bot Contacts" }
                link rel="stylesheet" href=(super::assets::STYLE_PATH);
                script src=(super::assets::SCRIPT_PATH) defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/contacts" { "AI Bot Contacts" }
                    @if let Some(v) = visitor {
                        nav aria-label="Main" {
                            a href="/contacts" { "Contacts" }
                            a href="/analytics" { "Analytics" }
                            a href="/segments" { "Segments" }
                            a href="/duplicates" { "Duplicates" }
                            a href="/trash" { "Trash" }
                            @if v.is_admin() { a href="/integrations" { "Integrations" } }
                            @if v.is_admin() { a href="/team" { "Team" } }
                            @if v.is_admin() { a href="/audit" { "Audit log" } }
                            @if v.is_admin() { a href="/bots" { "Bots" } }
                            @if v.is_admin() { a href="/imports" { "Import" } }
                            @if v.is_admin() { a href="/settings" { "Settings" } }
                        }
                        div.who {
                            @if v.caller.user.is_some() {
                                a.person href="/account" title="Your account" { (v.caller.key.name) " · " (v.caller.role()) }
                            }
                            span.workspace title="Workspace" { (v.caller.workspace.name) }
                            span.zone title="Times on these pages are in this time zone" { "Times in " (v.caller.workspace.time_zone.name()) }
                            form method="post" action="/logout" {
                                input type="hidden" name="csrf" value=(v.csrf);
                                button.link type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                main #main tabindex="-1" { (content) }
            }
        }
    }
}

pub fn html(status: u16, markup: Markup) -> Response<Body> {
    with_headers(Response::builder().status(status).header("content-type", "text/html; charset=utf-8"))
        .body(Body::Text(markup.into_string()))
        .expect("valid response")
}

/// `303 See Other`: after a form, the browser GETs the next page.
pub fn redirect(location: &str) -> Response<Body> {
    with_headers(Response::builder().status(303).header("location", location))
        .body(Body::Empty)
        .expect("valid response")
}

fn with_headers(builder: http::response::Builder) -> http::response::Builder {
    builder
        .header("cache-control", "no-store")
        .header("content-security-policy", CSP)
        .header("x-content-type-options", "nosniff")
        .header("referrer-policy", "same-origin")
}

/// Adds a `Set-Cookie` header.
pub fn with_cookie(mut response: Response<Body>, cookie: String) -> Response<Body> {
    response.headers_mut().append("set-cookie", cookie.parse().expect("cookies are ASCII"));
    response
}

/// A problem as a page. Not signed in (401) goes to the sign-in page instead.
pub fn problem_page(p: &Problem, had_session: bool) -> Response<Body> {
    if p.status == 401 {
        let response = redirect("/login");
        return if had_session {
            with_cookie(response, super::session::set_cookie(super::session::SESSION_COOKIE, "", "/", 0))
        } else {
            response
        };
    }
    let heading = match p.status {
        403 => "Not allowed",
        404 => "Not found",
        400 | 413 => "Something in the request is not right",
        _ => "Something went wrong",
    };
    html(
        p.status,
        page(
            heading,
            None,
            html! {
                h1 { (heading) }
                p.error role="alert" { (p.detail) }
                p { a href="/contacts" { "Back to the contacts" } }
            },
        ),
    )
}

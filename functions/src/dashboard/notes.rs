//! Notes on the contact page: timestamped entries written by people, signed with the
//! name of the API key they signed in with.

use super::contact::{contact_id, load, render, Draft, Notice};
use super::contacts::time;
use super::edit::EditForm;
use super::format::Form;
use super::layout::redirect;
use super::session::{self, Visitor};
use super::{Dashboard, PageResult};
use crate::http::{request, Problem};
use lambda_http::Request;
use maud::{html as markup, Markup};
use model::contact::Contact;
use model::note::Note;
use store::StoreError;

pub fn section(v: &Visitor, c: &Contact, notes: &[Note], draft: &str, error: Option<&str>) -> Markup {
    markup! {
        section.card #notes aria-labelledby="notes-heading" {
            h2 #notes-heading { "Notes" }
            @if notes.is_empty() { p.empty { "No notes yet." } }
            ol.notes {
                @for n in notes {
                    li.note {
                        div.meta { strong { (n.author) } " · " (time(n.created_at)) }
                        div.text { (n.text) }
                        @if v.can_write() {
                            form.inline method="post" action={ "/contacts/" (c.id) "/notes/" (n.id) "/delete" } {
                                input type="hidden" name="csrf" value=(v.csrf);
                                button.link-button type="submit" aria-label={ "Delete the note of " (super::format::date_time(n.created_at)) } { "Delete note" }
                            }
                        }
                    }
                }
            }
            @if v.can_write() {
                form method="post" action={ "/contacts/" (c.id) "/notes" } {
                    input type="hidden" name="csrf" value=(v.csrf);
                    div.field {
                        label for="note" { "New note" }
                        textarea #note name="text" rows="3" aria-invalid=[error.map(|_| "true")] { (draft) }
                        @if let Some(e) = error { p.field-error role="alert" { (e) } }
                    }
                    button.primary type="submit" { "Add note" }
                }
            }
        }
    }
}

pub async fn add(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require(d, &req).await?;
    v.require_write()?;
    let form = Form::body(&req)?;
    v.check_csrf(&form)?;
    let c = load(d, &v, contact_id(&req)?).await?;
    let note = match Note::new(form.get("text"), &v.caller.key.name) {
        Ok(n) => n,
        Err(e) => {
            let notice = Notice::Problem("The note was not added.".into());
            let draft = Draft { edit: EditForm::of(&c), note: form.get("text").to_string(), note_error: Some(e.0) };
            return render(d, &v, &c, "", &draft, Some(notice), 400).await;
        }
    };
    d.store.add_note(&v.caller.workspace.id, c.id, &note).await?;
    Ok(redirect(&format!("/contacts/{}?note=added#notes", c.id)))
}

pub async fn delete(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require(d, &req).await?;
    v.require_write()?;
    v.check_csrf(&Form::body(&req)?)?;
    let id = contact_id(&req)?;
    let note_id = request::path_param(&req, "note_id", |n: &str| {
        let ok = n.len() <= 40 && n.starts_with('n') && n.bytes().all(|b| b.is_ascii_alphanumeric());
        if ok {
            Ok(n.to_string())
        } else {
            Err(format!("`{n}` is not a note id"))
        }
    })?;
    d.store.delete_note(&v.caller.workspace.id, id, &note_id).await.map_err(|e| match e {
        StoreError::NotFound => Problem::not_found(format!("contact {id} has no note {note_id}")),
        other => other.into(),
    })?;
    Ok(redirect(&format!("/contacts/{id}?note=deleted#notes")))
}

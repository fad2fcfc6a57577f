//! Notes on the contact page: timestamped entries written by people, signed with the
//! name of the API key they signed in with.

use super::contact::{contact_id, load, render, Draft, Notice};
use super::edit_form::EditForm;
use super::format::Form;
use super::layout::redirect;
use super::session::{self};
use super::{Dashboard, PageResult};
use crate::http::{request, Problem};
use lambda_http::Request;
use model::note::Note;
use store::{NoteAdded, StoreError};

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
    match d.store.add_note(&v.caller.workspace.id, c.id, &note).await? {
        NoteAdded::Added => Ok(redirect(&format!("/contacts/{}?note=added#notes", c.id))),
        NoteAdded::ContactFull => {
            let notice = Notice::Problem("The note was not added.".into());
            let error = crate::api::contacts::notes::full(c.id).detail;
            let draft = Draft { edit: EditForm::of(&c), note: form.get("text").to_string(), note_error: Some(error) };
            render(d, &v, &c, "", &draft, Some(notice), 409).await
        }
    }
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

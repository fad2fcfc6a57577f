//! The form that adds an integration: its values as entered, the model's `Spec` they ask
//! for, the field the model refused, and its markup. Credentials go into the `Spec` only:
//! they are write-only, so the form never keeps or shows them.

use super::format::Form;
use super::session::Visitor;
use maud::{html as markup, Markup};
use model::integration::event::EventKind;
use model::integration::spec::{Invalid, Spec, SpecCredentials};
use model::integration::{hosts, Kind};
use std::collections::BTreeMap;

/// A kind in the product's words.
pub fn kind_label(k: Kind) -> &'static str {
    match k {
        Kind::Hubspot => "HubSpot",
        Kind::Salesforce => "Salesforce",
        Kind::Zoho => "Zoho CRM",
        Kind::Webhook => "Webhook",
    }
}

/// An address or object a kind takes, by its name in `Spec`.
struct Setting {
    field: &'static str,
    label: &'static str,
    /// What the model takes when it is left blank.
    default: Option<&'static str>,
    example: Option<&'static str>,
}

const fn setting(field: &'static str, label: &'static str, default: Option<&'static str>) -> Setting {
    Setting { field, label, default, example: None }
}

fn settings(kind: Kind) -> &'static [Setting] {
    const HUBSPOT: &[Setting] = &[setting("base_url", "API address", Some(hosts::HUBSPOT))];
    const SALESFORCE: &[Setting] = &[
        Setting {
            field: "base_url",
            label: "My Domain URL",
            default: None,
            example: Some("https://yourcompany.my.salesforce.com"),
        },
        setting("token_url", "Token endpoint", Some(hosts::SALESFORCE_LOGIN)),
        setting("external_id_field", "External ID field (holds our contact id)", Some("AIBot_Contact_Id__c")),
    ];
    const ZOHO: &[Setting] = &[
        setting("base_url", "API address (your data centre's)", Some(hosts::ZOHO_API)),
        setting("accounts_url", "Accounts address (your data centre's)", Some(hosts::ZOHO_ACCOUNTS)),
    ];
    const WEBHOOK: &[Setting] =
        &[Setting { field: "url", label: "URL", default: None, example: Some("https://example.com/hooks/contacts") }];
    match kind {
        Kind::Hubspot => HUBSPOT,
        Kind::Salesforce => SALESFORCE,
        Kind::Zoho => ZOHO,
        Kind::Webhook => WEBHOOK,
    }
}

/// The record a CRM keeps contacts as: its field, label and choices (the first is the default).
fn choice(kind: Kind) -> Option<(&'static str, &'static str, &'static [&'static str])> {
    match kind {
        Kind::Salesforce => Some(("object", "Object", &["Lead", "Contact"])),
        Kind::Zoho => Some(("module", "Module", &["Leads", "Contacts"])),
        Kind::Hubspot | Kind::Webhook => None,
    }
}

/// The credentials a kind takes (a webhook's signing secret is made by the service).
fn secrets(kind: Kind) -> &'static [(&'static str, &'static str)] {
    match kind {
        Kind::Hubspot => &[("access_token", "Private app access token")],
        Kind::Salesforce | Kind::Zoho => {
            &[("client_id", "Client ID"), ("client_secret", "Client secret"), ("refresh_token", "Refresh token")]
        }
        Kind::Webhook => &[],
    }
}

/// A kind's control of `field`: each kind has its own fieldset, so its own names.
fn control(kind: Kind, field: &str) -> String {
    format!("{}_{field}", kind.as_str())
}

/// The add form's values as shown (never the credentials), and what the model refused.
#[derive(Debug, Default)]
pub struct IntegrationForm {
    kind: String,
    /// The name, and the chosen kind's addresses and objects, by control name.
    values: BTreeMap<String, String>,
    events: Vec<String>,
    error: Option<Invalid>,
}

impl IntegrationForm {
    /// An empty form; a webhook hears of every event unless told otherwise.
    pub fn blank() -> Self {
        IntegrationForm { events: EventKind::ALL.map(|e| e.as_str().to_string()).to_vec(), ..Default::default() }
    }

    /// The form as sent, and what it asks the model for: the chosen kind's fields only, a
    /// blank one left to the model's default.
    pub fn entered(f: &Form) -> (Self, Spec) {
        let kind_given = f.get("kind").trim().to_string();
        let mut spec = Spec {
            kind: Some(kind_given.clone()).filter(|k| !k.is_empty()),
            name: f.filled("name").map(str::to_string),
            ..Spec::default()
        };
        let mut form = IntegrationForm { kind: kind_given, ..Self::blank() };
        form.values.insert("name".into(), f.get("name").to_string());
        let Some(kind) = form.kind() else { return (form, spec) };
        let value = |field: &str| f.filled(&control(kind, field)).map(str::to_string);
        spec.base_url = value("base_url");
        spec.token_url = value("token_url");
        spec.accounts_url = value("accounts_url");
        spec.object = value("object");
        spec.module = value("module");
        spec.external_id_field = value("external_id_field");
        spec.url = value("url");
        let shown = settings(kind).iter().map(|s| s.field).chain(choice(kind).map(|(field, _, _)| field));
        form.values.extend(shown.filter_map(|field| Some((control(kind, field), value(field)?))));
        if kind == Kind::Webhook {
            form.events = f.all(&control(kind, "events")).into_iter().map(str::to_string).collect();
            spec.events = Some(form.events.clone());
        } else {
            spec.credentials = Some(SpecCredentials {
                access_token: value("access_token"),
                client_id: value("client_id"),
                client_secret: value("client_secret"),
                refresh_token: value("refresh_token"),
            });
        }
        (form, spec)
    }

    /// Marks the field the model refused.
    pub fn reject(&mut self, invalid: Invalid) {
        self.error = Some(invalid);
    }

    fn kind(&self) -> Option<Kind> {
        Kind::parse(&self.kind)
    }

    /// The control of this form that a field the model names is entered in, if any.
    fn control_of(&self, field: &str) -> Option<String> {
        if matches!(field, "kind" | "name") {
            return Some(field.to_string());
        }
        let kind = self.kind()?;
        let field = field.strip_prefix("credentials.").unwrap_or(field);
        let on_form = settings(kind).iter().any(|s| s.field == field)
            || choice(kind).is_some_and(|(c, _, _)| c == field)
            || secrets(kind).iter().any(|(s, _)| *s == field)
            || (field == "credentials" && !secrets(kind).is_empty())
            || (field == "events" && kind == Kind::Webhook);
        on_form.then(|| control(kind, field))
    }

    /// What is wrong with the value of `control`.
    fn error_for(&self, control: &str) -> Option<&str> {
        let e = self.error.as_ref()?;
        (self.control_of(&e.field).as_deref() == Some(control)).then_some(e.detail.as_str())
    }

    /// A labelled input with its hint and error; credentials are never filled in.
    fn input(&self, control: &str, label: &str, secret: bool, hint: Option<String>) -> Markup {
        let error = self.error_for(control);
        let (hint_id, error_id) = (format!("{control}-hint"), format!("{control}-error"));
        let described: Vec<&str> =
            [hint.as_ref().map(|_| hint_id.as_str()), error.map(|_| error_id.as_str())].into_iter().flatten().collect();
        let value = if secret { None } else { Some(self.values.get(control).map_or("", String::as_str)) };
        markup! {
            div.field {
                label for=(control) { (label) }
                input id=(control) name=(control) type=(if secret { "password" } else { "text" }) value=[value]
                    autocomplete="off" spellcheck="false" aria-invalid=[error.map(|_| "true")]
                    aria-describedby=[(!described.is_empty()).then(|| described.join(" "))];
                @if let Some(h) = &hint { p.hint id=(hint_id) { (h) } }
                @if let Some(e) = error { p.field-error id=(error_id) { (label) ": " (e) } }
            }
        }
    }

    fn kind_fields(&self, kind: Kind) -> Markup {
        let chosen = self.kind() == Some(kind);
        let credentials = control(kind, "credentials");
        let events = control(kind, "events");
        markup! {
            fieldset.kind-fields data-kind=(kind.as_str()) hidden[!chosen] disabled[!chosen] {
                legend { (kind_label(kind)) }
                @for s in settings(kind) {
                    @let hint = match (s.default, s.example) {
                        (Some(d), _) => Some(format!("Leave blank for {d}.")),
                        (None, Some(e)) => Some(format!("Required, e.g. {e}.")),
                        (None, None) => None,
                    };
                    (self.input(&control(kind, s.field), s.label, false, hint))
                }
                @if let Some((field, label, options)) = choice(kind) {
                    @let name = control(kind, field);
                    @let current = self.values.get(&name).map_or(options[0], String::as_str);
                    div.field {
                        label for=(name) { (label) }
                        select id=(name) name=(name) {
                            @for o in options { option value=(o) selected[*o == current] { (o) } }
                        }
                        @if let Some(e) = self.error_for(&name) { p.field-error { (label) ": " (e) } }
                    }
                }
                @if kind == Kind::Webhook {
                    @let error = self.error_for(&events);
                    fieldset.events id=(events) aria-describedby=[error.map(|_| format!("{events}-error"))] {
                        legend { "Events" }
                        @for e in EventKind::ALL {
                            label.check {
                                input type="checkbox" name=(events) value=(e.as_str()) checked[self.events.iter().any(|x| x == e.as_str())];
                                " " (e.as_str())
                            }
                        }
                        @if let Some(e) = error { p.field-error id={ (events) "-error" } { "Events: " (e) } }
                    }
                }
                @if !secrets(kind).is_empty() {
                    @let error = self.error_for(&credentials);
                    fieldset.credentials id=(credentials) aria-describedby={ (credentials) "-hint" @if error.is_some() { " " (credentials) "-error" } } {
                        legend { "Credentials" }
                        p.hint id={ (credentials) "-hint" } { "Write-only: kept sealed and never shown again. Enter them again after an error." }
                        @if let Some(e) = error { p.field-error id={ (credentials) "-error" } { "Credentials: " (e) } }
                        @for (field, label) in secrets(kind) {
                            (self.input(&control(kind, field), label, true, None))
                        }
                    }
                }
            }
        }
    }

    /// The form on the integrations page: the chosen kind's fields only (the script swaps
    /// them as the kind changes; without it, a first "Add" shows the chosen kind's fields).
    pub fn markup(&self, v: &Visitor) -> Markup {
        let chosen = self.kind();
        let kind_error = self.error_for("kind");
        markup! {
            form.integration method="post" action="/integrations" novalidate {
                input type="hidden" name="csrf" value=(v.csrf);
                @if let Some(e) = &self.error {
                    @if self.control_of(&e.field).is_some() {
                        p.error role="alert" { "Please correct the field marked below." }
                    } @else {
                        p.error role="alert" { (e.field) ": " (e.detail) }
                    }
                }
                div.field {
                    label for="kind" { "Kind" }
                    select #kind name="kind" data-integration-kind aria-invalid=[kind_error.map(|_| "true")]
                        aria-describedby=[kind_error.map(|_| "kind-error")] {
                        option value="" selected[chosen.is_none()] { "Choose a CRM or a webhook…" }
                        @for k in Kind::ALL {
                            option value=(k.as_str()) selected[chosen == Some(k)] { (kind_label(k)) }
                        }
                    }
                    @if let Some(e) = kind_error { p.field-error #kind-error { "Kind: " (e) } }
                }
                (self.input("name", "Name", false, Some("Optional: the kind's name by default.".into())))
                @for k in Kind::ALL { (self.kind_fields(k)) }
                button.primary type="submit" { "Add integration" }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entered(query: &str) -> (IntegrationForm, Spec) {
        IntegrationForm::entered(&Form::parse_query(query))
    }

    #[test]
    fn only_the_chosen_kinds_fields_reach_the_spec() {
        let (_, spec) = entered(
            "kind=salesforce&salesforce_base_url=https%3A%2F%2Facme.my.salesforce.com&salesforce_object=Contact\
             &salesforce_client_id=id&salesforce_client_secret=s&salesforce_refresh_token=r\
             &hubspot_base_url=https%3A%2F%2Fother.example.com&hubspot_access_token=t&webhook_url=https%3A%2F%2Fx.example.com",
        );
        assert_eq!(spec.base_url.as_deref(), Some("https://acme.my.salesforce.com"));
        assert_eq!((spec.object.as_deref(), spec.url.as_deref(), spec.events.is_none()), (Some("Contact"), None, true));
        let credentials = spec.credentials.unwrap();
        assert_eq!((credentials.client_id.as_deref(), credentials.access_token), (Some("id"), None));
    }

    #[test]
    fn credentials_are_never_kept_on_the_form_and_blanks_take_the_defaults() {
        let (form, spec) = entered("kind=hubspot&hubspot_base_url=&hubspot_access_token=pat-secret&name=");
        assert!(spec.base_url.is_none() && spec.name.is_none());
        assert!(!format!("{form:?}").contains("pat-secret"));
        let (webhook, spec) =
            entered("kind=webhook&webhook_url=https%3A%2F%2Fx.example.com&webhook_events=contact.created");
        assert_eq!(spec.events, Some(vec!["contact.created".to_string()]));
        assert!(spec.credentials.is_none() && webhook.values.contains_key("webhook_url"));
    }

    #[test]
    fn the_models_field_names_find_their_controls() {
        let (form, _) = entered("kind=zoho");
        assert_eq!(form.control_of("credentials.client_id").as_deref(), Some("zoho_client_id"));
        assert_eq!(form.control_of("credentials").as_deref(), Some("zoho_credentials"));
        assert_eq!(form.control_of("module").as_deref(), Some("zoho_module"));
        assert_eq!(form.control_of("kind").as_deref(), Some("kind"));
        assert_eq!(form.control_of("token_url"), None, "not a Zoho field: shown above the form");
        assert_eq!(form.control_of("field_map"), None);
    }
}

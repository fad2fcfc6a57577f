//! A new integration or a change to one, as a workspace asks for it, checked: the kind's
//! addresses (defaults: the vendor's real hosts), its objects, credentials and field names.

use super::address::{check, AddressPolicy};
use super::event::EventKind;
use super::fields::{self, Field};
use super::{hosts, new_id, signing, Credentials, Integration, Kind, Target};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};

/// What a request names (every field optional: which are required depends on the kind).
#[derive(Debug, Clone, Default)]
pub struct Spec {
    pub kind: Option<String>,
    pub name: Option<String>,
    pub base_url: Option<String>,
    pub token_url: Option<String>,
    pub accounts_url: Option<String>,
    pub object: Option<String>,
    pub module: Option<String>,
    pub external_id_field: Option<String>,
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub credentials: Option<SpecCredentials>,
    pub field_map: Option<BTreeMap<String, Option<String>>>,
    /// List filters, already checked by the caller (they need the workspace).
    pub filters: Option<BTreeMap<String, String>>,
    pub archive_after_sync: Option<bool>,
    pub paused: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct SpecCredentials {
    pub access_token: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub refresh_token: Option<String>,
}

/// The field that is wrong, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub field: String,
    pub detail: String,
}

fn invalid(field: &str, detail: impl Into<String>) -> Invalid {
    Invalid { field: field.to_string(), detail: detail.into() }
}

/// A new integration and its credentials (a webhook's signing secret made here).
pub fn create(spec: Spec, policy: AddressPolicy, now: DateTime<Utc>) -> Result<(Integration, Credentials), Invalid> {
    let raw_kind =
        spec.kind.clone().ok_or_else(|| invalid("kind", "is required: hubspot, salesforce, zoho or webhook"))?;
    let kind = Kind::parse(&raw_kind).ok_or_else(|| {
        invalid("kind", format!("`{raw_kind}` is not a kind: expected hubspot, salesforce, zoho or webhook"))
    })?;
    let address = |field: &str, value: &Option<String>, default: &str| {
        check(value.as_deref().unwrap_or(default), policy).map_err(|e| invalid(field, e))
    };
    let unexpected = |field: &str, present: bool| match present {
        true => Err(invalid(field, format!("does not apply to a {} integration", kind.as_str()))),
        false => Ok(()),
    };
    let target = match kind {
        Kind::Hubspot => Target::Hubspot { base_url: address("base_url", &spec.base_url, hosts::HUBSPOT)? },
        Kind::Salesforce => {
            let base = spec.base_url.as_ref().ok_or_else(|| {
                invalid("base_url", "is required: your org's My Domain URL, e.g. https://yourcompany.my.salesforce.com")
            })?;
            let object = spec.object.clone().unwrap_or_else(|| "Lead".into());
            if !["Lead", "Contact"].contains(&object.as_str()) {
                return Err(invalid("object", format!("`{object}` is not Lead or Contact")));
            }
            let external_id_field = spec.external_id_field.clone().unwrap_or_else(|| "AIBot_Contact_Id__c".into());
            fields::check_vendor_name(&external_id_field).map_err(|e| invalid("external_id_field", e))?;
            Target::Salesforce {
                base_url: address("base_url", &Some(base.clone()), "")?,
                token_url: address("token_url", &spec.token_url, hosts::SALESFORCE_LOGIN)?,
                object,
                external_id_field,
            }
        }
        Kind::Zoho => {
            let module = spec.module.clone().unwrap_or_else(|| "Leads".into());
            if !["Leads", "Contacts"].contains(&module.as_str()) {
                return Err(invalid("module", format!("`{module}` is not Leads or Contacts")));
            }
            Target::Zoho {
                base_url: address("base_url", &spec.base_url, hosts::ZOHO_API)?,
                accounts_url: address("accounts_url", &spec.accounts_url, hosts::ZOHO_ACCOUNTS)?,
                module,
            }
        }
        Kind::Webhook => {
            let url = spec.url.as_ref().ok_or_else(|| invalid("url", "is required: where the events are POSTed"))?;
            Target::Webhook { url: address("url", &Some(url.clone()), "")?, events: events(spec.events.as_deref())? }
        }
    };
    if kind != Kind::Webhook {
        unexpected("url", spec.url.is_some())?;
        unexpected("events", spec.events.is_some())?;
    } else {
        unexpected("credentials", spec.credentials.is_some())?;
        unexpected("field_map", spec.field_map.is_some())?;
        unexpected("archive_after_sync", spec.archive_after_sync.is_some())?;
    }
    unexpected("token_url", spec.token_url.is_some() && kind != Kind::Salesforce)?;
    unexpected("object", spec.object.is_some() && kind != Kind::Salesforce)?;
    unexpected("external_id_field", spec.external_id_field.is_some() && kind != Kind::Salesforce)?;
    unexpected("accounts_url", spec.accounts_url.is_some() && kind != Kind::Zoho)?;
    unexpected("module", spec.module.is_some() && kind != Kind::Zoho)?;
    let credentials = match kind {
        Kind::Webhook => Credentials::Signing {
            secret: signing::new_secret().map_err(|e| invalid("credentials", format!("no randomness: {e}")))?,
        },
        _ => credentials(kind, spec.credentials.as_ref())?,
    };
    let mut field_map = fields::defaults(kind);
    if let Some(changes) = &spec.field_map {
        field_map = apply_field_map(field_map, changes)?;
    }
    if let Target::Salesforce { external_id_field, .. } = &target {
        field_map.insert(Field::ContactId, external_id_field.clone());
        fields::check_distinct(&field_map).map_err(|e| invalid("field_map", e))?;
    }
    let integration = Integration {
        id: new_id(now),
        name: name(spec.name.as_deref(), kind)?,
        target,
        field_map,
        filters: spec.filters.unwrap_or_default(),
        archive_after_sync: spec.archive_after_sync.unwrap_or(false),
        paused: spec.paused.unwrap_or(false),
        created_at: now,
        updated_at: now,
    };
    Ok((integration, credentials))
}

/// A change of name, pause, field map or credentials; an integration's kind and addresses
/// stay as made (a new address is a new integration).
pub fn change(
    mut integration: Integration,
    mut current: Credentials,
    spec: Spec,
    now: DateTime<Utc>,
) -> Result<(Integration, Credentials), Invalid> {
    let kind = integration.target.kind();
    let fixed = [
        ("kind", spec.kind.is_some()),
        ("base_url", spec.base_url.is_some()),
        ("token_url", spec.token_url.is_some()),
        ("accounts_url", spec.accounts_url.is_some()),
        ("object", spec.object.is_some()),
        ("module", spec.module.is_some()),
        ("external_id_field", spec.external_id_field.is_some()),
        ("url", spec.url.is_some()),
    ];
    if let Some((field, _)) = fixed.iter().find(|(_, given)| *given) {
        return Err(invalid(field, "cannot be changed: make a new integration and delete this one"));
    }
    if let Some(n) = &spec.name {
        integration.name = name(Some(n), kind)?;
    }
    if let Some(p) = spec.paused {
        integration.paused = p;
    }
    if let Some(filters) = spec.filters {
        integration.filters = filters;
    }
    if let Some(archive) = spec.archive_after_sync {
        if kind == Kind::Webhook {
            return Err(invalid("archive_after_sync", "only a CRM takes contacts over"));
        }
        integration.archive_after_sync = archive;
    }
    if let Some(events_given) = &spec.events {
        match &mut integration.target {
            Target::Webhook { events: e, .. } => *e = events(Some(events_given))?,
            _ => return Err(invalid("events", "only a webhook has events")),
        }
    }
    if let Some(changes) = &spec.field_map {
        if kind == Kind::Webhook {
            return Err(invalid("field_map", "a webhook sends the contact's API fields"));
        }
        integration.field_map = apply_field_map(integration.field_map, changes)?;
        if let Target::Salesforce { external_id_field, .. } = &integration.target {
            integration.field_map.insert(Field::ContactId, external_id_field.clone());
            fields::check_distinct(&integration.field_map).map_err(|e| invalid("field_map", e))?;
        }
    }
    if spec.credentials.is_some() {
        if kind == Kind::Webhook {
            return Err(invalid("credentials", "a webhook's signing secret is made by the service"));
        }
        current = credentials(kind, spec.credentials.as_ref())?;
    }
    integration.updated_at = now;
    Ok((integration, current))
}

fn name(given: Option<&str>, kind: Kind) -> Result<String, Invalid> {
    let collapsed = given.map(|n| n.split_whitespace().collect::<Vec<_>>().join(" ")).unwrap_or_default();
    match collapsed.chars().count() {
        0 if given.is_none() => Ok(kind.as_str().to_string()),
        1..=100 => Ok(collapsed),
        _ => Err(invalid("name", "must be 1 to 100 characters")),
    }
}

fn events(given: Option<&[String]>) -> Result<BTreeSet<EventKind>, Invalid> {
    let Some(given) = given else { return Ok(EventKind::ALL.into_iter().collect()) };
    let all = EventKind::ALL.map(EventKind::as_str).join(", ");
    let set = given
        .iter()
        .map(|e| EventKind::parse(e).ok_or_else(|| invalid("events", format!("`{e}` is not an event: expected {all}"))))
        .collect::<Result<BTreeSet<_>, _>>()?;
    if set.is_empty() {
        return Err(invalid("events", format!("needs at least one of {all}")));
    }
    Ok(set)
}

fn credentials(kind: Kind, given: Option<&SpecCredentials>) -> Result<Credentials, Invalid> {
    let given = given.ok_or_else(|| invalid("credentials", "is required"))?;
    let required = |field: &str, value: &Option<String>| {
        value
            .as_ref()
            .filter(|v| !v.trim().is_empty() && v.len() <= 4096)
            .cloned()
            .ok_or_else(|| invalid(&format!("credentials.{field}"), "is required"))
    };
    match kind {
        Kind::Hubspot => {
            if given.client_id.is_some() || given.client_secret.is_some() || given.refresh_token.is_some() {
                return Err(invalid("credentials", "HubSpot takes a private app's `access_token` only"));
            }
            Ok(Credentials::Token { access_token: required("access_token", &given.access_token)? })
        }
        _ => {
            if given.access_token.is_some() {
                return Err(invalid("credentials.access_token", "is fetched with the refresh token: leave it out"));
            }
            Ok(Credentials::Refresh {
                client_id: required("client_id", &given.client_id)?,
                client_secret: required("client_secret", &given.client_secret)?,
                refresh_token: required("refresh_token", &given.refresh_token)?,
                access_token: None,
            })
        }
    }
}

fn apply_field_map(
    map: BTreeMap<Field, String>,
    changes: &BTreeMap<String, Option<String>>,
) -> Result<BTreeMap<Field, String>, Invalid> {
    let all = Field::ALL.map(Field::as_str).join(", ");
    let typed = changes
        .iter()
        .map(|(k, v)| {
            let field = Field::parse(k)
                .ok_or_else(|| invalid(&format!("field_map.{k}"), format!("is not one of our fields: {all}")))?;
            Ok((field, v.clone()))
        })
        .collect::<Result<BTreeMap<_, _>, Invalid>>()?;
    fields::apply(map, &typed).map_err(|e| invalid("field_map", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROD: AddressPolicy = AddressPolicy { allow_local_http: false };

    fn now() -> DateTime<Utc> {
        "2026-11-29T10:00:00Z".parse().unwrap()
    }

    fn token(t: &str) -> Option<SpecCredentials> {
        Some(SpecCredentials { access_token: Some(t.into()), ..Default::default() })
    }

    #[test]
    fn hubspot_defaults_to_its_real_host() {
        let spec = Spec { kind: Some("hubspot".into()), credentials: token("pat-1"), ..Default::default() };
        let (i, c) = create(spec, PROD, now()).unwrap();
        assert_eq!(i.target, Target::Hubspot { base_url: "https://api.hubapi.com".into() });
        assert_eq!(c, Credentials::Token { access_token: "pat-1".into() });
        assert_eq!(i.name, "hubspot");
    }

    #[test]
    fn a_webhook_gets_a_signing_secret_and_every_event_by_default() {
        let spec =
            Spec { kind: Some("webhook".into()), url: Some("https://example.com/hooks".into()), ..Default::default() };
        let (i, c) = create(spec, PROD, now()).unwrap();
        assert!(matches!(c, Credentials::Signing { ref secret } if secret.starts_with("whsec_")));
        assert!(matches!(i.target, Target::Webhook { ref events, .. } if events.len() == EventKind::ALL.len()));
    }

    #[test]
    fn bad_specs_name_their_field() {
        let field_of = |spec: Spec| create(spec, PROD, now()).unwrap_err().field;
        assert_eq!(field_of(Spec { kind: Some("pipedrive".into()), ..Default::default() }), "kind");
        assert_eq!(field_of(Spec { kind: Some("hubspot".into()), ..Default::default() }), "credentials");
        let private = Spec {
            kind: Some("hubspot".into()),
            base_url: Some("https://10.1.2.3".into()),
            credentials: token("x"),
            ..Default::default()
        };
        assert_eq!(field_of(private), "base_url");
        let salesforce = Spec {
            kind: Some("salesforce".into()),
            base_url: Some("https://acme.my.salesforce.com".into()),
            credentials: token("x"),
            ..Default::default()
        };
        assert_eq!(field_of(salesforce), "credentials.access_token");
        let unknown_field = Spec {
            kind: Some("zoho".into()),
            credentials: Some(SpecCredentials {
                client_id: Some("id".into()),
                client_secret: Some("secret".into()),
                refresh_token: Some("refresh".into()),
                ..Default::default()
            }),
            field_map: Some(BTreeMap::from([("company".into(), Some("Company".into()))])),
            ..Default::default()
        };
        assert_eq!(field_of(unknown_field), "field_map.company");
        let webhook_events = Spec {
            kind: Some("webhook".into()),
            url: Some("https://example.com".into()),
            events: Some(vec!["contact.viewed".into()]),
            ..Default::default()
        };
        assert_eq!(field_of(webhook_events), "events");
    }

    #[test]
    fn a_change_keeps_the_address_and_replaces_credentials() {
        let spec = Spec { kind: Some("hubspot".into()), credentials: token("old"), ..Default::default() };
        let (i, c) = create(spec, PROD, now()).unwrap();
        let moved = Spec { base_url: Some("https://example.com".into()), ..Default::default() };
        assert_eq!(change(i.clone(), c.clone(), moved, now()).unwrap_err().field, "base_url");
        let (i2, c2) =
            change(i, c, Spec { credentials: token("new"), paused: Some(true), ..Default::default() }, now()).unwrap();
        assert!(i2.paused);
        assert_eq!(c2, Credentials::Token { access_token: "new".into() });
    }
}

//! The audit trail of HTTP requests: every access to a customer (page,
//! timeline, note, export, the customers list, the quality report), every
//! write (notes, attributes, merge, split, never-merge, reindex, job
//! cancel, snapshot), every identity change (keys, sign-in and sign-out)
//! and every refusal of one of them, with the actor from the credential,
//! the route, the target ids and the outcome, appended before the answer
//! leaves. Erasures write their own entry inside the erasure's transaction
//! (`store/erasure.rs`); only their refusals are recorded here.
//!
//! It must never record personal values: targets are the ids in the path
//! (and the customer ids a merge or never-merge names in its body),
//! details are the route and, for exports, the query parameters and (in
//! `export.finished`, once the last row is written) the number of lines.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use serde_json::{Map, Value};

use crate::engine::{NewAudit, Rapport};

/// The actor a request was authorised as, put into the response by
/// `auth::authorize` for this layer to read.
#[derive(Clone)]
pub struct Actor(pub String);

/// Customer ids a handler read from the request's body (merge and
/// never-merge name theirs there, not in the path), put into the response
/// for this layer to add to the entry's targets.
#[derive(Clone)]
pub struct BodyTargets(pub Vec<String>);

/// The audited action of a route, or `None` for routes that are not
/// (searches, health, the page, metrics, the audit log itself).
pub fn action(method: &Method, route: &str) -> Option<&'static str> {
    Some(match (method.as_str(), route) {
        ("GET", "/v1/customers/{id}") => "customer.read",
        ("GET", "/v1/customers/{id}/timeline") => "timeline.read",
        ("GET", "/v1/customers/{id}/subject-export") => "subject.export",
        ("GET", "/v1/notes/{id}") => "note.read",
        ("GET", "/v1/export") => "export",
        ("GET", "/v1/customers") => "customers.export",
        ("GET", "/v1/quality")
        | ("GET", "/v1/quality/unattached" | "/v1/quality/records" | "/v1/quality/duplicates") => {
            "quality.read"
        }
        ("POST", "/v1/notes") => "note.create",
        ("PUT" | "PATCH", "/v1/notes/{id}") => "note.update",
        ("DELETE", "/v1/notes/{id}") => "note.delete",
        ("POST", "/v1/attributes") => "attributes.write",
        ("POST", "/v1/customers/merge") => "merge",
        ("POST", "/v1/customers/never-merge") => "never_merge",
        ("POST", "/v1/customers/{id}/split") => "split",
        ("POST", "/v1/customers/{id}/attach") => "attach",
        ("POST", "/v1/customers/{id}/rectify") => "rectify",
        ("POST", "/v1/erasures") => "erase",
        ("GET", "/v1/retention/plan") => "retention.plan",
        ("POST", "/v1/retention/run") => "retention.start",
        ("POST", "/v1/reindex") => "reindex",
        ("DELETE", "/v1/jobs/{id}") => "job.cancel",
        ("POST", "/v1/snapshots") => "snapshot",
        ("POST", "/v1/keys") => "key.create",
        ("DELETE", "/v1/keys/{id}") => "key.revoke",
        ("POST", "/v1/keys/{id}/rotate") => "key.rotate",
        ("POST", "/v1/users") => "user.create",
        ("PATCH", "/v1/users/{name}") => "user.update",
        ("POST", "/v1/users/{name}/sign-in-link") => "user.sign_in_link",
        ("POST", "/v1/session") => "signin",
        ("DELETE", "/v1/session") => "signout",
        _ => return None,
    })
}

/// Appends `export.finished` once an export's last row was written: the
/// rows it held (lines of the file, header included) and whether the
/// client took it to the end. Called from the export's writer thread.
pub fn export_finished(
    app: &Rapport,
    actor: &str,
    query: Option<String>,
    summary: &crate::engine::ExportSummary,
    delivered: bool,
) {
    let mut details = Map::new();
    details.insert("route".into(), Value::from("GET /v1/export"));
    if let Some(query) = query {
        details.insert("query".into(), Value::from(query));
    }
    details.insert("lines".into(), Value::from(summary.lines));
    details.insert(
        "unassigned_records".into(),
        Value::from(summary.unassigned_records),
    );
    let entry = NewAudit {
        actor: actor.to_string(),
        action: "export.finished".into(),
        outcome: if delivered { "ok" } else { "client_gone" }.into(),
        details,
        ..NewAudit::default()
    };
    if let Err(e) = app.record_audit(vec![entry]) {
        tracing::error!(error = %e, "cannot write the export's audit entry");
    }
}

/// The values of the `{…}` segments of `route` in `path`.
fn path_ids(route: &str, path: &str) -> Vec<String> {
    route
        .split('/')
        .zip(path.split('/'))
        .filter(|(template, _)| template.starts_with('{'))
        .map(|(_, value)| value.to_string())
        .collect()
}

/// Middleware: appends one audit entry per audited request, after the
/// handler answered and before the answer is sent.
pub async fn record(State(app): State<Arc<Rapport>>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let Some(route) = super::route_template(&request) else {
        return next.run(request).await;
    };
    let Some(action) = action(&method, &route) else {
        return next.run(request).await;
    };
    let mut ids = path_ids(&route, request.uri().path());
    let query = request.uri().query().map(str::to_string);
    let response = next.run(request).await;
    if let Some(BodyTargets(more)) = response.extensions().get::<BodyTargets>() {
        for id in more {
            if !ids.contains(id) {
                ids.push(id.clone());
            }
        }
    }
    let status = response.status();
    // A successful erasure is in the log already, written with it.
    if action == "erase" && status.is_success() {
        return response;
    }
    let actor = response
        .extensions()
        .get::<Actor>()
        .map_or_else(|| "anonymous".to_string(), |a| a.0.clone());
    let mut details = Map::new();
    details.insert("route".into(), Value::from(format!("{method} {route}")));
    if action == "export"
        && let Some(query) = query
    {
        details.insert("query".into(), Value::from(query));
    }
    let customer_id = ids
        .first()
        .filter(|_| route.starts_with("/v1/customers/"))
        .cloned();
    let entry = NewAudit {
        actor,
        action: action.to_string(),
        customer_id,
        targets: ids,
        outcome: if status.is_success() {
            "ok".to_string()
        } else {
            status.as_u16().to_string()
        },
        details,
        ..NewAudit::default()
    };
    match tokio::task::spawn_blocking(move || app.record_audit(vec![entry])).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::error!(error = %e, action, "cannot write the audit entry"),
        Err(e) => tracing::error!(error = %e, action, "the audit task failed"),
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ids_of_a_route_are_read_from_the_path() {
        assert_eq!(
            path_ids(
                "/v1/customers/{id}/timeline",
                "/v1/customers/org_42/timeline"
            ),
            vec!["org_42".to_string()]
        );
        assert!(path_ids("/v1/export", "/v1/export").is_empty());
        assert_eq!(action(&Method::GET, "/v1/search"), None);
        assert_eq!(
            action(&Method::GET, "/v1/customers/{id}"),
            Some("customer.read")
        );
    }
}

//! The OpenAPI 3.1 document, derived from the handlers and their types.

use super::{account, credits, job_service, jobs, keys, lab, orgs, service, subscription};
use axum::Json;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "Keyward API", version = "1.0.0", description = "Programmatic access with Keyward API keys."),
    paths(
        account::me,
        keys::list_keys,
        keys::create_key,
        keys::get_key,
        keys::regenerate_key,
        keys::delete_key,
        keys::key_usage,
        credits::credits,
        credits::transactions,
        subscription::subscription,
        lab::lab,
        lab::stop,
        jobs::list,
        jobs::get,
        jobs::cancel,
        orgs::list_orgs,
        orgs::org_members,
        service::verify_key,
        service::refund_charge,
        service::healthz,
        job_service::submit,
        job_service::update,
    ),
    modifiers(&SecuritySchemes),
    tags((name = "account"), (name = "keys"), (name = "credits"), (name = "billing"), (name = "lab"), (name = "jobs"), (name = "orgs"), (name = "service"))
)]
struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("kw_…")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "service_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub(super) async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

//! The API documentation page: the OpenAPI document described for people, endpoint by
//! endpoint, so the page and `/api/openapi.json` never disagree.

use maud::{Markup, html};
use utoipa::openapi::path::Operation;
use utoipa::openapi::{OpenApi, PathItem, RefOr, Response};

use super::layout::{PageContext, page};

/// `GET /api/docs`: every path and method with its summary, parameters and responses.
pub fn api_docs(ctx: &PageContext, doc: &OpenApi) -> Markup {
    page(
        ctx,
        "API",
        html! {
            h1 { (doc.info.title) " " (doc.info.version) }
            @if let Some(d) = &doc.info.description { p { (d) } }
            p { a href="/api/openapi.json" { "openapi.json" } }
            @for (path, item) in &doc.paths.paths {
                @for (method, op) in operations(item) {
                    section.endpoint {
                        h2 { code { (method) " " (path) } }
                        @if let Some(s) = &op.summary { p { (s) } }
                        @if let Some(d) = &op.description { p { (d) } }
                        @if let Some(params) = &op.parameters {
                            table {
                                caption { "Parameters" }
                                thead { tr { th scope="col" { "name" } th scope="col" { "in" } th scope="col" { "description" } } }
                                tbody { @for p in params {
                                    tr { td { code { (p.name) } } td { (serde_json::to_value(&p.parameter_in).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()) } td { (p.description.as_deref().unwrap_or("")) } }
                                } }
                            }
                        }
                        ul { @for (status, resp) in &op.responses.responses {
                            li { strong { (status) } " " (response_description(resp)) }
                        } }
                    }
                }
            }
        },
    )
}

fn operations(item: &PathItem) -> Vec<(&'static str, &Operation)> {
    [
        ("GET", &item.get),
        ("POST", &item.post),
        ("PUT", &item.put),
        ("DELETE", &item.delete),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.as_ref().map(|op| (m, op)))
    .collect()
}

fn response_description(resp: &RefOr<Response>) -> &str {
    match resp {
        RefOr::T(r) => &r.description,
        RefOr::Ref(r) => &r.ref_location,
    }
}

//! Route tables: each HTTP function lists its routes once, as `infra/template.yaml`
//! declares them, with the handler of each. The function dispatches on the route key
//! API Gateway matched through its table, and `tests/template.rs` compares the same
//! table with the template.

use super::HttpResult;
use lambda_http::Request;
use std::future::Future;
use std::pin::Pin;

/// A route handler's future, borrowing the function's state.
pub type RouteFuture<'a> = Pin<Box<dyn Future<Output = HttpResult> + Send + 'a>>;

/// One route of a function whose handler state is `S`.
pub struct Route<S: 'static> {
    pub method: &'static str,
    /// The path template, with `{name}` parameters.
    pub path: &'static str,
    pub handle: for<'a> fn(&'a S, Request) -> RouteFuture<'a>,
}

impl<S> Route<S> {
    pub const fn new(
        method: &'static str,
        path: &'static str,
        handle: for<'a> fn(&'a S, Request) -> RouteFuture<'a>,
    ) -> Self {
        Route { method, path, handle }
    }

    /// The route key, as API Gateway and the template write it (`GET /api/v1/contacts/{id}`).
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    fn is(&self, route_key: &str) -> bool {
        route_key.split_once(' ') == Some((self.method, self.path))
    }
}

/// The route of `table` whose key API Gateway matched.
pub fn find<'t, S>(table: &'t [Route<S>], route_key: &str) -> Option<&'t Route<S>> {
    table.iter().find(|r| r.is(route_key))
}

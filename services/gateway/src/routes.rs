//! The REST routes, read from the `google.api.http` options in the
//! descriptor set, so the HTTP surface cannot drift from the proto.
//!
//! Supported templates are what AIP-style APIs use: literal segments,
//! `{field}` / `{field.sub}` / `{field=*}` variables, and a trailing custom
//! verb (`/v1/apiKeys/{id}:revoke`). Anything else fails at start-up, not at
//! request time.

use std::collections::HashMap;

use anyhow::{Context as _, bail};
use http::Method;
use prost_reflect::{
    DescriptorPool, FieldDescriptor, MessageDescriptor, MethodDescriptor, ReflectMessage, Value,
};

/// Where the HTTP body goes in the request message.
#[derive(Debug, Clone)]
pub enum BodyRule {
    /// No body (GET, DELETE).
    None,
    /// The whole body is the request message, less the path variables.
    Whole,
    /// The body is this field of the request message.
    Field(FieldDescriptor),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Literal(String),
    /// A variable bound to a (possibly nested) field, by proto field names.
    Variable(Vec<String>),
}

/// A parsed URL template.
#[derive(Debug, Clone)]
pub struct PathTemplate {
    pub raw: String,
    pub segments: Vec<Segment>,
    pub verb: Option<String>,
}

impl PathTemplate {
    pub fn parse(raw: &str) -> anyhow::Result<Self> {
        let rest = raw
            .strip_prefix('/')
            .with_context(|| format!("template {raw:?} must start with /"))?;
        // The verb follows the last ':' that is outside braces.
        let (path, verb) = match rest.rfind(':') {
            Some(i) if !rest[i..].contains('}') => (&rest[..i], Some(rest[i + 1..].to_string())),
            _ => (rest, None),
        };
        let mut segments = Vec::new();
        for seg in path.split('/') {
            if let Some(inner) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                let (field, pattern) = inner.split_once('=').unwrap_or((inner, "*"));
                if pattern != "*" {
                    bail!(
                        "template {raw:?}: only {{field}} or {{field=*}} variables are supported"
                    );
                }
                segments.push(Segment::Variable(
                    field.split('.').map(str::to_string).collect(),
                ));
            } else if seg.is_empty() || seg.contains(['{', '}', '*']) {
                bail!("template {raw:?}: unsupported segment {seg:?}");
            } else {
                segments.push(Segment::Literal(seg.to_string()));
            }
        }
        Ok(Self {
            raw: raw.to_string(),
            segments,
            verb,
        })
    }

    /// The variables bound by `path`, or `None` when it does not match.
    pub fn matches(&self, path: &str) -> Option<Vec<(Vec<String>, String)>> {
        let rest = path.strip_prefix('/')?;
        let rest = match &self.verb {
            Some(verb) => rest.strip_suffix(verb.as_str())?.strip_suffix(':')?,
            None => rest,
        };
        // Tried against every route in turn: nothing is allocated until a
        // variable is bound.
        let mut parts = rest.split('/');
        let mut bound = Vec::new();
        for segment in &self.segments {
            let part = parts.next()?;
            match segment {
                Segment::Literal(lit) if lit == part => {}
                Segment::Literal(_) => return None,
                Segment::Variable(field) => {
                    let value = percent_encoding::percent_decode_str(part)
                        .decode_utf8()
                        .ok()?;
                    // Without a verb in the template, a ':' in the last
                    // segment means a verb this route does not have.
                    if value.is_empty() || (self.verb.is_none() && value.contains(':')) {
                        return None;
                    }
                    bound.push((field.clone(), value.into_owned()));
                }
            }
        }
        if parts.next().is_some() {
            return None;
        }
        Some(bound)
    }

    /// The template in OpenAPI form: `/v1/suppliers/{supplier.id}:revoke`.
    pub fn openapi_path(&self) -> String {
        let mut out = String::new();
        for seg in &self.segments {
            out.push('/');
            match seg {
                Segment::Literal(l) => out.push_str(l),
                Segment::Variable(f) => {
                    out.push('{');
                    out.push_str(&f.join("."));
                    out.push('}');
                }
            }
        }
        if let Some(v) = &self.verb {
            out.push(':');
            out.push_str(v);
        }
        out
    }

    /// Proto field paths bound by the path.
    pub fn variables(&self) -> impl Iterator<Item = &Vec<String>> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Variable(f) => Some(f),
            Segment::Literal(_) => None,
        })
    }
}

/// One REST route and the RPC it calls.
#[derive(Debug, Clone)]
pub struct Route {
    pub http_method: Method,
    pub template: PathTemplate,
    pub body: BodyRule,
    pub rpc: MethodDescriptor,
    /// `/package.Service/Method`, the gRPC request path.
    pub grpc_path: http::uri::PathAndQuery,
    /// The request span's name: `GET /v1/suppliers/{id}`.
    pub span_name: String,
    /// Callable without an API key (`gearshift.api.public` on the RPC).
    pub public: bool,
}

impl Route {
    pub fn service_name(&self) -> String {
        self.rpc.parent_service().full_name().to_string()
    }

    pub fn input(&self) -> MessageDescriptor {
        self.rpc.input()
    }
}

/// Every route of the services named in `services`, in declaration order.
pub fn load(pool: &DescriptorPool, services: &[&str]) -> anyhow::Result<Vec<Route>> {
    let http_ext = pool
        .get_extension_by_name("google.api.http")
        .context("the descriptor set lacks google.api.http")?;
    // Absent from a descriptor set that declares no public method.
    let public_ext = pool.get_extension_by_name("gearshift.api.public");
    let mut routes = Vec::new();
    for name in services {
        let service = pool
            .get_service_by_name(name)
            .with_context(|| format!("service {name} is not in the descriptor set"))?;
        for method in service.methods() {
            let options = method.options();
            // Without an HTTP rule a method is for other services only.
            if !options.has_extension(&http_ext) {
                continue;
            }
            let rule = options.get_extension(&http_ext);
            let Value::Message(rule) = rule.as_ref() else {
                bail!("{}: google.api.http is not a message", method.full_name());
            };
            let (http_method, template) = rule_pattern(rule)
                .with_context(|| format!("{}: no HTTP pattern", method.full_name()))?;
            let template = PathTemplate::parse(&template)?;
            let body_name = rule
                .get_field_by_name("body")
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let body = match body_name.as_str() {
                "" => BodyRule::None,
                "*" => BodyRule::Whole,
                field => {
                    BodyRule::Field(method.input().get_field_by_name(field).with_context(|| {
                        format!("{}: body field {field} does not exist", method.full_name())
                    })?)
                }
            };
            for var in template.variables() {
                check_field_path(&method.input(), var).with_context(|| {
                    format!("{}: path variable {}", method.full_name(), var.join("."))
                })?;
            }
            let public = public_ext.as_ref().is_some_and(|ext| {
                options.has_extension(ext) && options.get_extension(ext).as_bool() == Some(true)
            });
            let grpc_path = format!("/{}/{}", service.full_name(), method.name())
                .parse()
                .with_context(|| format!("{}: not a gRPC path", method.full_name()))?;
            routes.push(Route {
                public,
                span_name: format!("{http_method} {}", template.raw),
                http_method,
                grpc_path,
                template,
                body,
                rpc: method,
            });
        }
    }
    check_unambiguous(&routes)?;
    Ok(routes)
}

fn rule_pattern(rule: &prost_reflect::DynamicMessage) -> Option<(Method, String)> {
    for (field, method) in [
        ("get", Method::GET),
        ("post", Method::POST),
        ("patch", Method::PATCH),
        ("put", Method::PUT),
        ("delete", Method::DELETE),
    ] {
        let desc = rule.descriptor().get_field_by_name(field)?;
        if rule.has_field(&desc) {
            let value = rule.get_field(&desc);
            return value.as_str().map(|s| (method, s.to_string()));
        }
    }
    None
}

fn check_field_path(message: &MessageDescriptor, path: &[String]) -> anyhow::Result<()> {
    let mut current = message.clone();
    for (i, name) in path.iter().enumerate() {
        let field = current
            .get_field_by_name(name)
            .with_context(|| format!("no field {name} in {}", current.full_name()))?;
        if i + 1 < path.len() {
            current = field
                .kind()
                .as_message()
                .cloned()
                .with_context(|| format!("{name} is not a message"))?;
        }
    }
    Ok(())
}

/// Two routes with the same method and shape would make matching order-dependent.
fn check_unambiguous(routes: &[Route]) -> anyhow::Result<()> {
    let mut seen = HashMap::new();
    for r in routes {
        let shape: Vec<String> = r
            .template
            .segments
            .iter()
            .map(|s| match s {
                Segment::Literal(l) => l.clone(),
                Segment::Variable(_) => "*".into(),
            })
            .collect();
        let key = (r.http_method.clone(), shape, r.template.verb.clone());
        if let Some(other) = seen.insert(key, r.rpc.full_name().to_string()) {
            bail!(
                "{} and {} have the same HTTP route",
                other,
                r.rpc.full_name()
            );
        }
    }
    Ok(())
}

/// The result of looking a request up in the route table.
pub enum Lookup<'a> {
    Found(&'a Route, Vec<(Vec<String>, String)>),
    /// The path exists, with other methods.
    MethodNotAllowed(Vec<Method>),
    NotFound,
}

pub fn lookup<'a>(routes: &'a [Route], method: &Method, path: &str) -> Lookup<'a> {
    let mut allowed = Vec::new();
    for route in routes {
        if let Some(bound) = route.template.matches(path) {
            if route.http_method == *method {
                return Lookup::Found(route, bound);
            }
            allowed.push(route.http_method.clone());
        }
    }
    if allowed.is_empty() {
        Lookup::NotFound
    } else {
        Lookup::MethodNotAllowed(allowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_variables_and_verbs() {
        let t = PathTemplate::parse("/v1/apiKeys/{id}:revoke").unwrap();
        assert_eq!(
            t.matches("/v1/apiKeys/key_1:revoke"),
            Some(vec![(vec!["id".to_string()], "key_1".to_string())])
        );
        assert_eq!(t.matches("/v1/apiKeys/key_1"), None);
        assert_eq!(t.matches("/v1/apiKeys/key_1:cancel"), None);

        let t = PathTemplate::parse("/v1/suppliers/{supplier.id}").unwrap();
        let bound = t.matches("/v1/suppliers/sup%5F1").unwrap();
        assert_eq!(bound[0].0, vec!["supplier".to_string(), "id".to_string()]);
        assert_eq!(bound[0].1, "sup_1");
        assert_eq!(t.matches("/v1/suppliers/"), None);
        assert_eq!(t.matches("/v1/suppliers/a/b"), None);
        assert_eq!(t.matches("/v1/suppliers/x:verify"), None);
        assert_eq!(t.openapi_path(), "/v1/suppliers/{supplier.id}");
    }

    #[test]
    fn unsupported_templates_fail_at_start() {
        assert!(PathTemplate::parse("v1/x").is_err());
        assert!(PathTemplate::parse("/v1/{name=shelves/*}").is_err());
        assert!(PathTemplate::parse("/v1/**").is_err());
    }

    #[test]
    fn every_annotated_rpc_has_a_route_and_no_other() {
        let pool = DescriptorPool::decode(gearshift_proto::FILE_DESCRIPTOR_SET).unwrap();
        let services = [
            "gearshift.registry.v1.SupplierRegistry",
            "gearshift.iam.v1.ApiKeys",
            "gearshift.registry.v1.InstituteDirectory",
        ];
        let routes = load(&pool, &services).unwrap();
        let http = pool.get_extension_by_name("google.api.http").unwrap();
        let annotated: Vec<String> = services
            .iter()
            .flat_map(|s| {
                pool.get_service_by_name(s)
                    .unwrap()
                    .methods()
                    .collect::<Vec<_>>()
            })
            .filter(|m| m.options().has_extension(&http))
            .map(|m| m.full_name().to_string())
            .collect();
        let routed: Vec<String> = routes
            .iter()
            .map(|r| r.rpc.full_name().to_string())
            .collect();
        assert_eq!(routed, annotated);
        assert!(
            !routed.iter().any(|m| m.ends_with("BatchGetSuppliers")),
            "gRPC-only stays off REST"
        );
        assert!(matches!(
            lookup(&routes, &Method::DELETE, "/v1/suppliers"),
            Lookup::MethodNotAllowed(_)
        ));
        assert!(matches!(
            lookup(&routes, &Method::GET, "/v1/nothing"),
            Lookup::NotFound
        ));
    }
}

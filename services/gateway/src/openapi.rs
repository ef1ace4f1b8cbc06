//! The OpenAPI 3.1 document, generated from the same route table and
//! descriptors the gateway serves from, so the two cannot disagree. Proto
//! comments become descriptions.

use std::collections::{BTreeMap, HashMap, VecDeque};

use prost_reflect::{DescriptorPool, FieldDescriptor, Kind, MessageDescriptor};
use serde_json::{Map, Value, json};

use crate::routes::{BodyRule, Route};

/// Leading comments of descriptors, by file and source path.
struct Comments(HashMap<(String, Vec<i32>), String>);

impl Comments {
    fn new(pool: &DescriptorPool) -> Self {
        let mut map = HashMap::new();
        for file in pool.files() {
            if let Some(info) = &file.file_descriptor_proto().source_code_info {
                for loc in &info.location {
                    if let Some(c) = loc.leading_comments.as_deref() {
                        let text = c
                            .lines()
                            .map(str::trim)
                            .collect::<Vec<_>>()
                            .join(" ")
                            .trim()
                            .to_string();
                        if !text.is_empty() {
                            map.insert((file.name().to_string(), loc.path.clone()), text);
                        }
                    }
                }
            }
        }
        Comments(map)
    }

    fn get(&self, file: &str, path: &[i32]) -> Option<&str> {
        self.0
            .get(&(file.to_string(), path.to_vec()))
            .map(String::as_str)
    }
}

/// The whole document.
pub fn document(pool: &DescriptorPool, routes: &[Route]) -> Value {
    let comments = Comments::new(pool);
    let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let mut wanted: VecDeque<MessageDescriptor> = VecDeque::new();
    // OpenAPI treats `/v1/x/{id}` and `/v1/x/{x.id}` as the same path and
    // forbids both: the first template of a shape names its variables, and
    // later operations on that shape are listed under it, renamed to match.
    let mut by_shape: BTreeMap<String, String> = BTreeMap::new();
    for route in routes {
        let mut op = operation(route, &comments, &mut wanted);
        let path = json_path_template(route);
        let canonical = by_shape
            .entry(path_shape(&path))
            .or_insert_with(|| path.clone())
            .clone();
        if canonical != path {
            rename_path_params(&mut op, &path_variables(&canonical));
        }
        paths
            .entry(canonical)
            .or_default()
            .insert(route.http_method.as_str().to_lowercase(), op);
    }

    let mut schemas = Map::new();
    while let Some(message) = wanted.pop_front() {
        if schemas.contains_key(message.full_name()) {
            continue;
        }
        let schema = message_schema(&message, &comments, &mut wanted);
        schemas.insert(message.full_name().to_string(), schema);
    }
    schemas.insert("Problem".into(), problem_schema());

    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Gearshift API",
            "version": "v1",
            "description": "The backend of the Gwangju future-car parts cluster programme. \
                Authenticate with `Authorization: Bearer <API key>`. Errors are RFC 9457 problem \
                documents with a stable `code`. POSTs accept `Idempotency-Key`; updates accept `If-Match`.",
        },
        "servers": [{"url": "/"}],
        "security": [{"apiKey": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer", "description": "A Gearshift API key (gsk_…)."}},
            "schemas": schemas,
            "responses": {
                "Problem": {
                    "description": "The request failed; the body says why.",
                    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
                },
            },
        },
    })
}

/// `/v1/x/{id}:verb` → `/v1/x/{}:verb`.
fn path_shape(path: &str) -> String {
    let mut out = String::new();
    let mut in_var = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_var = true;
                out.push_str("{}");
            }
            '}' => in_var = false,
            _ if in_var => {}
            _ => out.push(c),
        }
    }
    out
}

/// The variable names of a path template, in order.
fn path_variables(path: &str) -> Vec<String> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_string()))
        .collect()
}

/// Renames an operation's path parameters, in order, to `names`.
fn rename_path_params(op: &mut Value, names: &[String]) {
    let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
        return;
    };
    let mut names = names.iter();
    for p in params.iter_mut().filter(|p| p["in"] == "path") {
        if let Some(name) = names.next() {
            p["name"] = Value::String(name.clone());
        }
    }
}

/// The route's path with each variable under its JSON name, the way every
/// other field of the API is written (`{supplierId}`, not `{supplier_id}`).
fn json_path_template(route: &Route) -> String {
    let mut path = route.template.openapi_path();
    for var in route.template.variables() {
        path = path.replace(
            &format!("{{{}}}", var.join(".")),
            &format!("{{{}}}", param_name(&route.input(), var)),
        );
    }
    path
}

/// A path parameter's name: the JSON name of the field it binds
/// (`{routingRule.id}` is `id`), as generated clients and fuzzers expect a
/// plain name; the variables of one template never share a last name.
fn param_name(message: &MessageDescriptor, path: &[String]) -> String {
    json_names(message, path).pop().unwrap_or_default()
}

/// The JSON names of a proto field path in `message`.
fn json_names(message: &MessageDescriptor, path: &[String]) -> Vec<String> {
    let mut current = Some(message.clone());
    path.iter()
        .map(|name| {
            let field = current.as_ref().and_then(|m| m.get_field_by_name(name));
            current = field.as_ref().and_then(|f| f.kind().as_message().cloned());
            field.map_or_else(|| name.clone(), |f| f.json_name().to_string())
        })
        .collect()
}

/// The field at a proto field path in `message`.
fn field_at(message: &MessageDescriptor, path: &[String]) -> Option<FieldDescriptor> {
    let (last, parents) = path.split_last()?;
    let mut current = message.clone();
    for name in parents {
        current = current
            .get_field_by_name(name)?
            .kind()
            .as_message()?
            .clone();
    }
    current.get_field_by_name(last)
}

/// The characters of an id after its prefix (ULID, lowercase Crockford base32).
const ID_TAIL: &str = "[0-9a-hjkmnp-tv-z]{26}";

/// What a string field holds, where the proto files follow a convention
/// the document can make explicit: ids are `<prefix>_<ULID>`, the prefix
/// named by the resource (`supplier_id`, or `id` in a supplier's message);
/// institute codes are upper-case; dates documented `YYYY-MM-DD` are dates
/// (or empty, unset).
fn string_pattern(field: &FieldDescriptor, description: Option<&str>) -> Option<String> {
    let message = field.parent_message().name().to_string();
    let id = |prefix: &str| Some(format!("^{prefix}_{ID_TAIL}$"));
    match field.name() {
        "supplier_id" | "ids" => id("sup"),
        "ticket_id" => id("tkt"),
        "programme_id" => id("fpg"),
        "application_id" => id("fap"),
        "id" if message.ends_with("Event") => id("evt"),
        "id" if message.contains("Comment") => id("cmt"),
        "id" if message.contains("Ticket") => id("tkt"),
        "id" if message.contains("RoutingRule") => id("rtr"),
        "id" if message.contains("Application") => id("fap"),
        "id" if matches!(
            message.as_str(),
            "AssignReviewersRequest" | "RecordConsensusRequest" | "DisburseTrancheRequest"
        ) =>
        {
            id("fap")
        }
        "id" if message.contains("LedgerEntry") => id("led"),
        "reviewers" => id("key"),
        "course_id" => id("crs"),
        "cohort_id" => id("coh"),
        "trainee_id" => id("trn"),
        "enrollment_id" => id("enr"),
        "prerequisite_course_ids" => id("crs"),
        "id" if message.contains("Course") => id("crs"),
        "id" if message.contains("Certificate") => Some("^crt_[A-Za-z0-9_-]{32}$".into()),
        "certificate_id" => Some("^(crt_[A-Za-z0-9_-]{32})?$".into()),
        "id" if message.contains("Attendance") => id("att"),
        "id" if message.contains("Cohort") => id("coh"),
        "id" if message.contains("Trainee") => id("trn"),
        "id" if message.contains("Enrollment") || message == "AcceptOfferRequest" => id("enr"),
        "id" if message.contains("Programme") => id("fpg"),
        "id" if message.contains("StageChange") => id("stc"),
        "id" if message.contains("ApiKey") => id("key"),
        "id" if message.contains("Supplier") => id("sup"),
        "code" if message.contains("Institute") => Some("^[A-Z][A-Z0-9]{1,15}$".into()),
        "institute" => Some("^([A-Z][A-Z0-9]{1,15})?$".into()),
        _ if description.is_some_and(|d| d.contains("`YYYY-MM-DD`")) => {
            Some("^([0-9]{4}-[0-9]{2}-[0-9]{2})?$".into())
        }
        _ => None,
    }
}

/// The problem responses an operation can give, beside its 200.
fn problem_responses(route: &Route, takes_etag: bool) -> Map<String, Value> {
    let problem = || json!({"$ref": "#/components/responses/Problem"});
    let mut out = Map::new();
    for code in ["400", "401", "403", "404"] {
        out.insert(code.into(), problem());
    }
    if route.http_method != http::Method::GET {
        out.insert("409".into(), problem());
    }
    if takes_etag {
        out.insert("412".into(), problem());
    }
    if route.http_method == http::Method::POST {
        out.insert("413".into(), problem());
        out.insert("422".into(), problem());
    }
    for code in ["500", "503", "504"] {
        out.insert(code.into(), problem());
    }
    out.insert("default".into(), problem());
    out
}

fn operation(
    route: &Route,
    comments: &Comments,
    wanted: &mut VecDeque<MessageDescriptor>,
) -> Value {
    let rpc = &route.rpc;
    let file = rpc.parent_file();
    let description = comments.get(file.name(), rpc.path()).unwrap_or_default();
    let input = route.input();
    let mut params = Vec::new();
    let mut path_fields = Vec::new();
    for var in route.template.variables() {
        let name = param_name(&input, var);
        path_fields.push(var[0].clone());
        let mut schema = json!({"type": "string"});
        if let Some(field) = field_at(&input, var) {
            if let Some(pattern) = string_pattern(&field, None) {
                schema["pattern"] = Value::String(pattern);
            } else if let Kind::Enum(e) = field.kind() {
                // A path names a value; the zero (unspecified) one is none.
                let names: Vec<String> = e.values().skip(1).map(|v| v.name().to_string()).collect();
                schema["enum"] = json!(names);
            }
        }
        params.push(json!({"name": name, "in": "path", "required": true, "schema": schema}));
    }
    let body_field = match &route.body {
        BodyRule::Field(f) => Some(f.name().to_string()),
        _ => None,
    };
    if !matches!(route.body, BodyRule::Whole) {
        for field in input.fields() {
            if path_fields.contains(&field.name().to_string())
                || body_field.as_deref() == Some(field.name())
            {
                continue;
            }
            let mut schema = field_schema(&field, comments, wanted);
            let desc = schema.get("description").cloned();
            if let Value::Object(m) = &mut schema {
                m.remove("description");
                // A query parameter sent empty is a filter not set.
                if let Some(Value::String(pattern)) = m.get("pattern")
                    && let Some(inner) = pattern.strip_prefix('^').and_then(|p| p.strip_suffix('$'))
                    && !inner.ends_with(")?")
                {
                    let optional = format!("^({inner})?$");
                    m.insert("pattern".into(), Value::String(optional));
                }
            }
            let mut p = json!({"name": field.json_name(), "in": "query", "schema": schema});
            if let Some(d) = desc {
                p["description"] = d;
            }
            params.push(p);
        }
    }
    if route.http_method == http::Method::POST {
        params.push(json!({
            "name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string", "maxLength": 255},
            "description": "Retry safely: the same key and body replay the first response; the same key with another body is 422.",
        }));
    }
    // If-Match means something only where the request carries an etag: an
    // update of a resource that has one, or a state change that checks it.
    let body_message = match &route.body {
        BodyRule::Field(f) => f.kind().as_message().cloned(),
        _ => None,
    };
    let takes_etag = input.get_field_by_name("etag").is_some()
        || body_message.is_some_and(|m| m.get_field_by_name("etag").is_some());
    if takes_etag {
        params.push(json!({
            "name": "If-Match", "in": "header", "required": false, "schema": {"type": "string"},
            "description": "The etag you read; a stale one is refused with 412.",
        }));
    }
    let output = rpc.output();
    wanted.push_back(output.clone());
    let mut op = json!({
        "operationId": rpc.name(),
        "tags": [rpc.parent_service().name()],
        "summary": description.split(". ").next().unwrap_or_default(),
        "description": description,
        "parameters": params,
        "responses": {
            "200": {
                "description": "OK",
                "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{}", output.full_name())}}},
            },
        },
    });
    for (code, response) in problem_responses(route, takes_etag) {
        op["responses"][code] = response;
    }
    if route.public {
        // No key needed; one that is sent is still checked, and its view
        // applies.
        op["security"] = json!([]);
    }
    let body_schema = match &route.body {
        BodyRule::None => None,
        // The whole request is the body, less the fields the path fills.
        BodyRule::Whole => {
            let mut schema = message_schema(&input, comments, wanted);
            if let Some(props) = schema["properties"].as_object_mut() {
                for field in input.fields() {
                    if path_fields.iter().any(|p| p == field.name()) {
                        props.remove(field.json_name());
                    }
                }
            }
            Some(schema)
        }
        BodyRule::Field(f) => f.kind().as_message().map(|m| {
            wanted.push_back(m.clone());
            json!({"$ref": format!("#/components/schemas/{}", m.full_name())})
        }),
    };
    if let Some(schema) = body_schema {
        op["requestBody"] = json!({
            "required": !matches!(route.body, BodyRule::Whole),
            "content": {"application/json": {"schema": schema}},
        });
    }
    op
}

fn message_schema(
    message: &MessageDescriptor,
    comments: &Comments,
    wanted: &mut VecDeque<MessageDescriptor>,
) -> Value {
    let file = message.parent_file();
    let mut properties = Map::new();
    for field in message.fields() {
        properties.insert(
            field.json_name().to_string(),
            field_schema(&field, comments, wanted),
        );
    }
    let mut schema =
        json!({"type": "object", "properties": properties, "additionalProperties": false});
    if let Some(d) = comments.get(file.name(), message.path()) {
        schema["description"] = Value::String(d.to_string());
    }
    schema
}

fn field_schema(
    field: &FieldDescriptor,
    comments: &Comments,
    wanted: &mut VecDeque<MessageDescriptor>,
) -> Value {
    let mut item = kind_schema(&field.kind(), wanted);
    if field.is_list() {
        item = json!({"type": "array", "items": item});
    } else if field.is_map()
        && let Kind::Message(entry) = field.kind()
        && let Some(value) = entry.get_field_by_name("value")
    {
        item =
            json!({"type": "object", "additionalProperties": kind_schema(&value.kind(), wanted)});
    }
    let file = field.parent_message().parent_file();
    let description = comments.get(file.name(), field.path());
    if matches!(field.kind(), Kind::String)
        && let Some(pattern) = string_pattern(field, description)
    {
        let target = if field.is_list() {
            &mut item["items"]
        } else {
            &mut item
        };
        target["pattern"] = Value::String(pattern);
    }
    if let Some(d) = description {
        if let Value::Object(m) = &mut item {
            if d.starts_with("Output only") {
                m.insert("readOnly".into(), Value::Bool(true));
            }
            m.insert("description".into(), Value::String(d.to_string()));
        } else {
            item = json!({"allOf": [item], "description": d});
        }
    }
    item
}

fn kind_schema(kind: &Kind, wanted: &mut VecDeque<MessageDescriptor>) -> Value {
    match kind {
        Kind::String => json!({"type": "string"}),
        Kind::Bytes => json!({"type": "string", "contentEncoding": "base64"}),
        Kind::Bool => json!({"type": "boolean"}),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
            json!({"type": "integer", "format": "int32"})
        }
        Kind::Uint32 | Kind::Fixed32 => json!({"type": "integer", "format": "int64", "minimum": 0}),
        // proto3 JSON writes 64-bit integers as strings.
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => json!({"type": "string", "format": "int64"}),
        Kind::Uint64 | Kind::Fixed64 => json!({"type": "string", "format": "uint64"}),
        Kind::Float | Kind::Double => json!({"type": "number"}),
        Kind::Enum(e) => {
            json!({"type": "string", "enum": e.values().map(|v| v.name().to_string()).collect::<Vec<_>>()})
        }
        Kind::Message(m) => match m.full_name() {
            "google.protobuf.Timestamp" => json!({"type": "string", "format": "date-time"}),
            "google.protobuf.Duration" => {
                json!({"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?s$"})
            }
            "google.protobuf.FieldMask" => {
                json!({"type": "string", "description": "Comma-separated lowerCamelCase field names."})
            }
            "google.protobuf.Struct" => json!({"type": "object"}),
            "google.protobuf.Value" => json!({}),
            _ => {
                wanted.push_back(m.clone());
                json!({"$ref": format!("#/components/schemas/{}", m.full_name())})
            }
        },
    }
}

fn problem_schema() -> Value {
    json!({
        "type": "object",
        "description": "An RFC 9457 problem document.",
        "required": ["type", "title", "status", "detail", "code", "traceId"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string", "description": "What went wrong, for a person."},
            "code": {"type": "string", "description": "Stable machine-readable reason, e.g. INVALID_ARGUMENT, ETAG_MISMATCH."},
            "violations": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"field": {"type": "string"}, "description": {"type": "string"}},
                },
            },
            "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
            "traceId": {"type": "string", "description": "The trace of this request."},
        },
    })
}

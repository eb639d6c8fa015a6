//! A JSON Schema validator for the keywords our committed schemas use: `type` (one or a
//! list), `enum`, `const`, `properties`, `required`, `additionalProperties` (boolean),
//! `items`, `minimum`, `minItems`, `pattern` and local `$ref`s (`#/$defs/...`). Any other
//! keyword makes it panic, so a schema can't silently rely on something unchecked.

use serde_json::Value;

const KNOWN: [&str; 18] = [
    "$schema",
    "$id",
    "$ref",
    "$defs",
    "title",
    "description",
    "type",
    "enum",
    "const",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "minimum",
    "minItems",
    "pattern",
    "format",
    "oneOf",
];

/// Every violation of `schema` by `value`, as `path: message` lines.
pub fn validate(schema: &Value, value: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    check(schema, schema, value, "$", &mut errors);
    errors
}

fn resolve<'a>(root: &'a Value, reference: &str) -> &'a Value {
    let pointer = reference
        .strip_prefix('#')
        .unwrap_or_else(|| panic!("only local $ref supported: {reference}"));
    root.pointer(pointer)
        .unwrap_or_else(|| panic!("dangling $ref {reference}"))
}

fn type_matches(name: &str, value: &Value) -> bool {
    match name {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "number" => value.is_number(),
        "integer" => value.is_u64() || value.is_i64(),
        other => panic!("unknown type {other}"),
    }
}

fn check(root: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = schema.as_object().expect("schemas are objects");
    for key in schema.keys() {
        assert!(
            KNOWN.contains(&key.as_str()),
            "unsupported keyword {key} at {at}"
        );
    }
    if let Some(Value::String(r)) = schema.get("$ref") {
        check(root, resolve(root, r), value, at, errors);
    }
    if let Some(t) = schema.get("type") {
        let names: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().map(|v| v.as_str().expect("type names")).collect(),
            _ => panic!("bad type keyword"),
        };
        if !names.iter().any(|n| type_matches(n, value)) {
            errors.push(format!("{at}: expected {names:?}, found {value}"));
            return;
        }
    }
    if let Some(Value::Array(options)) = schema.get("enum") {
        if !options.contains(value) {
            errors.push(format!("{at}: {value} not in {options:?}"));
        }
    }
    if let Some(c) = schema.get("const") {
        if c != value {
            errors.push(format!("{at}: expected {c}, found {value}"));
        }
    }
    if let Some(Value::Array(options)) = schema.get("oneOf") {
        let matching = options
            .iter()
            .filter(|o| validate_at(root, o, value))
            .count();
        if matching != 1 {
            errors.push(format!("{at}: matches {matching} of oneOf, expected 1"));
        }
    }
    if let (Some(min), Some(v)) = (schema.get("minimum"), value.as_f64()) {
        if v < min.as_f64().expect("numeric minimum") {
            errors.push(format!("{at}: {v} below minimum {min}"));
        }
    }
    if let (Some(Value::String(p)), Some(s)) = (schema.get("pattern"), value.as_str()) {
        if !regex::Regex::new(p).expect("valid pattern").is_match(s) {
            errors.push(format!("{at}: {s:?} does not match {p}"));
        }
    }
    if let Value::Object(map) = value {
        let props = schema.get("properties").and_then(Value::as_object);
        if let Some(Value::Array(required)) = schema.get("required") {
            for r in required {
                let r = r.as_str().expect("required names");
                if !map.contains_key(r) {
                    errors.push(format!("{at}: missing required key {r}"));
                }
            }
        }
        for (k, v) in map {
            match props.and_then(|p| p.get(k)) {
                Some(sub) => check(root, sub, v, &format!("{at}.{k}"), errors),
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => errors.push(format!("{at}: unexpected key {k}")),
                    Some(Value::Bool(true)) | None => {}
                    Some(sub) => check(root, sub, v, &format!("{at}.{k}"), errors),
                },
            }
        }
    }
    if let Value::Array(items) = value {
        if let Some(min) = schema.get("minItems").and_then(Value::as_u64) {
            if (items.len() as u64) < min {
                errors.push(format!("{at}: fewer than {min} items"));
            }
        }
        if let Some(item_schema) = schema.get("items") {
            for (i, item) in items.iter().enumerate() {
                check(root, item_schema, item, &format!("{at}[{i}]"), errors);
            }
        }
    }
}

fn validate_at(root: &Value, schema: &Value, value: &Value) -> bool {
    let mut errors = Vec::new();
    check(root, schema, value, "", &mut errors);
    errors.is_empty()
}

#[test]
fn the_validator_reports_violations() {
    let schema: Value = serde_json::json!({
        "type": "object",
        "properties": {
            "n": {"type": "integer", "minimum": 0},
            "s": {"enum": ["a", "b"]},
            "h": {"type": "string", "pattern": "^[0-9a-f]+$"},
            "l": {"type": "array", "items": {"$ref": "#/$defs/x"}}
        },
        "required": ["n"],
        "additionalProperties": false,
        "$defs": {"x": {"type": ["number", "null"]}}
    });
    assert!(validate(
        &schema,
        &serde_json::json!({"n": 1, "s": "a", "h": "0f", "l": [1.5, null]})
    )
    .is_empty());
    let bad = serde_json::json!({"n": -1, "s": "c", "h": "xyz", "l": ["no"], "extra": 1});
    assert_eq!(
        validate(&schema, &bad).len(),
        5,
        "{:?}",
        validate(&schema, &bad)
    );
    assert_eq!(validate(&schema, &serde_json::json!({})).len(), 1);
    assert_eq!(validate(&schema, &serde_json::json!({"n": 1.5})).len(), 1);
}

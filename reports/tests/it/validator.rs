//! Schema checks with the `jsonschema` crate (draft from the schema's `$schema`, 2020-12
//! when absent). Violations come back as `path: message` lines so a failing test says
//! what is wrong where; a schema that is itself invalid fails the test outright.

use serde_json::Value;

/// Every violation of `schema` by `value`, as `path: message` lines.
pub fn validate(schema: &Value, value: &Value) -> Vec<String> {
    assert!(
        jsonschema::meta::is_valid(schema),
        "the schema is not valid against its meta-schema"
    );
    let validator = jsonschema::validator_for(schema)
        .unwrap_or_else(|e| panic!("the schema does not compile: {e}"));
    validator
        .iter_errors(value)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
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

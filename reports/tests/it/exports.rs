//! Exports checked against each tool's documented input format.

use std::path::Path;

use mcubench_reports::exports::{self, Format};
use mcubench_reports::Error;
use serde_json::{json, Value};

use crate::sample;
use crate::validator::validate;

fn export(format: Format, run: Option<&str>) -> Result<String, Error> {
    exports::export(&sample::results(), Path::new("r.json"), format, run)
}

/// github-action-benchmark, "customSmallerIsBetter": an array of objects with `name`
/// (string), `unit` (string), `value` (number) and optional `range`/`extra` (strings).
#[test]
fn gab_matches_custom_smaller_is_better() {
    let schema = json!({
        "type": "array",
        "minItems": 1,
        "items": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "unit": {"type": "string"},
                "value": {"type": "number"},
                "range": {"type": "string"},
                "extra": {"type": "string"}
            },
            "required": ["name", "unit", "value"],
            "additionalProperties": false
        }
    });
    let value: Value = serde_json::from_str(&export(Format::Gab, None).unwrap()).unwrap();
    assert!(
        validate(&schema, &value).is_empty(),
        "{:?}",
        validate(&schema, &value)
    );
    let entries = value.as_array().unwrap();
    let names: Vec<&str> = entries
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    let mut unique = names.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "names identify series uniquely");
    let cycles = entries
        .iter()
        .find(|e| e["name"] == "kws-dscnn@stm32f407 cycles")
        .unwrap();
    assert_eq!(cycles["value"], json!(sample::run(0, 0).cycles));
    assert_eq!(cycles["unit"], "cycles");
    assert!(
        !names.iter().any(|n| n.contains("stm32f103")),
        "error runs are not exported"
    );
    // cycles per MAC only where the run has one
    assert!(!names
        .iter()
        .any(|n| n.starts_with("mnist-train") && n.contains("MAC")));
}

/// Bencher Metric Format: `{benchmark: {measure: {value, lower_value?, upper_value?}}}`
/// with numeric values.
#[test]
fn bmf_matches_bencher_metric_format() {
    let schema = json!({
        "type": "object",
        "additionalProperties": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "value": {"type": "number"},
                    "lower_value": {"type": "number"},
                    "upper_value": {"type": "number"}
                },
                "required": ["value"],
                "additionalProperties": false
            }
        }
    });
    let value: Value = serde_json::from_str(&export(Format::Bmf, None).unwrap()).unwrap();
    assert!(
        validate(&schema, &value).is_empty(),
        "{:?}",
        validate(&schema, &value)
    );
    let run = sample::run(0, 0);
    let bench = &value["kws-dscnn@stm32f407"];
    assert_eq!(bench["cycles"]["value"], json!(run.cycles));
    assert_eq!(
        bench["latency"]["value"],
        json!(run.time_us * 1000.0),
        "latency is in ns"
    );
    assert_eq!(value.as_object().unwrap().len(), 9, "ok runs only");
    let one: Value =
        serde_json::from_str(&export(Format::Bmf, Some("ad-autoencoder@nrf52840")).unwrap())
            .unwrap();
    assert_eq!(
        one.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["ad-autoencoder@nrf52840"]
    );
}

#[test]
fn folded_lines_are_stack_space_count() {
    let text = export(Format::Folded, Some("kws-dscnn@stm32f407")).unwrap();
    let run = sample::run(0, 0);
    let mut total = 0;
    for line in text.lines() {
        let (stack, count) = line.rsplit_once(' ').unwrap();
        assert!(!stack.is_empty() && !stack.contains(' '));
        total += count.parse::<u64>().unwrap();
    }
    assert_eq!(total, run.stacks.iter().map(|s| s.cycles).sum::<u64>());
    assert!(text.starts_with("main;roi_inference;arm_convolve_s8 2191200\n"));
}

/// speedscope's file format (file-format-spec.ts): `$schema`, `shared.frames[{name}]`,
/// `profiles[{type: "sampled", name, unit, startValue, endValue, samples: number[][],
/// weights: number[]}]`, optional `name`, `activeProfileIndex`, `exporter`.
#[test]
fn speedscope_matches_the_file_format() {
    let schema = json!({
        "type": "object",
        "properties": {
            "$schema": {"const": "https://www.speedscope.app/file-format-schema.json"},
            "shared": {
                "type": "object",
                "properties": {"frames": {"type": "array", "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "file": {"type": "string"},
                        "line": {"type": "number"},
                        "col": {"type": "number"}
                    },
                    "required": ["name"],
                    "additionalProperties": false
                }}},
                "required": ["frames"],
                "additionalProperties": false
            },
            "profiles": {"type": "array", "minItems": 1, "items": {
                "type": "object",
                "properties": {
                    "type": {"const": "sampled"},
                    "name": {"type": "string"},
                    "unit": {"enum": ["none", "nanoseconds", "microseconds", "milliseconds", "seconds", "bytes"]},
                    "startValue": {"type": "number"},
                    "endValue": {"type": "number"},
                    "samples": {"type": "array", "items": {"type": "array", "items": {"type": "integer", "minimum": 0}}},
                    "weights": {"type": "array", "items": {"type": "number"}}
                },
                "required": ["type", "name", "unit", "startValue", "endValue", "samples", "weights"],
                "additionalProperties": false
            }},
            "name": {"type": "string"},
            "activeProfileIndex": {"type": "number"},
            "exporter": {"type": "string"}
        },
        "required": ["$schema", "shared", "profiles"],
        "additionalProperties": false
    });
    let text = export(Format::Speedscope, Some("mnist-train@stm32h743")).unwrap();
    let value: Value = serde_json::from_str(&text).unwrap();
    assert!(
        validate(&schema, &value).is_empty(),
        "{:?}",
        validate(&schema, &value)
    );
    let frames = value["shared"]["frames"].as_array().unwrap();
    let profile = &value["profiles"][0];
    let samples = profile["samples"].as_array().unwrap();
    let weights = profile["weights"].as_array().unwrap();
    assert_eq!(samples.len(), weights.len());
    let total: u64 = weights.iter().map(|w| w.as_u64().unwrap()).sum();
    assert_eq!(
        profile["endValue"].as_u64().unwrap() - profile["startValue"].as_u64().unwrap(),
        total
    );
    // Frames are shared: `main` appears once however many stacks pass through it.
    assert_eq!(frames.iter().filter(|f| f["name"] == "main").count(), 1);
    // Stacks are root first: every sample starts at main.
    for s in samples {
        let root = s[0].as_u64().unwrap() as usize;
        assert_eq!(frames[root]["name"], "main");
        assert!(s
            .as_array()
            .unwrap()
            .iter()
            .all(|i| (i.as_u64().unwrap() as usize) < frames.len()));
    }
}

#[test]
fn per_run_formats_need_a_run_when_there_are_several() {
    let err = export(Format::Folded, None).unwrap_err();
    assert!(
        matches!(err, Error::RunRequired { count: 10, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("--run"));
    let err = export(Format::Speedscope, Some("nope@none")).unwrap_err();
    assert!(err
        .to_string()
        .contains("r.json has no run nope@none; it has: kws-dscnn@stm32f407"));
}

/// What users feed to the tools, for one training run (no cycles per MAC) and one
/// inference run.
#[test]
fn export_snapshots() {
    let mut results = sample::results();
    results.runs = vec![sample::run(0, 2), sample::run(2, 0)];
    let path = Path::new("r.json");
    let gab = exports::export(&results, path, Format::Gab, None).unwrap();
    insta::assert_snapshot!("gab", gab);
    let bmf = exports::export(&results, path, Format::Bmf, None).unwrap();
    insta::assert_snapshot!("bmf", bmf);
    let run = Some("kws-dscnn@nrf52840");
    let speedscope = exports::export(&results, path, Format::Speedscope, run).unwrap();
    insta::assert_snapshot!("speedscope", speedscope);
}

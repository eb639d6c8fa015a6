//! The results file: committed schema, writer, reader and its refusals.

use std::path::Path;

use mcubench_reports::{json, Error, Results, Status, SCHEMA_VERSION};
use serde_json::Value;

use crate::sample;
use crate::validator::validate;

const SCHEMA: &str = include_str!("../../schema/results.schema.json");

fn schema() -> Value {
    serde_json::from_str(SCHEMA).expect("the committed schema is JSON")
}

#[test]
fn written_results_match_the_committed_schema() {
    let mut results = sample::results();
    let value: Value = serde_json::from_str(&json::to_json(&results)).unwrap();
    let errors = validate(&schema(), &value);
    assert!(errors.is_empty(), "{errors:#?}");
    // The sharded form too.
    results.provenance.shard = Some(mcubench_reports::results::Shard { index: 2, count: 3 });
    let value: Value = serde_json::from_str(&json::to_json(&results)).unwrap();
    assert!(validate(&schema(), &value).is_empty());
}

#[test]
fn the_schema_rejects_what_the_reader_must_not_see() {
    let good: Value = serde_json::from_str(&json::to_json(&sample::results())).unwrap();
    let mutations: [(&str, Value); 5] = [
        ("/runs/0/status", Value::from("passed")),
        ("/runs/0/cycles", Value::from(-1)),
        ("/runs/0/kind", Value::from("training-ish")),
        ("/schema_version", Value::from("2.0")),
        ("/provenance/manifest_sha256", Value::from("not hex")),
    ];
    for (pointer, bad) in mutations {
        let mut v = good.clone();
        *v.pointer_mut(pointer).unwrap() = bad;
        assert!(!validate(&schema(), &v).is_empty(), "{pointer} accepted");
    }
}

/// Key order on disk is struct order, and the schema lists keys in that same order.
#[test]
fn key_order_follows_the_schema() {
    fn keys(v: &Value) -> Vec<String> {
        v.as_object().unwrap().keys().cloned().collect()
    }
    let schema = schema();
    let value: Value = serde_json::from_str(&json::to_json(&sample::results())).unwrap();
    let pairs = [
        (&schema["properties"], &value),
        (
            &schema["$defs"]["provenance"]["properties"],
            &value["provenance"],
        ),
        (&schema["$defs"]["run"]["properties"], &value["runs"][0]),
        (
            &schema["$defs"]["run"]["properties"]["regions"]["items"]["properties"],
            &value["runs"][0]["regions"][0],
        ),
        (
            &schema["$defs"]["run"]["properties"]["marked_regions"]["items"]["properties"],
            &value["runs"][0]["marked_regions"][0],
        ),
        (
            &schema["$defs"]["run"]["properties"]["host"]["properties"],
            &value["runs"][0]["host"],
        ),
    ];
    for (props, obj) in pairs {
        assert_eq!(keys(props), keys(obj));
    }
    let text = json::to_json(&sample::results());
    assert!(text.starts_with(&format!(
        "{{\n  \"schema_version\": \"{SCHEMA_VERSION}\",\n  \"tool\""
    )));
}

#[test]
fn the_committed_example_is_valid_and_reads_back() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/example-results.json");
    let text = std::fs::read_to_string(path).unwrap();
    let value: Value = serde_json::from_str(&text).unwrap();
    assert!(validate(&schema(), &value).is_empty());
    let results = json::parse_results(&text, Path::new("example-results.json")).unwrap();
    assert_eq!(
        json::to_json(&results),
        text,
        "the example is in writer format"
    );
}

#[test]
fn write_then_read_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("results.json");
    let results = sample::results();
    json::write_results(&path, &results).unwrap();
    assert_eq!(json::read_results(&path).unwrap(), results);
    // Only the file itself: no temporary left beside it.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

fn read_text(text: &str) -> Result<Results, Error> {
    json::parse_results(text, Path::new("some/results.json"))
}

#[test]
fn a_newer_major_version_is_refused_by_name() {
    let text =
        json::to_json(&sample::results()).replace(&format!("\"{SCHEMA_VERSION}\""), "\"2.0\"");
    let err = read_text(&text).unwrap_err();
    assert!(matches!(err, Error::NewerSchema { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("some/results.json") && msg.contains("2.0"),
        "{msg}"
    );
}

#[test]
fn a_newer_minor_version_with_extra_keys_is_read() {
    let text = json::to_json(&sample::results())
        .replace("\"1.2\"", "\"1.3\"")
        .replace("\"stdout\":", "\"future_field\": 1,\n      \"stdout\":");
    assert_eq!(read_text(&text).unwrap().schema_version, "1.3");
}

#[test]
fn a_1_0_file_without_supply_and_per_call_figures_is_read() {
    let mut value: Value = serde_json::from_str(&json::to_json(&sample::results())).unwrap();
    value["schema_version"] = Value::from("1.0");
    for run in value["runs"].as_array_mut().unwrap() {
        let run = run.as_object_mut().unwrap();
        run.remove("vdd_v");
        run.remove("per_call");
    }
    let results = read_text(&value.to_string()).unwrap();
    assert!(results
        .runs
        .iter()
        .all(|r| r.per_call.is_none() && r.vdd_v == 0.0));
}

/// Before 1.2 a skipped run was an error whose reason said `skipped:`; it
/// reads as skipped, and only in such files.
#[test]
fn a_1_1_skip_written_as_an_error_reads_as_skipped() {
    let mut results = sample::results();
    results.runs[1].status = Status::Error;
    results.runs[1].error = Some("fw.elf: does not fit".into());
    results.runs[2].status = Status::Error;
    results.runs[2].error = Some("skipped: no image for cortex-m3".into());
    let current = read_text(&json::to_json(&results)).unwrap();
    assert_eq!(current.runs[2].status, Status::Error);
    results.schema_version = "1.1".into();
    let old = read_text(&json::to_json(&results)).unwrap();
    assert_eq!(old.runs[1].status, Status::Error);
    assert_eq!(old.runs[2].status, Status::Skipped);
    assert_eq!(old.runs[2].error.as_deref(), Some("no image for cortex-m3"));
    let value = serde_json::to_value(&old).unwrap();
    assert!(
        validate(&schema(), &value).is_empty(),
        "skipped is in the schema"
    );
}

#[test]
fn a_truncated_file_is_named_as_truncated() {
    let text = json::to_json(&sample::results());
    let err = read_text(&text[..text.len() / 2]).unwrap_err();
    assert!(matches!(err, Error::Truncated { .. }), "{err:?}");
    assert!(err.to_string().contains("some/results.json is truncated"));
}

#[test]
fn wrong_files_are_refused_with_the_reason() {
    let cases = [
        ("[1, 2]", "no usable schema_version"),
        (
            "{\"schema_version\": 1}",
            "no usable schema_version (found 1)",
        ),
        ("{\"schema_version\": \"0.9\"}", "no usable schema_version"),
        ("{\"schema_version\": \"1.0\"}", "missing field `tool`"),
        ("not json", "not a valid mcubench results file"),
    ];
    for (text, expected) in cases {
        let msg = read_text(text).unwrap_err().to_string();
        assert!(msg.contains(expected), "{text}: {msg}");
        assert!(msg.contains("some/results.json"), "{msg}");
    }
    let text =
        json::to_json(&sample::results()).replacen("\"instructions\": ", "\"instructions\": -", 1);
    let msg = read_text(&text).unwrap_err().to_string();
    assert!(msg.contains("line"), "errors carry a position: {msg}");
}

#[test]
fn a_missing_file_is_named() {
    let err = json::read_results(Path::new("/nonexistent/results.json")).unwrap_err();
    assert!(err
        .to_string()
        .starts_with("cannot read /nonexistent/results.json"));
}

#[test]
fn writing_into_a_missing_directory_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent").join("results.json");
    let err = json::write_results(&path, &sample::results()).unwrap_err();
    assert!(err.to_string().contains("absent/results.json"), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// The committed example is the first two sample runs in writer format. Regenerate it
/// with `MCUBENCH_BLESS=1 cargo test -p mcubench-reports` after a deliberate change.
#[test]
fn the_committed_example_is_current() {
    let mut results = sample::results();
    results.runs.truncate(2);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/example-results.json");
    if std::env::var_os("MCUBENCH_BLESS").is_some() {
        json::write_results(&path, &results).unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        json::to_json(&results)
    );
}

#[test]
fn non_finite_figures_are_refused_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("results.json");
    let mut results = sample::results();
    results.runs[2].regions[0].energy_uj = f64::NAN;
    let err = json::write_results(&path, &results).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("runs[2].regions[0].energy_uj is NaN, not a finite number"),
        "{err}"
    );
    assert!(!path.exists());
}

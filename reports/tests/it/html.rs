//! The HTML report: content, escaping, baseline deltas, refusals, and a real browser.

use std::path::{Path, PathBuf};
use std::process::Command;

use mcubench_reports::html::{self, Report};
use mcubench_reports::plot::SvgPlotter;
use mcubench_reports::{json, Error, Results, Status};

use crate::sample;

const CHART_IDS: [&str; 5] = [
    "chart-latency",
    "chart-energy",
    "chart-cycles-per-mac",
    "chart-train-cycles",
    "chart-train-energy",
];

/// The sample as "new" and a baseline where some runs were slower and some faster.
fn with_baseline() -> (Results, Results) {
    let new = sample::results();
    let mut base = new.clone();
    base.runs[0].cycles -= base.runs[0].cycles / 20; // the new run is slower
    base.runs[0].time_us *= 0.95;
    base.runs[1].cycles += base.runs[1].cycles / 10; // the new run is faster
    base.runs[1].energy_uj *= 1.1;
    base.runs[6].regions[0].cycles += 1_000_000; // training got cheaper per step
    if let Some(call) = &mut base.runs[0].per_call {
        call.time_us *= 0.95; // one inference got slower
    }
    if let Some(call) = &mut base.runs[1].per_call {
        call.energy_uj *= 1.25; // and one cheaper in energy
    }
    base.runs.remove(4);
    (base, new)
}

/// The part of `page` from `start` to the first `end` after it.
fn section<'a>(page: &'a str, start: &str, end: &str) -> &'a str {
    let from = page
        .find(start)
        .unwrap_or_else(|| panic!("{start} not in the page"));
    let len = page[from..].find(end).expect("section ends") + end.len();
    &page[from..from + len]
}

fn render(results: &Results, baseline: Option<&Results>) -> String {
    let report = Report::new(
        results,
        "out/results.json",
        baseline.map(|b| (b, "main/results.json")),
    );
    html::render(&report, &SvgPlotter::default()).unwrap()
}

#[test]
fn the_page_has_every_chart_run_and_flame_graph() {
    let page = render(&sample::results(), None);
    for id in CHART_IDS {
        assert!(
            page.contains(&format!("<svg id=\"{id}\" class=\"chart\"")),
            "{id}"
        );
    }
    let results = sample::results();
    for (i, run) in results.runs.iter().enumerate() {
        assert!(page.contains(&format!("id=\"run-{i}\"")));
        let has_flame = page.contains(&format!("id=\"flame-{i}\""));
        assert_eq!(has_flame, !run.stacks.is_empty(), "{}", run.key());
    }
    assert!(page.contains("no image for core cortex-m3"));
    assert!(!page.contains("{{"), "every placeholder filled");
}

#[test]
fn the_page_is_self_contained() {
    let page = render(&sample::results(), Some(&with_baseline().0));
    for banned in [
        "<link",
        "<script src",
        "url(http",
        "url(//",
        "@import",
        "<img",
        "src=\"http",
        "href=\"http",
    ] {
        assert!(!page.contains(banned), "{banned} found");
    }
    // The only scripts are inferno's, inside the sandboxed flame graph documents.
    assert!(
        !outside_srcdoc(&page).contains("<script"),
        "no script in the page itself"
    );
    assert!(
        page.contains("srcdoc="),
        "the flame graph documents were skipped, not missing"
    );
}

/// The page with the values of `srcdoc` attributes (the flame graph documents) cut out.
fn outside_srcdoc(page: &str) -> String {
    page.split("srcdoc=\"")
        .enumerate()
        .map(|(i, part)| {
            if i == 0 {
                part
            } else {
                part.split_once('"').map_or("", |p| p.1)
            }
        })
        .collect()
}

#[test]
fn baselines_show_coloured_deltas() {
    let (base, new) = with_baseline();
    let page = render(&new, Some(&base));
    assert!(page.contains("baseline <b>main/results.json</b>"));
    let summary = section(&page, "<table class=\"summary\">", "</table>");
    let mut rows = summary.split("<tr>").skip(2);
    let first_row = rows.next().unwrap();
    assert!(
        first_row.contains("<span class=\"d worse\">+5.26%</span>"),
        "{first_row}"
    );
    let second_row = rows.next().unwrap();
    assert!(
        second_row.contains("<span class=\"d better\">-9.09%</span>"),
        "{second_row}"
    );
    assert!(
        page.contains("<span class=\"d new\">new</span>"),
        "run 4 is new"
    );
    assert!(
        page.contains("baseline (outline)"),
        "charts draw the baseline"
    );
    assert!(page.contains("<b>1</b>slower in cycles"));
    assert!(page.contains("<b>1</b>faster in cycles"));
}

#[test]
fn hostile_strings_are_escaped_everywhere() {
    let mut results = sample::results();
    let run = &mut results.runs[0];
    run.workload = "<script>alert(1)</script>".to_owned();
    run.target = "\"quoted\" & 'single'".to_owned();
    run.profile[0].name = "<img src=x onerror=alert(2)>".to_owned();
    run.stacks[0].stack = "main;<b>bold</b>;\"q\"&amp".to_owned();
    run.stdout = "</pre><script>alert(3)</script>".to_owned();
    run.error = Some("<iframe src=javascript:alert(4)>".to_owned());
    results.provenance.suite = "</title><script>alert(5)</script>".to_owned();
    let page = render(&results, None);
    for raw in [
        "<script>alert",
        "<img src=x",
        "<b>bold</b>",
        "<iframe src=javascript",
        "</title><script>",
        "\"quoted\" &",
    ] {
        assert!(!page.contains(raw), "{raw} reached the page unescaped");
    }
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    // Apostrophes need no escape: every attribute is double-quoted.
    assert!(page.contains("&quot;quoted&quot; &amp; 'single'"));
    assert!(page.contains("&lt;/pre&gt;&lt;script&gt;alert(3)"));
    // Inside the flame graph's srcdoc, inferno's escaping is escaped again.
    assert!(
        page.contains("&amp;lt;b&amp;gt;bold"),
        "flame graph frame escaped twice"
    );
}

fn sample_files(dir: &Path) -> (PathBuf, PathBuf) {
    let (base, new) = with_baseline();
    let (b, n) = (dir.join("base.json"), dir.join("new.json"));
    json::write_results(&b, &base).unwrap();
    json::write_results(&n, &new).unwrap();
    (b, n)
}

#[test]
fn write_report_creates_the_directory_and_index() {
    let dir = tempfile::tempdir().unwrap();
    let (base, new) = sample_files(dir.path());
    let out = dir.path().join("report/nested");
    let index = html::write_report(&new, Some(&base), &out).unwrap();
    assert_eq!(index, out.join("index.html"));
    let names: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["index.html"]);
}

#[test]
fn bad_inputs_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let (base, new) = sample_files(dir.path());
    let out = dir.path().join("report");

    let mut other = json::read_results(&base).unwrap();
    other.provenance.suite = "other-suite".to_owned();
    let other_path = dir.path().join("other.json");
    json::write_results(&other_path, &other).unwrap();
    let err = html::write_report(&new, Some(&other_path), &out).unwrap_err();
    assert!(
        matches!(err, Error::Mismatch { what: "suite", .. }),
        "{err}"
    );
    assert!(err.to_string().contains("other.json"));

    let truncated = dir.path().join("truncated.json");
    let text = std::fs::read_to_string(&new).unwrap();
    std::fs::write(&truncated, &text[..text.len() - 10]).unwrap();
    let err = html::write_report(&truncated, None, &out).unwrap_err();
    assert!(
        err.to_string().contains("truncated.json is truncated"),
        "{err}"
    );
    assert!(!out.exists(), "no output directory after bad input");

    // A directory that cannot be created: its parent is a file.
    let blocked = dir.path().join("new.json").join("report");
    let err = html::write_report(&new, None, &blocked).unwrap_err();
    assert!(matches!(err, Error::Write { .. }), "{err:?}");
    assert!(err
        .to_string()
        .starts_with(&format!("cannot write {}", blocked.display())));
}

#[test]
fn a_report_of_only_failures_still_renders() {
    let mut results = sample::results();
    for run in &mut results.runs {
        run.status = Status::Error;
    }
    let page = render(&results, None);
    assert!(page.contains("No successful runs with a headline region to chart."));
    assert!(
        page.contains("No successful runs to show."),
        "no memory cards"
    );
    assert!(page.contains("No profiles in these results."));
    assert!(!page.contains("class=\"chart\""));
    let matrix = section(&page, "<section id=\"matrix\">", "</section>");
    assert_eq!(matrix.matches("status-error\">error<").count(), 10);
}

#[test]
fn runs_skipped_for_a_missing_feature_read_as_skipped() {
    let mut results = sample::results();
    results.runs[0].status = Status::Skipped;
    results.runs[0].error = Some("needs an FPU".into());
    results.runs[1].status = Status::Error;
    results.runs[1].error = Some("fw.elf: does not fit".into());
    let page = render(&results, None);
    assert!(page.contains("status-skipped\">skipped<"), "skip badge");
    assert!(
        page.contains("status-error\">error<"),
        "a real error stays an error"
    );
}

/// Runs headless Chromium on `url` with `extra` flags and returns its stdout, or `None`
/// (after a notice) when Chromium is not installed.
fn chromium(url: &str, extra: &[String]) -> Option<String> {
    let chromium = Path::new("/usr/bin/chromium");
    if !chromium.exists() {
        eprintln!(
            "notice: {} not found; browser check skipped",
            chromium.display()
        );
        return None;
    }
    let profile = tempfile::tempdir().unwrap();
    let output = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(String::from_utf8(output.stdout).unwrap())
}

/// Loads a rendered report in headless Chromium and checks the charts made it into the
/// DOM. Set `MCUBENCH_SCREENSHOT=path.png` to also save a screenshot of the page.
#[test]
fn chromium_renders_the_charts() {
    let dir = tempfile::tempdir().unwrap();
    let (base, new) = sample_files(dir.path());
    let index = html::write_report(&new, Some(&base), &dir.path().join("report")).unwrap();
    let url = format!("file://{}", index.display());
    let Some(dom) = chromium(&url, &["--dump-dom".to_owned()]) else {
        return;
    };
    for id in CHART_IDS {
        assert!(
            dom.contains(&format!("<svg id=\"{id}\" class=\"chart\"")),
            "{id} not in DOM"
        );
    }
    assert!(dom.contains("<rect"), "bars drawn");
    assert_eq!(dom.matches("<iframe class=\"flamegraph\"").count(), 9);
    assert!(dom.contains("<table class=\"summary\">"));
    if let Some(shot) = std::env::var_os("MCUBENCH_SCREENSHOT") {
        let shot = Path::new(&shot);
        chromium(
            &url,
            &[
                format!("--screenshot={}", shot.display()),
                "--window-size=1400,3000".to_owned(),
            ],
        );
        assert!(shot.exists());
    }
}

/// The browser's view of a page built from hostile names: no element came from them.
#[test]
fn chromium_finds_no_injected_elements() {
    let mut results = sample::results();
    results.runs[0].workload = "<script>document.title='pwned'</script>".to_owned();
    results.runs[0].stdout = "</pre><img src=x onerror=alert(1)>".to_owned();
    results.runs[0].profile[0].name = "<b id=injected>x</b>".to_owned();
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("hostile.html");
    std::fs::write(&page, render(&results, None)).unwrap();
    let Some(dom) = chromium(
        &format!("file://{}", page.display()),
        &["--dump-dom".to_owned()],
    ) else {
        return;
    };
    let dom = outside_srcdoc(&dom);
    assert!(!dom.contains("<script"), "no script element in the page");
    assert!(!dom.contains("<img"), "no image element");
    assert!(
        !dom.contains("id=\"injected\""),
        "no element from a function name"
    );
    assert!(
        dom.contains("<title>mcubench report: tinyml</title>"),
        "title untouched"
    );
    assert!(
        dom.contains("&lt;script&gt;document.title"),
        "the name is shown as text"
    );
}

/// Figures near f64::MAX once made the chart axis infinite, and plotters
/// never finished looking for its key points.
#[test]
fn huge_figures_still_render() {
    let mut results = sample::results();
    for run in &mut results.runs {
        run.cycles_per_mac = run.cycles_per_mac.map(|_| 1.7e308);
        if let Some(call) = &mut run.per_call {
            call.time_us = 1.7e308;
            call.energy_uj = f64::MAX;
        }
    }
    let page = render(&results, Some(&sample::results()));
    assert!(page.contains("chart-latency"));
}

/// The matrix leads the page: per-call time and energy by workload and target, with
/// changes, and broken runs shown as such.
#[test]
fn matrix_snapshot() {
    let (base, mut new) = with_baseline();
    new.runs[5].status = Status::Skipped;
    new.runs[5].error = Some("needs an FPU".into());
    let page = render(&new, Some(&base));
    let matrix = section(&page, "<section id=\"matrix\">", "</section>");
    assert!(
        page.find("id=\"matrix\"") < page.find("id=\"charts\""),
        "the matrix comes before the charts"
    );
    let readable = matrix
        .replace("<tr>", "\n<tr>")
        .replace("<td", "\n  <td")
        .replace("<th", "\n  <th");
    insta::assert_snapshot!("matrix", readable);
}

#[test]
fn hot_functions_span_all_runs() {
    let results = sample::results();
    let page = render(&results, None);
    let hot = section(&page, "<section id=\"hot\">", "</section>");
    let rows: Vec<&str> = hot.split("<tr>").skip(2).collect();
    assert_eq!(rows.len(), 15);
    let (i, run, top) = results
        .runs
        .iter()
        .enumerate()
        .flat_map(|(i, r)| r.profile.iter().map(move |e| (i, r, e)))
        .max_by_key(|(_, _, e)| e.self_cycles)
        .unwrap();
    assert!(
        rows[0].contains(&format!("<code>{}</code>", top.name)),
        "{}",
        rows[0]
    );
    assert!(
        rows[0].contains(&format!(
            "href=\"#run-{i}\">{} @ {}<",
            run.workload, run.target
        )),
        "{}",
        rows[0]
    );
    let cycles: Vec<u64> = rows
        .iter()
        .map(|r| {
            let cell = r.split("<td class=\"num\">").nth(1).unwrap();
            cell.split('<')
                .next()
                .unwrap()
                .replace(',', "")
                .parse()
                .unwrap()
        })
        .collect();
    assert!(cycles.windows(2).all(|w| w[0] >= w[1]), "{cycles:?}");
}

#[test]
fn memory_bars_show_use_against_capacity() {
    let mut results = sample::results();
    results.runs[0].ram_bytes = results.runs[0].ram_capacity_bytes * 2;
    let page = render(&results, None);
    let memory = section(&page, "<section id=\"memory\">", "</section>");
    let ok = results
        .runs
        .iter()
        .filter(|r| r.status == Status::Ok)
        .count();
    assert_eq!(memory.matches("class=\"mem-card\"").count(), ok);
    assert_eq!(memory.matches("class=\"track\"").count(), 3 * ok);
    assert!(
        memory.contains("256.0 KiB / 128.0 KiB · 200%"),
        "over capacity"
    );
    assert_eq!(
        memory
            .matches("width:100.0%;background:var(--worse)")
            .count(),
        1,
        "the bar that does not fit is red and full"
    );
}

/// Many runs and long profiles: the page is bounded in the work it does.
#[test]
fn many_runs_render_quickly() {
    let mut results = sample::results();
    let template = results.runs.clone();
    results.runs = (0..60)
        .flat_map(|w| {
            template.iter().map(move |r| {
                let mut r = r.clone();
                r.workload = format!("{}-{w}", r.workload);
                r.profile = (0..400)
                    .map(|k| mcubench_reports::results::ProfileEntry {
                        name: format!("fn_{k}"),
                        self_cycles: k * 7 + w,
                        total_cycles: k * 9,
                        calls: 1,
                    })
                    .collect();
                r
            })
        })
        .collect();
    let start = std::time::Instant::now();
    let page = render(&results, Some(&sample::results()));
    assert!(page.contains("chart-latency"));
    assert!(
        start.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
}

/// A script appended to a page for the browser checks: it writes the page's overflow
/// past the viewport, the viewport width and every visible text smaller than 11 px (SVG
/// text measured at its drawn scale) into `<pre id="probe">` of the framing page.
const PROBE: &str = r#"<script>
(() => {
  const small = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const el = n.parentElement;
    if (!n.textContent.trim() || !el || el.getClientRects().length === 0) continue;
    let size = parseFloat(getComputedStyle(el).fontSize);
    if (el instanceof SVGElement) {
      const m = el.getScreenCTM();
      if (m) size *= Math.hypot(m.a, m.b);
    }
    if (size < 11) small.push(el.tagName + ' ' + size.toFixed(1) + ' ' + n.textContent.trim().slice(0, 30));
  }
  const probe = document.createElement('pre');
  probe.id = 'probe';
  probe.textContent = 'overflow=' + (document.documentElement.scrollWidth - innerWidth) +
    ';width=' + innerWidth + ';small=' + small.length + ';' + small.slice(0, 8).join(' | ');
  parent.document.body.appendChild(probe);
})();
</script>"#;

/// `page` in a frame `width` px wide: headless Chromium keeps its window at least
/// 500 px wide, and a frame is a viewport of its own, media queries and all. The frame
/// is a `srcdoc`, so the page's script may write into the framing document.
fn framed(page: &str, width: i64) -> String {
    format!(
        "<!DOCTYPE html><html><body style=\"margin:0\"><iframe style=\"width:{width}px;\
         height:2400px;border:0;display:block\" srcdoc=\"{}\"></iframe></body></html>",
        page.replace('&', "&amp;").replace('"', "&quot;")
    )
}

/// At phone and desktop widths the page fits the viewport (wide tables and charts
/// scroll in their own boxes) and no visible text is under 11 px.
#[test]
fn chromium_page_fits_phones_and_text_is_readable() {
    let (base, new) = with_baseline();
    let page = render(&new, Some(&base)).replace("</body>", &format!("{PROBE}</body>"));
    let dir = tempfile::tempdir().unwrap();
    for width in [390, 1400] {
        let path = dir.path().join(format!("probe-{width}.html"));
        std::fs::write(&path, framed(&page, width)).unwrap();
        let Some(dom) = chromium(
            &format!("file://{}", path.display()),
            &[
                "--dump-dom".to_owned(),
                "--window-size=1400,2400".to_owned(),
            ],
        ) else {
            return;
        };
        let probe = dom
            .split("<pre id=\"probe\">")
            .nth(1)
            .and_then(|p| p.split("</pre>").next())
            .expect("the probe ran");
        let field = |name: &str| -> i64 {
            let start = probe.find(&format!("{name}=")).expect(name) + name.len() + 1;
            let digits: String = probe[start..]
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '-')
                .collect();
            digits.parse().unwrap()
        };
        assert_eq!(field("width"), width, "viewport as asked: {probe}");
        assert!(field("overflow") <= 0, "page wider than {width}: {probe}");
        assert_eq!(field("small"), 0, "text under 11 px at {width}: {probe}");
    }
}

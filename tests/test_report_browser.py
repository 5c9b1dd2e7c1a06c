"""Browser tests: self-contained HTML pages loaded in a real headless chromium.

Debian's chromium is driven by selenium through Debian's chromedriver; selenium-manager is
never asked for a driver or a browser (both paths are given), so nothing is downloaded. The
paths come from the environment variables CHROMIUM and CHROMEDRIVER (default /usr/bin/chromium
and /usr/bin/chromedriver). Marked `browser`: `make test` deselects these tests and
`make test-browser` runs them (installing Debian's packages first when run as root).

The harness: `open_page` loads a local file and returns the console entries at level WARNING or
SEVERE. Chromium logs an uncaught exception in a page script (source "javascript"), a
resource that fails to load (source "network"), an invalid SVG attribute (source "rendering")
and console.error/console.warn (source "console-api") there. `external_references` lists what
the page would fetch from elsewhere, so a page can be checked to work offline: no script,
stylesheet, image or font from a CDN.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from conftest import blank_emails, customers_project
from pipelines import ledger, report
from pipelines.cli import main
from pipelines.plots import number

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")

# Without the background-networking flags, chromium's own connections (updates, sync, field
# trials) are refused many at a time on a closed network; a fresh profile keeps runs apart.
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)

PAGE_LOAD_TIMEOUT_S = 30

# Elements whose attribute makes the browser fetch something (SVG <image> and <use> take href,
# <object> takes data); <a href> is a link the reader may follow, not a load, so it is left out.
_FETCHING_ATTRIBUTES_JS = r"""
const found = [];
const pairs = [
  ["script", "src"], ["link", "href"], ["img", "src"], ["img", "srcset"], ["iframe", "src"],
  ["source", "src"], ["source", "srcset"], ["video", "src"], ["video", "poster"],
  ["audio", "src"], ["embed", "src"], ["object", "data"], ["image", "href"],
  ["image", "xlink:href"], ["use", "href"], ["use", "xlink:href"],
];
for (const [tag, attribute] of pairs) {
  for (const element of document.getElementsByTagName(tag)) {
    const value = element.getAttribute(attribute);
    if (!value) continue;
    if (attribute.endsWith("srcset")) {  // "a.png 1x, b.png 2x"
      for (const candidate of value.split(",")) found.push(candidate.trim().split(/\s+/)[0]);
    } else {
      found.push(value);
    }
  }
}
const cssTexts = [];
const walk = (rules) => {
  for (const rule of rules) {
    if (rule.href !== undefined && rule.styleSheet !== undefined) {  // @import
      found.push(rule.href);
      if (rule.styleSheet) {
        try { walk(rule.styleSheet.cssRules); } catch (error) { /* cross-origin */ }
      }
    } else if (rule.cssRules) {  // @media, @supports, @layer, ...
      walk(rule.cssRules);
    }
    cssTexts.push(rule.cssText);  // @font-face src, background-image, ...
  }
};
for (const sheet of document.styleSheets) {
  try { walk(sheet.cssRules); } catch (error) { /* cross-origin: its <link> is listed */ }
}
for (const element of document.querySelectorAll("[style]")) {
  cssTexts.push(element.getAttribute("style"));
}
return {found: found, cssTexts: cssTexts, base: document.baseURI};
"""

_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)\s]*))\s*\)""")
_LOCAL_PREFIXES = ("data:", "#", "about:", "blob:")


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    """A headless chromium (Debian's, through Debian's chromedriver) that logs the console."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if missing:
        pytest.fail(
            f"not found or not executable: {', '.join(missing)}; install Debian's browser with "
            "`sudo apt-get install chromium chromium-driver` (`make test-browser` does it when "
            "run as root), or set CHROMIUM and CHROMEDRIVER to their paths",
            pytrace=False,
        )
    with tempfile.TemporaryDirectory(
        prefix="chromium-profile-", ignore_cleanup_errors=True
    ) as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={profile}")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        try:
            driver.set_page_load_timeout(PAGE_LOAD_TIMEOUT_S)
            yield driver
        finally:
            driver.quit()


def open_page(driver: WebDriver, path: Path) -> list[dict]:
    """Load a local file and return its console entries at level SEVERE or WARNING.

    Each entry is chromium's, e.g. {"level": "SEVERE", "source": "javascript", "message":
    "file:///.../page.html 0:26 Uncaught Error: boom", "timestamp": ...}. Entries left by an
    earlier page are dropped first; two animation frames are awaited after the load so that
    errors of scripts that draw on the first frame are in.
    """
    driver.get_log("browser")  # drain what an earlier page left
    driver.get(Path(path).resolve().as_uri())
    WebDriverWait(driver, PAGE_LOAD_TIMEOUT_S).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )
    driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "requestAnimationFrame(() => requestAnimationFrame(() => done(true)));"
    )
    return [entry for entry in driver.get_log("browser") if entry["level"] in {"SEVERE", "WARNING"}]


def external_references(driver: WebDriver) -> list[str]:
    """Every URL the loaded page would fetch that is not inside the page, resolved to absolute.

    Looks at the src/href of script, link, img, iframe (and media, embed, object, SVG image/use)
    elements, at @import rules and at every url(...) in the page's stylesheets (@font-face src
    included) and style attributes. data:, blob:, about: and fragment-only (#id) URLs are
    inside the page and not listed; a relative file name is (the page would not be
    self-contained).
    """
    page = driver.execute_script(_FETCHING_ATTRIBUTES_JS)
    raw: list[str] = list(page["found"])
    for css in page["cssTexts"]:
        raw.extend(
            next(group for group in match.groups() if group is not None)
            for match in _CSS_URL.finditer(css)
        )
    references: list[str] = []
    for value in (value.strip() for value in raw):
        if not value or value.lower().startswith(_LOCAL_PREFIXES):
            continue
        absolute = driver.execute_script(
            "return new URL(arguments[0], arguments[1]).href;", value, page["base"]
        )
        if absolute not in references:
            references.append(absolute)
    return references


def test_clean_inline_svg_page_has_no_console_errors_and_shows_its_rects(browser, tmp_path):
    page = tmp_path / "clean.html"
    page.write_text(
        """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>clean</title>
<style>
  @font-face { font-family: Local; src: url("data:font/woff2;base64,AAAA"); }
  body { font-family: system-ui, sans-serif; }
</style></head>
<body>
<h1>Run report</h1>
<svg width="240" height="120" viewBox="0 0 240 120" role="img" aria-label="records per source">
  <defs><linearGradient id="bar"><stop offset="0" stop-color="#369"/></linearGradient></defs>
  <rect class="bar" x="10" y="20" width="60" height="100" fill="url(#bar)"/>
  <rect class="bar" x="90" y="50" width="60" height="70" fill="#369"/>
  <rect class="bar" x="170" y="80" width="60" height="40" fill="#369"/>
</svg>
<script>document.querySelector("h1").dataset.ready = "yes";</script>
</body></html>
""",
        encoding="utf-8",
    )

    assert open_page(browser, page) == []
    assert external_references(browser) == []
    assert browser.find_element(By.TAG_NAME, "h1").get_attribute("data-ready") == "yes"
    rects = browser.find_elements(By.CSS_SELECTOR, "svg rect.bar")
    assert len(rects) == 3
    for rect in rects:
        assert rect.is_displayed()
        assert rect.size["width"] > 0 and rect.size["height"] > 0


def test_harness_reports_an_uncaught_script_error(browser, tmp_path):
    page = tmp_path / "throws.html"
    page.write_text(
        """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>throws</title></head>
<body><p>before</p>
<script>throw new Error("plot data missing");</script>
</body></html>
""",
        encoding="utf-8",
    )

    entries = open_page(browser, page)

    assert [entry["level"] for entry in entries] == ["SEVERE"]
    assert entries[0]["source"] == "javascript"
    assert "Uncaught Error: plot data missing" in entries[0]["message"]
    # The next page starts with an empty log.
    clean = tmp_path / "after.html"
    clean.write_text("<!doctype html><title>after</title><p>fine</p>", encoding="utf-8")
    assert open_page(browser, clean) == []


def test_harness_lists_and_reports_an_external_script(browser, tmp_path):
    # .invalid never resolves (RFC 2606), so the load fails with or without a network.
    page = tmp_path / "cdn.html"
    page.write_text(
        """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cdn</title>
<script src="https://cdn.example.invalid/plotly.min.js"></script>
<style>
  @font-face { font-family: Web; src: url(https://fonts.example.invalid/web.woff2); }
  body { font-family: Web, sans-serif; }
</style></head>
<body><p>text</p><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt=""></body></html>
""",
        encoding="utf-8",
    )

    entries = open_page(browser, page)

    assert external_references(browser) == [
        "https://cdn.example.invalid/plotly.min.js",
        "https://fonts.example.invalid/web.woff2",
    ]
    failed = [entry for entry in entries if entry["source"] == "network"]
    assert any(
        entry["level"] == "SEVERE"
        and "https://cdn.example.invalid/plotly.min.js" in entry["message"]
        and "Failed to load resource" in entry["message"]
        for entry in failed
    ), entries


@pytest.fixture(scope="module")
def drifted(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Two runs of the sample's customers, the second with a fifth of the CRM's emails
    blanked: the second run's ledger row and report."""
    project = customers_project(tmp_path_factory.mktemp("project"))
    warehouse = tmp_path_factory.mktemp("warehouse")
    args = ["run", "--project", str(project), "--warehouse", str(warehouse)]
    assert main(args) == 0
    blank_emails(project / "data/samples/crm/contacts.csv", 0.2)
    assert main(args) == 0
    run = ledger.read(warehouse, "audit.runs").sort("started_at").row(-1, named=True)
    return {"run": run, "page": report.path_for(warehouse, run["run_id"])}


def _bar(driver: WebDriver, chart: str, label: str, series: str = ""):
    return driver.find_element(
        By.CSS_SELECTOR,
        f'g.bar[data-chart="{chart}"][data-label="{label}"][data-series="{series}"]',
    )


def test_the_run_report_renders_its_plots_with_the_runs_own_figures(browser, drifted) -> None:
    run = drifted["run"]
    assert open_page(browser, drifted["page"]) == []  # no console error or warning
    assert external_references(browser) == []  # works offline
    charts = browser.find_elements(By.CSS_SELECTOR, "svg.chart")
    # counts, sources, ID events; stages; one entity's three; recent runs
    assert len(charts) == 3 + 1 + 3 + 2
    for chart in charts:
        assert chart.is_displayed() and chart.size["width"] > 200 and chart.size["height"] > 80
    # the counts-per-stage chart draws audit.runs' figures, bars in proportion to them
    golden = json.loads(run["golden"])["customer"]
    drawn = {}
    for label, value in (("golden customer", golden), ("records in", run["records_in"]),
                         ("candidate pairs", run["candidate_pairs"])):  # fmt: skip
        bar = _bar(browser, "counts per stage", label)
        assert float(bar.get_attribute("data-value")) == value
        rect = bar.find_element(By.TAG_NAME, "rect")
        assert rect.is_displayed()
        drawn[label] = rect.size["width"]
        # the number printed beside the bar is the ledger's
        shown = bar.find_element(By.XPATH, "following-sibling::*[1]").text
        assert shown == f"{value:,}"
    assert drawn["golden customer"] / drawn["records in"] == pytest.approx(
        golden / run["records_in"], abs=0.01
    )
    # the cluster sizes add up to the golden records the ledger counts
    sizes = browser.find_elements(By.CSS_SELECTOR, 'g.bar[data-chart="cluster sizes customer"]')
    assert sum(float(s.get_attribute("data-value")) for s in sizes) == golden
    assert all(s.find_element(By.TAG_NAME, "rect").size["height"] > 0 for s in sizes)
    # drift against the previous run: the blanked emails, with both values
    row = browser.find_element(
        By.XPATH, "//table[@id='drift']//tr[td[1]='customer' and td[2]='null_rate']"
    )
    assert "WARN" in row.text and "crm.email" in row.text
    cost = browser.find_element(By.ID, "cost").text
    assert f"${number(run['cost_per_1k_records'])}" in cost

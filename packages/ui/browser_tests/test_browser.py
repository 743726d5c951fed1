"""headrace ui in a real browser, over real penguin runs: runs list, the run's DAG with nine
nodes, a node's panel, its artifact's statistics view, lineage from the pushed model back to
CsvExampleGen, two runs compared, model history, and a run in progress updating live."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from browser_support import FIXTURE_PIPELINE, REPO, Server, screenshot

NODES = {
    "CsvExampleGen",
    "StatisticsGen",
    "SchemaGen",
    "ExampleValidator",
    "Transform",
    "Trainer",
    "latest_blessed_model_resolver",
    "Evaluator",
    "Pusher",
}
FIRST_RUN = dict.fromkeys(NODES, "complete")
SECOND_RUN = {
    **dict.fromkeys(
        ["CsvExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator", "Transform", "Trainer"],
        "cached",
    ),
    "latest_blessed_model_resolver": "complete",
    "Evaluator": "complete",
    "Pusher": "complete",
}
README_SHOT = REPO / "packages" / "ui" / "docs" / "run-page.png"


def _statuses(page) -> dict[str, str]:
    page.wait_for_selector("#dag[data-ready='1']")
    return page.eval_on_selector_all(
        "svg.graph g.node",
        "els => Object.fromEntries(els.map(e => [e.dataset.node, e.dataset.status]))",
    )


def _run_ids(page, server) -> list[str]:
    page.goto(f"{server.url}/runs?pipeline=penguin")
    return page.eval_on_selector_all(
        "#runs tbody tr td:first-child a", "els => els.map(e => e.textContent)"
    )


def test_runs_page_lists_the_penguin_runs(page, penguin_server):
    page.goto(penguin_server.url + "/")
    page.click("#pipelines a:text-is('penguin')")
    page.wait_for_selector("#runs")
    rows = page.locator("#runs tbody tr")
    assert rows.count() == 2
    newest = rows.nth(0).inner_text()
    assert "succeeded" in newest and "local" in newest
    screenshot(page, "runs")


def test_run_page_shows_nine_nodes_with_their_statuses(page, penguin_server):
    newest, oldest = _run_ids(page, penguin_server)
    page.goto(f"{penguin_server.url}/run?pipeline=penguin&run={oldest}")
    assert _statuses(page) == FIRST_RUN
    page.goto(f"{penguin_server.url}/run?pipeline=penguin&run={newest}")
    assert _statuses(page) == SECOND_RUN
    # Laid out left to right: CsvExampleGen is left of the Trainer, which is left of the Pusher.
    x = {
        n: page.locator(f"g.node[data-node='{n}']").bounding_box()["x"]
        for n in ("CsvExampleGen", "Trainer", "Pusher")
    }
    assert x["CsvExampleGen"] < x["Trainer"] < x["Pusher"]
    page.click("g.node[data-node='Evaluator']")
    page.wait_for_selector(".node-detail[data-node='Evaluator']")
    panel = page.inner_text("#panel")
    assert "eval_config" in panel and "Cache key" in panel and "baseline_model" in panel
    page.click("g.node[data-node='Trainer']")
    page.wait_for_selector(".node-detail[data-node='Trainer']")
    assert "reused the outputs of execution" in page.inner_text("#panel")
    assert "TensorBoard" in page.inner_text("#panel")
    shot = screenshot(page, "run")
    README_SHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, README_SHOT)


def test_node_leads_to_its_artifact_and_the_statistics_view(page, penguin_server):
    _, oldest = _run_ids(page, penguin_server)
    page.goto(f"{penguin_server.url}/run?pipeline=penguin&run={oldest}&node=StatisticsGen")
    page.wait_for_selector(".node-detail[data-node='StatisticsGen']")
    page.click("#panel a.artifact-link:has-text('ExampleStatistics')")
    page.wait_for_selector("#artifact-facts")
    assert "StatisticsGen" in page.inner_text("#artifact-facts")
    frame = page.frame_locator("#view")
    text = frame.locator("body").inner_text(timeout=10000)
    assert "body_mass_g" in text and "train" in text.lower()
    screenshot(page, "artifact-statistics")


def test_lineage_from_the_pushed_model_back_to_csvexamplegen(page, penguin_server):
    newest, _ = _run_ids(page, penguin_server)
    page.goto(f"{penguin_server.url}/run?pipeline=penguin&run={newest}&node=Pusher")
    page.wait_for_selector(".node-detail[data-node='Pusher']")
    page.click("#panel a.artifact-link:has-text('PushedModel')")
    page.click("text=Lineage")
    page.wait_for_selector("#dag[data-ready='1']")
    labels = page.eval_on_selector_all(
        "svg.graph g.node .label", "els => els.map(e => e.textContent)"
    )
    assert "CsvExampleGen" in labels and "Trainer" in labels and "Pusher" in labels
    assert any(label.startswith("Examples #") for label in labels)
    screenshot(page, "lineage")
    # Interactive: a click on an artifact offers its page and the lineage from it.
    page.click("svg.graph g.node.k-artifact >> nth=0")
    assert "Lineage from here" in page.inner_text("#panel")


def test_compare_two_runs_shows_why_nodes_re_ran(page, penguin_server):
    newest, oldest = _run_ids(page, penguin_server)
    page.goto(f"{penguin_server.url}/compare?pipeline=penguin&a={oldest}&b={newest}")
    row = page.locator("#diff tr[data-node='Evaluator']").inner_text()
    assert "re-ran" in row and "baseline_model" in row
    assert "complete → cached" in page.locator("#diff tr[data-node='Trainer']").inner_text()
    assert page.locator("table.evaluation").count() >= 1
    assert "Overall" in page.locator("table.evaluation").first.inner_text()
    screenshot(page, "compare")


def test_model_history(page, penguin_server):
    page.goto(f"{penguin_server.url}/models?pipeline=penguin")
    assert page.locator("svg.metric-plot").count() >= 1
    table = page.inner_text("#models")
    assert "blessed" in table and "serving_model" in table
    screenshot(page, "models")


def test_a_run_in_progress_updates_without_a_reload(page, tmp_path: Path):
    """A pipeline whose last node sleeps, started in a subprocess: its node goes from running
    to complete on the open page, through the event stream."""
    root = tmp_path / "live"
    env = {**os.environ, "HRUI_SLEEP": "6"}
    run = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "headrace_core.cli",
            "run",
            str(FIXTURE_PIPELINE),
            "--pipeline-root",
            str(root),
        ],
        cwd=REPO,
        env=env,
    )
    server = Server("--pipeline-root", str(root))
    try:
        deadline = time.monotonic() + 60
        while True:
            page.goto(f"{server.url}/runs?pipeline=uitest")
            link = page.locator("#runs tbody tr td:first-child a")
            if link.count() and "running" in page.inner_text("#runs"):
                break
            assert time.monotonic() < deadline, "the run never showed up as running"
            time.sleep(0.3)
        link.first.click()
        page.wait_for_selector("g.node[data-node='Slow'][data-status='running']", timeout=30000)
        page.evaluate("window.__marker = 'no reload'")
        screenshot(page, "run-in-progress")
        page.wait_for_selector("g.node[data-node='Slow'][data-status='complete']", timeout=60000)
        assert page.evaluate("window.__marker") == "no reload"
        page.wait_for_function("document.getElementById('run-status').textContent === 'succeeded'")
        screenshot(page, "run-finished-live")
    finally:
        server.stop()
        assert run.wait(timeout=120) == 0

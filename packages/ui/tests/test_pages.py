"""Every page over a store of real runs: what it shows, and that it answers."""

from __future__ import annotations

import json
import re
from typing import Any


def _json_block(html: str, element_id: str) -> Any:
    match = re.search(
        rf'<script type="application/json" id="{element_id}">(.*?)</script>', html, re.S
    )
    assert match, f"no {element_id} block"
    return json.loads(match.group(1))


def test_index_lists_the_pipeline_with_its_latest_run(client, run_ids):
    page = client.get("/")
    assert page.status_code == 200
    assert "uitest" in page.text
    assert run_ids[-1] in page.text


def test_runs_page_counts_each_runs_nodes(client, run_ids):
    page = client.get("/runs", params={"pipeline": "uitest"})
    assert page.status_code == 200
    rows = re.findall(r'<tr class="run">(.*?)</tr>', page.text, re.S)
    assert len(rows) == 3
    newest = re.sub(r"<[^>]+>", " ", rows[0]).split()
    # run, status, ..., then nodes / ran / cached / failed / skipped
    assert newest[0] == run_ids[2] and newest[1] == "failed"
    # Slow never started: the run stopped what depended on the failure.
    assert newest[-5:] == ["3", "0", "1", "1", "0"]
    second = re.sub(r"<[^>]+>", " ", rows[1]).split()
    assert second[-5:] == ["3", "2", "1", "0", "0"]


def test_runs_page_filters_and_paginates(client, run_ids):
    failed = client.get("/runs", params={"pipeline": "uitest", "status": "failed"})
    assert failed.text.count('<tr class="run">') == 1
    from headrace_ui import queries

    store = client.app.state.store.get()
    first = queries.runs_page(store, "uitest", limit=2)
    assert [r["run_id"] for r in first["runs"]] == [run_ids[2], run_ids[1]]
    second = queries.runs_page(store, "uitest", limit=2, before=first["next"])
    assert [r["run_id"] for r in second["runs"]] == [run_ids[0]] and second["next"] is None


def test_run_page_carries_the_dag_with_statuses(client, run_ids):
    page = client.get("/run", params={"pipeline": "uitest", "run": run_ids[1]})
    assert page.status_code == 200
    data = _json_block(page.text, "run-data")
    assert {n["id"]: n["status"] for n in data["nodes"]} == {
        "Ingest": "cached",
        "Train": "complete",
        "Slow": "complete",
    }
    assert {(e["source"], e["target"]) for e in data["edges"]} == {
        ("Ingest", "Train"),
        ("Train", "Slow"),
    }
    assert "/static/vendor/elk.bundled.js" in page.text


def test_node_panel_shows_parameters_cache_key_outputs_and_log(client, run_ids):
    page = client.get(
        "/node", params={"pipeline": "uitest", "run": run_ids[1], "node": "Train", "partial": "1"}
    )
    assert page.status_code == 200
    text = page.text
    assert "<html" not in text  # a fragment for the run page's panel
    assert "seed" in text and "Cache key" in text
    assert "Model #" in text and "ModelRun #" in text
    assert "trained on 5 rows with seed 1" in text  # its log
    assert "headrace tensorboard" in text


def test_cached_node_links_the_execution_it_reused(client, run_ids):
    page = client.get("/node", params={"pipeline": "uitest", "run": run_ids[1], "node": "Ingest"})
    assert "reused the outputs of execution" in page.text
    assert run_ids[0] in page.text


def test_failed_node_shows_its_error_and_where_in_the_users_code(client, run_ids):
    train = client.get("/node", params={"pipeline": "uitest", "run": run_ids[2], "node": "Train"})
    assert "bad rows" in train.text and "ui_pipeline.py" in train.text
    assert "in your code" in train.text
    slow = client.get("/node", params={"pipeline": "uitest", "run": run_ids[2], "node": "Slow"})
    assert "not-run" in slow.text


def test_artifact_page_shows_producer_consumers_and_properties(client, run_ids):
    from headrace_ui import queries

    store = client.app.state.store.get()
    ctx = queries.run_context(store, "uitest", run_ids[0])
    detail = queries.node_detail(store, ctx, "Ingest")
    examples = detail["outputs"]["examples"][0]["id"]
    page = client.get("/artifact", params={"id": examples})
    assert page.status_code == 200
    assert "Examples #" in page.text and "fingerprint" in page.text
    assert page.text.count("(execution ") >= 3  # its producer and the two Train consumers
    assert "Summary" in page.text  # the generic view: no viewer for Examples here


def test_lineage_walks_from_the_blessing_back_to_ingest(client, run_ids):
    from headrace_ui import queries

    store = client.app.state.store.get()
    ctx = queries.run_context(store, "uitest", run_ids[1])
    blessing = queries.node_detail(store, ctx, "Slow")["outputs"]["blessing"][0]["id"]
    page = client.get("/lineage", params={"artifact": blessing})
    graph = _json_block(page.text, "lineage-data")
    labels = {n["label"] for n in graph["nodes"] if n["kind"] == "execution"}
    assert {"Ingest", "Train", "Slow"} <= labels
    execution = next(n["execution_id"] for n in graph["nodes"] if n["label"] == "Train")
    around = _json_block(
        client.get("/lineage", params={"execution": execution}).text, "lineage-data"
    )
    assert any(
        n["kind"] == "artifact" and n["label"].startswith("Model #") for n in around["nodes"]
    )


def test_compare_says_why_each_node_re_ran(client, run_ids):
    page = client.get("/compare", params={"pipeline": "uitest", "a": run_ids[0], "b": run_ids[1]})
    assert page.status_code == 200
    row = re.search(r'<tr class="reran" data-node="Train">(.*?)</tr>', page.text, re.S)
    assert row and "seed" in row.group(1), page.text
    assert re.search(r'<tr class="" data-node="Ingest">.*?complete → cached', page.text, re.S)


def test_model_history_lists_every_model_with_its_blessing(client, run_ids):
    page = client.get("/models", params={"pipeline": "uitest"})
    assert page.status_code == 200
    rows = re.findall(r"<tr>\s*<td><a href=\"/artifact\?id=\d+\">Model #", page.text)
    assert len(rows) == 2
    assert page.text.count(">blessed<") == 2


def test_live_status_stream_of_a_finished_run_ends(client, run_ids):
    with client.stream("GET", "/events", params={"pipeline": "uitest", "run": run_ids[0]}) as r:
        body = "".join(r.iter_text())
    assert "event: status" in body and "event: done" in body
    state = json.loads(body.split("data: ", 1)[1].split("\n", 1)[0])
    assert state["run_status"] == "succeeded" and state["nodes"]["Train"]["status"] == "complete"


def test_unknown_things_are_clear_404s(client):
    assert "no run" in client.get("/run", params={"pipeline": "uitest", "run": "nope"}).text
    assert client.get("/artifact", params={"id": 999999}).status_code == 404
    assert client.get("/artifact", params={"id": "x"}).status_code == 400
    assert client.get("/models", params={"pipeline": "nope"}).status_code == 404


def test_read_only(client):
    assert client.post("/run", data={}).status_code == 405

"""Safe by default: markup from the store is escaped everywhere, passwords never shown, clear
pages for stores that cannot be read, loopback unless told otherwise."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'
PASSWORD = "hunter2-very-secret"


def _client(url: str) -> Any:
    from starlette.testclient import TestClient

    from headrace_ui import create_app

    return TestClient(create_app(url))


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A store whose every free-form value is hostile: written straight into MLMD, since
    headrace's DSL refuses such node ids itself."""
    from ml_metadata.proto import metadata_store_pb2 as pb

    from headrace_core.metadata import (
        EVENT_INPUT,
        EVENT_OUTPUT,
        PIPELINE_CONTEXT,
        RUN_CONTEXT,
        MetadataStore,
        default_metadata_url,
        set_value,
    )

    root = tmp_path_factory.mktemp("planted")
    url = default_metadata_url(str(root))
    store = MetadataStore(url)
    node = f"node{EVIL}"
    pipeline = "evil"
    run_id = f"run{EVIL}"
    ctx = store.context_proto(
        RUN_CONTEXT,
        f"{pipeline}:{run_id}",
        pipeline=pipeline,
        run_id=run_id,
        nodes=json.dumps([node, "Other"]),
        orchestrator=EVIL,
        started_at=1.0,
        pipeline_root=str(root),
    )
    pctx = store.context_proto(PIPELINE_CONTEXT, pipeline)
    type_id = store.artifact_type_id("Examples")
    artifact = pb.Artifact(type_id=type_id, uri=f"/data/{EVIL}/file{EVIL}.csv", state=2)
    set_value(artifact.custom_properties["note"], EVIL)
    set_value(artifact.custom_properties["source"], f"mysql://admin:{PASSWORD}@db.example/prod")
    set_value(artifact.custom_properties["db_password"], PASSWORD)
    producer = pb.Execution(type_id=store.execution_type_id("Evil"), last_known_state=4)
    for key, value in {
        "node_id": node,
        "run_id": run_id,
        "pipeline": pipeline,
        "status": "failed",
        "error": f'Traceback:\n  File "/home/u/{EVIL}.py", line 3, in f\nValueError: {EVIL}',
        "cache_key_parts": json.dumps({"parameters": {"p": EVIL, "password": PASSWORD}}),
    }.items():
        set_value(producer.custom_properties[key], value)
    event = pb.Event(type=EVENT_OUTPUT)
    event.path.steps.add().key = f"out{EVIL}"
    event.path.steps.add().index = 0
    eid, [aid], _ = store.call(
        "put_execution",
        producer,
        [(artifact, event)],
        [pctx, ctx],
        reuse_context_if_already_exist=True,
    )
    skipped = pb.Execution(type_id=store.execution_type_id("Evil"), last_known_state=6)
    for key, value in {
        "node_id": "Other",
        "run_id": run_id,
        "pipeline": pipeline,
        "status": "skipped",
        "reason": EVIL,
    }.items():
        set_value(skipped.custom_properties[key], value)
    consumed = pb.Artifact()
    consumed.CopyFrom(store.artifacts([aid])[0])
    store.call(
        "put_execution",
        skipped,
        [(consumed, pb.Event(type=EVENT_INPUT))],
        [pctx, ctx],
        reuse_context_if_already_exist=True,
    )
    return {
        "url": url,
        "pipeline": pipeline,
        "run_id": run_id,
        "node": node,
        "artifact": aid,
        "execution": eid,
    }


def _pages(p: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    run = {"pipeline": p["pipeline"], "run": p["run_id"]}
    return [
        ("/", {}),
        ("/runs", {"pipeline": p["pipeline"]}),
        ("/run", run),
        ("/node", {**run, "node": p["node"]}),
        ("/node", {**run, "node": "Other"}),
        ("/artifact", {"id": p["artifact"]}),
        ("/lineage", {"artifact": p["artifact"]}),
        ("/lineage", {"execution": p["execution"]}),
        ("/compare", {"pipeline": p["pipeline"], "a": p["run_id"], "b": p["run_id"]}),
        ("/models", {"pipeline": p["pipeline"]}),
        ("/run", {"pipeline": p["pipeline"], "run": EVIL}),  # a 404 that repeats the input
    ]


def test_markup_from_the_store_is_escaped_on_every_page(planted):
    with _client(planted["url"]) as client:
        for path, params in _pages(planted):
            page = client.get(path, params=params)
            assert page.status_code in (200, 404), (path, page.text[-2000:])
            text = page.text
            assert "<script>alert" not in text, path
            assert "<img src=x" not in text, path
            # Graph data sits in a JSON block that markup cannot close.
            for block in text.split('type="application/json"')[1:]:
                assert "</script><img" not in block.split("</script>", 1)[0]
            csp = page.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_the_escaped_values_are_still_shown(planted):
    with _client(planted["url"]) as client:
        node = client.get(
            "/node", params={"pipeline": "evil", "run": planted["run_id"], "node": planted["node"]}
        ).text
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in node
        skipped = client.get(
            "/node", params={"pipeline": "evil", "run": planted["run_id"], "node": "Other"}
        ).text
        assert "Skipped: &lt;script&gt;" in skipped


def test_passwords_are_never_rendered(planted):
    with _client(planted["url"]) as client:
        for path, params in _pages(planted):
            assert PASSWORD not in client.get(path, params=params).text, path
        artifact = client.get("/artifact", params={"id": planted["artifact"]}).text
        assert "mysql://admin:***@db.example/prod" in artifact


def test_a_missing_store_is_a_clear_page(tmp_path):
    from headrace_core.metadata import default_metadata_url

    with _client(default_metadata_url(str(tmp_path / "nothing"))) as client:
        page = client.get("/")
    assert page.status_code == 503
    assert "No metadata store" in page.text and "nothing has run" in page.text


def test_an_empty_store_says_so(tmp_path):
    from headrace_core.metadata import MetadataStore, default_metadata_url

    url = default_metadata_url(str(tmp_path))
    MetadataStore(url)
    with _client(url) as client:
        page = client.get("/")
    assert page.status_code == 200 and "The store is empty" in page.text


def test_a_store_of_a_newer_schema_is_a_clear_page(tmp_path):
    from headrace_core.metadata import MetadataStore, default_metadata_url

    url = default_metadata_url(str(tmp_path))
    MetadataStore(url)
    with sqlite3.connect(tmp_path / "metadata.sqlite") as db:
        db.execute("UPDATE MLMDEnv SET schema_version = 99")
    with _client(url) as client:
        page = client.get("/")
    assert page.status_code == 503
    assert "newer schema" in page.text


def test_ui_binds_loopback_by_default_and_warns_otherwise(monkeypatch, tmp_path, capsys):
    import uvicorn

    from headrace_core.cli import main

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw))
    assert main(["ui", "--pipeline-root", str(tmp_path)]) == 0
    assert calls[-1]["host"] == "127.0.0.1" and calls[-1]["port"] == 8765
    assert "warning" not in capsys.readouterr().err
    assert main(["ui", "--pipeline-root", str(tmp_path), "--host", "0.0.0.0", "--port", "9"]) == 0
    assert calls[-1]["host"] == "0.0.0.0"
    assert "not only on this machine" in capsys.readouterr().err


def test_the_command_is_listed_by_headrace_help():
    out = subprocess.run(
        [sys.executable, "-m", "headrace_core.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "ui" in out.split() and "tensorboard" in out.split()


def test_tensorboard_command_names_each_runs_training_logs(history_root: Path, run_ids, capsys):
    from headrace_core.cli import main

    assert (
        main(
            [
                "tensorboard",
                run_ids[0],
                run_ids[1],
                "--pipeline-root",
                str(history_root),
                "--print-command",
            ]
        )
        == 0
    )
    command = capsys.readouterr().out
    assert "tensorboard.main --logdir_spec" in command
    assert f"{run_ids[0]}/Train:" in command and f"{run_ids[1]}/Train:" in command
    assert "--host 127.0.0.1" in command

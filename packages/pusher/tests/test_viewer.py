"""The ``headrace show`` viewer for PushedModel."""

from __future__ import annotations

import json
from pathlib import Path

from headrace_core import PushedModel
from headrace_core.plugins import get_plugin_manager
from headrace_pusher.viewer import summarize


def test_pushed(tmp_path: Path) -> None:
    destination = tmp_path / "serving" / "1700000000"
    destination.mkdir(parents=True)
    artifact = PushedModel(
        str(tmp_path / "pushed"),
        id=9,
        custom_properties={
            "pushed": 1,
            "pushed_destination": str(destination),
            "pushed_version": "1700000000",
        },
    )
    summary = summarize(artifact)
    assert summary.text.splitlines() == [
        f"PushedModel #9 at {tmp_path / 'pushed'}",
        "pushed: yes",
        f"destination: {destination}",
        "version: 1700000000",
    ]
    assert summary.html_path is None
    assert summary.headline == f"pushed version 1700000000 to {destination}"
    json.dumps(summary.data)

    destination.rmdir()  # an operator cleaned old versions up
    summary = summarize(artifact)
    assert f"destination: {destination} (no longer there)" in summary.text.splitlines()
    assert summary.data["destination_exists"] is False


def test_not_pushed_and_unknown() -> None:
    not_pushed = summarize(PushedModel("/p", id=1, custom_properties={"pushed": 0}))
    assert not_pushed.text.splitlines()[1:] == ["pushed: no (the model was not blessed)"]
    assert not_pushed.data["pushed"] == 0
    assert not_pushed.headline == "not pushed: the model was not blessed"
    unknown = summarize(PushedModel("/p", id=2))
    assert unknown.text.splitlines()[1:] == ["pushed: unknown (no 'pushed' custom property)"]


def test_viewer_is_registered_for_pushed_model() -> None:
    entry = get_plugin_manager().viewers.entry("PushedModel")
    assert entry.value.viewer == "headrace_pusher.viewer:summarize"
    assert entry.value.run_summary  # `headrace run` ends by saying where the model went
    assert entry.provenance.distribution == "headrace-pusher"


def test_pushed_without_a_recorded_version() -> None:
    # Another pusher (a function component, a TFX-era artifact) may record only where it went:
    # the headline must not say "version None".
    summary = summarize(
        PushedModel("/p", id=3, custom_properties={"pushed": 1, "pushed_destination": "/s/4"})
    )
    assert summary.headline == "pushed to /s/4"
    assert "None" not in summary.text

"""Third-party plugins as a user meets them: installed distributions listed by ``headrace plugins``.

The example plugin registers an artifact type and a component; the broken plugin raises when
imported. The broken one must be reported, naming its distribution and the cause, without
hiding anything else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import headrace_core
from headrace_core.artifacts import STANDARD_ARTIFACT_TYPES
from headrace_core.plugins import ENV_ALLOW, ENV_DISABLE_AUTOLOAD

EXAMPLE_DIST = "headrace-example-plugin"
EXAMPLE_VERSION = "0.3.1"
EXAMPLE_PLUGIN = "example"
BROKEN_DIST = "headrace-broken-plugin"
BROKEN_PLUGIN = "broken"
BROKEN_CAUSE = "RuntimeError: this plugin is broken on purpose"
EXAMPLE_HOOKS = ["headrace_register_artifact_types", "headrace_register_components"]

PluginsJson = Callable[..., dict[str, Any]]


def entries_by_name(document: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in document["entries"] if e["kind"] == kind}


def assert_core_types_listed(document: dict[str, Any]) -> None:
    artifact_types = entries_by_name(document, "artifact_type")
    for artifact_type in STANDARD_ARTIFACT_TYPES:
        entry = artifact_types.get(artifact_type.TYPE_NAME)
        assert entry is not None, f"standard type {artifact_type.TYPE_NAME} is not listed"
        assert entry["distribution"] == "headrace-core"
        assert entry["version"] == headrace_core.__version__
        assert entry["plugin"] == "headrace-core"


def assert_example_listed(document: dict[str, Any]) -> None:
    embeddings = entries_by_name(document, "artifact_type").get("Embeddings")
    assert embeddings == {
        "name": "Embeddings",
        "kind": "artifact_type",
        "distribution": EXAMPLE_DIST,
        "version": EXAMPLE_VERSION,
        "plugin": EXAMPLE_PLUGIN,
    }
    component = entries_by_name(document, "component").get("EmbeddingGen")
    assert component == {
        "name": "EmbeddingGen",
        "kind": "component",
        "distribution": EXAMPLE_DIST,
        "version": EXAMPLE_VERSION,
        "plugin": EXAMPLE_PLUGIN,
    }
    plugins = {p["name"]: p for p in document["plugins"]}
    assert plugins[EXAMPLE_PLUGIN] == {
        "name": EXAMPLE_PLUGIN,
        "distribution": EXAMPLE_DIST,
        "version": EXAMPLE_VERSION,
        "hooks": EXAMPLE_HOOKS,
        "builtin": False,
    }
    assert plugins["headrace-core"]["builtin"] is True


# headrace plugins ------------------------------------------------------------------------------


@pytest.mark.needs_example_plugin
def test_plugins_json_lists_the_third_party_plugin_and_the_core(plugins_json: PluginsJson) -> None:
    document = plugins_json()

    assert_example_listed(document)
    assert_core_types_listed(document)
    assert not [e for e in document["errors"] if e["distribution"] == EXAMPLE_DIST]


@pytest.mark.needs_example_plugin
@pytest.mark.needs_broken_plugin
def test_plugins_json_reports_the_broken_plugin(plugins_json: PluginsJson) -> None:
    document = plugins_json()

    errors = [e for e in document["errors"] if e["distribution"] == BROKEN_DIST]
    assert len(errors) == 1, document["errors"]
    error = errors[0]
    assert error["plugin"] == BROKEN_PLUGIN
    assert error["stage"] == "import"
    assert BROKEN_DIST in error["error"]
    assert BROKEN_CAUSE in error["error"]
    # The failure is confined to the broken plugin.
    assert BROKEN_PLUGIN not in {p["name"] for p in document["plugins"]}
    assert not [e for e in document["entries"] if e["distribution"] == BROKEN_DIST]
    assert_example_listed(document)
    assert_core_types_listed(document)


@pytest.mark.needs_example_plugin
@pytest.mark.needs_broken_plugin
def test_plugins_table_lists_the_rest_and_prints_the_error(run_headrace: Any) -> None:
    result = run_headrace("plugins")

    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    assert rows[0] == ["KIND", "NAME", "DISTRIBUTION", "VERSION"]
    assert ["artifact", "type", "Embeddings", EXAMPLE_DIST, EXAMPLE_VERSION] in rows
    assert ["component", "EmbeddingGen", EXAMPLE_DIST, EXAMPLE_VERSION] in rows
    assert ["artifact", "type", "Examples", "headrace-core", headrace_core.__version__] in rows
    assert BROKEN_DIST not in result.stdout

    error_lines = [line for line in result.stderr.splitlines() if BROKEN_DIST in line]
    assert len(error_lines) == 1, result.stderr
    assert error_lines[0].startswith("headrace: plugin load error: ")
    assert BROKEN_CAUSE in error_lines[0]


@pytest.mark.needs_example_plugin
@pytest.mark.needs_broken_plugin
@pytest.mark.parametrize("output", [[], ["--json"]], ids=["table", "json"])
def test_strict_fails_on_a_plugin_load_error(run_headrace: Any, output: list[str]) -> None:
    result = run_headrace("plugins", "--strict", *output)

    assert result.returncode == 1
    assert BROKEN_DIST in result.stderr
    # Everything that did load is still listed.
    assert "EmbeddingGen" in result.stdout


# Environment switches --------------------------------------------------------------------------


@pytest.mark.needs_example_plugin
@pytest.mark.parametrize("allowed", [EXAMPLE_DIST, EXAMPLE_PLUGIN, "headrace_example_plugin"])
def test_allow_list_loads_only_the_named_plugin(
    plugins_json: PluginsJson, run_headrace: Any, allowed: str
) -> None:
    document = plugins_json(env={ENV_ALLOW: allowed})

    assert document["errors"] == []
    assert {p["name"] for p in document["plugins"]} == {"headrace-core", EXAMPLE_PLUGIN}
    assert_example_listed(document)
    assert_core_types_listed(document)
    # Nothing failed to load, so --strict passes.
    strict = run_headrace("plugins", "--strict", env={ENV_ALLOW: allowed})
    assert strict.returncode == 0, strict.stderr
    assert strict.stderr == ""


@pytest.mark.needs_example_plugin
@pytest.mark.needs_broken_plugin
def test_allow_list_naming_the_broken_plugin_reports_only_it(plugins_json: PluginsJson) -> None:
    document = plugins_json(env={ENV_ALLOW: BROKEN_DIST})

    assert [e["distribution"] for e in document["errors"]] == [BROKEN_DIST]
    assert not [e for e in document["entries"] if e["distribution"] == EXAMPLE_DIST]
    assert_core_types_listed(document)


@pytest.mark.needs_example_plugin
def test_disabling_autoload_keeps_only_the_core(plugins_json: PluginsJson) -> None:
    document = plugins_json(env={ENV_DISABLE_AUTOLOAD: "1"})

    assert document["errors"] == []
    assert [p["name"] for p in document["plugins"]] == ["headrace-core"]
    assert {e["distribution"] for e in document["entries"]} == {"headrace-core"}
    assert "Embeddings" not in entries_by_name(document, "artifact_type")
    assert entries_by_name(document, "component") == {}
    assert_core_types_listed(document)

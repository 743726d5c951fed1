"""headrace_register_commands: a plugin's subcommand joins ``headrace``; built-in commands
load no plugin for it; a broken or clashing command is a warning, not the end of the CLI."""

from __future__ import annotations

import argparse
import types

import pytest

from headrace_core.cli import main
from headrace_core.plugins import PluginManager, hookimpl, reset_plugin_manager

CALLS: list[argparse.Namespace] = []


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--greeting", default="hello")


def run(args: argparse.Namespace) -> int:
    CALLS.append(args)
    print(f"{getattr(args, 'greeting', 'hello')} from the plugin")
    return 3


def broken_arguments(parser: argparse.ArgumentParser) -> None:
    raise RuntimeError("cannot add my options")


def _plugin(**commands: dict[str, str]) -> types.SimpleNamespace:
    @hookimpl
    def headrace_register_commands(registry):
        for name, refs in commands.items():
            registry.add(name, **refs)

    return types.SimpleNamespace(headrace_register_commands=headrace_register_commands)


@pytest.fixture
def manager():
    def install(**commands: dict[str, str]) -> PluginManager:
        m = PluginManager(
            autoload=False, plugins=[("greeter", _plugin(**commands), "greeter-dist")]
        )
        reset_plugin_manager(m)
        return m

    return install


def test_a_plugin_command_runs_with_its_options(manager, capsys):
    manager(
        hello={
            "run": f"{__name__}:run",
            "arguments": f"{__name__}:add_arguments",
            "description": "say hello",
        }
    )
    assert main(["hello", "--greeting", "hi"]) == 3
    assert "hi from the plugin" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "hello" in out and "say hello (greeter-dist)" in out


def test_entries_record_the_plugin_that_registered_them(manager):
    m = manager(hello={"run": f"{__name__}:run"})
    [entry] = m.commands.entries()
    assert entry.name == "hello" and entry.provenance.distribution == "greeter-dist"
    assert entry.value.arguments is None


def test_built_in_commands_do_not_load_plugin_commands(manager, monkeypatch, tmp_path):
    m = manager(hello={"run": f"{__name__}:run"})
    monkeypatch.setattr(type(m.commands), "entries", lambda self: pytest.fail("loaded"))
    assert main(["runs", "list", "--pipeline-root", str(tmp_path)]) == 1  # no store there


def test_a_command_clashing_with_a_built_in_is_ignored_with_a_warning(manager, capsys):
    manager(run={"run": f"{__name__}:run"})
    with pytest.raises(SystemExit):
        main(["nope"])
    assert "a built-in command has that name" in capsys.readouterr().err


def test_a_broken_command_is_a_warning(manager, capsys):
    manager(
        bad={"run": f"{__name__}:run", "arguments": f"{__name__}:broken_arguments"},
        hello={"run": f"{__name__}:run"},
    )
    assert main(["hello"]) == 3
    err = capsys.readouterr().err
    assert "command 'bad' of greeter-dist" in err and "cannot add my options" in err


@pytest.mark.parametrize(
    ("name", "refs", "message"),
    [
        ("Bad Name", {"run": "m:f"}, "invalid command name"),
        ("ok", {"run": "not a ref"}, "run must be"),
        ("ok", {"run": "m:f", "arguments": "nope"}, "arguments must be"),
    ],
)
def test_registry_validates(manager, name, refs, message):
    m = manager(**{name: refs})
    assert any(message in str(e) for e in m.errors)

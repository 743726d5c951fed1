"""Compile a pipeline's portable IR into a self-contained Airflow DAG file.

``headrace compile PIPELINE_FILE --target airflow -o DAG_FILE --option KEY=VALUE ...`` calls
:func:`compile_dag`. The DAG file is the text of ``_dag_template.py`` with its settings block
replaced: the options below and the IR itself, embedded as a JSON string literal. The same IR
and options always give byte-identical text.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from headrace_airflow.__about__ import __version__
from headrace_core.errors import HeadraceError

__all__ = ["FINISH_TASK_ID", "OPTIONS", "Option", "compile_dag", "parse_options", "run_id_prefix"]

#: The DAG's last task (see _dag_template.py), which closes the run; not a node.
FINISH_TASK_ID = "headrace_finish_run"
_AIRFLOW_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,250}$")
_SETTINGS = re.compile(
    r"^# <headrace:settings>[^\n]*\n.*?^# </headrace:settings>\n", re.MULTILINE | re.DOTALL
)
# Airflow's cron presets (2.x and 3.x); anything else must be a five-field cron expression.
_PRESETS = frozenset(
    {
        "@once",
        "@continuous",
        "@hourly",
        "@daily",
        "@weekly",
        "@monthly",
        "@quarterly",
        "@yearly",
        "@annually",
    }
)
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*/,\-?#LW]+$")
_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}
_NONE = {"", "none", "null"}


@dataclass(frozen=True)
class Option:
    """One ``--option KEY=VALUE`` of the airflow target."""

    name: str
    default: str
    help: str
    parse: Callable[[str], Any]


def _fail(key: str, value: str, expected: str) -> HeadraceError:
    return HeadraceError(f"airflow option {key}={value!r}: expected {expected}")


def _dag_id(value: str) -> str:
    if not _AIRFLOW_ID.match(value):
        raise _fail("dag_id", value, "1 to 250 letters, digits, '_', '.' or '-'")
    return value


def _schedule(value: str) -> str | None:
    text = value.strip()
    if text.lower() in _NONE:
        return None
    if text.startswith("@"):
        if text not in _PRESETS:
            raise _fail("schedule", value, f"none, a cron expression or one of {sorted(_PRESETS)}")
        return text
    fields = text.split()
    if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
        raise _fail(
            "schedule", value, "none, an Airflow preset such as @daily or a five-field cron line"
        )
    return " ".join(fields)


def _start_date(value: str) -> str:
    try:
        if len(value.strip()) == 10:
            parsed = datetime.datetime.combine(
                datetime.date.fromisoformat(value.strip()), datetime.time()
            )
        else:
            parsed = datetime.datetime.fromisoformat(value.strip())
    except ValueError:
        raise _fail(
            "start_date", value, "an ISO date or date-time, e.g. 2026-01-01 (UTC unless given)"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed.isoformat()


def _bool(key: str) -> Callable[[str], bool]:
    def parse(value: str) -> bool:
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise _fail(key, value, "true or false")

    return parse


def _int(key: str, minimum: int, *, optional: bool = False) -> Callable[[str], int | None]:
    def parse(value: str) -> int | None:
        if optional and value.strip().lower() in _NONE:
            return None
        try:
            number = int(value.strip())
        except ValueError:
            number = minimum - 1
        if number < minimum:
            none = " or none" if optional else ""
            raise _fail(key, value, f"a whole number >= {minimum}{none}")
        return number

    return parse


def _seconds(key: str, *, optional: bool = False, positive: bool = False) -> Any:
    def parse(value: str) -> float | None:
        if optional and value.strip().lower() in _NONE:
            return None
        try:
            number = float(value.strip())
        except ValueError:
            number = float("nan")
        if not (number > 0 if positive else number >= 0) or number == float("inf"):
            bound = "> 0" if positive else ">= 0"
            none = " or none" if optional else ""
            raise _fail(key, value, f"a number of seconds {bound}{none}")
        return number

    return parse


def _python(value: str) -> str:
    if not os.path.isabs(value):
        raise _fail("python", value, "the absolute path of the pipeline environment's interpreter")
    # Not resolved: a virtual environment's bin/python is a symlink that must stay one.
    return os.path.normpath(value)


def _metadata(value: str) -> str | None:
    _check_no_password(value.strip(), "airflow option metadata")
    return value.strip() or None


def _check_no_password(url: str | None, where: str) -> None:
    """Refuse a metadata URL with a password: the DAG file is read by every Airflow
    component and each task's command line by anyone on the worker (``ps``)."""
    from headrace_core.metadata import has_password, redact

    if url and has_password(url):
        raise HeadraceError(
            f"{where}={redact(url)!r} holds a password, which would be written into the DAG "
            "file and the tasks' command lines; give the URL without it, and the password to "
            "the Airflow workers in HEADRACE_METADATA_PASSWORD or a private file named by "
            "HEADRACE_METADATA_PASSWORD_FILE (see docs/metadata-credentials.md)"
        )


def _tags(value: str) -> list[str]:
    tags = [t.strip() for t in value.split(",") if t.strip()]
    if any(len(t) > 100 for t in tags):
        raise _fail("tags", value, "comma-separated tags of at most 100 characters each")
    return tags


OPTIONS: dict[str, Option] = {
    o.name: o
    for o in (
        Option("dag_id", "the pipeline name", "the Airflow DAG id", _dag_id),
        Option(
            "schedule",
            "none",
            "none (runs only when triggered), an Airflow preset (@daily) or a cron line",
            _schedule,
        ),
        Option(
            "start_date",
            "2024-01-01",
            "first logical date, ISO date or date-time, UTC unless it names a zone",
            _start_date,
        ),
        Option("catchup", "false", "whether Airflow backfills missed intervals", _bool("catchup")),
        Option("retries", "0", "Airflow retries of each task", _int("retries", 0)),
        Option(
            "retry_delay_seconds",
            "300",
            "wait between a task's failure and its retry",
            _seconds("retry_delay_seconds"),
        ),
        Option(
            "execution_timeout_seconds",
            "none",
            "Airflow fails a task (and stops its node) after this long",
            _seconds("execution_timeout_seconds", optional=True, positive=True),
        ),
        Option(
            "kill_grace_seconds",
            "30",
            "after terminating a node's processes (SIGTERM), wait this long before SIGKILL",
            _seconds("kill_grace_seconds"),
        ),
        Option(
            "python",
            "the Python that compiles the DAG",
            "interpreter of the pipeline's environment (headrace and the components)",
            _python,
        ),
        Option(
            "metadata",
            "the pipeline's (SQLite in its root)",
            "ML Metadata URL the nodes record to, e.g. mysql://user:pw@host:3306/db",
            _metadata,
        ),
        Option(
            "max_active_runs",
            "Airflow's",
            "DAG runs of this DAG at once",
            _int("max_active_runs", 1, optional=True),
        ),
        Option(
            "max_active_tasks",
            "Airflow's",
            "tasks of one DAG run at once",
            _int("max_active_tasks", 1, optional=True),
        ),
        Option("tags", "headrace", "comma-separated DAG tags", _tags),
    )
}


def parse_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``options`` (KEY -> text) and return every setting, defaults filled in."""
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise HeadraceError(
            f"unknown airflow option {unknown[0]!r}; known options: {', '.join(sorted(OPTIONS))}"
        )
    settings: dict[str, Any] = {
        "schedule": None,
        "start_date": _start_date("2024-01-01"),
        "catchup": False,
        "retries": 0,
        "retry_delay_seconds": 300.0,
        "execution_timeout_seconds": None,
        "kill_grace_seconds": 30.0,
        "python": sys.executable,
        "metadata": None,
        "max_active_runs": None,
        "max_active_tasks": None,
        "tags": ["headrace"],
    }
    for key, value in options.items():
        settings[key] = OPTIONS[key].parse(str(value))
    return settings


def run_id_prefix(dag_id: str, pipeline_name: str) -> str:
    """What a DAG run's headrace run id starts with (without a ``headrace_run_id`` conf).

    Empty for a DAG named after its pipeline: the headrace run id is Airflow's run id. Two
    DAGs compiled from one pipeline under other ids get distinct runs for the same schedule.
    """
    return "" if dag_id == pipeline_name else f"{dag_id}__"


def _check_document(document: Mapping[str, Any]) -> tuple[str, list[Mapping[str, Any]]]:
    pipeline = document.get("pipeline")
    if not isinstance(pipeline, Mapping) or not isinstance(pipeline.get("name"), str):
        raise HeadraceError("the IR document has no pipeline name (document['pipeline']['name'])")
    nodes = document.get("nodes")
    if not isinstance(nodes, list) or not nodes:
        raise HeadraceError(f"pipeline {pipeline['name']!r}: the IR document has no nodes")
    seen: set[str] = set()
    for index, node in enumerate(nodes):
        node_id = node.get("id") if isinstance(node, Mapping) else None
        if not isinstance(node_id, str) or not _AIRFLOW_ID.match(node_id):
            raise HeadraceError(
                f"IR node {index} has id {node_id!r}, which is not a valid Airflow task id "
                "(letters, digits, '_', '.', '-')"
            )
        if node_id in seen:
            raise HeadraceError(f"IR node id {node_id!r} appears twice")
        if node_id == FINISH_TASK_ID:
            raise HeadraceError(
                f"IR node id {node_id!r} is the id of the DAG's own last task, which closes "
                "the run; give the node another id (.with_id(...))"
            )
        upstream = node.get("upstream")
        if not isinstance(upstream, list):
            raise HeadraceError(f"IR node {node_id!r} has no upstream list")
        for up in upstream:
            if up not in seen:
                raise HeadraceError(
                    f"IR node {node_id!r}: upstream node {up!r} is not an earlier node "
                    "(the IR lists nodes in topological order)"
                )
        seen.add(node_id)
    return pipeline["name"], nodes


def _literal(value: Any) -> str:
    """Python source for a setting; strings as ASCII JSON literals, which Python reads too."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=True)
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    raise TypeError(f"no literal for {value!r}")


def _ir_literal(document: Mapping[str, Any]) -> str:
    text = json.dumps(document, sort_keys=True, indent=2, ensure_ascii=True, allow_nan=False)
    # Every quote in the JSON text is inside a JSON string, where \u0027 means the same:
    # without one, the raw triple-quoted literal below cannot end early.
    return "r'''\n" + text.replace("'", "\\u0027") + "\n'''"


def template_text() -> str:
    return resources.files("headrace_airflow").joinpath("_dag_template.py").read_text("utf-8")


def compile_dag(document: Mapping[str, Any], *, options: Mapping[str, Any]) -> str:
    """The text of an Airflow DAG file that runs ``document``, one task per node."""
    name, nodes = _check_document(document)
    # The DAG file carries the IR whole.
    _check_no_password(
        document["pipeline"].get("metadata_connection_config"),
        f"pipeline {name!r}: metadata_connection_config",
    )
    settings = parse_options(options)
    dag_id = settings.pop("dag_id", None) or name
    if not _AIRFLOW_ID.match(dag_id):
        raise HeadraceError(
            f"pipeline name {name!r} is not a valid Airflow DAG id: give --option dag_id=..."
        )
    values = {
        "HEADRACE_AIRFLOW_VERSION": __version__,
        "DAG_ID": dag_id,
        "DESCRIPTION": f"headrace pipeline {name} ({len(nodes)} nodes)",
        "PYTHON": settings["python"],
        "METADATA": settings["metadata"],
        "RUN_ID_PREFIX": run_id_prefix(dag_id, name),
        "SCHEDULE": settings["schedule"],
        "START_DATE": settings["start_date"],
        "CATCHUP": settings["catchup"],
        "RETRIES": settings["retries"],
        "RETRY_DELAY_SECONDS": settings["retry_delay_seconds"],
        "EXECUTION_TIMEOUT_SECONDS": settings["execution_timeout_seconds"],
        "KILL_GRACE_SECONDS": settings["kill_grace_seconds"],
        "MAX_ACTIVE_RUNS": settings["max_active_runs"],
        "MAX_ACTIVE_TASKS": settings["max_active_tasks"],
        "TAGS": settings["tags"],
    }
    block = (
        f"# <headrace:settings> (pipeline {name!r}, written by headrace-airflow {__version__})\n"
        + "".join(f"{key} = {_literal(value)}\n" for key, value in values.items())
        + f"PIPELINE_IR = {_ir_literal(document)}\n"
        + "# </headrace:settings>\n"
    )
    template = template_text()
    if len(_SETTINGS.findall(template)) != 1:
        raise RuntimeError("headrace-airflow's DAG template has no single settings block")
    if f"FINISH_TASK_ID = {_literal(FINISH_TASK_ID)}\n" not in template:
        raise RuntimeError("headrace-airflow's DAG template names another last task")
    header = (
        f"# Airflow DAG {dag_id!r} for the headrace pipeline {name!r}, compiled by "
        f"headrace-airflow {__version__}.\n# Do not edit: compile the pipeline again.\n"
    )
    return header + _SETTINGS.sub(lambda _: block, template)

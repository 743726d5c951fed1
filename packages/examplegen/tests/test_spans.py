"""Span and version patterns: {SPAN}, {SPAN:width}, {VERSION}, {YYYY}{MM}{DD}, range_config."""

from __future__ import annotations

from pathlib import Path

import pytest
from examplegen_helpers import decode, run_executor, split_records, write

from headrace_examplegen import CsvExampleGen
from headrace_examplegen.config import ExampleGenError
from headrace_examplegen.executor import CsvExecutor
from headrace_examplegen.resolve import date_to_span, resolve_input, span_to_date


def _spans(base: Path, spans: dict[str, int]) -> None:
    """One CSV per directory; the value column says which directory it came from."""
    for directory, value in spans.items():
        write(base / directory / "data.csv", f"span_value\n{value}\n{value}\n")


def _config(pattern: str) -> dict[str, object]:
    return {"splits": [{"name": "single_split", "pattern": pattern}]}


def test_latest_span_is_chosen_numerically(input_dir: Path) -> None:
    _spans(input_dir, {"span-1": 1, "span-2": 2, "span-10": 10})
    resolved = resolve_input(str(input_dir), _config("span-{SPAN}/*"))
    assert resolved.span == 10 and resolved.version is None
    assert resolved.input_config() == _config("span-10/*")
    assert [Path(f).parent.name for f in resolved.splits[0].files] == ["span-10"]


def test_range_config_selects_a_span(input_dir: Path) -> None:
    _spans(input_dir, {"span-1": 1, "span-2": 2, "span-10": 10})
    resolved = resolve_input(
        str(input_dir),
        _config("span-{SPAN}/*"),
        {"static_range": {"start_span_number": 2, "end_span_number": 2}},
    )
    assert resolved.span == 2
    assert resolved.input_config() == _config("span-2/*")
    with pytest.raises(
        ExampleGenError, match=r"range_config selects span 5.*spans found: 1, 2, 10"
    ):
        resolve_input(
            str(input_dir),
            _config("span-{SPAN}/*"),
            {"static_range": {"start_span_number": 5, "end_span_number": 5}},
        )


def test_latest_version_of_the_latest_span(input_dir: Path) -> None:
    _spans(input_dir, {"s01/v1": 11, "s01/v3": 13, "s02/v1": 21, "s02/v2": 22, "s02/v10": 210})
    resolved = resolve_input(str(input_dir), _config("s{SPAN:2}/v{VERSION}/*"))
    assert (resolved.span, resolved.version) == (2, 10)
    assert resolved.input_config() == _config("s02/v10/*")
    older = resolve_input(
        str(input_dir),
        _config("s{SPAN:2}/v{VERSION}/*"),
        {"static_range": {"start_span_number": 1, "end_span_number": 1}},
    )
    assert (older.span, older.version) == (1, 3)
    assert older.input_config() == _config("s01/v3/*")


def test_width_spec_matches_exactly_that_many_digits(input_dir: Path) -> None:
    _spans(input_dir, {"d-01": 1, "d-123": 123})
    resolved = resolve_input(str(input_dir), _config("d-{SPAN:2}/*"))
    assert resolved.span == 1


def test_date_specs_give_days_since_epoch(input_dir: Path) -> None:
    _spans(input_dir, {"log-19700102": 1, "log-20170101": 17167, "log-20161231": 17166})
    resolved = resolve_input(str(input_dir), _config("log-{YYYY}{MM}{DD}/*"))
    assert resolved.span == 17167 == date_to_span(2017, 1, 1)
    assert resolved.input_config() == _config("log-20170101/*")
    assert span_to_date(1) == (1970, 1, 2)
    picked = resolve_input(
        str(input_dir),
        _config("log-{YYYY}{MM}{DD}/*"),
        {"static_range": {"start_span_number": 1, "end_span_number": 1}},
    )
    assert picked.input_config() == _config("log-19700102/*")


def test_invalid_date_names_the_file(input_dir: Path) -> None:
    _spans(input_dir, {"log-20170231": 1})
    with pytest.raises(ExampleGenError, match=r"log-20170231/data.csv.*invalid date 2017-02-31"):
        resolve_input(str(input_dir), _config("log-{YYYY}{MM}{DD}/*"))


def test_splits_must_agree_on_the_span(input_dir: Path) -> None:
    _spans(input_dir, {"train/span-1": 1, "train/span-2": 2, "eval/span-1": 1})
    config = {
        "splits": [
            {"name": "train", "pattern": "train/span-{SPAN}/*"},
            {"name": "eval", "pattern": "eval/span-{SPAN}/*"},
        ]
    }
    with pytest.raises(ExampleGenError, match=r"'train' to span 2 .* 'eval' to span 1"):
        resolve_input(str(input_dir), config)
    resolved = resolve_input(
        str(input_dir), config, {"static_range": {"start_span_number": 1, "end_span_number": 1}}
    )
    assert resolved.input_config()["splits"][1]["pattern"] == "eval/span-1/*"


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("a/{VERSION}/*", r"\{VERSION\} spec but no \{SPAN\} or date spec"),
        ("{SPAN}/{SPAN}/*", r"only one \{SPAN\} spec"),
        ("{SPAN}-{YYYY}{MM}{DD}", r"both a \{SPAN\} spec and date specs"),
        ("{YYYY}{MM}", r"exactly one each of \{YYYY\}, \{MM\} and \{DD\}"),
        ("{SPAN:x}/*", r"width of the \{SPAN\} spec .* must be a positive integer"),
    ],
)
def test_bad_specs_are_refused_when_the_pipeline_is_written(pattern: str, message: str) -> None:
    from headrace_core import InvalidComponentArgumentError

    with pytest.raises(InvalidComponentArgumentError, match=message):
        CsvExampleGen("/data", input_config=_config(pattern))


def test_executor_reads_only_the_chosen_span(tmp_path: Path, input_dir: Path) -> None:
    _spans(input_dir, {"span-1": 1, "span-2": 2, "span-3": 3})
    latest = run_executor(
        CsvExecutor,
        tmp_path / "latest",
        CsvExampleGen(str(input_dir), input_config=_config("span-{SPAN}/*"), output_config={}),
    )
    assert latest.span == 3
    (records,) = split_records(latest).values()
    assert {r["span_value"][0] for r in decode(records)} == {3}
    chosen = run_executor(
        CsvExecutor,
        tmp_path / "chosen",
        CsvExampleGen(
            str(input_dir),
            input_config=_config("span-{SPAN}/*"),
            output_config={},
            range_config={"static_range": {"start_span_number": 1, "end_span_number": 1}},
        ),
    )
    assert chosen.span == 1
    (records,) = split_records(chosen).values()
    assert [r["span_value"][0] for r in decode(records)] == [1, 1]

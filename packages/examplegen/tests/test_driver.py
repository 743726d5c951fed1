"""The driver: span/version resolution and the input fingerprint that enters the cache key."""

from __future__ import annotations

import os
from pathlib import Path

from examplegen_helpers import write

from headrace_core.driver import DriverContext, DriverOutput
from headrace_examplegen import CsvExampleGen
from headrace_examplegen.driver import drive


def _drive(component: CsvExampleGen) -> DriverOutput:
    return drive(
        DriverContext(
            pipeline_name="p",
            pipeline_root="/unused",
            run_id="r",
            node_id="CsvExampleGen",
            exec_properties=component.exec_properties,
            inputs={},
        )
    )


def test_driver_output(input_dir: Path) -> None:
    write(input_dir / "span-3" / "v2" / "data.csv", "a\n1\n")
    write(input_dir / "span-3" / "v1" / "data.csv", "a\n1\n")
    component = CsvExampleGen(
        str(input_dir),
        input_config={"splits": [{"name": "single_split", "pattern": "span-{SPAN}/v{VERSION}/*"}]},
    )
    out = _drive(component)
    assert out.exec_properties["span"] == 3
    assert out.exec_properties["version"] == 2
    assert out.exec_properties["input_config"] == {
        "splits": [{"name": "single_split", "pattern": "span-3/v2/*"}]
    }
    assert out.output_properties == {"examples": {"span": 3, "version": 2}}
    assert out.cache_key["input_fingerprint"] == out.exec_properties["input_fingerprint"]
    assert out.cache_key["span"] == 3 and out.cache_key["version"] == 2
    assert out.cache_key["input_patterns"] == {"single_split": "span-3/v2/*"}


def test_fingerprint_follows_content_not_timestamps(input_dir: Path) -> None:
    data = write(input_dir / "a.csv", "a,b\n1,2\n")
    write(input_dir / "b.csv", "a,b\n3,4\n")
    component = CsvExampleGen(str(input_dir))
    first = _drive(component).cache_key
    assert _drive(component).cache_key == first  # unchanged files: same key

    stat = data.stat()
    os.utime(data, ns=(stat.st_atime_ns + 10**9, stat.st_mtime_ns + 10**9))
    assert _drive(component).cache_key == first  # a touched timestamp is not a change

    write(data, "a,b\n1,3\n")  # same size, new content
    changed = _drive(component).cache_key
    assert changed["input_fingerprint"] != first["input_fingerprint"]
    # Few files: each is named in the key, so `headrace cache why` can say which changed.
    assert changed["input file single_split:a.csv"] != first["input file single_split:a.csv"]
    assert changed["input file single_split:b.csv"] == first["input file single_split:b.csv"]

    write(input_dir / "c.csv", "a,b\n5,6\n")  # a new file
    added = _drive(component).cache_key
    assert added["input_fingerprint"] not in (
        first["input_fingerprint"],
        changed["input_fingerprint"],
    )

    (input_dir / "c.csv").unlink()
    assert _drive(component).cache_key == changed


def test_files_outside_the_chosen_span_do_not_change_the_key(input_dir: Path) -> None:
    write(input_dir / "span-1" / "data.csv", "a\n1\n")
    write(input_dir / "span-2" / "data.csv", "a\n2\n")
    component = CsvExampleGen(
        str(input_dir), input_config={"splits": [{"name": "all", "pattern": "span-{SPAN}/*"}]}
    )
    first = _drive(component).cache_key
    write(input_dir / "span-1" / "data.csv", "a\n100\n")
    assert _drive(component).cache_key == first
    write(input_dir / "span-3" / "data.csv", "a\n3\n")  # a new span arrives
    newer = _drive(component).cache_key
    assert newer["span"] == 3 and newer != first


def test_many_files_enter_the_key_as_one_fingerprint(input_dir: Path) -> None:
    from headrace_examplegen.driver import MAX_NAMED_FILES

    for i in range(MAX_NAMED_FILES + 1):
        write(input_dir / f"part-{i:03d}.csv", f"a\n{i}\n")
    key = _drive(CsvExampleGen(str(input_dir))).cache_key
    assert not [k for k in key if k.startswith("input file")]
    write(input_dir / "part-007.csv", "a\n700\n")
    assert (
        _drive(CsvExampleGen(str(input_dir))).cache_key["input_fingerprint"]
        != key["input_fingerprint"]
    )


def test_driver_module_is_light() -> None:
    from headrace_core.testing import imported_heavy_modules

    assert imported_heavy_modules(["headrace_examplegen.driver", "headrace_examplegen"]) == []

"""The test kit's store invariants (``headrace_core.testing.store_problems``) hold after a
real run and name each thing a crash could leave: the chaos and concurrency tests rely on
them failing when they should."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from hrexec_util import HELLO, LIVE, all_artifacts, as_json, headrace, open_store

from headrace_core.testing import assert_store_consistent, store_problems

ABANDONED, DELETED = 5, 4


def test_invariants_hold_after_a_run_and_name_what_breaks_them(tmp_path: Path) -> None:
    root = tmp_path / "root"
    assert as_json(headrace("run", str(HELLO), "--pipeline-root", str(root), "--json"))["succeeded"]
    store = open_store(root)
    assert store_problems(store, root, settled=True) == []
    assert (root / "serving").is_dir()  # a pushed model, under the root but not the runtime's

    first, second, *_ = [a for a in all_artifacts(store) if a.state == LIVE]
    key_dir = Path(first.uri).parent
    (key_dir / "999").mkdir()  # renamed into place, never committed
    (key_dir / "998.staging").mkdir()
    (root / "serving" / "12345" / "7").mkdir(parents=True)  # not a node's: not judged
    marker = root / ".headrace" / "running" / "MakeNumbers" / "t.json"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"pid": 1}))
    shutil.rmtree(first.uri)
    second.state = ABANDONED
    store.call("put_artifacts", [second])

    lineage = store_problems(store, root)
    assert len(lineage) == 2, lineage
    assert f"LIVE artifact {first.id}: its files {first.uri} are missing" in lineage
    assert f"output artifact {second.id} ({second.uri}), which is in state 5" in lineage[1]
    settled = store_problems(store, root, settled=True)
    assert sorted(settled[2:]) == sorted(
        [
            f"marker {marker} of a running launch is left",
            f"staging folder {key_dir / '998.staging'} left behind",
            f"{key_dir / '999'} is at a final output path but no LIVE artifact owns it",
            # Its artifact is no longer LIVE, and not DELETED by a collection either.
            f"{second.uri} is at a final output path but no LIVE artifact owns it",
        ]
    ), settled
    try:
        assert_store_consistent(store, root, settled=True)
    except AssertionError as e:
        assert "6 broken store invariant(s)" in str(e), e
    else:
        raise AssertionError("assert_store_consistent passed a broken store")

    # DELETED (garbage collection) is no break, files gone or not.
    second.state = DELETED
    store.call("put_artifacts", [second])
    assert len(store_problems(store, root)) == 1

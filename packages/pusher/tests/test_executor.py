"""The executor on real SavedModels: what is pushed, where, in which order, and when not."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from pusher_testing import blessing, predict, run_pusher

from headrace_core import Model
from headrace_core.cache import fingerprint_path
from headrace_pusher import PushDestinationError, PusherError, SavedModelNotFoundError
from headrace_pusher import filesystem as fs

MakeModel = Callable[[str], Model]


def _destination(base: Path) -> dict[str, dict[str, str]]:
    return {"filesystem": {"base_directory": str(base)}}


def _versions(base: Path) -> list[str]:
    return sorted(p.name for p in base.iterdir() if p.name.isdigit())


def _staged(base: Path) -> list[str]:
    """What is in the staging folder, which a model server never looks at."""
    staging = base / ".headrace" / "staging"
    return sorted(p.name for p in staging.iterdir()) if staging.exists() else []


def test_push_writes_a_servable_version(
    tmp_path: Path, make_model: MakeModel, serving: Path
) -> None:
    model = make_model("a")
    pushed = run_pusher(tmp_path / "pushed", model, _destination(serving))

    [version] = _versions(serving)
    assert int(version) > 1_600_000_000  # seconds since the epoch, as TFX's UNIX_TIMESTAMP
    assert pushed.custom_properties == {
        "pushed": 1,
        "pushed_destination": str(serving / version),
        "pushed_version": version,
    }
    # Served from the pushed copy, by TensorFlow, with the model's own signature.
    assert predict(serving / version, [1.0, 2.5]) == [2.0, 5.0]
    source = os.path.join(model.uri, "Format-Serving")
    assert fingerprint_path(str(serving / version)) == fingerprint_path(source)
    # TFX keeps a copy of what was pushed in the PushedModel artifact itself.
    assert fingerprint_path(pushed.uri) == fingerprint_path(source)
    assert not [p for p in (serving / version).rglob("*") if "headrace-tmp" in p.name]
    assert _staged(serving) == []

    [record_file] = (serving / ".headrace" / "pushes").iterdir()
    record = json.loads(record_file.read_text())
    assert record["state"] == "complete"
    assert record["version"] == int(version)
    assert record["fingerprint"] == fs.content_fingerprint(source)
    assert record_file.name == f"{record['fingerprint']}.json"


def test_the_version_directory_appears_only_whole_by_one_rename(
    make_model: MakeModel, serving: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = make_model("a")
    source = Path(model.uri) / "Format-Serving"
    staging = serving / ".headrace" / "staging"
    real_copy, real_publish = fs._copy_file, fs._publish
    seen: list[tuple[str, dict[int, str], bool]] = []
    published: list[tuple[str, str, dict[int, str], str]] = []

    def watching_copy(src: str, dst: str) -> None:
        # What a model server polling base_directory could see before this copy, and whether
        # the staging copy already looks like a SavedModel.
        versions = fs.version_dirs(str(serving))
        early = any((folder / "saved_model.pb").exists() for folder in staging.iterdir())
        seen.append((dst, versions, early))
        real_copy(src, dst)

    def watching_publish(src: str, dst: str) -> None:
        published.append((src, dst, fs.version_dirs(str(serving)), fs.content_fingerprint(src)))
        real_publish(src, dst)

    monkeypatch.setattr(fs, "_copy_file", watching_copy)
    monkeypatch.setattr(fs, "_publish", watching_publish)
    result = fs.push_saved_model(str(source), str(serving))

    version_staging = staging / str(result.version)
    expected_files = sorted(str(p.relative_to(source)) for p in source.rglob("*") if p.is_file())
    assert len(seen) == len(expected_files) >= 3  # saved_model.pb, fingerprint.pb, variables/*
    assert all(versions == {} for _, versions, _ in seen), "a version directory was visible"
    assert not any(early for _, _, early in seen), "saved_model.pb appeared before the end"
    # Inside staging, saved_model.pb still comes last, through a temporary name.
    last = Path(seen[-1][0])
    assert last == version_staging / ".saved_model.pb.headrace-tmp"
    copied = sorted(str(Path(dst).relative_to(version_staging)) for dst, _, _ in seen[:-1])
    assert copied == [f for f in expected_files if f != "saved_model.pb"]
    # One rename, of the whole model, to a version that did not exist until then.
    assert published == [
        (str(version_staging), result.destination, {}, fs.content_fingerprint(str(source)))
    ]
    assert result.destination == str(serving / str(result.version))
    assert (Path(result.destination) / "saved_model.pb").is_file()
    assert not (Path(result.destination) / last.name).exists()
    assert _staged(serving) == []


def test_versions_increase_within_one_second_and_past_the_clock(
    make_model: MakeModel, serving: Path
) -> None:
    a = str(Path(make_model("a").uri) / "Format-Serving")
    b = str(Path(make_model("b").uri) / "Format-Serving")
    frozen = 1_700_000_000.5
    first = fs.push_saved_model(a, str(serving), clock=lambda: frozen)
    second = fs.push_saved_model(b, str(serving), clock=lambda: frozen)
    assert (first.version, second.version) == (1_700_000_000, 1_700_000_001)
    # A clock that stepped back still gets a higher version.
    third = fs.push_saved_model(a, str(serving), clock=lambda: frozen - 3600)
    assert third.version == 1_700_000_002
    # A version some other tool wrote ahead of the clock is respected too.
    (serving / "1800000000").mkdir()
    fourth = fs.push_saved_model(b, str(serving), clock=lambda: frozen)
    assert fourth.version == 1_800_000_001
    assert predict(serving / "1700000001", [1.0]) == [3.0]
    assert predict(serving / "1800000001", [1.0]) == [3.0]


def test_same_content_again_records_the_existing_version(
    tmp_path: Path, make_model: MakeModel, serving: Path
) -> None:
    first = run_pusher(tmp_path / "p1", make_model("a"), _destination(serving))
    # The same model, blessed again by a later run: another Model artifact, same content.
    again = run_pusher(
        tmp_path / "p2",
        make_model("a"),
        _destination(serving),
        model_blessing=blessing(tmp_path / "bless2", 1),
    )
    assert _versions(serving) == [first.custom_properties["pushed_version"]]
    assert again.custom_properties == first.custom_properties
    assert len(list((serving / ".headrace" / "pushes").iterdir())) == 1


def test_same_content_is_recognised_in_files_over_64_mib(
    tmp_path: Path, make_model: MakeModel, serving: Path
) -> None:
    # The launcher's fingerprint stands in size and mtime for such files; a copy has a new
    # mtime, so the Pusher hashes every byte itself.
    big = bytes(range(256)) * (65 * 1024 * 4)
    first_model, second_model = make_model("a"), make_model("a")
    for model in (first_model, second_model):
        assets = Path(model.uri) / "Format-Serving" / "assets"
        assets.mkdir(exist_ok=True)
        (assets / "vocabulary.bin").write_bytes(big)
    first = run_pusher(tmp_path / "p1", first_model, _destination(serving))
    again = run_pusher(tmp_path / "p2", second_model, _destination(serving))
    assert _versions(serving) == [first.custom_properties["pushed_version"]]
    assert again.custom_properties == first.custom_properties
    version = serving / str(first.custom_properties["pushed_version"])
    assert (version / "assets" / "vocabulary.bin").read_bytes() == big


def test_an_older_model_pushed_again_becomes_the_latest_version(
    make_model: MakeModel, serving: Path
) -> None:
    a = str(Path(make_model("a").uri) / "Format-Serving")
    b = str(Path(make_model("b").uri) / "Format-Serving")
    v1 = fs.push_saved_model(a, str(serving))
    v2 = fs.push_saved_model(b, str(serving))
    rollback = fs.push_saved_model(a, str(serving))
    # A model server serves the highest version: reusing v1 would leave b in service.
    assert not rollback.reused
    assert v1.version < v2.version < rollback.version
    assert predict(rollback.destination, [1.0]) == [2.0]
    records = fs.read_records(str(serving))
    assert records[v1.fingerprint].version == rollback.version
    assert records[v2.fingerprint].version == v2.version


def test_a_latest_version_pushed_by_another_tool_is_recognised(
    make_model: MakeModel, serving: Path, saved_models: dict[str, str]
) -> None:
    import shutil

    # What TFX's Pusher (or a person) left: a version directory and no headrace record.
    shutil.copytree(saved_models["a"], serving / "1650000000")
    result = fs.push_saved_model(str(Path(make_model("a").uri) / "Format-Serving"), str(serving))
    assert result.reused
    assert result.version == 1_650_000_000
    assert fs.read_records(str(serving))[result.fingerprint].state == fs.COMPLETE
    # Different content above it is pushed as a new version.
    other = fs.push_saved_model(str(Path(make_model("b").uri) / "Format-Serving"), str(serving))
    assert not other.reused and other.version > 1_650_000_000


@pytest.mark.parametrize(
    ("model_blessed", "infra_blessed", "pushed"),
    [
        (1, None, 1),
        (0, None, 0),
        (None, 1, 1),
        (None, 0, 0),
        (1, 1, 1),
        (1, 0, 0),
        (0, 1, 0),
        ("missing", None, 0),
    ],
)
def test_blessings_gate_the_push(
    tmp_path: Path,
    make_model: MakeModel,
    serving: Path,
    model_blessed: int | str | None,
    infra_blessed: int | None,
    pushed: int,
) -> None:
    model_blessing = (
        None
        if model_blessed is None
        else blessing(tmp_path / "mb", None if model_blessed == "missing" else int(model_blessed))
    )
    infra_blessing = (
        None if infra_blessed is None else blessing(tmp_path / "ib", infra_blessed, infra=True)
    )
    out = run_pusher(
        tmp_path / "pushed",
        make_model("a"),
        _destination(serving),
        model_blessing=model_blessing,
        infra_blessing=infra_blessing,
    )
    assert out.custom_properties["pushed"] == pushed
    if pushed:
        assert len(_versions(serving)) == 1
        assert set(out.custom_properties) == {"pushed", "pushed_destination", "pushed_version"}
    else:
        assert out.custom_properties == {"pushed": 0}
        assert not serving.exists()
        assert not list(Path(out.uri).iterdir())


def test_without_a_model_the_infra_validators_stamped_model_is_pushed(
    tmp_path: Path, make_model: MakeModel, serving: Path
) -> None:
    import shutil

    # As an InfraValidator with make_warmup leaves it: the model and its warm-up requests.
    infra = blessing(tmp_path / "ib", 1, infra=True)
    infra.set_int_custom_property("has_model", 1)
    stamped = Path(infra.uri) / "stamped_model"
    shutil.copytree(Path(make_model("a").uri) / "Format-Serving", stamped)
    (stamped / "assets.extra").mkdir()
    (stamped / "assets.extra" / "tf_serving_warmup_requests").write_bytes(b"requests")

    out = run_pusher(tmp_path / "pushed", None, _destination(serving), infra_blessing=infra)
    [version] = _versions(serving)
    assert out.custom_properties["pushed_version"] == version
    assert fingerprint_path(str(serving / version)) == fingerprint_path(str(stamped))
    assert predict(serving / version, [1.0, 2.5]) == [2.0, 5.0]


def test_an_infra_blessing_without_a_stamped_model_is_named(tmp_path: Path, serving: Path) -> None:
    infra = blessing(tmp_path / "ib", 1, infra=True)
    with pytest.raises(PusherError, match=r"holds no model .*request_spec.make_warmup"):
        run_pusher(tmp_path / "pushed", None, _destination(serving), infra_blessing=infra)


def test_pushing_without_any_blessing_warns(
    tmp_path: Path, make_model: MakeModel, serving: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="headrace_pusher.executor"):
        run_pusher(tmp_path / "pushed", make_model("a"), _destination(serving))
    assert "pushing without validation" in caplog.text


def test_tfx_json_string_destination(tmp_path: Path, make_model: MakeModel, serving: Path) -> None:
    # TFX hands protobuf parameters to executors as JSON strings, with either field spelling.
    destination = json.dumps(
        {"filesystem": {"baseDirectory": str(serving), "versioning": "UNIX_TIMESTAMP"}}
    )
    out = run_pusher(tmp_path / "pushed", make_model("b"), destination)
    assert out.custom_properties["pushed"] == 1
    assert predict(out.custom_properties["pushed_destination"], [2.0]) == [6.0]


def test_a_destination_under_the_pipeline_root_pushes_under_the_root_of_the_run(
    tmp_path: Path, make_model: MakeModel
) -> None:
    from headrace_core import ExecutorContext, PushedModel, pipeline_root
    from headrace_pusher.executor import Executor

    root = tmp_path / "root_b"
    (tmp_path / "pushed").mkdir()
    pushed = PushedModel(str(tmp_path / "pushed"))
    destination = {"filesystem": {"base_directory": pipeline_root("serving_model")}}
    Executor(ExecutorContext(pipeline_root=str(root))).Do(
        {"model": [make_model("a")]}, {"pushed_model": [pushed]}, {"push_destination": destination}
    )
    [version] = _versions(root / "serving_model")
    assert pushed.custom_properties["pushed_destination"] == str(root / "serving_model" / version)
    # Without a root to resolve it against, the error says so instead of pushing to the cwd.
    with pytest.raises(PusherError, match="pipeline root"):
        run_pusher(tmp_path / "pushed2", make_model("b"), destination)


# Crashes and retries -------------------------------------------------------------------


def _crash(model_dir: str, serving: Path, *mode: str) -> None:
    import subprocess
    import sys

    script = Path(__file__).parent / "support" / "crash_push.py"
    done = subprocess.run(
        [sys.executable, str(script), model_dir, str(serving), *mode],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 17, done.stderr


def test_a_crash_mid_copy_leaves_only_a_staging_folder(
    make_model: MakeModel, serving: Path
) -> None:
    source = str(Path(make_model("a").uri) / "Format-Serving")
    _crash(source, serving, "copy", "2")

    # What the crash left: no version directory at all, a partial staging copy, a 'copying'
    # record.
    assert _versions(serving) == []
    [staged] = _staged(serving)
    partial = serving / ".headrace" / "staging" / staged
    assert len([p for p in partial.rglob("*") if p.is_file()]) == 2
    assert not (partial / "saved_model.pb").exists()
    [record] = fs.read_records(str(serving)).values()
    assert (record.state, record.version) == (fs.COPYING, int(staged))

    retry = fs.push_saved_model(source, str(serving))
    assert retry.removed_staging == (int(staged),)
    assert not retry.reused
    assert _staged(serving) == []
    assert _versions(serving) == [str(retry.version)]
    assert retry.version > int(staged)
    assert predict(retry.destination, [4.0]) == [8.0]
    [record] = fs.read_records(str(serving)).values()
    assert (record.state, record.version) == (fs.COMPLETE, retry.version)


def test_a_crash_just_before_the_rename_leaves_no_version(
    make_model: MakeModel, serving: Path
) -> None:
    a = str(Path(make_model("a").uri) / "Format-Serving")
    _crash(a, serving, "rename")

    # The staging copy is whole, saved_model.pb included, but it was never renamed: no
    # server saw it, so it is removed rather than guessed into place.
    assert _versions(serving) == []
    [staged] = _staged(serving)
    whole = serving / ".headrace" / "staging" / staged
    assert fs.content_fingerprint(str(whole)) == fs.content_fingerprint(a)

    b = fs.push_saved_model(str(Path(make_model("b").uri) / "Format-Serving"), str(serving))
    assert b.removed_staging == (int(staged),)
    assert _staged(serving) == []
    assert _versions(serving) == [str(b.version)]
    assert b.version > int(staged)
    states = {r.version: r.state for r in fs.read_records(str(serving)).values()}
    assert states == {int(staged): fs.ABANDONED, b.version: fs.COMPLETE}


def test_a_crash_after_the_rename_leaves_a_whole_version_that_is_recorded(
    tmp_path: Path, make_model: MakeModel, serving: Path
) -> None:
    model = make_model("a")
    source = str(Path(model.uri) / "Format-Serving")
    _crash(source, serving, "record")
    [version] = _versions(serving)
    assert _staged(serving) == []
    # Whole, and a server may already serve it.
    assert fs.content_fingerprint(str(serving / version)) == fs.content_fingerprint(source)
    assert predict(serving / version, [1.0]) == [2.0]
    [record] = fs.read_records(str(serving)).values()
    assert (record.state, record.version) == (fs.COPYING, int(version))

    out = run_pusher(tmp_path / "pushed", model, _destination(serving))
    assert _versions(serving) == [version]
    assert out.custom_properties["pushed_version"] == version
    [record] = fs.read_records(str(serving)).values()
    assert (record.state, record.version) == (fs.COMPLETE, int(version))


def test_another_models_push_cleans_up_after_a_crash(
    tmp_path: Path, make_model: MakeModel, serving: Path
) -> None:
    a = make_model("a")
    _crash(str(Path(a.uri) / "Format-Serving"), serving, "copy", "1")
    assert _versions(serving) == []
    [staged] = _staged(serving)

    b = run_pusher(tmp_path / "b", make_model("b"), _destination(serving))
    assert _versions(serving) == [b.custom_properties["pushed_version"]]
    assert _staged(serving) == []
    assert int(b.custom_properties["pushed_version"]) > int(staged)
    states = {r.version: r.state for r in fs.read_records(str(serving)).values()}
    assert states == {
        int(staged): fs.ABANDONED,
        int(b.custom_properties["pushed_version"]): fs.COMPLETE,
    }

    # The crashed model pushed again lands above b: it is the newer push.
    again = run_pusher(tmp_path / "a", a, _destination(serving))
    assert int(again.custom_properties["pushed_version"]) > int(
        b.custom_properties["pushed_version"]
    )
    assert len(_versions(serving)) == 2


# Errors -----------------------------------------------------------------------------------


def test_a_model_without_a_saved_model_is_named(tmp_path: Path, serving: Path) -> None:
    empty = tmp_path / "model"
    (empty / "Format-Serving").mkdir(parents=True)
    (empty / "Format-Serving" / "notes.txt").write_text("")
    with pytest.raises(SavedModelNotFoundError) as error:
        run_pusher(tmp_path / "pushed", Model(str(empty)), _destination(serving))
    assert str(error.value) == (
        f"Pusher: model artifact {empty} holds no SavedModel or TFLite model: "
        f"{empty}/Format-Serving holds no saved_model.pb or tflite (it holds: notes.txt)"
    )
    assert not serving.exists()

    missing = tmp_path / "elsewhere"
    missing.mkdir()
    with pytest.raises(SavedModelNotFoundError, match=f"{missing}/Format-Serving does not exist"):
        run_pusher(tmp_path / "pushed", Model(str(missing)), _destination(serving))


def test_a_saved_model_at_the_artifact_root_gets_a_hint(
    tmp_path: Path, saved_models: dict[str, str], serving: Path
) -> None:
    import shutil

    root = tmp_path / "model"
    shutil.copytree(saved_models["a"], root)
    with pytest.raises(SavedModelNotFoundError, match="a model is at the artifact's root"):
        run_pusher(tmp_path / "pushed", Model(str(root)), _destination(serving))


def test_an_unwritable_destination_is_named(tmp_path: Path, make_model: MakeModel) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the serving directory's parent should be")
    base = blocker / "penguin"
    with pytest.raises(PushDestinationError) as error:
        run_pusher(tmp_path / "pushed", make_model("a"), _destination(base))
    assert str(error.value) == (
        f"Pusher: cannot write to push_destination.filesystem.base_directory {base}: "
        "Not a directory"
    )


def test_a_base_directory_that_is_a_file_is_named(tmp_path: Path, make_model: MakeModel) -> None:
    base = tmp_path / "serving"
    base.write_text("")
    with pytest.raises(PushDestinationError, match=f"base_directory {base}: File exists"):
        run_pusher(tmp_path / "pushed", make_model("a"), _destination(base))


def test_a_failed_copy_is_named_and_cleaned_up(
    make_model: MakeModel, serving: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    source = str(Path(make_model("a").uri) / "Format-Serving")
    real_copy = fs._copy_file
    copied: list[str] = []

    def copy_until_the_disk_is_full(src: str, dst: str) -> None:
        if len(copied) == 1:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), dst)
        real_copy(src, dst)
        copied.append(dst)

    monkeypatch.setattr(fs, "_copy_file", copy_until_the_disk_is_full)
    with pytest.raises(PushDestinationError) as error:
        fs.push_saved_model(source, str(serving), clock=lambda: 1_700_000_000)
    target = serving / "1700000000"
    staging = serving / ".headrace" / "staging" / "1700000000"
    assert str(error.value).startswith(
        f"Pusher: copying {source} to {staging}, to become {target}, failed: "
        f"No space left on device ({staging}/"
    )
    assert _versions(serving) == []
    assert _staged(serving) == []  # removed at once, not left for the next push
    [record] = fs.read_records(str(serving)).values()
    assert (record.state, record.version) == (fs.ABANDONED, 1_700_000_000)

    monkeypatch.setattr(fs, "_copy_file", real_copy)
    again = fs.push_saved_model(source, str(serving), clock=lambda: 1_700_000_000)
    assert again.version == 1_700_000_001  # a number in a record names one push only
    assert again.removed_staging == ()
    assert _versions(serving) == ["1700000001"]


@pytest.mark.parametrize("holds_a_file", [False, True], ids=["empty", "not-empty"])
def test_a_version_directory_made_during_the_copy_is_left_alone(
    make_model: MakeModel, serving: Path, monkeypatch: pytest.MonkeyPatch, holds_a_file: bool
) -> None:
    # rename(2) silently replaces an empty directory: the Pusher must look first.
    source = str(Path(make_model("a").uri) / "Format-Serving")
    target = serving / "1700000000"
    real_copy = fs._copy_file

    def copy_while_another_tool_writes(src: str, dst: str) -> None:
        if not target.exists():
            target.mkdir()
            if holds_a_file:
                (target / "saved_model.pb").write_bytes(b"another tool's")
        real_copy(src, dst)

    monkeypatch.setattr(fs, "_copy_file", copy_while_another_tool_writes)
    with pytest.raises(PushDestinationError) as error:
        fs.push_saved_model(source, str(serving), clock=lambda: 1_700_000_000)
    staging = serving / ".headrace" / "staging" / "1700000000"
    assert str(error.value) == (
        f"Pusher: {target} appeared while this push copied the model to {staging}: something "
        f"other than the Pusher writes versions to {serving}. {target} was left as it is and "
        "nothing was pushed; pushing again picks a higher version"
    )
    assert [p.name for p in target.iterdir()] == (["saved_model.pb"] if holds_a_file else [])
    assert _staged(serving) == []
    [record] = fs.read_records(str(serving)).values()
    assert (record.state, record.version) == (fs.ABANDONED, 1_700_000_000)

    monkeypatch.setattr(fs, "_copy_file", real_copy)
    again = fs.push_saved_model(source, str(serving), clock=lambda: 1_700_000_000)
    assert again.version == 1_700_000_001
    assert predict(again.destination, [1.0]) == [2.0]


def test_a_corrupt_push_record_is_named(
    tmp_path: Path, make_model: MakeModel, serving: Path
) -> None:
    run_pusher(tmp_path / "p1", make_model("a"), _destination(serving))
    [record] = (serving / ".headrace" / "pushes").iterdir()
    record.write_text("{not json")
    with pytest.raises(PushDestinationError, match=f"push record {record} is unreadable"):
        run_pusher(tmp_path / "p2", make_model("b"), _destination(serving))


def test_two_models_in_one_input_are_refused(
    tmp_path: Path, make_model: MakeModel, serving: Path
) -> None:
    from headrace_core import PushedModel
    from headrace_pusher.executor import Executor

    a, b = make_model("a"), make_model("b")
    with pytest.raises(PusherError, match="input 'model' takes exactly one artifact, got 2"):
        Executor().Do(
            {"model": [a, b]},
            {"pushed_model": [PushedModel(str(tmp_path / "out"))]},
            {"push_destination": _destination(serving)},
        )

"""Loading preprocessing_fn: module files by path, dotted paths, custom_config, and the
errors a user sees when the module is missing, broken or lacks the function."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hrtf_util import MODULES

from headrace_transform import UserModuleError
from headrace_transform.udf import (
    bind_custom_config,
    load_from_module_file,
    load_from_path,
    load_preprocessing_fn,
)


def test_missing_module_file_names_the_file_and_function(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "preprocessing.py"
    with pytest.raises(UserModuleError) as e:
        load_from_module_file(str(missing))
    assert str(missing) in str(e.value)
    assert "does not exist" in str(e.value)
    assert "preprocessing_fn" in str(e.value)


def test_module_that_fails_to_import_names_the_file_function_and_cause() -> None:
    path = MODULES / "bad_import.py"
    with pytest.raises(UserModuleError) as e:
        load_from_module_file(str(path))
    message = str(e.value)
    assert str(path) in message
    assert "preprocessing_fn" in message
    assert "failed to import" in message
    assert "ModuleNotFoundError" in message and "headrace_no_such_module_for_tests" in message
    assert isinstance(e.value.__cause__, ModuleNotFoundError)


def test_syntax_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.py"
    path.write_text("def preprocessing_fn(inputs):\n    return {\n")
    with pytest.raises(UserModuleError, match=r"broken\.py failed to import.*SyntaxError"):
        load_from_module_file(str(path))


def test_module_without_the_function_lists_what_it_has() -> None:
    path = MODULES / "no_function.py"
    with pytest.raises(UserModuleError) as e:
        load_from_module_file(str(path))
    message = str(e.value)
    assert str(path) in message
    assert "defines no function 'preprocessing_fn'" in message
    assert "its functions: preprocess" in message


def test_not_callable(tmp_path: Path) -> None:
    path = tmp_path / "constant.py"
    path.write_text("preprocessing_fn = 3\n")
    with pytest.raises(UserModuleError, match="'preprocessing_fn' is a int, not a function"):
        load_from_module_file(str(path))


def test_edits_are_picked_up_in_the_same_process(tmp_path: Path) -> None:
    path = tmp_path / "edited.py"
    path.write_text("def preprocessing_fn(inputs):\n    return 'first'\n")
    first = load_from_module_file(str(path))
    path.write_text("def preprocessing_fn(inputs):\n    return 'second, longer'\n")
    second = load_from_module_file(str(path))
    assert (first({}), second({})) == ("first", "second, longer")
    # Unchanged content reuses the module already loaded.
    assert load_from_module_file(str(path)) is second


def test_helpers_beside_the_module_file_import_by_name(tmp_path: Path) -> None:
    (tmp_path / "hrtf_helper_for_test.py").write_text("SCALE = 7\n")
    path = tmp_path / "uses_helper.py"
    path.write_text(
        "import hrtf_helper_for_test\n\n"
        "def preprocessing_fn(inputs):\n    return hrtf_helper_for_test.SCALE\n"
    )
    try:
        assert load_from_module_file(str(path))({}) == 7
    finally:
        sys.modules.pop("hrtf_helper_for_test", None)


def test_dotted_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(MODULES))
    fn = load_from_path("no_function.preprocess")
    assert fn({"a": 1}) == {"a": 1}
    with pytest.raises(UserModuleError, match="module 'hrtf_missing_module' failed to import"):
        load_from_path("hrtf_missing_module.preprocessing_fn")
    with pytest.raises(UserModuleError, match=r"module 'no_function' \(.*no_function\.py\) "):
        load_from_path("no_function.preprocessing_fn")
    with pytest.raises(UserModuleError, match=r"not a 'module\.function' path"):
        load_from_path("preprocessing_fn")


def test_custom_config_is_bound_only_when_taken() -> None:
    def plain(inputs):  # type: ignore[no-untyped-def]
        return inputs

    def configured(inputs, custom_config):  # type: ignore[no-untyped-def]
        return inputs, custom_config

    assert bind_custom_config(plain, {"a": 1}) is plain
    assert bind_custom_config(configured, {"a": 1})("x") == ("x", {"a": 1})
    assert bind_custom_config(configured, None)("x") == ("x", {})


def test_exactly_one_source() -> None:
    with pytest.raises(UserModuleError, match="exactly one of module_file and preprocessing_fn"):
        load_preprocessing_fn(None, None)
    with pytest.raises(UserModuleError, match="exactly one"):
        load_preprocessing_fn("a.py", "m.f")

"""The test stores ``headrace_core.testing`` gives: a fresh MariaDB database per test on the
``HEADRACE_TEST_MYSQL`` server, and the store a test's runs use."""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

import pytest

from headrace_core.metadata import ENV_METADATA, MetadataStore, default_metadata_url
from headrace_core.testing import (
    mysql_required,
    mysql_unavailable,
    new_mysql_database_url,
    store_url,
)


def test_each_database_url_is_new_and_a_valid_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEADRACE_TEST_MYSQL", "mysql://root@127.0.0.1:3307/")
    label = "test_x[local-in-process] with a very long parametrisation id" * 2
    urls = {new_mysql_database_url(label) for _ in range(50)}
    assert len(urls) == 50
    for url in urls:
        parsed = urllib.parse.urlparse(url)
        assert (parsed.scheme, parsed.username, parsed.hostname, parsed.port) == (
            "mysql",
            "root",
            "127.0.0.1",
            3307,
        )
        name = parsed.path.strip("/")
        assert re.fullmatch(r"hrt_[a-z0-9_]+", name) and len(name) <= 64, name


def test_without_a_server_the_reason_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HEADRACE_TEST_MYSQL", raising=False)
    reason = mysql_unavailable()
    assert reason is not None and "HEADRACE_TEST_MYSQL" in reason and "tools/test" in reason
    with pytest.raises(RuntimeError, match="HEADRACE_TEST_MYSQL"):
        new_mysql_database_url()
    monkeypatch.setenv("HEADRACE_TEST_MYSQL", "sqlite:///x")
    assert "expected mysql://" in (mysql_unavailable() or "")


@pytest.mark.parametrize(
    ("ci", "require", "required"),
    [(None, None, False), ("true", None, True), ("0", None, False), (None, "1", True)],
)
def test_ci_refuses_to_skip(
    monkeypatch: pytest.MonkeyPatch, ci: str | None, require: str | None, required: bool
) -> None:
    for name, value in (("CI", ci), ("HEADRACE_REQUIRE_MYSQL", require)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert mysql_required() is required


def test_store_url_follows_headrace_metadata(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(ENV_METADATA, raising=False)
    assert store_url(tmp_path) == default_metadata_url(str(tmp_path))
    monkeypatch.setenv(ENV_METADATA, "mysql://root@db:3306/x")
    assert store_url(tmp_path) == "mysql://root@db:3306/x"


def test_mysql_url_is_a_fresh_store_on_the_server(mysql_url: str) -> None:
    store = MetadataStore(mysql_url)
    assert store.call("get_executions") == []
    assert store.call("get_artifacts") == []

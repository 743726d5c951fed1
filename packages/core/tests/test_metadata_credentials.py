"""Passwords in metadata URLs: stripped, concealed, redacted and looked up, without a server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from headrace_core.metadata import (
    ENV_METADATA_PASSWORD,
    MetadataError,
    child_environment,
    conceal,
    connection_config,
    has_password,
    redact,
    strip_password,
)


def test_strip_keeps_everything_but_the_password() -> None:
    # A quoted '@' or ':' in the password must not confuse the split.
    url = "mysql://ml%2Bops:p%40ss%3Aw0rd@db.example:3307/mlmd?password_file=/x"
    assert strip_password(url) == (
        "mysql://ml%2Bops@db.example:3307/mlmd?password_file=/x",
        "p@ss:w0rd",
    )
    assert strip_password("mysql://ml@db/mlmd") == ("mysql://ml@db/mlmd", None)
    assert strip_password("sqlite:///tmp/m.sqlite") == ("sqlite:///tmp/m.sqlite", None)
    assert has_password(url) and not has_password("mysql://ml@db/mlmd") and not has_password(None)


def test_a_concealed_password_is_shown_redacted_and_given_to_children() -> None:
    url = "mysql://u:Concealed1@db:3306/c1"
    assert redact(url) == "mysql://u:***@db:3306/c1"
    bare = conceal(url)
    assert bare == "mysql://u@db:3306/c1"
    assert redact(bare) == "mysql://u:***@db:3306/c1"  # one is in use, not shown
    assert redact("mysql://u@db:3306/other") == "mysql://u@db:3306/other"
    env = child_environment(bare, {"PATH": "/bin"})
    assert env == {"PATH": "/bin", ENV_METADATA_PASSWORD: "Concealed1"}
    assert child_environment("mysql://u@db:3306/other", {}) == {}


def test_connection_config_fills_the_password_from_each_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("ml_metadata")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv(ENV_METADATA_PASSWORD, raising=False)
    monkeypatch.delenv("HEADRACE_METADATA_PASSWORD_FILE", raising=False)
    url = "mysql://u@db:3306/sources"
    assert connection_config(url).mysql.password == ""
    assert connection_config("mysql://u:inline@db/sources").mysql.password == "inline"
    monkeypatch.setenv(ENV_METADATA_PASSWORD, "from-env")
    assert connection_config(url).mysql.password == "from-env"
    monkeypatch.delenv(ENV_METADATA_PASSWORD)

    secret = tmp_path / "secret"
    secret.write_text("from-file\n")
    os.chmod(secret, 0o604)
    with pytest.raises(MetadataError, match=r"readable by others \(mode 604\).*chmod 600"):
        connection_config(f"{url}?password_file={secret}")
    os.chmod(secret, 0o600)
    config = connection_config(f"{url}?password_file={secret}")
    assert (config.mysql.password, config.mysql.database) == ("from-file", "sources")

    (tmp_path / ".my.cnf").write_text("[client]\nuser=cnfuser\npassword='from-cnf'\n")
    os.chmod(tmp_path / ".my.cnf", 0o600)
    config = connection_config("mysql://db/sources")
    assert (config.mysql.user, config.mysql.password) == ("cnfuser", "from-cnf")
    assert connection_config(url).mysql.user == "u"  # the URL's user wins
    os.chmod(tmp_path / ".my.cnf", 0o644)
    with pytest.raises(MetadataError, match=r"MySQL option file .* readable by others"):
        connection_config(url)

"""Where a MySQL password comes from, so that no URL headrace prints, writes or passes on
carries one.

A URL with a password (``--metadata``, ``HEADRACE_METADATA``, a pipeline's
``metadata_connection_config``) is *concealed* where it enters: the password is kept in this
process only and the URL goes on without it, so the IR, compiled DAGs, argv and messages hold
a reference, never the secret. When a connection is made, the password of a URL without one
is, in this order:

1. the one concealed from the same URL in this process;
2. ``HEADRACE_METADATA_PASSWORD``;
3. the first line of the file ``?password_file=PATH`` or ``HEADRACE_METADATA_PASSWORD_FILE``
   names;
4. ``password`` in the ``[client]`` section of the MySQL option file ``?option_file=PATH``
   names, else ``~/.my.cnf`` if it exists (``user`` too, when the URL has none).

A file holding a password must not be readable by group or others (``chmod 600``).
"""

from __future__ import annotations

import configparser
import os
import stat
import threading
import urllib.parse

from headrace_core.metadata._names import MetadataError

__all__ = [
    "ENV_METADATA_PASSWORD",
    "ENV_METADATA_PASSWORD_FILE",
    "child_environment",
    "conceal",
    "credentials",
    "has_password",
    "strip_password",
]

#: A password for a metadata URL that has none (MySQL).
ENV_METADATA_PASSWORD = "HEADRACE_METADATA_PASSWORD"
#: A file whose first line is that password (mode 600).
ENV_METADATA_PASSWORD_FILE = "HEADRACE_METADATA_PASSWORD_FILE"

# Query parameters of a mysql:// URL that say where its password is; never sent to MLMD.
PASSWORD_FILE_PARAM = "password_file"
OPTION_FILE_PARAM = "option_file"

_concealed: dict[str, str] = {}
_lock = threading.Lock()


def has_password(url: str | None) -> bool:
    """Whether a URL carries a password (``mysql://user:PASSWORD@host/db``)."""
    return bool(url) and bool(urllib.parse.urlsplit(str(url)).password)


def strip_password(url: str) -> tuple[str, str | None]:
    """``url`` without its password, and the password (unquoted), or None if it had none."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url, None
    # netloc is [user[:password]@]host[:port]; keep the user exactly as written.
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    netloc = f"{user}@{hostport}" if user else hostport
    stripped = urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    return stripped, urllib.parse.unquote(parts.password)


def conceal(url: str | None) -> str | None:
    """``url`` without its password, which this process keeps for connections to it."""
    if not url:
        return url
    stripped, password = strip_password(url)
    if password is not None:
        with _lock:
            _concealed[stripped] = password
    return stripped


def concealed_password(url: str) -> str | None:
    """The password concealed from ``url`` (given with or without it) in this process."""
    with _lock:
        return _concealed.get(strip_password(url)[0])


def child_environment(url: str, environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a process given ``url`` on its command line: the password this
    process concealed from it travels in ``HEADRACE_METADATA_PASSWORD``, never in argv."""
    env = dict(os.environ if environ is None else environ)
    password = strip_password(url)[1] or concealed_password(url)
    if password is not None:
        env[ENV_METADATA_PASSWORD] = password
    return env


def credentials(url: str) -> tuple[str | None, str | None]:
    """The user and password to connect with to the MySQL store ``url`` names."""
    parts = urllib.parse.urlsplit(url)
    user = urllib.parse.unquote(parts.username) if parts.username else None
    if parts.password is not None:
        return user, urllib.parse.unquote(parts.password)
    password = concealed_password(url)
    if password is not None:
        return user, password
    password = os.environ.get(ENV_METADATA_PASSWORD)
    if password:
        return user, password
    query = urllib.parse.parse_qs(parts.query)
    password_file = (query.get(PASSWORD_FILE_PARAM) or [""])[0] or os.environ.get(
        ENV_METADATA_PASSWORD_FILE, ""
    ).strip()
    if password_file:
        return user, _read_password_file(os.path.expanduser(password_file))
    option_file = (query.get(OPTION_FILE_PARAM) or [""])[0]
    if option_file:
        option_user, password = _read_option_file(os.path.expanduser(option_file), required=True)
    else:
        option_user, password = _read_option_file(os.path.expanduser("~/.my.cnf"), required=False)
    return user or option_user, password


def _check_private(path: str, what: str) -> None:
    try:
        mode = os.stat(path).st_mode
    except OSError as e:
        raise MetadataError(f"{what} {path}: {e.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise MetadataError(
            f"{what} {path} is readable by others (mode {stat.S_IMODE(mode):o}); "
            f"make it private with: chmod 600 {path}"
        )


def _read_password_file(path: str) -> str:
    _check_private(path, "metadata password file")
    with open(path, encoding="utf-8") as f:
        password = f.readline().rstrip("\r\n")
    if not password:
        raise MetadataError(f"metadata password file {path} is empty")
    return password


def _read_option_file(path: str, *, required: bool) -> tuple[str | None, str | None]:
    if not required and not os.path.exists(path):
        return None, None
    parser = configparser.ConfigParser(allow_no_value=True, interpolation=None, strict=False)
    try:
        with open(path, encoding="utf-8") as f:
            parser.read_file(f)
    except OSError as e:
        raise MetadataError(f"MySQL option file {path}: {e.strerror}") from None
    except configparser.Error as e:
        raise MetadataError(f"MySQL option file {path} cannot be read: {e.message}") from None
    if not parser.has_section("client"):
        return None, None
    section = parser["client"]
    password = section.get("password")
    if password:
        _check_private(path, "MySQL option file")
        password = password.strip()
        if len(password) >= 2 and password[0] == password[-1] and password[0] in "'\"":
            password = password[1:-1]
    return (section.get("user") or None), (password or None)

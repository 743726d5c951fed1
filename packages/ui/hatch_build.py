"""Build hook: vendors the JavaScript the pages use (``npm.json``) into
``src/headrace_ui/static/vendor/``, for wheels and editable installs alike.

Each package's tarball comes from the npm registry (``NPM_CONFIG_REGISTRY``, else
registry.npmjs.org) at the exact version in ``npm.json`` and is refused unless it matches the
registry's integrity hash. Tarballs are cached in ``~/.cache/headrace-ui/npm`` (or
``HEADRACE_UI_NPM_CACHE``), so a rebuild works offline. The vendored files are ignored by git
and named here for the wheel: the pages load nothing from a CDN.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import tarfile
import urllib.request
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

VENDOR = Path("src") / "headrace_ui" / "static" / "vendor"
STAMP = ".npm-stamp.json"


def _check(data: bytes, integrity: str, what: str) -> None:
    algorithm, _, expected = integrity.partition("-")
    digest = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if digest != expected:
        raise RuntimeError(f"headrace-ui: {what}: integrity {algorithm}-{digest} != {integrity}")


def _tarball(name: str, version: str, integrity: str) -> bytes:
    cache = Path(
        os.environ.get("HEADRACE_UI_NPM_CACHE") or Path.home() / ".cache" / "headrace-ui" / "npm"
    )
    cached = cache / f"{name}-{version}.tgz"
    if cached.is_file():
        data = cached.read_bytes()
        try:
            _check(data, integrity, str(cached))
            return data
        except RuntimeError:
            cached.unlink()
    registry = os.environ.get("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org").rstrip("/")
    url = f"{registry}/{name}/-/{name.rpartition('/')[2]}-{version}.tgz"
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            data = response.read()
    except OSError as e:
        raise RuntimeError(
            f"headrace-ui: cannot fetch {name}@{version} from {url} ({e}); the wheel vendors "
            "its JavaScript at build time: build where the npm registry can be reached, or "
            f"put the tarball at {cached}"
        ) from e
    _check(data, integrity, url)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(f".tmp{os.getpid()}")
    tmp.write_bytes(data)
    tmp.replace(cached)
    return data


def vendor(root: Path) -> list[str]:
    """Fetch what ``npm.json`` names into the vendor folder (unless it is there already);
    the vendored paths, relative to ``root``."""
    spec = json.loads((root / "npm.json").read_text())["packages"]
    target = root / VENDOR
    stamp = target / STAMP
    wanted = {name: p["integrity"] for name, p in sorted(spec.items())}
    paths = [str(VENDOR / out) for p in spec.values() for out in p["files"].values()]
    if (
        stamp.is_file()
        and json.loads(stamp.read_text()) == wanted
        and all((root / p).is_file() for p in paths)
    ):
        return paths
    target.mkdir(parents=True, exist_ok=True)
    for name, p in sorted(spec.items()):
        data = _tarball(name, p["version"], p["integrity"])
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for member, out in p["files"].items():
                extracted = tar.extractfile(member)
                if extracted is None:
                    raise RuntimeError(f"headrace-ui: {name}@{p['version']} has no {member}")
                (target / out).write_bytes(extracted.read())
    stamp.write_text(json.dumps(wanted, indent=1) + "\n")
    return paths


class VendorBuildHook(BuildHookInterface):  # type: ignore[misc]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        build_data["artifacts"].extend(vendor(Path(self.root)))

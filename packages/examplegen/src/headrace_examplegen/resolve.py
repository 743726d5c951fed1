"""Which input files an ExampleGen run reads: split patterns, spans, versions, fingerprints.

TFX's pattern language, relative to ``input_base``:

- glob wildcards ``*``, ``?`` and ``[...]`` (never crossing ``/``);
- ``{SPAN}`` or ``{SPAN:width}``: digits naming the span (``width`` digits, zero padded);
- ``{YYYY}{MM}{DD}`` instead of ``{SPAN}``: a date, whose span is the number of days since
  1970-01-01;
- ``{VERSION}`` or ``{VERSION:width}``, with a span or date spec: the version of the span.

The latest span, and within it the latest version, is chosen unless a range config's
``static_range`` names a span. Every split must resolve to the same span and version. The
resolved pattern has the specs replaced by what was matched, so the executor reads exactly the
files the driver fingerprinted.

Light by contract: the driver imports this on every launch.
"""

from __future__ import annotations

import datetime
import glob
import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from headrace_core.cache import fingerprint_path
from headrace_examplegen.config import ExampleGenError, input_splits, static_span

__all__ = [
    "PatternSpecs",
    "ResolvedInput",
    "ResolvedSplit",
    "date_to_span",
    "file_fingerprints",
    "input_fingerprint",
    "match_files",
    "parse_specs",
    "resolve_input",
    "span_to_date",
]

_EPOCH = datetime.date(1970, 1, 1)
_SPAN_SPEC = re.compile(r"\{SPAN(?::([^}]*))?\}")
_VERSION_SPEC = re.compile(r"\{VERSION(?::([^}]*))?\}")
_DATE_SPECS = ("{YYYY}", "{MM}", "{DD}")
_TOKEN = re.compile(r"\{SPAN(?::[^}]*)?\}|\{VERSION(?::[^}]*)?\}|\{YYYY\}|\{MM\}|\{DD\}")


@dataclass(frozen=True)
class ResolvedSplit:
    """One input split: its pattern as given, as resolved, and the files it matches."""

    name: str
    pattern: str
    resolved_pattern: str
    files: tuple[str, ...]


@dataclass(frozen=True)
class ResolvedInput:
    """Every input split resolved to one span and version."""

    input_base: str
    splits: tuple[ResolvedSplit, ...]
    span: int
    version: int | None

    def input_config(self) -> dict[str, Any]:
        """``input_config`` with the resolved patterns, as TFX hands it to the executor."""
        return {"splits": [{"name": s.name, "pattern": s.resolved_pattern} for s in self.splits]}

    def fingerprint(self) -> str:
        return input_fingerprint(self)


def date_to_span(year: int, month: int, day: int) -> int:
    """TFX's span of a date: days since 1970-01-01."""
    return (datetime.date(year, month, day) - _EPOCH).days


def span_to_date(span: int) -> tuple[int, int, int]:
    date = _EPOCH + datetime.timedelta(days=span)
    return date.year, date.month, date.day


@dataclass(frozen=True)
class PatternSpecs:
    """Which specs a split pattern uses, and their widths."""

    span: bool
    date: bool
    version: bool
    span_width: int | None
    version_width: int | None


def _width(match: re.Match[str], pattern: str, spec: str) -> int | None:
    text = match.group(1)
    if text is None:
        return None
    if not text.isdigit() or int(text) <= 0:
        raise ExampleGenError(
            f"width of the {spec} spec in pattern {pattern!r} must be a positive integer, "
            f"got {text!r}"
        )
    return int(text)


def parse_specs(pattern: str) -> PatternSpecs:
    """Check the specs in ``pattern`` as TFX does (one span or date spec, version only with
    one of them) and describe them."""
    spans = list(_SPAN_SPEC.finditer(pattern))
    versions = list(_VERSION_SPEC.finditer(pattern))
    dates = [spec for spec in _DATE_SPECS if spec in pattern]
    if len(spans) > 1:
        raise ExampleGenError(f"only one {{SPAN}} spec is allowed in pattern {pattern!r}")
    if len(versions) > 1:
        raise ExampleGenError(f"only one {{VERSION}} spec is allowed in pattern {pattern!r}")
    if spans and dates:
        raise ExampleGenError(
            f"pattern {pattern!r} has both a {{SPAN}} spec and date specs; use one of them"
        )
    if dates and not all(pattern.count(spec) == 1 for spec in _DATE_SPECS):
        raise ExampleGenError(
            f"pattern {pattern!r}: date specs need exactly one each of {{YYYY}}, {{MM}} and {{DD}}"
        )
    if versions and not (spans or dates):
        raise ExampleGenError(
            f"pattern {pattern!r} has a {{VERSION}} spec but no {{SPAN}} or date spec"
        )
    return PatternSpecs(
        span=bool(spans),
        date=bool(dates),
        version=bool(versions),
        span_width=_width(spans[0], pattern, "{SPAN}") if spans else None,
        version_width=_width(versions[0], pattern, "{VERSION}") if versions else None,
    )


def _glob_part_to_regex(text: str) -> str:
    """A glob fragment as a regex that, like glob, never crosses a '/'."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = text.find("]", i + 2 if text[i + 1 : i + 2] in ("!", "]") else i + 1)
            if end < 0:
                out.append(re.escape(char))
            else:
                body = text[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def _pattern_regex(pattern: str, specs: PatternSpecs) -> re.Pattern[str]:
    parts: list[str] = []
    last = 0
    for token in _TOKEN.finditer(pattern):
        parts.append(_glob_part_to_regex(pattern[last : token.start()]))
        text = token.group(0)
        if text.startswith("{SPAN"):
            digits = rf"\d{{{specs.span_width}}}" if specs.span_width else r"\d+"
            parts.append(f"(?P<span>{digits})")
        elif text.startswith("{VERSION"):
            digits = rf"\d{{{specs.version_width}}}" if specs.version_width else r"\d+"
            parts.append(f"(?P<version>{digits})")
        elif text == "{YYYY}":
            parts.append(r"(?P<year>\d{4})")
        elif text == "{MM}":
            parts.append(r"(?P<month>\d{2})")
        else:
            parts.append(r"(?P<day>\d{2})")
        last = token.end()
    parts.append(_glob_part_to_regex(pattern[last:]))
    return re.compile("".join(parts))


def _check_input_base(input_base: str, component: str) -> str:
    if not isinstance(input_base, str) or not input_base:
        raise ExampleGenError(f"{component}: input_base must be a non-empty path")
    if not os.path.exists(input_base):
        raise ExampleGenError(f"{component}: input_base {input_base} does not exist")
    if not os.path.isdir(input_base):
        raise ExampleGenError(f"{component}: input_base {input_base} is not a directory")
    return input_base


def match_files(
    input_base: str, split: str, pattern: str, component: str = "ExampleGen"
) -> tuple[str, ...]:
    """The files ``pattern`` (specs already resolved) matches under ``input_base``, sorted.

    Raises when nothing matches, naming the split and the pattern; a matched path that is
    neither a regular file nor a directory (a broken link, a special file) is an error too.
    """
    _check_input_base(input_base, component)
    if os.path.isabs(pattern):
        raise ExampleGenError(
            f"{component}: split {split!r} pattern {pattern!r} must be relative to input_base"
        )
    matched = sorted(glob.glob(os.path.join(glob.escape(input_base), pattern)))
    files = []
    directories = []
    for path in matched:
        if os.path.isdir(path):
            directories.append(path)
        elif os.path.isfile(path):
            files.append(path)
        else:
            raise ExampleGenError(
                f"{component}: cannot read input file {path} (split {split!r}): "
                + ("a broken symbolic link" if os.path.islink(path) else "not a regular file")
            )
    if not files:
        hint = ""
        if directories:
            names = ", ".join(os.path.basename(d) for d in directories[:3])
            hint = f"; it matches only directories ({names}): add '/*' to read the files in them"
        raise ExampleGenError(
            f"{component}: no file matches split {split!r} pattern {pattern!r} under "
            f"input_base {input_base}{hint}"
        )
    return tuple(files)


def _resolve_split(
    input_base: str, name: str, pattern: str, target_span: int | None, component: str
) -> tuple[str, int, int | None]:
    """(resolved pattern, span, version) of one split."""
    specs = parse_specs(pattern)
    if not (specs.span or specs.date):
        if target_span is not None:
            raise ExampleGenError(
                f"{component}: range_config selects span {target_span}, but split {name!r} "
                f"pattern {pattern!r} has no {{SPAN}} or date spec"
            )
        return pattern, 0, None

    glob_pattern = _TOKEN.sub("*", pattern)
    regex = _pattern_regex(pattern, specs)
    found: list[tuple[int, int | None, re.Match[str]]] = []
    for path in sorted(glob.glob(os.path.join(glob.escape(input_base), glob_pattern))):
        relative = os.path.relpath(path, input_base).replace(os.sep, "/")
        match = regex.fullmatch(relative)
        if match is None or not (os.path.isfile(path) or os.path.islink(path)):
            continue
        if specs.span:
            span = int(match.group("span"))
        else:
            year, month, day = (int(match.group(g)) for g in ("year", "month", "day"))
            try:
                span = date_to_span(year, month, day)
            except ValueError:
                raise ExampleGenError(
                    f"{component}: input file {path} (split {name!r}) has an invalid date "
                    f"{year:04d}-{month:02d}-{day:02d} for pattern {pattern!r}"
                ) from None
        found.append((span, int(match.group("version")) if specs.version else None, match))
    if not found:
        raise ExampleGenError(
            f"{component}: no file matches split {name!r} pattern {pattern!r} under "
            f"input_base {input_base}"
        )
    spans = sorted({span for span, _, _ in found})
    span = spans[-1] if target_span is None else target_span
    in_span = [item for item in found if item[0] == span]
    if not in_span:
        raise ExampleGenError(
            f"{component}: range_config selects span {span}, but no file of split {name!r} "
            f"matches pattern {pattern!r} with that span (spans found: "
            f"{', '.join(map(str, spans[-10:]))})"
        )
    version: int | None = None
    if specs.version:
        version = max(v for _, v, _ in in_span if v is not None)
        in_span = [item for item in in_span if item[1] == version]
    # Substitute the text that matched (keeps zero padding), as TFX does.
    match = in_span[0][2]

    def replace(token: re.Match[str]) -> str:
        text = token.group(0)
        group = (
            "span"
            if text.startswith("{SPAN")
            else "version"
            if text.startswith("{VERSION")
            else {"{YYYY}": "year", "{MM}": "month", "{DD}": "day"}[text]
        )
        return match.group(group)

    return _TOKEN.sub(replace, pattern), span, version


def resolve_input(
    input_base: str,
    input_config: Mapping[str, Any] | None,
    range_config: Mapping[str, Any] | None = None,
    *,
    component: str = "ExampleGen",
) -> ResolvedInput:
    """Resolve every split of ``input_config`` to one span and version and list its files."""
    _check_input_base(input_base, component)
    target = static_span(range_config)
    splits: list[ResolvedSplit] = []
    chosen: tuple[int, int | None] | None = None
    for name, pattern in input_splits(input_config):
        resolved, span, version = _resolve_split(input_base, name, pattern, target, component)
        if chosen is None:
            chosen = (span, version)
        elif chosen != (span, version):
            raise ExampleGenError(
                f"{component}: splits resolve to different spans/versions: "
                f"{splits[0].name!r} to span {chosen[0]} version {chosen[1]}, {name!r} to span "
                f"{span} version {version}; every split must have the same latest span and version"
            )
        files = match_files(input_base, name, resolved, component)
        splits.append(ResolvedSplit(name, pattern, resolved, files))
    assert chosen is not None
    return ResolvedInput(input_base, tuple(splits), chosen[0], chosen[1])


def file_fingerprints(resolved: ResolvedInput) -> dict[str, dict[str, str]]:
    """Split -> path relative to ``input_base`` -> content fingerprint of each matched file."""
    found: dict[str, dict[str, str]] = {}
    for split in resolved.splits:
        files = found.setdefault(split.name, {})
        for path in split.files:
            try:
                content = fingerprint_path(path)
            except OSError as e:
                raise ExampleGenError(
                    f"cannot read input file {path} (split {split.name!r}): {e.strerror or e}"
                ) from None
            files[os.path.relpath(path, resolved.input_base)] = content
    return found


def input_fingerprint(
    resolved: ResolvedInput, files: Mapping[str, Mapping[str, str]] | None = None
) -> str:
    """A content hash of the matched files: split names, relative paths and file contents.

    New, removed or changed files change it; touching a file's modification time does not.
    ``files`` are :func:`file_fingerprints`, when already computed.
    """
    files = file_fingerprints(resolved) if files is None else files
    digest = hashlib.sha256()
    for split, contents in files.items():
        digest.update(f"split\0{split}\0{len(contents)}\n".encode())
        for relative, content in contents.items():
            digest.update(f"{relative}\0{content}\n".encode())
    return digest.hexdigest()

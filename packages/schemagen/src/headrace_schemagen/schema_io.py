"""Reading and describing schemas with tensorflow-metadata's protos only (no TFDV, no TF)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

__all__ = [
    "SCHEMA_FILE_NAME",
    "FeatureRow",
    "describe_schema",
    "parse_schema",
    "read_schema",
    "schema_file_in",
]

#: TFX's file name for a Schema artifact's schema.
SCHEMA_FILE_NAME = "schema.pbtxt"


def parse_schema(text: str, source: str) -> schema_pb2.Schema:
    """Parse a text-format Schema; errors read ``<source>:<line>:<column>: <problem>``."""
    try:
        return text_format.Parse(text, schema_pb2.Schema())
    except text_format.ParseError as e:
        line, column = e.GetLine(), e.GetColumn()
        problem = str(e)
        # protobuf prefixes the message with "line:column : "; keep only the problem.
        prefix = f"{line}:{column} : "
        if problem.startswith(prefix):
            problem = problem[len(prefix) :]
        where = f"{source}:{line}:{column}" if line is not None else source
        raise ValueError(f"{where}: not a valid tensorflow_metadata Schema: {problem}") from None


def read_schema(path: str) -> schema_pb2.Schema:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not a text-format schema (not UTF-8 text: {e})") from None
    return parse_schema(text, path)


def schema_file_in(uri: str) -> str:
    """The schema file of a Schema artifact: ``schema.pbtxt``, else its only file (as TFX)."""
    path = os.path.join(uri, SCHEMA_FILE_NAME)
    if os.path.isfile(path):
        return path
    files = (
        sorted(f for f in os.listdir(uri) if not f.startswith(".")) if os.path.isdir(uri) else []
    )
    if len(files) == 1 and os.path.isfile(os.path.join(uri, files[0])):
        return os.path.join(uri, files[0])
    raise FileNotFoundError(
        f"Schema artifact at {uri} has no {SCHEMA_FILE_NAME} (files: {', '.join(files) or 'none'})"
    )


@dataclass(frozen=True)
class FeatureRow:
    name: str
    type: str
    presence: str
    shape: str
    domain: str
    note: str = ""


def _presence(feature: schema_pb2.Feature) -> str:
    if not feature.HasField("presence"):
        return "-"
    presence = feature.presence
    if presence.min_fraction >= 1.0:
        return "required"
    parts = ["optional"]
    if presence.min_fraction > 0:
        parts.append(f"min {presence.min_fraction:g}")
    if presence.min_count:
        parts.append(f"min count {presence.min_count}")
    return ", ".join(parts)


def _shape(feature: schema_pb2.Feature) -> str:
    if feature.HasField("shape"):
        dims = [str(d.size) for d in feature.shape.dim]
        return f"shape [{', '.join(dims)}]" if dims else "scalar"
    if feature.HasField("value_count"):
        low, high = feature.value_count.min, feature.value_count.max
        if high and low == high:
            return f"{low} value{'s' if low != 1 else ''}"
        return f"{low}..{high or '*'} values"
    if feature.HasField("value_counts"):
        levels = [f"{v.min}..{v.max or '*'}" for v in feature.value_counts.value_count]
        return "nested " + " x ".join(levels)
    return "any"


def _num(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def _domain(feature: schema_pb2.Feature, domains: dict[str, schema_pb2.StringDomain]) -> str:
    kind = feature.WhichOneof("domain_info")
    if kind == "domain":
        domain = domains.get(feature.domain)
        if domain is None:
            return f"domain {feature.domain!r} (schema level)"
        return f"{feature.domain!r}: {len(domain.value)} values"
    if kind == "string_domain":
        return f"{len(feature.string_domain.value)} values"
    if kind == "int_domain":
        d = feature.int_domain
        parts = []
        if d.HasField("min") or d.HasField("max"):
            low = str(d.min) if d.HasField("min") else "-inf"
            high = str(d.max) if d.HasField("max") else "inf"
            parts.append(f"[{low}, {high}]")
        if d.is_categorical:
            parts.append("categorical")
        return "int " + " ".join(parts) if parts else "int"
    if kind == "float_domain":
        d = feature.float_domain
        if d.HasField("min") or d.HasField("max"):
            low = _num(d.min) if d.HasField("min") else "-inf"
            high = _num(d.max) if d.HasField("max") else "inf"
            return f"float [{low}, {high}]"
        return "float"
    if kind is None:
        return "-"
    return str(kind).replace("_domain", "")


def describe_schema(schema: schema_pb2.Schema) -> list[FeatureRow]:
    """One row per feature, in the schema's order."""
    domains = {d.name: d for d in schema.string_domain}
    rows = []
    for feature in schema.feature:
        notes = []
        if feature.deprecated or feature.lifecycle_stage in (
            schema_pb2.DEPRECATED,
            schema_pb2.DISABLED,
        ):
            notes.append("deprecated")
        if feature.not_in_environment:
            notes.append("not in " + ", ".join(feature.not_in_environment))
        if feature.in_environment:
            notes.append("only in " + ", ".join(feature.in_environment))
        rows.append(
            FeatureRow(
                name=feature.name,
                type=schema_pb2.FeatureType.Name(feature.type),
                presence=_presence(feature),
                shape=_shape(feature),
                domain=_domain(feature, domains),
                note="; ".join(notes),
            )
        )
    return rows

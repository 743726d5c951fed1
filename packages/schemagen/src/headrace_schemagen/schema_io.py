"""Describing schemas with tensorflow-metadata's protos only (no TFDV, no TF); reading them is
:mod:`headrace_tfdv_io`'s."""

from __future__ import annotations

from dataclasses import dataclass

from tensorflow_metadata.proto.v0 import schema_pb2

__all__ = ["FeatureRow", "describe_schema"]


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

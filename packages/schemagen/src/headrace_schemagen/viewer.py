"""``headrace show`` for Schema artifacts: one row per feature, and the string domains.

Reads ``schema.pbtxt`` with tensorflow-metadata's protos only; never imports TFDV or TensorFlow.
"""

from __future__ import annotations

from tensorflow_metadata.proto.v0 import schema_pb2

from headrace_core import Artifact
from headrace_core.show import ArtifactSummary
from headrace_schemagen.schema_io import describe_schema
from headrace_tfdv_io import read_schema, schema_file_in

__all__ = ["render_schema_text", "summarize"]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return [
        ("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))).rstrip()
        for row in [header, *rows]
    ]


def render_schema_text(schema: schema_pb2.Schema) -> str:
    rows = describe_schema(schema)
    lines = [f"{len(rows)} features"]
    lines += _table(
        ["feature", "type", "presence", "shape/valency", "domain", "note"],
        [[r.name, r.type, r.presence, r.shape, r.domain, r.note] for r in rows],
    )
    if schema.sparse_feature:
        lines.append(f"sparse features: {', '.join(f.name for f in schema.sparse_feature)}")
    if schema.string_domain:
        lines.append("")
        lines.append("string domains:")
        for domain in schema.string_domain:
            values = list(domain.value)
            shown = ", ".join(repr(v) for v in values[:8])
            more = f", ... ({len(values)} in all)" if len(values) > 8 else ""
            lines.append(f"  {domain.name}: {shown}{more}")
    if schema.default_environment:
        lines.append(f"environments: {', '.join(schema.default_environment)}")
    return "\n".join(lines)


def summarize(artifact: Artifact) -> ArtifactSummary:
    path = schema_file_in(artifact.uri)
    schema = read_schema(path)
    text = f"{artifact.type_name} #{artifact.id} at {path}\n" + render_schema_text(schema)
    data = {
        "path": path,
        "features": [row.__dict__ for row in describe_schema(schema)],
        "string_domains": {d.name: list(d.value) for d in schema.string_domain},
    }
    return ArtifactSummary(text, None, data)

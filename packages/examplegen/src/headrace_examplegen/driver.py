"""ExampleGen's driver: choose the span and version, fingerprint the input files.

It runs before the cache lookup on every launch, so it is light: no TensorFlow, no Beam. The
content fingerprint of the matched files enters the cache key, so new or changed input files
re-run ExampleGen while untouched ones hit the cache, and a missing ``input_base`` or a split
pattern that matches nothing fails the node before anything is executed.
"""

from __future__ import annotations

from headrace_core.driver import DriverContext, DriverOutput
from headrace_examplegen.config import config_to_dict
from headrace_examplegen.resolve import file_fingerprints, input_fingerprint, resolve_input

__all__ = ["MAX_NAMED_FILES", "drive"]

#: Up to this many input files, each file's fingerprint enters the cache key under its own
#: name, so ``headrace cache why`` says which file changed; beyond, only the aggregate does.
MAX_NAMED_FILES = 32


def drive(context: DriverContext) -> DriverOutput:
    """Resolve the input of one ExampleGen launch (the component's ``DRIVER_SPEC``)."""
    props = context.exec_properties
    resolved = resolve_input(
        props.get("input_base", ""),
        config_to_dict(props.get("input_config"), "input_config"),
        config_to_dict(props.get("range_config"), "range_config"),
        component=f"ExampleGen {context.node_id!r}",
    )
    files = file_fingerprints(resolved)
    fingerprint = input_fingerprint(resolved, files)
    patterns = {split.name: split.resolved_pattern for split in resolved.splits}
    cache_key: dict[str, object] = {
        "input_fingerprint": fingerprint,
        "span": resolved.span,
        "version": resolved.version,
        "input_patterns": patterns,
    }
    if sum(len(f) for f in files.values()) <= MAX_NAMED_FILES:
        for split, contents in files.items():
            for relative, content in contents.items():
                cache_key[f"input file {split}:{relative}"] = content
    output_properties: dict[str, int] = {"span": resolved.span}
    if resolved.version is not None:
        output_properties["version"] = resolved.version
    return DriverOutput(
        exec_properties={
            "span": resolved.span,
            "version": resolved.version,
            "input_config": resolved.input_config(),
            "input_fingerprint": fingerprint,
        },
        cache_key=cache_key,
        output_properties={"examples": output_properties},
    )

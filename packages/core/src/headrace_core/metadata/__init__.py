"""ML Metadata: connection by URL, type registration, contexts and busy-retrying calls.

``sqlite:///path/metadata.sqlite`` (the embedded default, ``<pipeline_root>/metadata.sqlite``)
or ``mysql://user@host:port/database``, its password from the environment, a private file or
MySQL's option file (``_credentials``: never in a URL headrace prints, writes or passes on).
``ml_metadata`` is imported only when a store is opened, so defining and compiling pipelines
stays fast.

Layout in MLMD:

- context types ``headrace.pipeline`` (name: pipeline name), ``headrace.pipeline_run``
  (``<pipeline>:<run_id>``), ``headrace.node`` (``<pipeline>:<node_id>``) and ``headrace.cache``
  (the cache key): every lookup the launcher makes goes through a context found by its unique
  (type, name) pair, so it costs the same with ten runs in the store as with ten thousand;
- one execution type per node type, one artifact type per artifact type;
- INPUT and OUTPUT events with the key and index as path steps (an input artifact under several
  keys: one event, a key and index pair per place; :func:`event_paths`). A node that reuses existing
  artifacts (a cache hit, a resolver, an importer finding its artifact) links them with
  INTERNAL_OUTPUT, so OUTPUT always names the execution that really produced an artifact.
"""

from headrace_core.metadata._check import check_store, upgrade_store
from headrace_core.metadata._credentials import (
    ENV_METADATA_PASSWORD,
    ENV_METADATA_PASSWORD_FILE,
    child_environment,
    conceal,
    has_password,
    strip_password,
)
from headrace_core.metadata._names import (
    CACHE_CONTEXT,
    EVENT_INPUT,
    EVENT_INTERNAL_OUTPUT,
    EVENT_OUTPUT,
    NODE_CONTEXT,
    PIPELINE_CONTEXT,
    RUN_CONTEXT,
    MetadataError,
    node_context_name,
    run_context_name,
)
from headrace_core.metadata._store import MetadataStore
from headrace_core.metadata._urls import (
    ENV_METADATA,
    ENV_SQLITE_JOURNAL,
    connection_config,
    default_metadata_url,
    pipeline_metadata_url,
    redact,
    sqlite_metadata_connection_config,
    sqlite_path,
    store_exists,
)
from headrace_core.metadata._values import (
    artifact_from_proto,
    artifact_to_proto,
    custom,
    event_paths,
    get_value,
    set_value,
)

__all__ = [
    "CACHE_CONTEXT",
    "ENV_METADATA",
    "ENV_METADATA_PASSWORD",
    "ENV_METADATA_PASSWORD_FILE",
    "ENV_SQLITE_JOURNAL",
    "EVENT_INPUT",
    "EVENT_INTERNAL_OUTPUT",
    "EVENT_OUTPUT",
    "MetadataError",
    "MetadataStore",
    "NODE_CONTEXT",
    "PIPELINE_CONTEXT",
    "RUN_CONTEXT",
    "artifact_from_proto",
    "artifact_to_proto",
    "check_store",
    "child_environment",
    "conceal",
    "connection_config",
    "custom",
    "default_metadata_url",
    "event_paths",
    "get_value",
    "has_password",
    "node_context_name",
    "pipeline_metadata_url",
    "redact",
    "run_context_name",
    "set_value",
    "sqlite_metadata_connection_config",
    "sqlite_path",
    "store_exists",
    "strip_password",
    "upgrade_store",
]

"""TFX's ``infra_validator_pb2`` parameters as checked JSON dicts.

``serving_spec``, ``validation_spec`` and ``request_spec`` arrive as TFX's messages, their JSON
or dicts of the same shape; each becomes one canonical dict (the IR and cache key do not
depend on the form). headrace serves the model in a local process of its own whatever
``serving_spec`` names (TF Serving's image on Docker or Kubernetes in TFX); the spec is kept
for compatibility and recorded with the blessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from headrace_core import InvalidComponentArgumentError
from headrace_core.component import check_fields, config_dict

__all__ = [
    "DEFAULT_MAX_LOADING_TIME_SECONDS",
    "DEFAULT_NUM_TRIES",
    "MAX_WARMUP_RECORDS",
    "normalize_request_spec",
    "normalize_serving_spec",
    "normalize_validation_spec",
]

#: TFX's defaults for an unset ValidationSpec field.
DEFAULT_MAX_LOADING_TIME_SECONDS = 300
DEFAULT_NUM_TRIES = 5
#: TF Serving reads at most this many records from a SavedModel's warm-up file.
MAX_WARMUP_RECORDS = 1000

_SERVING_FIELDS = ("tensorflow_serving", "local_docker", "kubernetes", "model_name")
_TF_SERVING_FIELDS = ("image_name", "tags", "digests")
_REQUEST_FIELDS = ("tensorflow_serving", "split_name", "num_examples", "make_warmup")
_TF_SERVING_REQUEST_FIELDS = ("tag_set", "signature_names")


def _dict(value: Any, name: str, example: str) -> dict[str, Any]:
    return config_dict(
        value,
        f"InfraValidator: {name}",
        expected=f"an infra_validator_pb2 message or a dict such as {example}",
    )


def _int(value: Any, where: str, minimum: int) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)  # MessageToDict writes some integers as strings
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise InvalidComponentArgumentError(f"{where} must be an int >= {minimum}, got {value!r}")
    return value


def _strings(value: Any, where: str) -> list[str]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise InvalidComponentArgumentError(f"{where} must be a list of strings, got {value!r}")
    if not all(isinstance(v, str) and v for v in value):
        raise InvalidComponentArgumentError(f"{where} must hold non-empty strings, got {value!r}")
    return list(value)


def normalize_serving_spec(value: Any) -> dict[str, Any]:
    """ServingSpec: which server (``tensorflow_serving``: tags) on which platform."""
    where = "InfraValidator: serving_spec"
    if value is None:
        raise InvalidComponentArgumentError(
            f"{where} is required, e.g. {{'tensorflow_serving': {{'tags': ['latest']}}, "
            "'local_docker': {}}"
        )
    spec = _dict(value, "serving_spec", "{'tensorflow_serving': {'tags': ['latest']}}")
    check_fields(spec, _SERVING_FIELDS, where)
    result: dict[str, Any] = {}
    serving = spec.get("tensorflow_serving")
    if serving is not None:
        if not isinstance(serving, Mapping):
            raise InvalidComponentArgumentError(f"{where}.tensorflow_serving must be a dict")
        check_fields(serving, _TF_SERVING_FIELDS, f"{where}.tensorflow_serving")
        result["tensorflow_serving"] = {
            k: (_strings(v, f"{where}.tensorflow_serving.{k}") if k != "image_name" else v)
            for k, v in sorted(serving.items())
        }
    platforms = [k for k in ("local_docker", "kubernetes") if k in spec]
    if len(platforms) > 1:
        raise InvalidComponentArgumentError(
            f"{where} names two platforms ({', '.join(platforms)}); it takes one"
        )
    for platform in platforms:
        if not isinstance(spec[platform], Mapping):
            raise InvalidComponentArgumentError(f"{where}.{platform} must be a dict")
        result[platform] = dict(sorted(spec[platform].items()))
    if spec.get("model_name"):
        result["model_name"] = str(spec["model_name"])
    return result


def normalize_validation_spec(value: Any) -> dict[str, int]:
    """ValidationSpec: ``max_loading_time_seconds`` (TFX's default 300) and ``num_tries``
    (default 5)."""
    where = "InfraValidator: validation_spec"
    spec = _dict({} if value is None else value, "validation_spec", "{'num_tries': 3}")
    check_fields(spec, ("max_loading_time_seconds", "num_tries"), where)
    result = {}
    if spec.get("max_loading_time_seconds"):
        result["max_loading_time_seconds"] = _int(
            spec["max_loading_time_seconds"], f"{where}.max_loading_time_seconds", 1
        )
    if spec.get("num_tries"):
        result["num_tries"] = _int(spec["num_tries"], f"{where}.num_tries", 1)
    return result


def normalize_request_spec(value: Any) -> dict[str, Any] | None:
    """RequestSpec: canary requests from ``split_name`` (``num_examples`` of them, default 1)
    to each of ``tensorflow_serving.signature_names`` (default serving_default); with
    ``make_warmup`` they are also written into a copy of a blessed model."""
    if value is None:
        return None
    where = "InfraValidator: request_spec"
    spec = _dict(value, "request_spec", "{'tensorflow_serving': {}, 'num_examples': 10}")
    check_fields(spec, _REQUEST_FIELDS, where)
    serving = spec.get("tensorflow_serving")
    if not isinstance(serving, Mapping):
        raise InvalidComponentArgumentError(
            f"{where} needs tensorflow_serving (requests as TF Serving takes them), e.g. "
            "{'tensorflow_serving': {'signature_names': ['serving_default']}}"
        )
    check_fields(serving, _TF_SERVING_REQUEST_FIELDS, f"{where}.tensorflow_serving")
    make_warmup = spec.get("make_warmup", False)
    if not isinstance(make_warmup, bool):
        raise InvalidComponentArgumentError(
            f"{where}.make_warmup must be a bool, got {make_warmup!r:.80}"
        )
    result: dict[str, Any] = {
        "tensorflow_serving": {
            k: _strings(v, f"{where}.tensorflow_serving.{k}")
            for k, v in sorted(serving.items())
            if v
        }
    }
    if spec.get("split_name"):
        result["split_name"] = str(spec["split_name"])
    if spec.get("num_examples"):
        result["num_examples"] = _int(spec["num_examples"], f"{where}.num_examples", 1)
    # Absent unless set, so a spec without it keeps the canonical form (and cache key) it had.
    if make_warmup:
        records = result.get("num_examples", 1) * len(
            result["tensorflow_serving"].get("signature_names") or ["serving_default"]
        )
        if records > MAX_WARMUP_RECORDS:
            raise InvalidComponentArgumentError(
                f"{where}.make_warmup: num_examples x signature_names is {records} warm-up "
                f"requests; TF Serving reads at most {MAX_WARMUP_RECORDS}"
            )
        result["make_warmup"] = True
    return result

"""TFX's ``example_diff_pb2.ExampleDiffConfig`` and ``include_split_pairs`` as checked values.

``config`` arrives as TFX's message, its JSON (a string, snake_case or protobuf's lowerCamel
names) or a dict of the same shape; each becomes one canonical dict with proto3's defaults
left out, as ``MessageToDict(preserving_proto_field_name=True)`` leaves them out, so every
form gives the same IR and cache key. Mistakes are refused when the pipeline is defined,
naming the field; the executor checks again what TFX's JSON form may bring.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from headrace_core import InvalidComponentArgumentError
from headrace_core.component import check_fields, config_dict

__all__ = [
    "PAIRED_EXAMPLE_SKEW_FIELDS",
    "detector_arguments",
    "normalize_config",
    "normalize_include_split_pairs",
]

_WHERE = "ExampleDiff: config"

#: PairedExampleSkew's fields (example_diff.proto, TFX 1.16), in the proto's order.
PAIRED_EXAMPLE_SKEW_FIELDS = (
    "identifier_features",
    "skew_sample_size",
    "ignore_features",
    "float_round_ndigits",
    "allow_duplicate_identifiers",
    "confusion_config",
)
_UINT32_MAX = 2**32 - 1


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _snake_case(value: Mapping[str, Any], fields: tuple[str, ...], where: str) -> dict[str, Any]:
    """protobuf's JSON printer writes lowerCamel names by default; its parser takes both."""
    aliases = {_camel(f): f for f in fields}
    result: dict[str, Any] = {}
    for key, item in value.items():
        name = aliases.get(key, key)
        if name in result:
            raise InvalidComponentArgumentError(f"{where}: field {name!r} is given twice")
        result[name] = item
    check_fields(result, fields, where)
    return result


def _names(value: Any, where: str) -> list[str]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise InvalidComponentArgumentError(
            f"{where} must be a list of feature names, got {value!r:.80}"
        )
    if not all(isinstance(v, str) and v for v in value):
        raise InvalidComponentArgumentError(
            f"{where} must hold non-empty feature names, got {value!r:.80}"
        )
    twice = sorted({v for v in value if list(value).count(v) > 1})
    if twice:
        raise InvalidComponentArgumentError(f"{where} names {', '.join(twice)} twice")
    return list(value)


def _uint32(value: Any, where: str) -> int:
    # protobuf's JSON form may quote integers; a bool is not one, though Python says it is.
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _UINT32_MAX:
        raise InvalidComponentArgumentError(
            f"{where} must be a whole number from 0 to {_UINT32_MAX}, got {value!r:.80}"
        )
    return value


def _confusion(value: Any, where: str) -> list[dict[str, str]]:
    if isinstance(value, (str, Mapping)) or not isinstance(value, (list, tuple)):
        raise InvalidComponentArgumentError(
            f"{where} must be a list such as [{{'feature_name': 'payment_type'}}], "
            f"got {value!r:.80}"
        )
    result = []
    for i, entry in enumerate(value):
        inner = f"{where}[{i}]"
        if not isinstance(entry, Mapping):
            raise InvalidComponentArgumentError(
                f"{inner} must be a dict with feature_name, got {entry!r:.80}"
            )
        name = _snake_case(entry, ("feature_name",), inner).get("feature_name")
        if not (isinstance(name, str) and name):
            raise InvalidComponentArgumentError(
                f"{inner}.feature_name must be a non-empty feature name, got {name!r:.80}"
            )
        result.append({"feature_name": name})
    names = [e["feature_name"] for e in result]
    if len(set(names)) != len(names):
        raise InvalidComponentArgumentError(f"{where} names a feature twice: {names!r}")
    return result


def normalize_config(value: Any) -> dict[str, Any]:
    """ExampleDiffConfig: ``paired_example_skew`` with at least one identifier feature (TFX
    and TFDV refuse a config without, but only once the node runs)."""
    if value is None:
        raise InvalidComponentArgumentError(
            f"{_WHERE} is required: an ExampleDiffConfig such as {{'paired_example_skew': "
            "{'identifier_features': ['id'], 'skew_sample_size': 10}}"
        )
    spec = config_dict(
        value,
        _WHERE,
        expected="an example_diff_pb2.ExampleDiffConfig, its JSON or a dict such as "
        "{'paired_example_skew': {'identifier_features': ['id']}}",
    )
    spec = _snake_case(spec, ("paired_example_skew",), _WHERE)
    where = f"{_WHERE}.paired_example_skew"
    skew = spec.get("paired_example_skew")
    if skew is None:
        raise InvalidComponentArgumentError(
            f"{where} is required (the only kind of diff ExampleDiffConfig has); set at "
            "least its identifier_features"
        )
    if not isinstance(skew, Mapping):
        raise InvalidComponentArgumentError(f"{where} must be a dict, got {skew!r:.80}")
    skew = _snake_case(skew, PAIRED_EXAMPLE_SKEW_FIELDS, where)
    result: dict[str, Any] = {}
    identifiers = _names(skew.get("identifier_features", []), f"{where}.identifier_features")
    if not identifiers:
        raise InvalidComponentArgumentError(
            f"{where}.identifier_features is empty: name the features that identify an "
            "example in both inputs (their values pair test and base examples)"
        )
    result["identifier_features"] = identifiers
    for field in ("skew_sample_size", "float_round_ndigits"):
        number = _uint32(skew.get(field, 0), f"{where}.{field}")
        if number:
            result[field] = number
    ignored = _names(skew.get("ignore_features", []), f"{where}.ignore_features")
    if ignored:
        result["ignore_features"] = ignored
    allow = skew.get("allow_duplicate_identifiers", False)
    if not isinstance(allow, bool):
        raise InvalidComponentArgumentError(
            f"{where}.allow_duplicate_identifiers must be true or false, got {allow!r:.80}"
        )
    if allow:
        result["allow_duplicate_identifiers"] = True
    confusion = _confusion(skew.get("confusion_config", []), f"{where}.confusion_config")
    if confusion:
        result["confusion_config"] = confusion
    return {"paired_example_skew": result}


def normalize_include_split_pairs(value: Any) -> list[list[str]] | None:
    """``include_split_pairs``: (test split, base split) pairs, or TFX's JSON string of them.
    None, or an empty list as in TFX, compares every test split with every base split."""
    where = "ExampleDiff: include_split_pairs"
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else None
        except json.JSONDecodeError as e:
            raise InvalidComponentArgumentError(f"{where} is not valid JSON: {e}") from None
    if value is None:
        return None
    if isinstance(value, Mapping) or not isinstance(value, (list, tuple)):
        raise InvalidComponentArgumentError(
            f"{where} must be a list of (test_split, base_split) pairs such as "
            f"[('train', 'train')], got {value!r:.80}"
        )
    pairs: list[list[str]] = []
    for i, pair in enumerate(value):
        if (
            isinstance(pair, (str, Mapping))
            or not isinstance(pair, (list, tuple))
            or len(pair) != 2
            or not all(isinstance(s, str) and s for s in pair)
        ):
            raise InvalidComponentArgumentError(
                f"{where}[{i}] must be a pair of split names (test_split, base_split), "
                f"got {pair!r:.80}"
            )
        if list(pair) in pairs:
            raise InvalidComponentArgumentError(f"{where} names the pair {tuple(pair)!r} twice")
        pairs.append(list(pair))
    return pairs or None


def detector_arguments(config: Mapping[str, Any]) -> dict[str, Any]:
    """TFDV's ``DetectFeatureSkewImpl`` keyword arguments for a canonical config, as TFX
    passes them, but ``confusion_names`` for its ``confusion_configs`` (TFDV objects the
    executor makes). An unset ``float_round_ndigits`` is 0 (floats rounded to whole numbers),
    not None (no rounding): TFX passes the proto3 field's default on."""
    skew = config["paired_example_skew"]
    return {
        "identifier_features": list(skew["identifier_features"]),
        "features_to_ignore": list(skew.get("ignore_features", [])),
        "sample_size": skew.get("skew_sample_size", 0),
        "float_round_ndigits": skew.get("float_round_ndigits", 0),
        "allow_duplicate_identifiers": skew.get("allow_duplicate_identifiers", False),
        "confusion_names": [c["feature_name"] for c in skew.get("confusion_config", [])],
    }

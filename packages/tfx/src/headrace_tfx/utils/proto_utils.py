"""``tfx.utils.proto_utils``: messages to JSON and back, as TFX writes them into execution
properties (TFX's field names, keys sorted)."""

from __future__ import annotations

from typing import TypeVar

from google.protobuf import json_format
from google.protobuf.message import Message

__all__ = ["json_to_proto", "proto_to_json"]

M = TypeVar("M", bound=Message)


def proto_to_json(proto: Message) -> str:
    """``proto`` as JSON with TFX's field names and sorted keys (defaults left out)."""
    return json_format.MessageToJson(proto, sort_keys=True, preserving_proto_field_name=True)


def json_to_proto(json_str: str, proto: M) -> M:
    """Parse ``json_str`` into ``proto`` (unknown fields refused) and return it."""
    json_format.Parse(json_str, proto)
    return proto

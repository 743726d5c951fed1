"""``tfx.utils.io_utils``: the file helpers TFX's examples and components use (local paths;
for remote file systems read the file yourself with ``tf.io.gfile``)."""

from __future__ import annotations

from typing import TypeVar

from google.protobuf import json_format, text_format
from google.protobuf.message import Message

__all__ = ["parse_json_file", "parse_pbtxt_file"]

M = TypeVar("M", bound=Message)


def parse_pbtxt_file(file_name: str, message: M) -> M:
    """Parse the text-format message in ``file_name`` into ``message`` and return it."""
    with open(file_name, encoding="utf-8") as f:
        text_format.Parse(f.read(), message)
    return message


def parse_json_file(file_name: str, message: M) -> M:
    """Parse the JSON message in ``file_name`` into ``message`` and return it."""
    with open(file_name, encoding="utf-8") as f:
        json_format.Parse(f.read(), message)
    return message

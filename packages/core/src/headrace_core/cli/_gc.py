"""``headrace gc``: removing what old runs left behind (see docs/operations.md)."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_parsers"]


def add_parsers(sub: Any) -> None:
    """Add this module's commands to the ``headrace`` parser's subcommands ``sub``."""
    del sub


def _unused(args: argparse.Namespace) -> int:  # replaced by the commands themselves
    del args
    return 0

"""Ports and listening sockets for the distributed tests' servers (Linux /proc).

Every server a test starts must listen on 127.0.0.1 only; the tests read what really listens
from /proc rather than trusting configuration. (``_beam_workers.py`` keeps its own free-port
helper: it also runs as a stand-alone boot program, with no folder on ``sys.path``.)
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterable

__all__ = ["free_port", "listening_addresses"]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes.add(target[len("socket:[") : -1])
    return inodes


def _decode(address: str) -> str:
    host, port = address.split(":")
    raw = bytes.fromhex(host)
    if len(raw) == 4:
        ip = socket.inet_ntop(socket.AF_INET, raw[::-1])
    else:  # four little-endian 32-bit words
        words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
        ip = socket.inet_ntop(socket.AF_INET6, words)
    return f"{ip}:{int(port, 16)}"


def listening_addresses(pids: Iterable[int]) -> set[str]:
    """``host:port`` of every TCP socket the processes ``pids`` listen on."""
    inodes: set[str] = set()
    for pid in pids:
        inodes |= _socket_inodes(pid)
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                    found.add(_decode(fields[1]))
    return found

"""TFRecord framing without TensorFlow, a batch of records at a time.

A TFRecord file is a sequence of frames ``uint64 length | uint32 masked_crc32c(length) | data |
uint32 masked_crc32c(data)`` (little endian). Batches of frames live in one buffer
(:class:`~headrace_examplegen._ragged.Ragged`, one frame per row), so writing a batch is one
write and one compressor call, and input frames pass through without being rebuilt.
"""

from __future__ import annotations

import gzip
import hashlib
import struct
from collections.abc import Iterator, Sequence
from typing import IO

import google_crc32c
import numpy as np
import numpy.typing as npt

from headrace_examplegen import _ragged as rg
from headrace_examplegen.config import ExampleGenError

__all__ = [
    "FRAME_HEADER_SIZE",
    "GZIP_MAGIC",
    "frame_headers",
    "frame_records",
    "masked_crc32c",
    "open_maybe_gzip",
    "payloads",
    "read_frames",
    "seal_frames",
]

GZIP_MAGIC = b"\x1f\x8b"
FRAME_HEADER_SIZE = 12
_FOOTER = 4
_HEADER = struct.Struct("<QI")
_CRC = struct.Struct("<I")
_READ_SIZE = 8 * 1024 * 1024
_MASK_DELTA = 0xA282EAD8


def masked_crc32c(data: bytes | memoryview) -> int:
    """TFRecord's masked CRC-32C of ``data``."""
    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def _mask(crcs: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
    crcs = crcs.astype(np.uint32)
    return ((crcs >> np.uint32(15)) | (crcs << np.uint32(17))) + np.uint32(_MASK_DELTA)


def frame_headers(lengths: npt.ArrayLike) -> rg.ByteArray:
    """The 12-byte header of a frame for each record length, as an (n, 12) uint8 matrix."""
    lengths = np.asarray(lengths, np.int64)
    out = np.empty((len(lengths), FRAME_HEADER_SIZE), np.uint8)
    out[:, :8] = lengths.astype("<u8").view(np.uint8).reshape(-1, 8)
    # Few distinct lengths in a batch: one CRC each.
    distinct, inverse = np.unique(lengths, return_inverse=True)
    crcs = np.array([masked_crc32c(struct.pack("<Q", int(v))) for v in distinct], "<u4")
    out[:, 8:] = crcs[inverse].view(np.uint8).reshape(-1, 4)
    return out


def _modulo(digests: rg.ByteArray, modulus: int) -> rg.IntArray:
    """Each row of 32 bytes read as a big-endian integer, modulo ``modulus``, vectorized:
    the sum of byte * (256**position mod modulus), reduced at the end."""
    if modulus >= 2**40:
        return np.array([int.from_bytes(row.tobytes(), "big") % modulus for row in digests])
    weights = np.array([pow(256, 31 - k, modulus) for k in range(32)], np.int64)
    return (digests.astype(np.int64) @ weights) % modulus


def payloads(frames: rg.Ragged) -> tuple[rg.IntArray, rg.IntArray]:
    """(start, end) of each frame's record inside ``frames.data``."""
    return frames.offsets[:-1] + FRAME_HEADER_SIZE, frames.offsets[1:] - _FOOTER


def seal_frames(
    frames: rg.Ragged,
    *,
    fill_crc: bool,
    bucket_modulus: int | None = None,
    keys: Sequence[bytes] | None = None,
) -> rg.IntArray | None:
    """Fill each frame's data CRC (``fill_crc``) and, given ``bucket_modulus``, return each
    record's bucket: ``int(sha256(key)) % bucket_modulus`` with the record itself as the key
    unless ``keys`` are given (TFX's partition hash)."""
    starts, ends = payloads(frames)
    view = frames.data.data
    # google_crc32c takes bytes only: one bytes object per record serves both hashes.
    records = [bytes(view[s:e]) for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]
    crcs = (
        np.fromiter(map(google_crc32c.value, records), np.uint32, len(records))
        if fill_crc
        else None
    )
    buckets = None
    if bucket_modulus:
        sha256 = hashlib.sha256
        digests = b"".join([sha256(k).digest() for k in (records if keys is None else keys)])
        buckets = _modulo(np.frombuffer(digests, np.uint8).reshape(-1, 32), bucket_modulus)
    if crcs is not None:
        positions = ends[:, None] + np.arange(_FOOTER)
        frames.data[positions] = _mask(crcs).astype("<u4").view(np.uint8).reshape(-1, _FOOTER)
    return buckets


def frame_records(records: Sequence[bytes]) -> rg.Ragged:
    """``records`` as sealed TFRecord frames."""
    body = rg.from_bytes(records)
    n = len(records)
    frames = rg.assemble(
        [
            rg.Fixed(frame_headers(body.lens), np.full(n, FRAME_HEADER_SIZE)),
            body,
            rg.const(b"\0\0\0\0", n),
        ]
    )
    seal_frames(frames, fill_crc=True)
    return frames


def open_maybe_gzip(raw: IO[bytes]) -> IO[bytes]:
    """``raw`` itself, or a decompressing reader if it starts with the gzip magic number."""
    start = raw.read(2)
    raw.seek(0)
    if start == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    return raw


class _Buffered:
    """A read buffer over a stream. Positions are offsets in the stream; ``data`` holds the
    bytes from ``base`` on."""

    def __init__(self, stream: IO[bytes], path: str) -> None:
        self.stream = stream
        self.path = path
        self.data = b""
        self.base = 0
        self.eof = False

    def ensure(self, position: int, size: int, keep_from: int) -> bool:
        """Read until ``size`` bytes follow ``position``; bytes before ``keep_from`` may go."""
        while self.base + len(self.data) - position < size and not self.eof:
            try:
                more = self.stream.read(max(_READ_SIZE, size))
            except (OSError, EOFError) as e:
                raise ExampleGenError(f"cannot read input file {self.path}: {e}") from None
            self.data = self.data[keep_from - self.base :] + more
            self.base = keep_from
            self.eof = not more
        return self.base + len(self.data) - position >= size


def read_frames(stream: IO[bytes], path: str, batch_size: int) -> Iterator[rg.Ragged]:
    """The frames of one TFRecord stream, ``batch_size`` at a time, as they are in the file.

    Both CRCs of every frame are checked. Raises :class:`ExampleGenError` naming ``path`` and
    the record's index when the data is not TFRecord framing (a wrong file type, corruption,
    truncation).
    """
    buffer = _Buffered(stream, path)
    index = 0
    position = 0
    batch_start = 0
    ends: list[int] = []
    while buffer.ensure(position, 1, batch_start):
        if not buffer.ensure(position, FRAME_HEADER_SIZE, batch_start):
            raise ExampleGenError(
                f"{path}: record {index} is truncated (fewer than the 12 bytes of a TFRecord "
                "header); is this a TFRecord file?"
            )
        at = position - buffer.base
        size, length_crc = _HEADER.unpack_from(buffer.data, at)
        if masked_crc32c(buffer.data[at : at + 8]) != length_crc:
            raise ExampleGenError(
                f"{path}: record {index} has a corrupt length header; this is not a TFRecord "
                "file (or it is damaged)"
            )
        if not buffer.ensure(position, FRAME_HEADER_SIZE + size + _FOOTER, batch_start):
            raise ExampleGenError(
                f"{path}: record {index} is truncated: {size} bytes announced, fewer present"
            )
        start = position - buffer.base + FRAME_HEADER_SIZE
        end = start + size
        (data_crc,) = _CRC.unpack_from(buffer.data, end)
        if masked_crc32c(buffer.data[start:end]) != data_crc:
            raise ExampleGenError(f"{path}: record {index} fails its CRC check (damaged file)")
        index += 1
        position += FRAME_HEADER_SIZE + size + _FOOTER
        ends.append(position)
        if len(ends) >= batch_size:
            yield _frames(buffer, batch_start, ends)
            batch_start = position
            ends = []
    if ends:
        yield _frames(buffer, batch_start, ends)


def _frames(buffer: _Buffered, start: int, ends: list[int]) -> rg.Ragged:
    offsets = np.empty(len(ends) + 1, np.int64)
    offsets[0] = start
    offsets[1:] = ends
    offsets -= start
    block = np.frombuffer(
        buffer.data, np.uint8, count=ends[-1] - start, offset=start - buffer.base
    ).copy()
    return rg.Ragged(offsets, block)

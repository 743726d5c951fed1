"""ExampleStatistics artifacts: ``<uri>/Split-<name>/FeatureStats.pb``, as TFX writes them."""

from __future__ import annotations

import os

from google.protobuf.message import DecodeError
from tensorflow_metadata.proto.v0 import statistics_pb2

from headrace_core.artifacts import Artifact, split_uri
from headrace_core.errors import HeadraceError
from headrace_core.executor import describe_directory

__all__ = [
    "LEGACY_STATS_FILE",
    "STATS_FILE",
    "InvalidStatisticsError",
    "StatisticsNotFoundError",
    "load_split_statistics",
    "write_split_statistics",
]

#: TFX's file names in a split of an ExampleStatistics artifact: a serialized
#: DatasetFeatureStatisticsList, or (artifacts from before TFX 0.26) a TFRecord of it.
STATS_FILE = "FeatureStats.pb"
LEGACY_STATS_FILE = "stats_tfrecord"


class StatisticsNotFoundError(HeadraceError, FileNotFoundError):
    """A split of an ExampleStatistics artifact holds no statistics file."""


class InvalidStatisticsError(HeadraceError, ValueError):
    """A statistics file cannot be read, or describes no dataset."""


def load_split_statistics(
    artifact: Artifact,
    split: str,
    *,
    component: str = "",
    role: str = "statistics",
    error: type[Exception] | None = None,
) -> statistics_pb2.DatasetFeatureStatisticsList:
    """The statistics of one split; errors read ``<component>: <role> of split '<split>': ...``.

    ``role`` tells apart several statistics inputs (``baseline statistics``); ``error``
    replaces :class:`StatisticsNotFoundError` and :class:`InvalidStatisticsError`.
    """
    where = f"{component}: {role} of split '{split}'" if component else f"{role} of {split!r}"
    directory = split_uri(artifact, split)
    path = os.path.join(directory, STATS_FILE)
    legacy = os.path.join(directory, LEGACY_STATS_FILE)
    if os.path.isfile(path):
        with open(path, "rb") as f:
            data = f.read()
        try:
            stats = statistics_pb2.DatasetFeatureStatisticsList.FromString(data)
        except DecodeError as e:
            raise (error or InvalidStatisticsError)(
                f"{where}: {path} is not a serialized DatasetFeatureStatisticsList ({e})"
            ) from None
    elif os.path.isfile(legacy):
        # TFDV, whose reader of the old format imports TensorFlow, only for old artifacts.
        import tensorflow_data_validation as tfdv

        path = legacy
        try:
            stats = tfdv.load_statistics(legacy)
        except Exception as e:  # TFDV raises whatever its TFRecord reader raises
            raise (error or InvalidStatisticsError)(f"{where}: cannot read {legacy}: {e}") from None
    else:
        raise (error or StatisticsNotFoundError)(
            f"{where}: no {STATS_FILE} in {directory} ({describe_directory(directory)})"
        )
    if not stats.datasets:
        raise (error or InvalidStatisticsError)(f"{where}: {path} holds no dataset")
    return stats


def write_split_statistics(
    stats: statistics_pb2.DatasetFeatureStatisticsList, artifact: Artifact, split: str
) -> str:
    """Write ``Split-<split>/FeatureStats.pb`` of ``artifact``; return the file's path."""
    directory = split_uri(artifact, split)
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, STATS_FILE)
    with open(path, "wb") as f:
        f.write(stats.SerializeToString())
    return path

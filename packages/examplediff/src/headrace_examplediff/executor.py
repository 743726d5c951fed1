"""``ExampleDiff``'s executor: TFDV's feature skew detector over each split pair, on Beam.

Imported only when the node runs; TensorFlow, TFDV and Beam are imported inside ``Do``.
Reads TFX's layout (tf.Example TFRecords in ``<examples>/Split-<name>/``) and writes TFX's:
``<example_diff_result>/SplitPair-<test>_<base>/`` with ``skew_stats``, ``sample_pairs`` and
``match_stats`` (and ``confusion`` when configured), sharded TFRecords of TFDV's
``feature_skew_results_pb2`` messages; then ``summary.json`` from those records.
"""

from __future__ import annotations

import glob
import logging
import os
import time
from typing import Any

from headrace_core import Artifact, BaseExecutor, InvalidComponentArgumentError
from headrace_core.executor import (
    report_progress,
    single_input,
    split_files_pattern,
    split_names,
)
from headrace_examplediff.config import (
    detector_arguments,
    normalize_config,
    normalize_include_split_pairs,
)
from headrace_examplediff.errors import ExampleDiffError
from headrace_examplediff.summary import pair_summary, write_summary

__all__ = [
    "CONFUSION_FILE_NAME",
    "MATCH_STATS_FILE_NAME",
    "SAMPLE_FILE_NAME",
    "STATS_FILE_NAME",
    "Executor",
    "split_pairs",
]

log = logging.getLogger(__name__)

#: TFX's file name prefixes inside SplitPair-<test>_<base>/.
STATS_FILE_NAME = "skew_stats"
SAMPLE_FILE_NAME = "sample_pairs"
MATCH_STATS_FILE_NAME = "match_stats"
CONFUSION_FILE_NAME = "confusion"
_COMPONENT = "ExampleDiff"
_TF_EXAMPLE_FORMATS = ("", "FORMAT_TF_EXAMPLE")
_ROLES = {"test": "examples_test", "base": "examples_base"}


def split_pairs(
    test: Artifact, base: Artifact, include: list[list[str]] | None
) -> list[tuple[str, str]]:
    """The (test split, base split) pairs to compare, in TFX's order: every pair of the two
    artifacts' splits, or those ``include`` names, each checked to exist on both sides."""
    test_splits = split_names(test, component=_COMPONENT, role="examples_test")
    base_splits = split_names(base, component=_COMPONENT, role="examples_base")
    if include is None:
        return [(t, b) for t in test_splits for b in base_splits]
    problems = []
    for t, b in include:
        for role, split, artifact, known in (
            ("examples_test", t, test, test_splits),
            ("examples_base", b, base, base_splits),
        ):
            if split not in known:
                problems.append(
                    f"pair ({t!r}, {b!r}): {role} {artifact.uri} has no split {split!r} "
                    f"(splits: {', '.join(known)})"
                )
    if problems:
        raise ExampleDiffError(f"{_COMPONENT}: include_split_pairs: " + "; ".join(problems))
    wanted = {(t, b) for t, b in include}
    return [(t, b) for t in test_splits for b in base_splits if (t, b) in wanted]


def _check_payload(artifact: Artifact, role: str) -> None:
    payload = str(artifact.get_custom_property("payload_format") or "")
    if payload not in _TF_EXAMPLE_FORMATS:
        raise ExampleDiffError(
            f"{_COMPONENT}: {role} {artifact.uri} have payload_format {payload!r}; the "
            "ExampleDiff compares tf.Examples (FORMAT_TF_EXAMPLE) only, as TFX's"
        )


def _feature_names(pattern: str) -> list[str]:
    """The features of the first example matching ``pattern``, for error messages."""
    import tensorflow as tf

    for path in sorted(glob.glob(pattern)):
        compression = "GZIP" if path.endswith(".gz") else ""
        for record in tf.data.TFRecordDataset(path, compression_type=compression).take(1):
            return sorted(tf.train.Example.FromString(record.numpy()).features.feature)
    return []


def _fields(message: Any) -> dict[str, Any]:
    # Field by field, not MessageToDict: that writes 64-bit counts as strings.
    return {f.name: getattr(message, f.name) for f in message.DESCRIPTOR.fields}


class Executor(BaseExecutor):
    """Pairs test and base examples by identifier features; writes TFDV's skew records."""

    def Do(  # noqa: N802 - TFX's method name
        self,
        input_dict: dict[str, list[Artifact]],
        output_dict: dict[str, list[Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        error = ExampleDiffError
        test = single_input(input_dict, "examples", component=_COMPONENT, error=error)
        base = single_input(input_dict, "baseline_examples", component=_COMPONENT, error=error)
        result = single_input(
            output_dict, "example_diff_result", component=_COMPONENT, what="output", error=error
        )
        try:
            # Dicts from headrace; TFX's message or JSON strings from a TFX-style caller.
            config = normalize_config(exec_properties.get("example_diff_config"))
            include = normalize_include_split_pairs(exec_properties.get("include_split_pairs"))
        except InvalidComponentArgumentError as e:
            raise ExampleDiffError(str(e)) from None
        _check_payload(test, "examples_test")
        _check_payload(base, "examples_base")
        pairs = split_pairs(test, base, include)
        patterns: dict[tuple[str, str], str] = {}
        for role, artifact, splits in (
            ("test", test, {t for t, _ in pairs}),
            ("base", base, {b for _, b in pairs}),
        ):
            for split in sorted(splits):
                patterns[role, split] = split_files_pattern(
                    artifact, split, component=_COMPONENT, role=_ROLES[role], error=error
                )

        settings = detector_arguments(config)
        log.info(
            "%s: comparing %s by %s",
            _COMPONENT,
            ", ".join(f"{t}_{b}" for t, b in pairs),
            ", ".join(settings["identifier_features"]),
        )
        started = time.monotonic()
        self._run_beam(pairs, patterns, settings, result.uri)
        summaries = [self._read_back(t, b, result.uri) for t, b in pairs]
        self._check_identifiers(summaries, patterns, settings["identifier_features"])
        write_summary(result.uri, config, summaries)
        log.info(
            "%s: %d split pair(s) in %.1f s; written to %s",
            _COMPONENT,
            len(pairs),
            time.monotonic() - started,
            result.uri,
        )

    def _run_beam(
        self,
        pairs: list[tuple[str, str]],
        patterns: dict[tuple[str, str], str],
        settings: dict[str, Any],
        uri: str,
    ) -> None:
        import apache_beam as beam
        import tensorflow as tf
        from tensorflow_data_validation.skew import feature_skew_detector as fsd

        arguments = dict(settings)
        confusion = [fsd.ConfusionConfig(n) for n in arguments.pop("confusion_names")]
        report_progress(f"comparing {len(pairs)} split pair(s)")
        try:
            with beam.Pipeline(argv=self._get_beam_pipeline_args()) as pipeline:
                examples = {
                    key: (
                        pipeline
                        | f"Read[{key[0]}-{key[1]}]" >> beam.io.ReadFromTFRecord(pattern)
                        | f"Parse[{key[0]}-{key[1]}]" >> beam.Map(tf.train.Example.FromString)
                    )
                    for key, pattern in patterns.items()
                }
                for t, b in pairs:
                    name = f"{t}_{b}"
                    out = os.path.join(uri, f"SplitPair-{name}")
                    # TFX's order: examples_test goes in as TFDV's baseline (summary.py).
                    results = (
                        examples["test", t],
                        examples["base", b],
                    ) | f"DetectSkew[{name}]" >> fsd.DetectFeatureSkewImpl(
                        **arguments, confusion_configs=confusion
                    )
                    sinks = [
                        (fsd.SKEW_RESULTS_KEY, fsd.skew_results_sink, STATS_FILE_NAME),
                        (fsd.SKEW_PAIRS_KEY, fsd.skew_pair_sink, SAMPLE_FILE_NAME),
                        (fsd.MATCH_STATS_KEY, fsd.match_stats_sink, MATCH_STATS_FILE_NAME),
                        (fsd.CONFUSION_KEY, fsd.confusion_count_sink, CONFUSION_FILE_NAME),
                    ]
                    for key, sink, file_name in sinks:
                        if key in results:
                            _ = results[key] | f"Write[{name}-{file_name}]" >> sink(
                                os.path.join(out, file_name)
                            )
        except Exception as e:
            # TFDV refuses an int, float or multivalent confusion feature inside a worker;
            # say which parameter asked for it instead of a bare Beam traceback.
            if "unsupported for confusion analysis" in str(e):
                names = ", ".join(settings["confusion_names"])
                raise ExampleDiffError(
                    f"{_COMPONENT}: config.paired_example_skew.confusion_config ({names}): "
                    "confusion counts take string features with one value per example; "
                    f"TFDV says: {str(e).strip().splitlines()[-1]}"
                ) from None
            raise

    def _read_back(self, test_split: str, base_split: str, uri: str) -> dict[str, Any]:
        from tensorflow_data_validation.skew import feature_skew_detector as fsd

        out = os.path.join(uri, f"SplitPair-{test_split}_{base_split}")
        [match_stats] = list(fsd.match_stats_iterator(os.path.join(out, MATCH_STATS_FILE_NAME)))
        skews = [_fields(s) for s in fsd.skew_results_iterator(os.path.join(out, STATS_FILE_NAME))]
        samples = sum(1 for _ in fsd.skew_pair_iterator(os.path.join(out, SAMPLE_FILE_NAME)))
        confusion_prefix = os.path.join(out, CONFUSION_FILE_NAME)
        confusion = [
            {
                "feature_name": c.feature_name,
                "base": c.base.bytes_value,
                "test": c.test.bytes_value,
                "count": c.count,
            }
            for c in fsd.confusion_count_iterator(confusion_prefix)
        ]
        return pair_summary(test_split, base_split, _fields(match_stats), skews, samples, confusion)

    def _check_identifiers(
        self,
        summaries: list[dict[str, Any]],
        patterns: dict[tuple[str, str], str],
        identifiers: list[str],
    ) -> None:
        """Examples none of which has every identifier feature cannot be paired at all: most
        likely a misspelt or absent feature, which TFDV only counts."""
        for summary in summaries:
            stats = summary["match_stats"]
            for role, split in (("test", summary["test_split"]), ("base", summary["base_split"])):
                found = stats[f"{role}_examples_with_identifiers"]
                missing = stats[f"{role}_examples_missing_identifiers"]
                if found == 0 and missing > 0:
                    pattern = patterns[role, split]
                    raise ExampleDiffError(
                        f"{_COMPONENT}: config.paired_example_skew.identifier_features "
                        f"{identifiers!r}: none of the {missing} examples of {_ROLES[role]} "
                        f"split {split!r} has them all (its features: "
                        f"{', '.join(_feature_names(pattern)) or 'none'})"
                    )

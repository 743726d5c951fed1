"""``summary.json``: what each split pair's TFDV records say, in the inputs' own names.

TFX hands TFDV's skew detector ``examples_test`` as its *baseline* and ``examples_base`` as
its *test* data (tfx/components/example_diff/executor.py, through 1.21), and this package
does the same so the TFDV files mean what they mean under TFX. So in those files ``base_*``
fields describe ``examples_test`` and ``test_*`` fields ``examples_base``. The summary undoes
the swap once, here, and says ``test`` and ``base`` for the component's two inputs.

Plain Python: the executor builds the summary from the records it has read back, and the
viewer reads and renders it without importing TensorFlow.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "CONFUSION_LIMIT",
    "SUMMARY_FILE",
    "SUMMARY_VERSION",
    "pair_summary",
    "read_summary",
    "render_text",
    "write_summary",
]

SUMMARY_FILE = "summary.json"
SUMMARY_VERSION = 1
#: The most confusion counts kept per split pair (the most frequent); the file has them all.
CONFUSION_LIMIT = 50

# TFDV's MatchStats fields, seen from the component's inputs (see the module docstring).
_MATCH_FIELDS = {
    "test_examples_with_identifiers": "base_with_id_count",
    "base_examples_with_identifiers": "test_with_id_count",
    "test_examples_missing_identifiers": "base_missing_id_count",
    "base_examples_missing_identifiers": "test_missing_id_count",
    "identifiers": "identifiers_count",
    "identifiers_only_in_base": "ids_missing_in_base_count",
    "identifiers_only_in_test": "ids_missing_in_test_count",
    "duplicate_identifiers": "duplicate_id_count",
    "matching_pairs": "matching_pairs_count",
}


def _feature(skew: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "feature": skew["feature_name"],
        "present_in_test": int(skew.get("base_count", 0)),
        "present_in_base": int(skew.get("test_count", 0)),
        "matched": int(skew.get("match_count", 0)),
        "mismatched": int(skew.get("mismatch_count", 0)),
        "only_in_test": int(skew.get("base_only", 0)),
        "only_in_base": int(skew.get("test_only", 0)),
        "differing": int(skew.get("diff_count", 0)),
    }


def pair_summary(
    test_split: str,
    base_split: str,
    match_stats: Mapping[str, Any],
    feature_skews: Sequence[Mapping[str, Any]],
    sample_pairs: int,
    confusion: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """One split pair's summary from its TFDV records as dicts of their fields: the
    MatchStats, every FeatureSkew, the number of sampled pairs, the ConfusionCounts
    (``feature_name``, ``base``, ``test`` as bytes, ``count``)."""
    stats = {key: int(match_stats.get(field, 0)) for key, field in _MATCH_FIELDS.items()}
    stats["identifiers_in_both"] = (
        stats["identifiers"] - stats["identifiers_only_in_test"] - stats["identifiers_only_in_base"]
    )
    features = sorted(
        (_feature(s) for s in feature_skews), key=lambda f: (-f["differing"], f["feature"])
    )
    counts = sorted(
        (
            {
                "feature": c["feature_name"],
                "test_value": bytes(c["base"]).decode("utf-8", "replace"),
                "base_value": bytes(c["test"]).decode("utf-8", "replace"),
                "count": int(c["count"]),
            }
            for c in confusion
        ),
        key=lambda c: (c["feature"], -c["count"], c["test_value"], c["base_value"]),
    )
    result = {
        "name": f"{test_split}_{base_split}",
        "test_split": test_split,
        "base_split": base_split,
        "directory": f"SplitPair-{test_split}_{base_split}",
        "match_stats": stats,
        "features": features,
        "differing_features": [f["feature"] for f in features if f["differing"]],
        "sample_pairs": sample_pairs,
    }
    if confusion:
        result["confusion"] = counts[:CONFUSION_LIMIT]
        result["confusion_truncated"] = len(counts) > CONFUSION_LIMIT
    return result


def write_summary(uri: str, config: Mapping[str, Any], pairs: Sequence[Mapping[str, Any]]) -> str:
    path = os.path.join(uri, SUMMARY_FILE)
    document = {"version": SUMMARY_VERSION, "config": dict(config), "split_pairs": list(pairs)}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(document, f, indent=2, sort_keys=True)
        f.write("\n")
    return path


def read_summary(uri: str) -> dict[str, Any] | None:
    """The summary in ``uri``, or None where there is none (an artifact TFX wrote)."""
    path = os.path.join(uri, SUMMARY_FILE)
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        document: dict[str, Any] = json.load(f)
    return document


def _settings(config: Mapping[str, Any]) -> list[str]:
    skew = config.get("paired_example_skew", {})
    lines = [f"identifier features: {', '.join(skew.get('identifier_features', []))}"]
    digits = skew.get("float_round_ndigits", 0)
    lines.append(
        f"floats rounded to {digits} decimal places before pairing and comparing"
        + (" (float_round_ndigits unset: 0, as in TFX)" if not digits else "")
    )
    if not skew.get("allow_duplicate_identifiers"):
        lines.append("examples with a duplicate identifier are not compared")
    if skew.get("ignore_features"):
        lines.append(f"ignored features: {', '.join(skew['ignore_features'])}")
    return lines


def _pair_lines(pair: Mapping[str, Any]) -> list[str]:
    m = pair["match_stats"]
    lines = [
        f"split pair {pair['name']} (examples_test '{pair['test_split']}' vs examples_base "
        f"'{pair['base_split']}'):",
        f"  examples with identifiers: test {m['test_examples_with_identifiers']}, base "
        f"{m['base_examples_with_identifiers']}; without: test "
        f"{m['test_examples_missing_identifiers']}, base "
        f"{m['base_examples_missing_identifiers']}",
        f"  identifiers: {m['identifiers']} ({m['identifiers_in_both']} in both, "
        f"{m['identifiers_only_in_test']} only in test, {m['identifiers_only_in_base']} only "
        f"in base; {m['duplicate_identifiers']} duplicated)",
        f"  pairs sharing an identifier: {m['matching_pairs']}",
    ]
    features = pair["features"]
    differing = [f for f in features if f["differing"]]
    if not features:
        lines.append("  no pair was compared")
    elif not differing:
        lines.append(f"  no feature differs ({len(features)} compared)")
    else:
        lines.append(f"  features that differ ({len(differing)} of {len(features)}):")
        width = max(len(f["feature"]) for f in differing)
        for f in differing:
            compared = f["matched"] + f["differing"]
            lines.append(
                f"    {f['feature']:<{width}}  {f['differing']} of {compared} pairs "
                f"(mismatched {f['mismatched']}, only in test {f['only_in_test']}, only in "
                f"base {f['only_in_base']})"
            )
    if pair.get("sample_pairs"):
        lines.append(
            f"  {pair['sample_pairs']} sampled skewed pairs in {pair['directory']}/sample_pairs-*"
        )
    for c in pair.get("confusion", []):
        lines.append(
            f"  confusion {c['feature']}: test {c['test_value']!r} / base {c['base_value']!r}: "
            f"{c['count']}"
        )
    if pair.get("confusion_truncated"):
        lines.append(f"  (more confusion counts in {pair['directory']}/confusion-*)")
    return lines


def render_text(document: Mapping[str, Any], title: str) -> str:
    lines = [title, *(f"  {line}" for line in _settings(document.get("config", {})))]
    for pair in document.get("split_pairs", []):
        lines.extend(_pair_lines(pair))
    return "\n".join(lines)

"""Statistics as text and as a self-contained HTML page, from tensorflow-metadata protos only.

Light by design (protobuf, no TFDV, no TensorFlow): the executor writes the HTML with it and
``headrace show`` prints the text with it. The HTML page (``templates/statistics.html``, on
the core's base page) needs no network: inline CSS, inline SVG histograms, no scripts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from tensorflow_metadata.proto.v0 import statistics_pb2

from headrace_core.views import render_view

__all__ = [
    "HTML_FILE_NAME",
    "STATS_FILE_NAME",
    "FeatureSummary",
    "feature_names",
    "feature_summaries",
    "load_statistics",
    "render_html",
    "render_text",
]

#: TFX's file name for a split's statistics: a serialized DatasetFeatureStatisticsList.
STATS_FILE_NAME = "FeatureStats.pb"
#: The HTML view, per split and (all splits together) at the artifact's root.
HTML_FILE_NAME = "statistics.html"

_TYPE_NAMES = {v: k for k, v in statistics_pb2.FeatureNameStatistics.Type.items()}


def load_statistics(path: str) -> statistics_pb2.DatasetFeatureStatisticsList:
    with open(path, "rb") as f:
        data = f.read()
    stats = statistics_pb2.DatasetFeatureStatisticsList()
    try:
        stats.ParseFromString(data)
    except Exception as e:  # protobuf's DecodeError
        raise ValueError(f"{path}: not a serialized DatasetFeatureStatisticsList: {e}") from None
    return stats


@dataclass
class FeatureSummary:
    """The facts shown for one feature, numeric or categorical."""

    name: str
    type: str
    numeric: bool
    count: int
    missing: int
    num_examples: int
    min_values: int = 0
    max_values: int = 0
    avg_values: float = 0.0
    mean: float | None = None
    std_dev: float | None = None
    zeros: int | None = None
    min: float | None = None
    median: float | None = None
    max: float | None = None
    #: (percent, value) pairs from the quantiles histogram: 0, 10, ..., 100 by default.
    quantiles: list[tuple[float, float]] = field(default_factory=list)
    #: (low, high, count) of the standard histogram.
    histogram: list[tuple[float, float, float]] = field(default_factory=list)
    unique: int | None = None
    avg_length: float | None = None
    #: (value, frequency), most frequent first.
    top_values: list[tuple[str, float]] = field(default_factory=list)

    @property
    def missing_fraction(self) -> float:
        total = self.count + self.missing
        return self.missing / total if total else 0.0

    def to_json(self) -> dict[str, object]:
        return {
            k: v
            for k, v in self.__dict__.items()
            if v is not None and v != [] and k not in ("histogram",)
        }


def _feature_name(feature: statistics_pb2.FeatureNameStatistics) -> str:
    return ".".join(feature.path.step) if feature.path.step else feature.name


def feature_summaries(
    dataset: statistics_pb2.DatasetFeatureStatistics,
) -> list[FeatureSummary]:
    """One summary per feature, in the order TFDV wrote them."""
    summaries = []
    for feature in dataset.features:
        kind = feature.WhichOneof("stats")
        common: statistics_pb2.CommonStatistics
        if kind == "num_stats":
            common = feature.num_stats.common_stats
        elif kind == "string_stats":
            common = feature.string_stats.common_stats
        elif kind == "bytes_stats":
            common = feature.bytes_stats.common_stats
        elif kind == "struct_stats":
            common = feature.struct_stats.common_stats
        else:
            common = statistics_pb2.CommonStatistics()
        summary = FeatureSummary(
            name=_feature_name(feature),
            type=_TYPE_NAMES.get(feature.type, str(feature.type)),
            numeric=kind == "num_stats",
            count=int(common.num_non_missing),
            missing=int(common.num_missing),
            num_examples=int(dataset.num_examples),
            min_values=int(common.min_num_values),
            max_values=int(common.max_num_values),
            avg_values=float(common.avg_num_values),
        )
        if kind == "num_stats":
            num = feature.num_stats
            summary.mean, summary.std_dev = num.mean, num.std_dev
            summary.zeros = int(num.num_zeros)
            summary.min, summary.median, summary.max = num.min, num.median, num.max
            for histogram in num.histograms:
                buckets = list(histogram.buckets)
                if histogram.type == statistics_pb2.Histogram.QUANTILES and buckets:
                    n = len(buckets)
                    summary.quantiles = [(0.0, buckets[0].low_value)] + [
                        (100.0 * (i + 1) / n, b.high_value) for i, b in enumerate(buckets)
                    ]
                elif histogram.type == statistics_pb2.Histogram.STANDARD:
                    summary.histogram = [
                        (b.low_value, b.high_value, b.sample_count) for b in buckets
                    ]
        elif kind == "string_stats":
            string = feature.string_stats
            summary.unique = int(string.unique)
            summary.avg_length = string.avg_length
            summary.top_values = [(v.value, v.frequency) for v in string.top_values]
            if not summary.top_values:
                summary.top_values = [
                    (b.label, b.sample_count) for b in string.rank_histogram.buckets
                ]
        elif kind == "bytes_stats":
            summary.unique = int(feature.bytes_stats.unique)
            summary.avg_length = feature.bytes_stats.avg_num_bytes
        summaries.append(summary)
    return summaries


def feature_names(
    splits: Sequence[tuple[str, statistics_pb2.DatasetFeatureStatisticsList]],
) -> list[str]:
    """Every feature named in any split, in order of first appearance."""
    names: dict[str, None] = {}
    for _, stats in splits:
        for dataset in stats.datasets:
            for feature in dataset.features:
                names.setdefault(_feature_name(feature), None)
    return list(names)


def _absent(summaries: Sequence[FeatureSummary], expected: Sequence[str] | None) -> list[str]:
    present = {s.name for s in summaries}
    return [name for name in expected or () if name not in present]


# Text --------------------------------------------------------------------------------------


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    if math.isnan(value):
        return "nan"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def _pct(fraction: float) -> str:
    if fraction == 0:
        return "0%"
    percent = 100 * fraction
    # Two missing values in 15,000 must not read as "0.0%", nor one present value as "100.0%".
    if percent < 0.1:
        return f"{percent:.2g}%"
    if 99.9 < percent < 100:
        return f"{min(percent, 99.99):.2f}%"
    return f"{percent:.1f}%"


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [
            cell.ljust(w) if i == 0 or not _is_number(cell) else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append((indent + "  ".join(cells)).rstrip())
    return lines


def _is_number(cell: str) -> bool:
    try:
        float(cell.rstrip("%"))
    except ValueError:
        return cell == "-"
    return True


def render_text(splits: Sequence[tuple[str, statistics_pb2.DatasetFeatureStatisticsList]]) -> str:
    """Per split, one table of numeric and one of categorical features."""
    lines: list[str] = []
    expected = feature_names(splits)
    for split, stats in splits:
        for dataset in stats.datasets:
            summaries = feature_summaries(dataset)
            label = f"Split {split}" + (
                f" (slice {dataset.name})" if len(stats.datasets) > 1 else ""
            )
            lines.append(f"{label}: {dataset.num_examples} examples, {len(summaries)} features")
            absent = _absent(summaries, expected)
            if absent:
                lines.append(f" absent (no values in this split): {', '.join(absent)}")
            numeric = [s for s in summaries if s.numeric]
            other = [s for s in summaries if not s.numeric]
            if numeric:
                lines.append(" numeric:")
                lines += _table(
                    ["feature", "type", "count", "missing", "mean", "std", "zeros", "min",
                     "median", "max"],
                    [
                        [
                            s.name, s.type, str(s.count), _pct(s.missing_fraction),
                            _num(s.mean), _num(s.std_dev),
                            _pct((s.zeros or 0) / s.count if s.count else 0.0),
                            _num(s.min), _num(s.median), _num(s.max),
                        ]
                        for s in numeric
                    ],
                )  # fmt: skip
            if other:
                lines.append(" categorical:")
                lines += _table(
                    ["feature", "type", "count", "missing", "unique", "top value", "freq"],
                    [
                        [
                            s.name, s.type, str(s.count), _pct(s.missing_fraction),
                            _num(s.unique),
                            _shorten(s.top_values[0][0], 40) if s.top_values else "-",
                            _num(s.top_values[0][1]) if s.top_values else "-",
                        ]
                        for s in other
                    ],
                )  # fmt: skip
            lines.append("")
    return "\n".join(lines).rstrip()


# HTML --------------------------------------------------------------------------------------
# The page is templates/statistics.html on the core's base page; here only what it shows.


def _chart(
    bars: Sequence[tuple[str, float]], caption: str = "", width: int = 220, height: int = 60
) -> dict[str, object]:
    """A bar chart: one bar per (tooltip, value), the tallest filling the height."""
    top = max((v for _, v in bars), default=0.0) or 1.0
    step = width / len(bars) if bars else 0.0
    shapes = []
    for i, (tip, value) in enumerate(bars):
        h = max(0.0, height * value / top)
        if value > 0:
            h = max(h, 1.0)  # a rare value still shows as a sliver
        shapes.append(
            {
                "x": i * step + 0.5,
                "y": height - h,
                "width": max(step - 1, 1),
                "height": h,
                "tip": tip,
            }
        )
    return {"bars": shapes, "caption": caption, "width": width, "height": height}


def _values_per_example(s: FeatureSummary) -> str:
    if s.min_values == s.max_values:
        return str(s.min_values)
    return f"{s.min_values}-{s.max_values} (avg {_num(round(s.avg_values, 3))})"


def _common(s: FeatureSummary) -> dict[str, object]:
    return {
        "name": s.name,
        "type": s.type,
        "count": s.count,
        "missing": s.missing,
        "missing_pct": _pct(s.missing_fraction),
        "values_per_example": _values_per_example(s),
    }


def _numeric_row(s: FeatureSummary) -> dict[str, object]:
    bars = [(f"[{_num(lo)}, {_num(hi)}]: about {round(n)}", n) for lo, hi, n in s.histogram]
    caption = f"{_num(s.histogram[0][0])} … {_num(s.histogram[-1][1])}" if s.histogram else ""
    zeros = (s.zeros or 0) / s.count if s.count else 0.0
    return _common(s) | {
        "mean": _num(s.mean),
        "std_dev": _num(s.std_dev),
        "zeros": _pct(zeros),
        "min": _num(s.min),
        "median": _num(s.median),
        "max": _num(s.max),
        "quantiles": ", ".join(f"{p:g}%: {_num(v)}" for p, v in s.quantiles),
        "chart": _chart(bars, caption),
    }


def _categorical_row(s: FeatureSummary, limit: int = 20) -> dict[str, object]:
    shown = s.top_values[:limit]
    caption = f"top {len(shown)} of {s.unique} values" if s.unique is not None else ""
    avg_length = None if s.avg_length is None else round(s.avg_length, 2)
    return _common(s) | {
        "unique": _num(s.unique),
        "avg_length": _num(avg_length),
        "top": [(_shorten(value, 48), _num(freq)) for value, freq in s.top_values[:5]],
        "chart": _chart([(f"{value}: {_num(freq)}", freq) for value, freq in shown], caption),
    }


def render_html(
    splits: Sequence[tuple[str, statistics_pb2.DatasetFeatureStatisticsList]],
    title: str = "Statistics",
    expected_features: Sequence[str] | None = None,
) -> str:
    """A standalone HTML page with every split's statistics.

    A feature in ``expected_features`` (by default: named in any of ``splits``) that a split
    has no statistics for is listed as absent from that split.
    """
    expected = feature_names(splits) if expected_features is None else expected_features
    shown = []
    for split, stats in splits:
        datasets = []
        for dataset in stats.datasets:
            summaries = feature_summaries(dataset)
            datasets.append(
                {
                    "name": dataset.name or "(all)",
                    "num_examples": dataset.num_examples,
                    "num_features": len(summaries),
                    "absent": _absent(summaries, expected),
                    "numeric": [_numeric_row(s) for s in summaries if s.numeric],
                    "categorical": [_categorical_row(s) for s in summaries if not s.numeric],
                }
            )
        shown.append({"name": split, "datasets": datasets})
    return render_view("headrace_statisticsgen", "statistics.html", title=title, splits=shown)

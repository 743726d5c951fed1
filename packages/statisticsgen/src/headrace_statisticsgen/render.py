"""Statistics as text and as a self-contained HTML page, from tensorflow-metadata protos only.

Light by design (protobuf, no TFDV, no TensorFlow): the executor writes the HTML with it and
``headrace show`` prints the text with it. The HTML page needs no network: inline CSS, inline
SVG histograms, no scripts.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from tensorflow_metadata.proto.v0 import statistics_pb2

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

_CSS = """
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5em;
       color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ccc; }
h3 { font-size: 1.05em; margin-top: 1.5em; }
table { border-collapse: collapse; margin: .5em 0 1em; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 4px 8px; text-align: right;
         vertical-align: top; }
th { background: #f4f4f4; position: sticky; top: 0; }
td.name, th.name, td.text { text-align: left; }
td.name { font-weight: 600; white-space: nowrap; }
td.warn, p.warn { color: #b00020; font-weight: 600; }
.quantiles { font-size: 12px; color: #555; text-align: left; }
.top { text-align: left; font-size: 12px; }
.top span { color: #777; }
nav a { margin-right: 1em; }
svg { display: block; }
.note { color: #666; font-size: 12px; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _svg_bars(
    bars: Sequence[tuple[str, float]], width: int = 220, height: int = 60, caption: str = ""
) -> str:
    """A bar chart: one bar per (tooltip, value), the tallest filling the height."""
    if not bars:
        return ""
    top = max(v for _, v in bars) or 1.0
    step = width / len(bars)
    parts = [f'<svg width="{width}" height="{height + 14}" role="img" aria-label="{_e(caption)}">']
    for i, (tip, value) in enumerate(bars):
        h = max(0.0, height * value / top)
        if value > 0:
            h = max(h, 1.0)  # a rare value still shows as a sliver
        parts.append(
            f'<rect x="{i * step + 0.5:.1f}" y="{height - h:.1f}" width="{max(step - 1, 1):.1f}" '
            f'height="{h:.1f}" fill="#4a78c2"><title>{_e(tip)}</title></rect>'
        )
    parts.append(f'<line x1="0" y1="{height}" x2="{width}" y2="{height}" stroke="#999"/>')
    if caption:
        parts.append(
            f'<text x="0" y="{height + 12}" font-size="10" fill="#555">{_e(caption)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _numeric_histogram(s: FeatureSummary) -> str:
    bars = [
        (f"[{_num(low)}, {_num(high)}]: about {round(count)}", count)
        for low, high, count in s.histogram
    ]
    caption = f"{_num(s.histogram[0][0])} … {_num(s.histogram[-1][1])}" if s.histogram else ""
    return _svg_bars(bars, caption=caption)


def _top_values_chart(s: FeatureSummary, limit: int = 20) -> str:
    shown = s.top_values[:limit]
    bars = [(f"{value}: {_num(freq)}", freq) for value, freq in shown]
    caption = f"top {len(shown)} of {s.unique} values" if s.unique is not None else ""
    return _svg_bars(bars, caption=caption)


def _numeric_table(summaries: Sequence[FeatureSummary]) -> list[str]:
    out = [
        "<table><tr>"
        + "".join(
            ('<th class="name">' if h == "feature" else "<th>") + f"{h}</th>"
            for h in (
                "feature", "type", "count", "missing", "mean", "std dev", "zeros", "min",
                "median", "max", "quantiles", "values/example", "histogram",
            )
        )
        + "</tr>"
    ]  # fmt: skip
    for s in summaries:
        quantiles = ", ".join(f"{p:g}%: {_num(v)}" for p, v in s.quantiles)
        zeros = (s.zeros or 0) / s.count if s.count else 0.0
        warn = ' class="warn"' if s.missing else ""
        out.append(
            "<tr>"
            f'<td class="name" id="f-{_e(s.name)}">{_e(s.name)}</td><td>{_e(s.type)}</td>'
            f"<td>{s.count}</td><td{warn}>{_pct(s.missing_fraction)}</td>"
            f"<td>{_num(s.mean)}</td><td>{_num(s.std_dev)}</td><td>{_pct(zeros)}</td>"
            f"<td>{_num(s.min)}</td><td>{_num(s.median)}</td><td>{_num(s.max)}</td>"
            f'<td class="quantiles">{_e(quantiles)}</td>'
            f"<td>{_values_per_example(s)}</td>"
            f"<td>{_numeric_histogram(s)}</td>"
            "</tr>"
        )
    out.append("</table>")
    return out


def _values_per_example(s: FeatureSummary) -> str:
    if s.min_values == s.max_values:
        return str(s.min_values)
    return f"{s.min_values}-{s.max_values} (avg {_num(round(s.avg_values, 3))})"


def _categorical_table(summaries: Sequence[FeatureSummary]) -> list[str]:
    out = [
        "<table><tr>"
        + "".join(
            ('<th class="name">' if h == "feature" else "<th>") + f"{h}</th>"
            for h in (
                "feature", "type", "count", "missing", "unique", "avg length", "top values",
                "values/example", "top values chart",
            )
        )
        + "</tr>"
    ]  # fmt: skip
    for s in summaries:
        top = "<br>".join(
            f"{_e(_shorten(value, 48))} <span>({_num(freq)})</span>"
            for value, freq in s.top_values[:5]
        )
        warn = ' class="warn"' if s.missing else ""
        avg_length = None if s.avg_length is None else round(s.avg_length, 2)
        out.append(
            "<tr>"
            f'<td class="name" id="f-{_e(s.name)}">{_e(s.name)}</td><td>{_e(s.type)}</td>'
            f"<td>{s.count}</td><td{warn}>{_pct(s.missing_fraction)}</td>"
            f"<td>{_num(s.unique)}</td><td>{_num(avg_length)}</td>"
            f'<td class="top">{top or "-"}</td>'
            f"<td>{_values_per_example(s)}</td>"
            f"<td>{_top_values_chart(s)}</td>"
            "</tr>"
        )
    out.append("</table>")
    return out


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
    body: list[str] = [f"<h1>{_e(title)}</h1>"]
    if len(splits) > 1:
        body.append(
            "<nav>"
            + "".join(f'<a href="#split-{_e(split)}">{_e(split)}</a>' for split, _ in splits)
            + "</nav>"
        )
    for split, stats in splits:
        body.append(f'<h2 id="split-{_e(split)}">Split {_e(split)}</h2>')
        for dataset in stats.datasets:
            summaries = feature_summaries(dataset)
            if len(stats.datasets) > 1:
                body.append(f"<h3>Slice {_e(dataset.name or '(all)')}</h3>")
            body.append(f"<p>{dataset.num_examples} examples, {len(summaries)} features</p>")
            absent = _absent(summaries, expected)
            if absent:
                body.append(
                    '<p class="warn">Absent (no values in this split): '
                    + ", ".join(_e(name) for name in absent)
                    + "</p>"
                )
            numeric = [s for s in summaries if s.numeric]
            other = [s for s in summaries if not s.numeric]
            if numeric:
                body.append(f"<h3>Numeric features ({len(numeric)})</h3>")
                body += _numeric_table(numeric)
            if other:
                body.append(f"<h3>Categorical features ({len(other)})</h3>")
                body += _categorical_table(other)
    body.append(
        '<p class="note">Missing: share of examples without the feature. Quantiles and '
        "histograms are TFDV's approximations. Hover over a bar for its range and count.</p>"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )

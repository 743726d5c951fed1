"""The text and HTML views, on hand-made statistics (tensorflow-metadata only, no TFDV)."""

from __future__ import annotations

from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import statistics_pb2

from headrace_statisticsgen.render import feature_summaries, render_html, render_text

_STATS = """
datasets {
  num_examples: 4
  features {
    path { step: "x<y>" }
    type: FLOAT
    num_stats {
      common_stats { num_non_missing: 3 num_missing: 1 min_num_values: 1 max_num_values: 2
                     avg_num_values: 1.5 }
      mean: 2.5 std_dev: 0.5 num_zeros: 0 min: 2 median: 2.5 max: 3
      histograms { type: STANDARD
        buckets { low_value: 2 high_value: 2.5 sample_count: 2 }
        buckets { low_value: 2.5 high_value: 3 sample_count: 1 } }
      histograms { type: QUANTILES
        buckets { low_value: 2 high_value: 2.5 sample_count: 1.5 }
        buckets { low_value: 2.5 high_value: 3 sample_count: 1.5 } }
    }
  }
  features {
    path { step: "city" }
    type: STRING
    string_stats {
      common_stats { num_non_missing: 4 min_num_values: 1 max_num_values: 1 avg_num_values: 1 }
      unique: 2 avg_length: 5
      top_values { value: "Paris & Co" frequency: 3 }
      top_values { value: "Oslo" frequency: 1 }
    }
  }
}
"""


def _stats() -> statistics_pb2.DatasetFeatureStatisticsList:
    return text_format.Parse(_STATS, statistics_pb2.DatasetFeatureStatisticsList())


def test_summaries() -> None:
    number, city = feature_summaries(_stats().datasets[0])
    assert (number.name, number.type, number.numeric) == ("x<y>", "FLOAT", True)
    assert number.missing_fraction == 0.25
    assert number.quantiles == [(0.0, 2.0), (50.0, 2.5), (100.0, 3.0)]
    assert city.top_values == [("Paris & Co", 3.0), ("Oslo", 1.0)]


def test_text() -> None:
    other = statistics_pb2.DatasetFeatureStatisticsList()
    other.datasets.add(num_examples=1)
    text = render_text([("train", _stats()), ("eval", other)])
    assert "Split train: 4 examples, 2 features" in text
    assert "Split eval: 1 examples, 0 features" in text
    assert "absent (no values in this split): x<y>, city" in text
    row = next(line for line in text.splitlines() if line.strip().startswith("x<y>"))
    assert row.split() == ["x<y>", "FLOAT", "3", "25.0%", "2.5", "0.5", "0%", "2", "2.5", "3"]


def test_html_escapes_and_draws() -> None:
    page = render_html([("train", _stats())], title="T")
    assert "x&lt;y&gt;" in page and "x<y>" not in page
    assert "Paris &amp; Co" in page
    assert page.count("<svg") == 2
    assert "1-2 (avg 1.5)" in page  # values per example of a multivalent feature
    assert "http" not in page and "<script" not in page

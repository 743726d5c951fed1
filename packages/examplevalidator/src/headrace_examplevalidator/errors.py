"""The error ``ExampleValidator(fail_on_anomalies=True)`` raises. Light: no protobuf import."""

from __future__ import annotations

from collections.abc import Sequence

from headrace_examplevalidator.report import SplitReport

__all__ = ["AnomaliesFoundError"]

_FIRST_LINE_ITEMS = 3


class AnomaliesFoundError(ValueError):
    """Statistics did not pass validation; ``reports`` holds every split that failed.

    The first line of the message is a summary (the launcher shows it as the node's failure);
    the lines after it list every split, feature, severity and description.
    """

    def __init__(self, reports: Sequence[SplitReport]) -> None:
        self.reports = [r for r in reports if not r.blessed]
        items = [(r.split, a) for r in self.reports for a in r.anomalies]
        head = "; ".join(
            f"split '{split}' feature '{a.feature}': {a.short_description}"
            for split, a in items[:_FIRST_LINE_ITEMS]
        )
        more = (
            f"; and {len(items) - _FIRST_LINE_ITEMS} more" if len(items) > _FIRST_LINE_ITEMS else ""
        )
        lines = [
            f"ExampleValidator found {len(items)} "
            f"{'anomaly' if len(items) == 1 else 'anomalies'} (fail_on_anomalies=True): "
            f"{head}{more}"
        ]
        lines.extend(
            f"  split '{split}', feature '{a.feature}' [{a.severity}] "
            f"{a.short_description}: {a.description}"
            for split, a in items
        )
        super().__init__("\n".join(lines))

    @property
    def splits(self) -> list[str]:
        return [r.split for r in self.reports]

"""What the benchmarks share: percentiles, the printed table and targets' verdicts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional


def percentile(values: List[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def print_table(rows: Dict[str, str], heading: str = "measure") -> None:
    width = max(map(len, rows))
    print(f"\n{heading.ljust(width)}  value\n{'-' * width}  -----")
    for name, value in rows.items():
        print(f"{name.ljust(width)}  {value}")


@dataclass(frozen=True)
class Target:
    """A figure an issue asks for: a ceiling, or with `at_least` a floor."""

    name: str
    measured: Optional[float]  # None: not measured in this run
    limit: Optional[float]  # None: its reference was not measured
    unit: str
    digits: int = 0
    at_least: bool = False

    def verdict(self) -> str:
        if self.measured is None or self.limit is None:
            return "not measured"
        gap = self.limit - self.measured if self.at_least else self.measured - self.limit
        return "met" if gap <= 0 else f"MISSED by {gap:.{self.digits}f} {self.unit}"

    def row(self) -> str:
        def figure(value: Optional[float]) -> str:
            return "n/a" if value is None else f"{value:.{self.digits}f} {self.unit}"

        bound = ">=" if self.at_least else "<="
        return f"{figure(self.measured)} (target {bound} {figure(self.limit)}): {self.verdict()}"


def print_targets(targets: List[Target]) -> None:
    print_table({t.name: t.row() for t in targets}, heading="target")

"""What the benchmarks share: percentiles and the printed table."""
from __future__ import annotations

from typing import Dict, List


def percentile(values: List[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def print_table(rows: Dict[str, str]) -> None:
    width = max(map(len, rows))
    print(f"\n{'measure'.ljust(width)}  value\n{'-' * width}  -----")
    for name, value in rows.items():
        print(f"{name.ljust(width)}  {value}")

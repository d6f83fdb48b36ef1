"""How dates, money and e-mail addresses are written in replies."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Optional, Union


def day(value: Optional[Union[date, datetime]]) -> str:
    if value is None:
        return "soon"
    return f"{value:%A} {value.day} {value:%B}"


def euros(amount: Decimal) -> str:
    return f"€{Decimal(amount):.2f}"

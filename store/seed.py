"""Demo customers and orders in every state, dated relative to now so the demo always fits.

| order    | customer                  | state                                             |
|----------|---------------------------|---------------------------------------------------|
| 1234567  | jane.doe@example.com      | processing, placed 2 h ago (free cancellation)    |
| 2345678  | jane.doe@example.com      | shipped, on time                                  |
| 3456789  | jane.doe@example.com      | delivered 5 days ago (refund window open)         |
| 4567890  | omar.haddad@example.com   | delayed, 3 days past the promised date            |
| 5678901  | omar.haddad@example.com   | delivered 45 days ago (refund window closed)      |
| 6789012  | omar.haddad@example.com   | processing, placed 3 days ago (cancellation fee)  |
| 7890123  | mei.chen@example.org      | delivered, charged twice                          |
| 8901234  | mei.chen@example.org      | cancelled, refund overdue                         |
| 9012345  | mei.chen@example.org      | delivered, refund on its way                      |
| 10234567 | lukas.weber@example.com   | shipped (business account)                        |
| 11234567 | lukas.weber@example.com   | delivered, refund paid                            |
| 123456   | ana.souza@example.com     | delayed, still within the promised date           |
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import List, Optional, Tuple

from store import models as m
from store.repository import Repository

Item = Tuple[str, int, str]


def _order(
    s,
    customer: m.Customer,
    number: str,
    status: str,
    now: datetime,
    items: List[Item],
    placed_days: float,
    promised_days: int,
    estimated_days: Optional[int] = None,
    shipped_days: Optional[float] = None,
    delivered_days: Optional[float] = None,
    carrier: Optional[str] = None,
    payments: int = 1,
) -> m.Order:
    total = sum(Decimal(price) * qty for _, qty, price in items)
    order = m.Order(
        number=number,
        customer_id=customer.id,
        status=status,
        total=total,
        shipping_address=customer.default_address,
        payment_method="card",
        placed_at=now - timedelta(days=placed_days),
        promised_date=(now + timedelta(days=promised_days)).date(),
        estimated_date=(now + timedelta(days=estimated_days)).date()
        if estimated_days is not None
        else None,
        shipped_at=now - timedelta(days=shipped_days) if shipped_days is not None else None,
        delivered_at=now - timedelta(days=delivered_days) if delivered_days is not None else None,
        carrier=carrier,
        tracking_code=f"{carrier[:3].upper()}{number}X" if carrier else None,
    )
    order.items = [
        m.OrderItem(product=p, quantity=q, unit_price=Decimal(price)) for p, q, price in items
    ]
    order.payments = [
        m.Payment(
            amount=total, status="captured", captured_at=order.placed_at + timedelta(minutes=i * 3)
        )
        for i in range(payments)
    ]
    s.add(order)
    return order


def seed(repo: Repository) -> bool:
    """Loads the demo data into an empty database; False when it already has customers."""
    if not repo.is_empty():
        return False
    now = repo.clock()
    with repo.session() as s:

        def customer(first, last, email, account_type="personal", address=None):
            c = m.Customer(
                first_name=first,
                last_name=last,
                email=email,
                account_type=account_type,
                created_at=now - timedelta(days=400),
                default_address=address or f"{len(first)} Market Street, Springfield",
            )
            s.add(c)
            return c

        jane = customer("Jane", "Doe", "jane.doe@example.com")
        omar = customer("Omar", "Haddad", "omar.haddad@example.com")
        mei = customer("Mei", "Chen", "mei.chen@example.org", "premium")
        lukas = customer("Lukas", "Weber", "lukas.weber@example.com", "business")
        ana = customer("Ana", "Souza", "ana.souza@example.com")
        s.flush()  # customer ids for the orders

        _order(
            s,
            jane,
            "1234567",
            "processing",
            now,
            [("wireless headphones", 1, "59.90")],
            placed_days=2 / 24,
            promised_days=4,
            estimated_days=4,
        )
        _order(
            s,
            jane,
            "2345678",
            "shipped",
            now,
            [("running shoes", 1, "84.50"), ("sports socks", 2, "7.50")],
            placed_days=3,
            promised_days=2,
            estimated_days=2,
            shipped_days=1,
            carrier="DHL",
        )
        _order(
            s,
            jane,
            "3456789",
            "delivered",
            now,
            [("coffee maker", 1, "89.00")],
            placed_days=9,
            promised_days=-4,
            shipped_days=7,
            delivered_days=5,
            carrier="UPS",
        )
        _order(
            s,
            omar,
            "4567890",
            "delayed",
            now,
            [("standing desk", 1, "120.00")],
            placed_days=10,
            promised_days=-3,
            estimated_days=2,
            shipped_days=8,
            carrier="DPD",
        )
        _order(
            s,
            omar,
            "5678901",
            "delivered",
            now,
            [("phone case", 1, "19.99")],
            placed_days=50,
            promised_days=-46,
            shipped_days=48,
            delivered_days=45,
            carrier="DHL",
        )
        _order(
            s,
            omar,
            "6789012",
            "processing",
            now,
            [("office chair", 1, "200.00")],
            placed_days=3,
            promised_days=3,
            estimated_days=3,
        )
        _order(
            s,
            mei,
            "7890123",
            "delivered",
            now,
            [("blender", 1, "49.00")],  # charged twice
            placed_days=12,
            promised_days=-8,
            shipped_days=10,
            delivered_days=9,
            carrier="UPS",
            payments=2,
        )
        cancelled = _order(
            s,
            mei,
            "8901234",
            "cancelled",
            now,
            [("rain jacket", 1, "75.00")],
            placed_days=20,
            promised_days=-14,
        )
        cancelled.cancelled_at = now - timedelta(days=19)
        returned = _order(
            s,
            mei,
            "9012345",
            "delivered",
            now,
            [("table lamp", 1, "35.00")],
            placed_days=10,
            promised_days=-5,
            shipped_days=8,
            delivered_days=6,
            carrier="DPD",
        )
        _order(
            s,
            lukas,
            "10234567",
            "shipped",
            now,
            [("laser printer", 2, "149.00")],
            placed_days=2,
            promised_days=3,
            estimated_days=3,
            shipped_days=0.5,
            carrier="GLS",
        )
        paid = _order(
            s,
            lukas,
            "11234567",
            "delivered",
            now,
            [("monitor stand", 1, "39.00")],
            placed_days=30,
            promised_days=-25,
            shipped_days=28,
            delivered_days=26,
            carrier="DHL",
        )
        _order(
            s,
            ana,
            "123456",
            "delayed",
            now,
            [("blue sneakers", 1, "64.00")],
            placed_days=4,
            promised_days=1,
            estimated_days=1,
            shipped_days=3,
            carrier="DHL",
        )
        s.flush()
        s.add_all(
            [
                m.Refund(
                    reference="RF-OVERDUE",
                    order_number=cancelled.number,
                    amount=cancelled.total,
                    reason="cancellation",
                    status="approved",
                    created_at=now - timedelta(days=19),
                    expected_by=(now - timedelta(days=3)).date(),
                ),
                m.Refund(
                    reference="RF-ONTRACK",
                    order_number=returned.number,
                    amount=returned.total,
                    reason="return",
                    status="approved",
                    created_at=now - timedelta(days=3),
                    expected_by=(now + timedelta(days=4)).date(),
                ),
                m.Refund(
                    reference="RF-PAID",
                    order_number=paid.number,
                    amount=paid.total,
                    reason="return",
                    status="paid",
                    created_at=now - timedelta(days=20),
                    expected_by=(now - timedelta(days=13)).date(),
                    paid_at=now - timedelta(days=15),
                ),
            ]
        )
    return True


if __name__ == "__main__":
    loaded = seed(Repository.from_env())
    print("seed: demo data loaded" if loaded else "seed: database already has data, left as is")

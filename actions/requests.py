"""What each customer request needs before it can be resolved, and who resolves it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

from actions import account, billing, orders, policy, refunds
from actions.context import Context

IDENTITY_SLOTS = ("order_id", "email")
DETAIL_SLOTS = ("new_address", "account_type", "profile_update", "remedy", "full_name")


@dataclass(frozen=True)
class Request:
    handler: Callable[[Context], bool]  # True when the request is resolved
    identity: bool = True  # order number + the e-mail on it, checked before anything
    details: Tuple[str, ...] = ()
    # Whether the details are worth asking for, given the verified order's status.
    details_apply: Callable[[Optional[str]], bool] = lambda status: True


REQUESTS: Dict[str, Request] = {
    "track_order": Request(orders.track_order),
    "cancel_order": Request(orders.cancel_order),
    "change_order": Request(orders.change_order),
    "report_late_delivery": Request(orders.report_late_delivery),
    "change_shipping_address": Request(
        orders.change_shipping_address, details=("new_address",), details_apply=policy.can_change
    ),
    "set_up_shipping_address": Request(orders.set_up_shipping_address, details=("new_address",)),
    "get_refund": Request(refunds.get_refund),
    "track_refund": Request(refunds.track_refund),
    "report_damaged_item": Request(refunds.report_damaged_item, details=("remedy",)),
    "payment_issue": Request(billing.payment_issue),
    "check_invoice": Request(billing.check_invoice),
    "get_invoice": Request(billing.get_invoice),
    "edit_account": Request(account.edit_account, details=("profile_update",)),
    "delete_account": Request(account.delete_account),
    "switch_account": Request(account.switch_account, details=("account_type",)),
    "create_account": Request(
        account.create_account, identity=False, details=("email", "full_name")
    ),
    "recover_password": Request(account.recover_password, identity=False, details=("email",)),
    "registration_problems": Request(
        account.registration_problems, identity=False, details=("email",)
    ),
    "newsletter_subscription": Request(
        account.newsletter_subscription, identity=False, details=("email",)
    ),
}


def required_slots(
    request: Optional[str], verified: bool, order_status: Optional[str], identity_failed: bool
) -> List[str]:
    """The slots still to collect, in order; details only once identity is settled."""
    spec = REQUESTS.get(request or "")
    if spec is None or identity_failed:
        return []
    if spec.identity and not verified:
        return list(IDENTITY_SLOTS)
    return list(spec.details) if spec.details_apply(order_status) else []

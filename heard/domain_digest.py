"""The domain goes to the action server once, then only its digest (both servers use this).

Rasa sent its whole domain (about 43 KB) with every action call. The Rasa server now sends
it the first time, and after that `DIGEST_KEY` alone; the action server keeps the domains
it was sent by digest. An action server that does not know a digest (it restarted, or
another replica took the call) rejects the call with `UNKNOWN`, and the Rasa server sends
it again with the domain. Stdlib only.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from typing import Any, Dict, MutableMapping

DIGEST_KEY = "heard_domain_digest"
UNKNOWN = "heard: domain unknown, send it again with the domain"
KEEP = 4  # domains remembered: a rolling upgrade has two models' domains at once


def digest(domain: Dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(domain, sort_keys=True, default=str).encode()).hexdigest()


class Domains:
    """The action server's memory of the domains it was sent, by digest."""

    def __init__(self, keep: int = KEEP):
        self.keep = keep
        self._by_digest: "OrderedDict[str, Dict[str, Any]]" = OrderedDict()

    def fill(self, call: MutableMapping[str, Any]) -> bool:
        """Completes an action call: remembers the domain it carries, or puts back the one
        its digest names. False when it carries neither a domain nor a known digest."""
        key = call.get(DIGEST_KEY)
        if "domain" in call:
            # Kept only under its own digest: no caller can have other calls use its domain.
            if (
                isinstance(key, str)
                and isinstance(call["domain"], dict)
                and digest(call["domain"]) == key
            ):
                self._by_digest[key] = call["domain"]
                self._by_digest.move_to_end(key)
                while len(self._by_digest) > self.keep:
                    self._by_digest.popitem(last=False)
            return True
        if not isinstance(key, str):
            return True  # a plain Rasa call without a domain: rasa_sdk's own default
        if key not in self._by_digest:
            return False
        call["domain"] = self._by_digest[key]
        return True

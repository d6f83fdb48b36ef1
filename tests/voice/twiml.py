"""Reading TwiML in tests: by its elements, not its spelling (attribute order, spaces)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import List, Tuple, Union


def verbs(twiml: Union[str, bytes]) -> List[Tuple[str, str]]:
    """The <Response>'s verbs in order, each with its text: [("Dial", "+1555..."), ...]."""
    root = ET.fromstring(twiml)
    assert root.tag == "Response", twiml
    return [(verb.tag, (verb.text or "").strip()) for verb in root]

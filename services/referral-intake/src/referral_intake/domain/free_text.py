"""Free text is data: bounded in length and free of control characters, never interpreted."""

from __future__ import annotations

import re

# Line breaks and tabs are ordinary in clinicians' notes; every other C0 or C1 control character
# (NUL, ESC, DEL, ...) and any lone surrogate would corrupt logs, terminals or JSON downstream.
# A regular expression rather than unicodedata, because it runs over every referral's text.
_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def has_control_characters(text: str) -> bool:
    """Whether `text` holds a control character other than tab, line feed and carriage return."""
    return _REFUSED.search(text) is not None

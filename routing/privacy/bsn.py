"""Recognise a Dutch citizen service number (BSN) in free text, so it can be refused."""

from __future__ import annotations

import re

# Nine digits, optionally grouped with spaces, dots or dashes ("123 456 782", "1234.56.782"),
# not part of a longer number such as a phone number.
_CANDIDATE = re.compile(r"(?<![\d])(?:\d[ .\-]?){8}\d(?![\d])")


def passes_eleven_test(digits: str) -> bool:
    if len(digits) != 9 or not digits.isdigit() or int(digits) == 0:
        return False
    total = sum(int(d) * weight for d, weight in zip(digits[:8], range(9, 1, -1)))
    return (total - int(digits[8])) % 11 == 0


def find_bsn(text: str | None) -> bool:
    if not text:
        return False
    return any(passes_eleven_test(re.sub(r"\D", "", m.group())) for m in _CANDIDATE.finditer(text))

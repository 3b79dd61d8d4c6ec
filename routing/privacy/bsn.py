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


# Right before a candidate: a country code ("+31 612345671", "0031 6 1234 5671"): a phone number, whatever its
# nine digits are (1 in 11 of them pass the eleven-test).
_COUNTRY_CODE_BEFORE = re.compile(r"(?:\+|00)\d{1,3}[ .\-]?$")


def is_bsn(raw: str | None) -> bool:
    """The whole input is a BSN: nine digits (spaces, dots or dashes allowed) without a leading 0 or +,
    passing the eleven-test (as a phone number it would be an area code without its 0)."""
    digits = re.sub(r"[ .\-]", "", raw or "")
    return re.fullmatch(r"[1-9]\d{8}", digits) is not None and passes_eleven_test(digits)


def find_bsn(text: str | None) -> bool:
    if not text:
        return False
    return any(passes_eleven_test(re.sub(r"\D", "", m.group())) and not _COUNTRY_CODE_BEFORE.search(text[:m.start()])
               for m in _CANDIDATE.finditer(text))

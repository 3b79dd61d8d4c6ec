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
    return bool(_bsn_matches(text))


def without_bsn(text: str) -> str:
    """The text with every BSN in it taken out (and the space it leaves)."""
    for match in reversed(_bsn_matches(text)):
        text = (text[:match.start()].rstrip(" ") + " " + text[match.end():].lstrip(" ")).strip()
    return text


def _bsn_matches(text: str | None) -> list[re.Match]:
    if not text:
        return []
    return [m for m in _CANDIDATE.finditer(text)
            if passes_eleven_test(re.sub(r"\D", "", m.group())) and not _COUNTRY_CODE_BEFORE.search(text[:m.start()])]

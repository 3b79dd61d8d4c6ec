"""SMS text in the GSM-7 alphabet, so that it is sent and paid for as 160 characters a part.

One character outside GSM 03.38's basic alphabet (an address's ë, a curly quote) makes a whole SMS UCS-2:
70 characters a part, two to three times the parts for the same text. Used for the replies to citizens
(callbacks.hooks) and for the notices sent by SMS (workers.channels.twilio_sms); WhatsApp carries any character.
"""

from __future__ import annotations

import unicodedata

GSM7 = frozenset("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                 "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
# The extension table: two septets each, but GSM-7 still.
EXTENSION = frozenset("^{}\\[~]|€")
# Punctuation and letters that have no base letter to fall back to.
_PLAIN = {"‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"', "„": '"', "–": "-", "—": "-", "…": "...",
          "ı": "i", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D"}


def in_gsm7(text: str) -> str:
    """`text` as an SMS can carry it in GSM-7: a letter outside it becomes its base letter (ë → e), known
    punctuation its plain form, an invisible character nothing, anything else '?'."""
    return "".join(_gsm7_char(ch) for ch in text)


def _gsm7_char(ch: str) -> str:
    if ch in GSM7 or ch in EXTENSION:
        return ch
    if unicodedata.category(ch) == "Cf":  # invisible: a soft hyphen, a zero-width space
        return ""
    if ch in _PLAIN:
        return _PLAIN[ch]
    # "ë" → "e" and a combining diaeresis, "ĳ" → "ij", a no-break space → " ": keep what is not a mark.
    base = "".join(part for part in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(part))
    return base if base and set(base) <= GSM7 else "?"

"""A real SMTP server for the tests (aiosmtpd) that records what it receives or refuses on request."""

from __future__ import annotations


class Recorder:
    """An aiosmtpd handler that keeps what it received, or answers with a chosen refusal."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], bytes]] = []
        self.rcpt_answer: str | None = None
        self.data_answer: str | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_answer:
            return self.rcpt_answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_answer:
            return self.data_answer
        self.received.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"

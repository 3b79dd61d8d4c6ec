"""JSON answers through orjson: the API's answers are built as plain dicts and lists, so the fastest encoder
that keeps them exact is the one to use. Anything orjson cannot encode itself goes to Flask's own rules."""

from __future__ import annotations

from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider


class OrjsonProvider(DefaultJSONProvider):
    def dumps(self, obj: Any, **kwargs: Any) -> str:
        # Moments to the second, as the API's schemas write them (routing.openapi.Moment): an answer built as a
        # dict (a new callback request) reads as one dumped through its schema (its status).
        return orjson.dumps(obj, default=DefaultJSONProvider.default, option=orjson.OPT_OMIT_MICROSECONDS).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)

"""Baselines served by gunicorn with the same settings as the app.

- ``GET /hello``: the bare Flask endpoint the targets are measured against.
- ``POST /naive``: the issue's "naive" intake for comparison: Flask + a marshmallow schema + one HSET + an RQ
  enqueue (of the id only; no worker runs it). No phone checks, encryption, limits, dedup or audit record.
"""

import os
import uuid

import redis
from flask import Flask, request
from marshmallow import Schema, fields
from rq import Queue

app = Flask(__name__)
_redis = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/11"))
_queue = Queue("bench-naive", connection=_redis)


class NaiveIntake(Schema):
    location = fields.String(required=True)
    phone = fields.String(required=True)
    name = fields.String()
    note = fields.String()
    reply_by = fields.String()
    consent = fields.Boolean(required=True)


_schema = NaiveIntake()


@app.get("/hello")
def hello() -> str:
    return "hello"


@app.post("/naive")
def naive() -> tuple[dict, int]:
    data = _schema.load(request.get_json())
    reference = uuid.uuid4().hex[:8]
    _redis.hset(f"ll:naive:{reference}", mapping={k: str(v) for k, v in data.items()})
    _queue.enqueue("hello.hello", reference)
    return {"reference": reference}, 201

"""Loketlijn's own intake work without its web layers, served by gunicorn like the others (bench only).

``POST /core`` runs what an API intake runs once the caller is known: the schema with every check
(``schemas.load_intake``) and ``service.create_request``, inside a bare Flask app. No request hooks, no
sessions, no flask-smorest or webargs, no API key, no request log. Its distance to the API row is what
those web layers cost; its distance to bare hello is what the intake itself costs.
"""

import orjson
from flask import Flask, request

from routing import create_app
from routing.callbacks import schemas, service
from routing.extensions import get_redis

loketlijn = create_app()  # settings from the environment, as for the app's own server
app = Flask(__name__)


@app.post("/core")
def core():
    with loketlijn.app_context():
        intake = schemas.load_intake(request.get_json(), channel="api")
        receipt = service.create_request(get_redis(), intake, client_address=request.remote_addr)
    body = {"reference": receipt.reference, "status": receipt.status, "expected_callback": receipt.expected_callback}
    return app.response_class(orjson.dumps(body), 201, mimetype="application/json")

"""The bare baseline: a Flask "hello" endpoint, served by gunicorn with the same settings as the app."""

from flask import Flask

app = Flask(__name__)


@app.get("/hello")
def hello() -> str:
    return "hello"

"""The directory feature: locations, partners, professional lines, topics, and the staff lookup."""

from flask import Flask


def init_app(app: Flask) -> None:
    from routing.extensions import api
    from routing.store.lookups import ShownCounts

    from . import api as directory_api
    from . import views
    from .cli import directory_cli
    from .service import SHOWN_COUNTS
    from .state import directory_status, install

    install(app)
    app.extensions[SHOWN_COUNTS] = ShownCounts(app.extensions["redis"], app.config["LOOKUP_COUNT_FLUSH_SECONDS"])
    app.extensions["directory_status"] = directory_status
    app.register_blueprint(views.bp)
    api.register_blueprint(directory_api.blp)
    app.cli.add_command(directory_cli)

"""gunicorn settings: ``gunicorn -c python:trainer_app.gunicorn_conf trainer_app.wsgi:app``.

Used by ``trainer-app serve``, docker-compose.yml and the README's production command; the bind
address and the number of workers stay on the command line.
"""

from __future__ import annotations

import gunicorn.http.wsgi

# What the Server header says: the product, not the server software and its version.
SERVER_HEADER = "trainer-app"


def on_starting(server) -> None:
    """Replace gunicorn's name in the Server header (gunicorn has no setting for it)."""
    # Every response reads this module global when it is created, in the master and in every
    # worker forked from it afterwards.
    gunicorn.http.wsgi.SERVER = SERVER_HEADER

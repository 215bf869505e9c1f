"""The app served on loopback in threads, for tests that drive it with a real browser."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from werkzeug.serving import make_server

# How long the end of a test waits for requests still running (a render inside a request).
REQUESTS_GRACE_SECONDS = 60


@contextmanager
def serving(app: Flask, port: int) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1:``port`` until the block ends; yields its base URL.

    On the way out it stops accepting, then waits for the requests still running. Callers
    dispose of the app's engine next: a request that outlived that would hand its database
    connection back to a disposed pool, where nothing closes it, and the unclosed-connection
    warning would fail whatever test happens to be running when the garbage is collected.
    """
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        # socketserver keeps each request's thread (block_on_close); join them with a bound, so
        # a browser that still holds a keep-alive connection cannot hang the test run.
        deadline = time.monotonic() + REQUESTS_GRACE_SECONDS
        for request in list(getattr(server, "_threads", None) or ()):
            request.join(timeout=max(0.0, deadline - time.monotonic()))
        server.socket.close()

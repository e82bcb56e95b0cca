"""A test HTTP server on 127.0.0.1 for the blue-green analysis checks: `/ok...` answers 200,
every other path 500."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.send_response(200 if self.path.startswith("/ok") else 500)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return


@contextlib.contextmanager
def status_server() -> Iterator[str]:
    """Yields the server's base URL (``http://127.0.0.1:<port>``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()

"""A local HTTP server standing in for a remote JSON API (Stripe's, from recorded answers):
`respond(handler, body)` gives each request's (status, JSON bytes), or None to hang up
without an answer; the server lives for the `with` block and yields its base URL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Respond = Callable[[BaseHTTPRequestHandler, str], "tuple[int, bytes] | None"]


@contextmanager
def local_json_server(respond: Respond, request_id: str) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            answer = respond(self, body)
            if answer is None:
                return  # the connection closes without an answer
            status, data = answer
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Request-Id", request_id)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = _serve

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()

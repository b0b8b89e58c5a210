"""A local HTTP server for calendar sync tests: serves iCal feeds the test sets (from
tests/fixtures/ical/ or made up), answers conditional GETs with 304, and can be slow or fail.

    with FeedServer() as server:
        server.serve("/airbnb.ics", fixture("airbnb.ics"))
        url = server.url("/airbnb.ics")
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

FIXTURES = Path(__file__).parent / "fixtures" / "ical"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@dataclass
class Feed:
    body: bytes
    status: int = 200
    delay: float = 0.0
    send_length: bool = True
    modified: float = field(default_factory=time.time)

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'

    @property
    def last_modified(self) -> str:
        return email.utils.formatdate(self.modified, usegmt=True)


class FeedServer:
    def __init__(self) -> None:
        self.feeds: dict[str, Feed] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []  # (path, headers)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append((self.path, dict(self.headers.items())))
                feed = server.feeds.get(self.path)
                if feed is None:
                    self.send_error(404)
                    return
                time.sleep(feed.delay)
                if feed.status != 200:
                    self.send_error(feed.status)
                    return
                if self.headers.get("If-None-Match") == feed.etag:
                    self.send_response(304)
                    self.send_header("ETag", feed.etag)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/calendar; charset=utf-8")
                self.send_header("ETag", feed.etag)
                self.send_header("Last-Modified", feed.last_modified)
                if feed.send_length:
                    self.send_header("Content-Length", str(len(feed.body)))
                else:
                    self.send_header("Connection", "close")
                self.end_headers()
                # The client may stop reading (the size limit).
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(feed.body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def serve(self, path: str, body: bytes, **options: object) -> str:
        self.feeds[path] = Feed(body, **options)  # type: ignore[arg-type]
        return self.url(path)

    def url(self, path: str) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def hits(self, path: str) -> list[dict[str, str]]:
        return [headers for p, headers in self.requests if p == path]

    def __enter__(self) -> FeedServer:
        self.thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


def huge_feed(size: int) -> bytes:
    """A valid feed of about `size` bytes (many all-day events)."""
    head = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Huge//EN\r\n"
    events = []
    n = 0
    total = len(head)
    while total < size:
        event = (
            f"BEGIN:VEVENT\r\nUID:huge-{n}@example.com\r\nDTSTART;VALUE=DATE:20300601\r\n"
            f"DTEND;VALUE=DATE:20300602\r\nSUMMARY:{'x' * 200}\r\nEND:VEVENT\r\n"
        ).encode()
        events.append(event)
        total += len(event)
        n += 1
    return head + b"".join(events) + b"END:VCALENDAR\r\n"

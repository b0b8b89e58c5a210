"""Fetches external iCal feeds over HTTP(S) with httpx: bounded time, bounded size, and a
conditional GET (If-None-Match / If-Modified-Since) so an unchanged feed costs a 304.

The URL is the owner's: unless private addresses are allowed (development, tests), every
request, redirects included, must go to a public address, so a feed URL cannot reach
services inside the network (metadata endpoints, databases)."""

from __future__ import annotations

import ipaddress
import socket
from typing import TYPE_CHECKING

from application.ical_feeds import FeedError, FeedFetcher, FetchResult

if TYPE_CHECKING:  # imported on the first fetch: `import httpx` also loads its CLI's rich,
    import httpx  # pygments and click (~5 MB), which processes that never fetch need not hold

USER_AGENT = "Rentbook-CalendarSync/1 (+https://rentbook.dev)"


class HttpFeedFetcher(FeedFetcher):
    def __init__(
        self,
        *,
        timeout_seconds: float = 10.0,
        max_bytes: int = 2_000_000,
        max_redirects: int = 5,
        allow_private: bool = False,
    ) -> None:
        self.timeout_seconds = timeout_seconds
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.hooks = {} if allow_private else {"request": [_check_public]}

    def fetch(self, url: str, *, etag: str | None, last_modified: str | None) -> FetchResult:
        import httpx

        timeout = httpx.Timeout(self.timeout_seconds, connect=min(self.timeout_seconds, 5.0))
        headers = {"User-Agent": USER_AGENT, "Accept": "text/calendar, */*;q=0.5"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            with (
                httpx.Client(
                    timeout=timeout,
                    follow_redirects=True,
                    max_redirects=self.max_redirects,
                    event_hooks=self.hooks,
                ) as client,
                client.stream("GET", url, headers=headers) as response,
            ):
                if response.status_code == 304:
                    return FetchResult(None, etag, last_modified)
                if response.status_code != 200:
                    raise FeedError(f"the feed answered HTTP {response.status_code}")
                body = self._read(response)
                return FetchResult(
                    body, response.headers.get("ETag"), response.headers.get("Last-Modified")
                )
        except httpx.TimeoutException:
            raise FeedError("the feed did not answer in time") from None
        except httpx.HTTPError as e:
            raise FeedError(f"the feed could not be fetched: {type(e).__name__}") from None

    def _read(self, response: httpx.Response) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise FeedError(f"the feed is larger than {self.max_bytes} bytes")
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.max_bytes:  # also when no (or a false) Content-Length was sent
                raise FeedError(f"the feed is larger than {self.max_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)


def _check_public(request: httpx.Request) -> None:
    host = request.url.host
    try:
        infos = socket.getaddrinfo(host, request.url.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise FeedError(f"the feed's host {host!r} is unknown") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global:
            raise FeedError(f"the feed's host {host!r} is not a public address")

"""The HTTP feed fetcher against a local server: validators, conditional GET (304), the
size limit with and without Content-Length, timeouts, HTTP errors and refused connections."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from application.ical_feeds import FeedError
from infrastructure.ical_fetcher import HttpFeedFetcher
from tests.ical_server import FeedServer, fixture, huge_feed


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as s:
        yield s


def test_a_feed_is_fetched_with_its_validators_then_not_modified(server: FeedServer) -> None:
    url = server.serve("/airbnb.ics", fixture("airbnb.ics"))
    fetcher = HttpFeedFetcher(timeout_seconds=5, allow_private=True)
    first = fetcher.fetch(url, etag=None, last_modified=None)
    assert first.body == fixture("airbnb.ics")
    assert first.etag == server.feeds["/airbnb.ics"].etag and first.last_modified
    again = fetcher.fetch(url, etag=first.etag, last_modified=first.last_modified)
    assert again.body is None and again.etag == first.etag
    conditional = server.hits("/airbnb.ics")[1]
    assert conditional["If-None-Match"] == first.etag
    assert conditional["If-Modified-Since"] == first.last_modified
    assert "Rentbook" in conditional["User-Agent"]


def test_a_feed_over_the_size_limit_is_refused(server: FeedServer) -> None:
    fetcher = HttpFeedFetcher(timeout_seconds=5, max_bytes=100_000, allow_private=True)
    declared = server.serve("/declared.ics", huge_feed(300_000))
    undeclared = server.serve("/undeclared.ics", huge_feed(300_000), send_length=False)
    for url in (declared, undeclared):
        with pytest.raises(FeedError, match="larger than 100000 bytes"):
            fetcher.fetch(url, etag=None, last_modified=None)


def test_slow_failing_and_unreachable_feeds_are_errors(server: FeedServer) -> None:
    fetcher = HttpFeedFetcher(timeout_seconds=0.3, allow_private=True)
    slow = server.serve("/slow.ics", fixture("airbnb.ics"), delay=1.0)
    with pytest.raises(FeedError, match="in time"):
        fetcher.fetch(slow, etag=None, last_modified=None)
    broken = server.serve("/broken.ics", b"", status=500)
    with pytest.raises(FeedError, match="HTTP 500"):
        fetcher.fetch(broken, etag=None, last_modified=None)
    with pytest.raises(FeedError, match="HTTP 404"):
        fetcher.fetch(server.url("/missing.ics"), etag=None, last_modified=None)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(FeedError, match="could not be fetched"):
        fetcher.fetch(f"http://127.0.0.1:{port}/x.ics", etag=None, last_modified=None)


def test_private_addresses_are_refused_unless_allowed(server: FeedServer) -> None:
    url = server.serve("/airbnb.ics", fixture("airbnb.ics"))
    strict = HttpFeedFetcher(timeout_seconds=5)
    for target in (url, "http://169.254.169.254/latest/meta-data", "http://[::1]:9/x.ics"):
        with pytest.raises(FeedError, match="not a public address"):
            strict.fetch(target, etag=None, last_modified=None)
    with pytest.raises(FeedError, match="unknown"):
        strict.fetch("http://no-such-host.invalid/x.ics", etag=None, last_modified=None)
    assert server.hits("/airbnb.ics") == []  # refused before any request was sent

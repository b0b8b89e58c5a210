"""The `rentbook_sse_connections` gauge follows real streams: served by uvicorn, scraped
from /metrics, it counts up as streams open and back down as their clients leave."""

from __future__ import annotations

from tests.http.conftest import API, Api, make_app
from tests.http.test_observability_metrics_http import scrape, value
from tests.polling import eventually
from tests.sse_support import SseStream, served_app

GAUGE = "rentbook_sse_connections"


def test_the_gauge_counts_open_streams_up_and_down(api: Api) -> None:
    owner, renter = api.new_user(), api.new_user()

    def open_now() -> float:
        return value(scrape(api), GAUGE)

    with served_app(make_app(api.container)) as served:
        url = f"{served}{API}/me/stream"
        # One gauge per process: streams of earlier tests here are closed by now.
        eventually(lambda: open_now() == 0, "no stream open")
        first = SseStream(url, owner.headers)
        try:
            [ready] = first.events(1)  # subscribed and counted before `ready` is sent
            assert ready.kind == "ready" and open_now() == 1
            with SseStream(url, renter.headers) as second:
                assert second.events(1)[0].kind == "ready"
                assert open_now() == 2
            eventually(lambda: open_now() == 1, "one stream open")  # the renter went
        finally:
            first.close()
        eventually(lambda: open_now() == 0, "no stream open")

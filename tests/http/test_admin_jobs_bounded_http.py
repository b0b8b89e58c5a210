"""The admin's failed-jobs view and retry over HTTP on the embedded job queue, whose ended
job records are bounded: the newest failed records page and retry, the dropped ones are 404."""

from __future__ import annotations

from infrastructure.jobs_inprocess import InProcessJobQueue
from tests.http.conftest import API, Api


class Refused(Exception):
    retryable = False


def refuse(n: int) -> None:
    raise Refused(f"no {n}")


def test_the_admin_failed_jobs_view_pages_the_kept_records(api: Api) -> None:
    wiring = api.container.payments_wiring
    assert wiring is not None and isinstance(wiring.jobs, InProcessJobQueue)
    jobs = wiring.jobs
    jobs.keep_failed = 3
    jobs.register("bounded_refuse", refuse)
    for n in range(6):
        jobs.enqueue("bounded_refuse", {"n": n}, job_id=f"bounded-refuse-{n}")
    assert jobs.drain(10)
    admin = api.admin()
    r = api.client.get(f"{API}/admin/jobs/failed?limit=2", headers=admin.headers)
    assert r.status_code == 200, r.text
    first = r.json()
    assert [j["id"] for j in first["data"]] == ["bounded-refuse-5", "bounded-refuse-4"]
    r = api.client.get(
        f"{API}/admin/jobs/failed?limit=2&cursor={first['next_cursor']}", headers=admin.headers
    )
    assert [j["id"] for j in r.json()["data"]] == ["bounded-refuse-3"]
    gone = api.client.post(f"{API}/admin/jobs/bounded-refuse-0/retry", headers=admin.headers)
    assert gone.status_code == 404
    kept = api.client.post(f"{API}/admin/jobs/bounded-refuse-3/retry", headers=admin.headers)
    assert kept.status_code == 200, kept.text

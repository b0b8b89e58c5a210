"""The collector pause around projection pages: nested and overlapping pauses restore the
collector exactly as it was before the first, even when a page raises."""

from __future__ import annotations

import gc
import threading

import pytest

from projections.gc_pause import gc_paused


def test_nested_pauses_restore_the_collector_after_the_last() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer page is still being applied
    assert gc.isenabled()


def test_a_failing_page_restores_the_collector() -> None:
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("the view failed")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_overlapping_pauses_in_two_threads() -> None:
    inside, release = threading.Event(), threading.Event()

    def other_page() -> None:
        with gc_paused():
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=other_page)
    with gc_paused():
        thread.start()
        assert inside.wait(5)
    assert not gc.isenabled()  # the other thread's page goes on
    release.set()
    thread.join(5)
    assert gc.isenabled()

"""Saves under way (application/saves_in_flight.py): a load waits for other threads' saves
of its streams, never for its own thread's, never for other streams, and never forever."""

from __future__ import annotations

import threading
import uuid

from application.saves_in_flight import SavesInFlight


def test_a_wait_returns_when_the_other_threads_save_ends() -> None:
    saves, stream = SavesInFlight(), uuid.uuid4()
    started, finish, order = threading.Event(), threading.Event(), []

    def save() -> None:
        with saves.saving([stream]):
            started.set()
            finish.wait()
            order.append("saved")

    saver = threading.Thread(target=save)
    saver.start()
    started.wait()
    threading.Timer(0.05, finish.set).start()
    assert saves.wait([stream]) is True
    order.append("read")
    saver.join()
    assert order == ["saved", "read"] and saves.waits == 1


def test_nothing_is_waited_for_without_a_save_of_those_streams() -> None:
    saves, stream = SavesInFlight(), uuid.uuid4()
    with saves.saving([stream]):
        assert saves.wait([stream]) is False  # this thread's own save
        result: list[bool] = []
        other = threading.Thread(target=lambda: result.append(saves.wait([uuid.uuid4()])))
        other.start()
        other.join()
        assert result == [False]
    assert saves.wait([stream]) is False and saves.waits == 0


def test_a_save_that_never_ends_is_waited_for_only_until_the_timeout() -> None:
    saves, stream = SavesInFlight(timeout=0.05), uuid.uuid4()
    started, finish = threading.Event(), threading.Event()

    def save() -> None:
        with saves.saving([stream]):
            started.set()
            finish.wait()

    saver = threading.Thread(target=save)
    saver.start()
    started.wait()
    assert saves.wait([stream]) is True  # gave up: the store's version check still decides
    finish.set()
    saver.join()
    assert not saves._saving


def test_a_failed_save_is_no_longer_under_way() -> None:
    saves, stream = SavesInFlight(), uuid.uuid4()
    try:
        with saves.saving([stream, stream]):
            raise RuntimeError("conflict")
    except RuntimeError:
        pass
    assert not saves._saving

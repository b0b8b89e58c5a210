"""Turns: one holder per key at a time, other keys unaffected, a late turn given up."""

from __future__ import annotations

import threading
import time

from application.turns import Turns


def test_holders_of_one_key_never_overlap() -> None:
    turns, inside, most = Turns(), [0], [0]
    lock = threading.Lock()

    def hold() -> None:
        with turns.take("listing"):
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0.002)
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=hold) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 1
    assert len(turns) == 0  # idle keys are forgotten


def test_another_key_does_not_wait() -> None:
    turns = Turns(timeout=5)
    with turns.take("a") as got_a:
        started = time.perf_counter()
        with turns.take("b") as got_b:
            assert time.perf_counter() - started < 1
        assert got_a and got_b


def test_a_turn_not_had_in_time_is_given_up_and_the_caller_goes_on() -> None:
    turns = Turns(timeout=0.05)
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with turns.take("listing"):
            held.set()
            release.wait(5)

    t = threading.Thread(target=holder)
    t.start()
    assert held.wait(5)
    with turns.take("listing") as got:
        assert got is False
    release.set()
    t.join()
    with turns.take("listing") as got:
        assert got is True
    assert len(turns) == 0

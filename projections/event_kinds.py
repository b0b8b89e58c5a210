"""`isinstance(event, classes)` remembered per event class, for the views' page filters.

On the eventsourcing event classes isinstance is slow: 0.4 us a class it misses, 7.6 us for
a miss against the payments view's 22 payment events; views filter every event of a page
against such tuples, some several times. The answer depends only on the event's class, so
each class is checked once.
"""

from __future__ import annotations


class Kinds:
    """Callable: whether an object is an instance of one of `classes`."""

    __slots__ = ("_known", "classes")

    def __init__(self, *classes: type) -> None:
        self.classes = classes
        self._known: dict[type, bool] = {}

    def __call__(self, obj: object) -> bool:
        cls = type(obj)
        known = self._known.get(cls)
        if known is None:
            known = self._known[cls] = issubclass(cls, self.classes)
        return known

"""Two threads creating the first objects of related SDK model classes at once.

The SDK's ``Model.__new__`` sets a class up on its first object: it iterates the class's
and its model parents' ``__dict__`` and writes the table it built onto the class. Here
thread A sets up ``Child`` and is held in the middle of iterating ``Parent.__dict__``
(by an attribute whose lookup waits) while thread B creates the first ``Parent``, which
writes into ``Parent.__dict__``: without ``serialise_model_setup`` A then fails with
``RuntimeError: dictionary changed size during iteration`` every time.
"""

from __future__ import annotations

import importlib
import threading
from pathlib import Path
from typing import Any

from azure.mgmt.network._utils import model_base

from hubvpn.azure import connect, resolve_target
from hubvpn.sdk_models import MODEL_BASES, serialise_model_setup

HOLD_S = 2.0  # how long A waits for B to finish: B cannot while A holds the setup


class _Holdup:
    """A class attribute whose ``_type`` lookup (the setup asks every public one) parks
    the setting-up thread until the other thread has created its object."""

    def __init__(self) -> None:
        self.iterating = threading.Event()
        self.other_done = threading.Event()
        self.holder: threading.Thread | None = None

    def __getattr__(self, name: str) -> Any:
        if name == "_type" and threading.current_thread() is self.holder:
            self.iterating.set()
            self.other_done.wait(HOLD_S)
        raise AttributeError(name)


def _race(holdup: _Holdup, parent: type, child: type) -> dict[str, BaseException | None]:
    outcome: dict[str, BaseException | None] = {}

    def create(name: str, cls: type) -> None:
        try:
            cls()
            outcome[name] = None
        except BaseException as err:  # the outcome is what the test asserts
            outcome[name] = err

    a = threading.Thread(target=create, args=("child", child))
    holdup.holder = a

    def create_parent_while_child_sets_up() -> None:
        holdup.iterating.wait(HOLD_S)
        create("parent", parent)
        holdup.other_done.set()

    b = threading.Thread(target=create_parent_while_child_sets_up)
    a.start()
    b.start()
    a.join()
    b.join()
    return outcome


def _fresh_classes(holdup: _Holdup) -> tuple[type, type]:
    """Model classes no object was created of yet (so both still need their setup)."""

    class Parent(model_base.Model):
        name: str | None = model_base.rest_field()
        holdup_marker = holdup

    class Child(Parent):
        size: str | None = model_base.rest_field()

    return Parent, Child


def test_create_first_models_of_related_classes_from_two_threads_succeeds(
    tmp_path: Path,
) -> None:
    with connect(resolve_target("emulator", None), tmp_path):  # what guards the setup
        holdup = _Holdup()
        parent, child = _fresh_classes(holdup)

        outcome = _race(holdup, parent, child)

    assert outcome == {"child": None, "parent": None}
    assert child(name="a", size="b").as_dict() == {"name": "a", "size": "b"}


def test_serialise_model_setup_twice_guards_each_sdk_package_once() -> None:
    serialise_model_setup()
    first = [importlib.import_module(name).Model.__dict__["__new__"] for name in MODEL_BASES]
    serialise_model_setup()
    again = [importlib.import_module(name).Model.__dict__["__new__"] for name in MODEL_BASES]

    assert again == first
    assert {new.__func__.__module__ for new in first} == {"hubvpn.sdk_models"}

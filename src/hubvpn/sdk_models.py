"""The Azure SDK's models set themselves up on first use: one thread at a time.

The generated models of azure-mgmt-network, -compute and -resource
(``<package>._utils.model_base.Model``) build their table of fields the first
time an object of a class is created, in ``Model.__new__``: it iterates the
``__dict__`` of the class and of its model parents, then writes the table onto the
class. Two threads creating the first objects of related classes at once (deploy's
workers building bodies while pollers deserialize answers) race: one iterates a
parent's ``__dict__`` while the other writes the parent's table into it, and the
first gets ``RuntimeError: dictionary changed size during iteration`` (a deploy
step failed so; Azure/azure-sdk-for-python#47426; when it hits deserialization the
SDK falls back silently to a plain dict).

``serialise_model_setup()`` puts that first-use setup under one lock; a class once
set up takes no lock. Called by ``azure.Clients`` before any thread sends::

    serialise_model_setup()   # idempotent; a package whose models differ is left alone
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

MODEL_BASES = (
    "azure.mgmt.network._utils.model_base",
    "azure.mgmt.compute._utils.model_base",
    "azure.mgmt.resource.resources._utils.model_base",
)
_SETUP_LOCK = threading.RLock()  # re-entrant: a setup may create other models
_GUARDED = "_hubvpn_setup_serialised"


def serialise_model_setup() -> None:
    """Serialise the first-use setup of every SDK package's models (see the module)."""
    for name in MODEL_BASES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue  # another SDK version: nothing of this shape to guard
        guard(module.Model)


def guard(model: Any) -> None:
    """Make ``model.__new__`` (and so every subclass's) set a class up under the lock."""
    calculated = getattr(model, "_calculated", None)
    if model.__dict__.get(_GUARDED) or not isinstance(calculated, set):
        return
    setup = model.__new__

    def new(cls: type, *args: Any, **kwargs: Any) -> Any:
        if f"{cls.__module__}.{cls.__qualname__}" in calculated:
            return setup(cls, *args, **kwargs)  # set up already: nothing is written
        with _SETUP_LOCK:
            return setup(cls, *args, **kwargs)

    model.__new__ = staticmethod(new)
    setattr(model, _GUARDED, True)

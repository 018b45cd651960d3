"""The lab's resource group: its place and its tag, nothing more (the emulator
answers groups in ``emulator/app.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hubvpn.kinds import Kind
from hubvpn.kinds.body import Body, tracked
from hubvpn.plan import Step

if TYPE_CHECKING:
    from hubvpn.resources import Context


def desired_group(step: Step, ctx: Context) -> Any:
    from azure.mgmt.resource.resources import models as r

    return r.ResourceGroup(**tracked(step, ctx))


BODIES = {Kind.RESOURCE_GROUP: Body(desired_group)}

"""The collector is settled once the SDK clients exist (collector.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from hubvpn import collector

# A child process: settling happens once per process, and the test process's own
# collector may already be settled by an earlier test.
PROBE = textwrap.dedent(
    """
    import gc, json, tempfile
    from pathlib import Path
    from hubvpn.azure import connect, resolve_target
    before = [list(gc.get_threshold()), gc.get_freeze_count()]
    with connect(resolve_target("emulator", None), Path(tempfile.mkdtemp())):
        pass
    settled = [list(gc.get_threshold()), gc.get_freeze_count()]
    gc.unfreeze()
    with connect(resolve_target("emulator", None), Path(tempfile.mkdtemp())):
        pass
    print(json.dumps([before, settled, gc.get_freeze_count()]))
    """
)


def test_connect_settles_collector_once_with_sdk_frozen() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=120
    )
    before, settled, after_second_connect = json.loads(done.stdout)
    assert before == [[700, 10, 10], 0]  # CPython's defaults until the SDK is loaded
    assert settled[0] == [collector.YOUNG_EVERY, *collector.OLDER_EVERY]
    assert settled[1] > 50_000  # the SDK's modules and classes, frozen
    assert after_second_connect == 0  # a second connect neither freezes nor resets

"""The ``hubvpn`` console script: Ctrl-C at any moment, even while Python is still
importing, ends with "interrupted" and exit code 130, never a traceback."""

from __future__ import annotations

import signal
import sys

INTERRUPTED = 130


def main() -> None:
    try:
        from hubvpn.cli import main as cli_main

        cli_main()
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        sys.exit(INTERRUPTED)
    except SystemExit as done:
        # Typer turns a Ctrl-C it catches into a silent exit 130: say it, once.
        # (Look the console up rather than import it: --help must stay light.)
        console = sys.modules.get("hubvpn.console")
        reported = console is not None and console.interrupt_reported()
        if done.code == INTERRUPTED and not reported:
            sys.stderr.write("error: interrupted\n")
        # The outcome is decided: a Ctrl-C during interpreter shutdown must not turn
        # it into a traceback and a death by signal.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise

"""hubvpn emulator serve | requests | reset: the embedded ARM emulator's own commands."""

from __future__ import annotations

from typing import Annotated

import typer

from hubvpn.cli.options import Output, OutputOpt, http_method, port_number, whole
from hubvpn.errors import EXIT_OK, OperationFailed


def emulator_serve(
    port: Annotated[
        int, typer.Option(parser=port_number, metavar="<1-65535>", help="Loopback port.")
    ] = 8943,
) -> None:
    """Serve the emulator's ARM REST API on http://127.0.0.1:PORT (Ctrl-C stops).

    \b
    Examples:
      hubvpn emulator serve
      hubvpn emulator serve --port 9000
    """
    from hubvpn.azure import state_dir
    from hubvpn.console import Console
    from hubvpn.emulator import open_app
    from hubvpn.emulator.server import HOST, make

    try:
        server = make(open_app(state_dir()), port)
    except OSError as err:
        raise OperationFailed(f"cannot listen on {HOST}:{port}: {err.strerror}") from None
    Console().info(
        f"hubvpn emulator serving ARM on http://{HOST}:{port} (state {state_dir()}); Ctrl-C stops"
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        raise typer.Exit(code=EXIT_OK) from None
    finally:
        server.server_close()


def emulator_requests(
    output: OutputOpt = Output.table,
    last: Annotated[
        int | None,
        typer.Option(
            "--last",
            parser=whole("a positive count", 1, 10**9),
            metavar="<N>",
            help="Only the last N requests.",
        ),
    ] = None,
    method: Annotated[
        str | None,
        typer.Option(
            "--method",
            parser=http_method,
            metavar="<method>",
            help="Only this HTTP method (GET, PUT, ...).",
        ),
    ] = None,
    status: Annotated[
        int | None,
        typer.Option(
            "--status",
            parser=whole("an HTTP status (100-599)", 100, 599),
            metavar="<code>",
            help="Only answers with this HTTP status.",
        ),
    ] = None,
) -> None:
    """List every request the emulator answered (method, path, status, time), oldest
    first.

    \b
    Examples:
      hubvpn emulator requests --last 20
      hubvpn emulator requests --method PUT --status 201 --output json
    """
    from hubvpn.azure import state_dir
    from hubvpn.console import Console
    from hubvpn.emulator.store import Store

    console = Console()
    rows = [
        row
        for row in Store(state_dir()).requests()
        if (method is None or row["method"] == method.upper())
        and (status is None or row["status"] == status)
    ]
    if last is not None:
        rows = rows[-last:]
    if output is Output.json:
        console.json({"requests": rows})
        return
    console.requests(rows)


def emulator_reset() -> None:
    """Empty the emulator: every resource, operation and logged request.

    \b
    Examples:
      hubvpn emulator reset
    """
    from hubvpn.azure import state_dir
    from hubvpn.console import Console
    from hubvpn.emulator.store import Store

    Store(state_dir()).reset()
    Console().info(f"emulator state in {state_dir()} reset")

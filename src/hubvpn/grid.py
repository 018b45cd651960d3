"""A reachability matrix as lines of text that fit a width, names never cut.

Three layouts, the first that fits: names as column headers; numbered column headers
(each row starts with its number, the legend); one line per source listing only its
exceptions. A cell the change flips carries ``~``, as a changed field does in the plan
(``before`` is what is deployed now). Lines carry no trailing spaces; ``width=None``
(a pipe) always takes the first layout::

    for line in matrix_lines(names, cells, width=80, before=now):
        print(line)
"""

from __future__ import annotations

from collections.abc import Mapping

from hubvpn.failures import wrap

CORNER = "from \\ to"
GAP = 2  # spaces between columns
YES, NO, SELF, FLIP = "✓", "✗", "·", "~"
FLIP_LEGEND = "~ flips with this change: ✓~ becomes reachable, ✗~ stops being reachable"


def short(name: str) -> str:
    return name.removeprefix("vm-")


def _mark(
    src: str,
    dst: str,
    cells: Mapping[tuple[str, str], bool],
    before: Mapping[tuple[str, str], bool] | None,
) -> str:
    if src == dst:
        return SELF
    reachable = cells[(src, dst)]
    mark = YES if reachable else NO
    if before is not None and (src, dst) in before and before[(src, dst)] != reachable:
        mark += FLIP
    return mark


def _table(
    labels: list[str],
    headers: list[str],
    names: list[str],
    cells: Mapping[tuple[str, str], bool],
    before: Mapping[tuple[str, str], bool] | None,
    gap: int = GAP,
    numbered: bool = False,
) -> list[str]:
    """Rows under headers: a mark centred under its name, or under a number's last
    digit (numbers right-aligned); a flip's ``~`` follows its mark."""
    label_w = max(len(label) for label in [CORNER, *labels])
    widths = [max(len(h), 2) for h in headers]
    at = [w - 1 if numbered else (w - 1) // 2 for w in widths]  # the mark's column
    seps = [" " * (GAP if i == 0 else gap) for i in range(len(headers))]
    head = CORNER.ljust(label_w) + "".join(
        sep + (h.rjust(w) if numbered else h.center(w))
        for sep, h, w in zip(seps, headers, widths, strict=True)
    )
    lines = [head.rstrip()]
    for label, src in zip(labels, names, strict=True):
        row = label.ljust(label_w)
        for sep, dst, w, col in zip(seps, names, widths, at, strict=True):
            row += sep + (" " * col + _mark(src, dst, cells, before)).ljust(w)
        lines.append(row.rstrip())
    return lines


def _exceptions(
    names: list[str],
    cells: Mapping[tuple[str, str], bool],
    before: Mapping[tuple[str, str], bool] | None,
    width: int,
) -> list[str]:
    """Per source: the destinations that differ from its majority (reachable or not)."""
    lines = []
    for src in names:
        others = [dst for dst in names if dst != src]
        reached = [dst for dst in others if cells[(src, dst)]]
        most = len(reached) * 2 >= len(others)
        odd = [dst for dst in others if cells[(src, dst)] != most]
        flips = [dst for dst in others if FLIP in _mark(src, dst, cells, before)]
        words = [short(d) + (FLIP if d in flips else "") for d in odd]
        if not odd:
            text = f"{short(src)} → {'all' if most else 'none'}"
            lines.append(text)
        else:
            first = f"{short(src)} → {'all but' if most else 'only'}: "
            lines += wrap(first, "    ", words, width, ", ")
        unmarked = [short(d) + FLIP for d in flips if d not in odd]
        if unmarked:  # flipped to the majority: named so that no flip goes unsaid
            lines += wrap("    flipped: ", "    ", unmarked, width, ", ")
    return lines


def matrix_lines(
    names: list[str],
    cells: Mapping[tuple[str, str], bool],
    width: int | None,
    before: Mapping[tuple[str, str], bool] | None = None,
) -> list[str]:
    """The matrix in the first layout that fits ``width`` (None: no limit)."""
    shown = [short(n) for n in names]
    lines = _table(shown, shown, names, cells, before)
    flipped = before is not None and any(
        FLIP in _mark(a, b, cells, before) for a in names for b in names
    )
    legend = [FLIP_LEGEND] if flipped else []
    if width is None or max(len(line) for line in lines) <= width:
        return lines + legend
    numbers = [str(i) for i in range(1, len(names) + 1)]
    labels = [f"{n:>{len(numbers[-1])}} {s}" for n, s in zip(numbers, shown, strict=True)]
    lines = _table(labels, numbers, names, cells, before, gap=1, numbered=True)
    if max(len(line) for line in lines) <= width:
        return ["(columns numbered as the rows)", *lines, *legend]
    return _exceptions(names, cells, before, width) + legend

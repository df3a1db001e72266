# ruff: noqa: INP001 - Sphinx loads docs/_ext modules from sys.path, not as a package
"""The layers picture as inline SVG: floors as rows of boxes, and a call's path as numbered arrows.

Sized for furo's text column (736 px), so it is shown at its own size there and
its text stays 12-13 px; narrower screens scale it down. No script: each box's
``<title>`` is its tooltip. The boxes of the call's path sit at the right end of
their floor, and each arrow runs right, along a lane of its own, and back, so
arrows never cross a box.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from import_floors import Module

WIDTH = 736
GUTTER = 42  # the floor numbers
LANE = 13  # between two arrows' vertical runs
BOX_HEIGHT, ROW_GAP, FLOOR_GAP, BOX_GAP, PORT_GAP = 26, 6, 12, 8, 6
CHAR = 7.9  # the advance of a 13 px monospace character
CLEARANCE = 22  # between the middles of two numbered discs
PATH = "#d9480f"
# (fill, stroke) per group, in the order the content names them. Pale fills under
# dark text read the same in furo's light and dark modes.
PALETTE = [
    ("#eceff1", "#78909c"),
    ("#e3f2fd", "#1e88e5"),
    ("#f3e5f5", "#8e24aa"),
    ("#e8f5e9", "#43a047"),
    ("#fff8e1", "#f9a825"),
    ("#e0f2f1", "#00897b"),
    ("#f6e7dc", "#a1663f"),
    ("#e8eaf6", "#3949ab"),
]
UNGROUPED = ("#ffffff", "#9e9e9e")
BACKGROUND = "var(--color-background-primary, #ffffff)"  # furo's page colour: arrows' casing
MONO = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace"
SANS = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif"


@dataclass
class Step:
    """One numbered arrow: a module calls a module, or something outside turnout (``<name>``)."""

    source: str
    target: str
    text: str

    @property
    def leaves(self) -> bool:
        """Whether the call goes outside turnout."""
        return is_outside(self.target)


def is_outside(name: str) -> bool:
    """Return whether a step's end is outside turnout (written ``<like this>``)."""
    return name.startswith("<") and name.endswith(">")


@dataclass
class Box:
    """Where one name sits, and where arrows meet its right-hand side."""

    label: str
    x: float
    y: float
    width: float
    module: Module | None = None
    ports: list[tuple[tuple[int, float], int]] = field(default_factory=list)  # (key, step)

    @property
    def right(self) -> float:
        """The x of the right-hand side."""
        return self.x + self.width

    @property
    def middle(self) -> float:
        """The y of the middle."""
        return self.y + BOX_HEIGHT / 2

    def port(self, step: int) -> float:
        """Return the y where `step`'s arrow meets this box, spread apart from the others."""
        order = [number for _, number in sorted(self.ports)]
        return self.middle + (order.index(step) - (len(order) - 1) / 2) * PORT_GAP


def box_width(text: str) -> float:
    """Return the width of a box for `text` in 13 px monospace, padding included."""
    return len(text) * CHAR + 14


def box_of(module: Module, x: float, y: float) -> Box:
    """Return the box of `module` with its top left corner at (`x`, `y`)."""
    return Box(module.short, x, y, box_width(module.short), module)


def render(
    modules: dict[str, Module], group_of: dict[str, str], groups: list[str], steps: list[Step]
) -> str:
    """Return the picture as an ``<svg>`` element."""
    colours = {group: PALETTE[index % len(PALETTE)] for index, group in enumerate(groups)}
    ungrouped = any(module.short not in group_of for module in modules.values())
    legend, top = svg_legend(groups, colours, path=bool(steps), ungrouped=ungrouped)
    outside = sorted({step.target[1:-1] for step in steps if step.leaves}, key=len)
    outside_width = max(box_width(outside[-1]), 96) + 8 if outside else 0  # its label fits
    lanes = sum(not step.leaves for step in steps)
    right = WIDTH - outside_width - lanes * LANE - 12
    on_path = {name for step in steps for name in (step.source, step.target)}
    boxes, bands, bottom = place(modules, group_of, groups, on_path=on_path, right=right, top=top)
    for step in steps:
        if step.leaves and step.target not in boxes:  # level with its caller
            label, caller = step.target[1:-1], boxes[step.source]
            boxes[step.target] = Box(label, WIDTH - box_width(label), caller.y, box_width(label))
    parts = [*legend, *svg_floors(bands, WIDTH - outside_width)]
    if outside:
        parts.append(svg_outside(WIDTH - outside_width + 4, top, bottom))
    for label, box in boxes.items():
        colour = colours.get(group_of.get(label, ""), UNGROUPED)
        parts.append(svg_box(box, colour, on_path=label in on_path, floors=len(bands)))
    parts += svg_steps(steps, boxes, right + 12)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="turnout-layers" '
        f'viewBox="0 0 {WIDTH} {bottom + 2:.0f}" width="{WIDTH}" height="{bottom + 2:.0f}" '
        f'role="img" aria-label="turnout\'s modules on their floors, the lowest at the bottom, '
        f'and the path of a call" font-family="{SANS}" style="max-width: 100%; height: auto">'
        f'<defs><marker id="turnout-layers-arrow" viewBox="0 0 10 10" refX="9" refY="5" '
        f'markerWidth="6" markerHeight="6" orient="auto-start-reverse">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{PATH}"/></marker></defs>{"".join(parts)}</svg>'
    )


def place(
    modules: dict[str, Module],
    group_of: dict[str, str],
    groups: list[str],
    *,
    on_path: set[str],
    right: float,
    top: float,
) -> tuple[dict[str, Box], list[tuple[int, float, float]], float]:
    """Return the boxes by label, each floor's band (floor, top, bottom), and the bottom.

    Floors are rows, the highest on top; one wider than the page wraps. In a floor,
    modules go by group (in the content's order), then by name. A module on the
    call's path ends a row of its own, so its arrows leave it without crossing a box.
    """
    order = {group: index for index, group in enumerate(groups)}
    boxes: dict[str, Box] = {}
    bands = []
    y = top
    for floor in sorted({module.floor for module in modules.values()}, reverse=True):
        members = sorted(
            (module for module in modules.values() if module.floor == floor),
            key=lambda module: (order.get(group_of.get(module.short), len(order)), module.short),
        )
        ends = [module for module in members if module.short in on_path]
        rest = [module for module in members if module.short not in on_path]
        start, row = y, 0
        while rest or row < len(ends):
            limit = right
            if row < len(ends):
                end = ends[row]
                limit -= box_width(end.short) + BOX_GAP
                boxes[end.short] = box_of(end, limit + BOX_GAP, y + FLOOR_GAP / 2)
            x = GUTTER
            while rest and (x + box_width(rest[0].short) <= limit or x == GUTTER):
                module = rest.pop(0)
                boxes[module.short] = box_of(module, x, y + FLOOR_GAP / 2)
                x += box_width(module.short) + BOX_GAP
            row += 1
            y += BOX_HEIGHT + ROW_GAP
        y += FLOOR_GAP - ROW_GAP
        bands.append((floor, start, y))
    return boxes, bands, y


def svg_legend(
    groups: list[str], colours: dict[str, tuple[str, str]], *, path: bool, ungrouped: bool
) -> tuple[list[str], float]:
    """Return the legend (a swatch per group, then the path's arrow) and its bottom."""
    parts, x, y = [], 0.0, 15.0
    entries: list[tuple[str, tuple[str, str] | None]] = [(name, colours[name]) for name in groups]
    if ungrouped:
        entries.append(("in no group", UNGROUPED))
    if path:
        entries.append(("the path of a call, in numbered steps", None))
    for label, colour in entries:
        width = 22 + len(label) * 7.0 + 16
        if x + width > WIDTH:
            x, y = 0.0, y + 22
        if colour is None:
            parts.append(
                f'<line x1="{x:.1f}" y1="{y - 4.5:.1f}" x2="{x + 15:.1f}" y2="{y - 4.5:.1f}" '
                f'stroke="{PATH}" stroke-width="2" marker-end="url(#turnout-layers-arrow)"/>'
            )
        else:
            parts.append(
                f'<rect x="{x + 0.5:.1f}" y="{y - 11:.1f}" width="14" height="14" rx="3" '
                f'fill="{colour[0]}" stroke="{colour[1]}" stroke-width="1.5"/>'
            )
        parts.append(
            f'<text x="{x + 22:.1f}" y="{y:.1f}" font-size="13" fill="currentColor">'
            f"{html.escape(label)}</text>"
        )
        x += width
    return parts, y + 30


def svg_floors(bands: list[tuple[int, float, float]], width: float) -> list[str]:
    """Return the floors' bands, shaded in turn, and their numbers."""
    parts = [
        (
            f'<text x="{GUTTER - 12}" y="{bands[0][1] - 5:.1f}" text-anchor="end" font-size="12" '
            f'fill="currentColor" fill-opacity="0.7">floor</text>'
        )
    ]
    for index, (floor, start, end) in enumerate(bands):
        if index % 2 == 0:
            parts.append(
                f'<rect x="0" y="{start:.1f}" width="{width:.1f}" height="{end - start:.1f}" '
                f'fill="currentColor" fill-opacity="0.05"/>'
            )
        parts.append(
            f'<text x="{GUTTER - 12}" y="{(start + end) / 2 + 4.5:.1f}" text-anchor="end" '
            f'font-size="13" fill="currentColor" fill-opacity="0.8">{floor}</text>'
        )
    return parts


def svg_outside(x: float, top: float, bottom: float) -> str:
    """Return the line that sets what lies outside turnout apart, and its label."""
    return (
        f'<line x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{bottom:.1f}" stroke="currentColor" '
        f'stroke-opacity="0.35" stroke-dasharray="3 4"/><text x="{x + 6:.1f}" y="{top - 5:.1f}" '
        f'font-size="12" fill="currentColor" fill-opacity="0.7">outside turnout</text>'
    )


def svg_box(box: Box, colour: tuple[str, str], *, on_path: bool, floors: int) -> str:
    """Return one box: its name, and its module's docstring and imports as a tooltip."""
    fill, stroke = colour
    module, extra = box.module, ""
    if module is None:
        tip, fill, stroke, extra = box.label, "#ffffff", PATH, ' stroke-dasharray="4 3"'
    else:
        imports = ", ".join(sorted(name.removeprefix("turnout.") for name in module.imports))
        tip = (
            f"{module.name}: floor {module.floor} of {floors}\n{plain(module.summary)}\n"
            f"imports {imports or 'nothing of turnout'}"
        )
    halo = (
        f'<rect x="{box.x - 3:.1f}" y="{box.y - 3:.1f}" width="{box.width + 6:.1f}" '
        f'height="{BOX_HEIGHT + 6}" rx="6" fill="none" stroke="{PATH}" stroke-width="2"/>'
        if on_path and module is not None
        else ""
    )
    return (
        f'<g class="{"turnout-module" if module else "turnout-outside"}">'
        f"<title>{html.escape(tip)}</title>{halo}"
        f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" height="{BOX_HEIGHT}" '
        f'rx="4" fill="{fill}" stroke="{stroke}" stroke-width="1.3"{extra}/>'
        f'<text x="{box.x + box.width / 2:.1f}" y="{box.y + 17.5:.1f}" text-anchor="middle" '
        f'font-family="{MONO}" font-size="13" fill="#1b1b1b">{html.escape(box.label)}</text></g>'
    )


def plain(text: str) -> str:
    """Return a docstring line without its reStructuredText markup."""
    return text.replace("``", "").replace("`", "")


def svg_steps(steps: list[Step], boxes: dict[str, Box], first_lane: float) -> list[str]:
    """Return the numbered arrows: right out of the caller, along a lane, left into the callee.

    The longer an arrow's run, the further out its lane, so no run crosses a shorter
    one's ends; on a box, arrows meet it in the order that keeps them apart.
    """
    inner = [n for n, step in enumerate(steps) if not step.leaves]
    span = {n: abs(boxes[steps[n].source].middle - boxes[steps[n].target].middle) for n in inner}
    lane = {n: index for index, n in enumerate(sorted(inner, key=lambda n: (span[n], n)))}
    for n, step in enumerate(steps):
        source, target = boxes[step.source], boxes[step.target]
        down = (target.middle > source.middle) - (target.middle < source.middle)
        key = lane.get(n, -1)
        source.ports.append(((down, -key * down), n))
        target.ports.append(((-down, key * down), n))
    parts, badges = [], []
    for n in sorted(inner, key=lambda n: -span[n]):  # long runs first, shorter ones on top
        source, target = boxes[steps[n].source], boxes[steps[n].target]
        x = first_lane + lane[n] * LANE
        y1, y2 = source.port(n), target.port(n)
        points = f"M{source.right:.1f},{y1:.1f} H{x:.1f} V{y2:.1f} H{target.right + 2:.1f}"
        badges.append((n, x, badge_y(y1, y2, x, badges)))
        parts.append(svg_arrow(steps[n], n + 1, points))
    for n, step in enumerate(steps):
        if step.leaves:
            source, target = boxes[step.source], boxes[step.target]
            y = source.port(n)
            parts.append(svg_arrow(step, n + 1, f"M{source.right:.1f},{y:.1f} H{target.x - 2:.1f}"))
            badges.append((n, target.x - 16, y))
    parts += [svg_badge(n + 1, x, y) for n, x, y in badges]
    return parts


def badge_y(y1: float, y2: float, x: float, placed: list[tuple[int, float, float]]) -> float:
    """Return a y on the run from `y1` to `y2` where a badge clears those already placed."""
    low, high = min(y1, y2) + 12, max(y1, y2) - 12
    middle = (y1 + y2) / 2
    for shift in (0, CLEARANCE, -CLEARANCE, 2 * CLEARANCE, -2 * CLEARANCE, 3 * CLEARANCE):
        y = middle + shift
        if (low <= y <= high or shift == 0) and all(
            abs(x - bx) >= CLEARANCE or abs(y - by) >= CLEARANCE for _, bx, by in placed
        ):
            return y
    return middle


def svg_arrow(step: Step, number: int, points: str) -> str:
    """Return one arrow, its step as a tooltip."""
    tip = f"{number}. {step.source} \u2192 {step.target.strip('<>')}: {step.text}"
    return (
        f'<g class="turnout-step"><title>{html.escape(tip)}</title>'
        f'<path d="{points}" fill="none" stroke-width="4.5" style="stroke: {BACKGROUND}"/>'
        f'<path d="{points}" fill="none" stroke="{PATH}" stroke-width="2" '
        f'stroke-linejoin="round" marker-end="url(#turnout-layers-arrow)"/></g>'
    )


def svg_badge(number: int, x: float, y: float) -> str:
    """Return a step's number in a disc."""
    return (
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="9.5" fill="{PATH}" stroke-width="1.5" '
        f'style="stroke: {BACKGROUND}"/><text x="{x:.1f}" y="{y + 4.5:.1f}" text-anchor="middle" '
        f'font-size="12.5" font-weight="bold" fill="#ffffff">{number}</text>'
    )

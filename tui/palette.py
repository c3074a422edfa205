"""Colours that stay legible on every theme, light ones included.

WCAG 2.x defines contrast from relative luminance (https://www.w3.org/TR/WCAG21/#dfn-contrast-ratio);
AA asks 4.5:1 for text and 3:1 for the parts of the interface a user must see (borders, bars).
A mode's colour (``ModeSpec.colour``) is its identity on screen; ``legible`` keeps its hue and
moves it toward black or white until it reaches the ratio on the background it is drawn on.
"""

from __future__ import annotations

from textual.color import Color

TEXT_CONTRAST = 4.5  # WCAG 2.1 AA, 1.4.3 (normal text)
GRAPHIC_CONTRAST = 3.0  # WCAG 2.1 AA, 1.4.11 (user interface components, graphics)


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(color: Color) -> float:
    """Relative luminance (0 black .. 1 white) of an opaque colour."""
    return 0.2126 * _channel(color.r) + 0.7152 * _channel(color.g) + 0.0722 * _channel(color.b)


def contrast(a: Color, b: Color) -> float:
    """WCAG contrast ratio of two opaque colours (1 .. 21)."""
    la, lb = luminance(a), luminance(b)
    high, low = max(la, lb), min(la, lb)
    return (high + 0.05) / (low + 0.05)


def legible(color: Color | str, background: Color, ratio: float = TEXT_CONTRAST) -> Color:
    """``color`` (its alpha blended onto ``background``), moved toward black or white in small
    steps until it has ``ratio`` against ``background``; the first step that does is returned,
    so the hue stays recognisable."""
    base = Color.parse(color) if isinstance(color, str) else color
    base = background.blend(base.with_alpha(1.0), base.a) if base.a < 1 else base
    if contrast(base, background) >= ratio:
        return base
    target = Color(0, 0, 0) if luminance(background) > 0.18 else Color(255, 255, 255)
    for step in range(1, 21):
        candidate = base.blend(target, step / 20)
        if contrast(candidate, background) >= ratio:
            return candidate
    return target


# Theme variables drawn as text on the app's surfaces, and those drawn on a block of colour.
TEXT_VARIABLES = ("foreground", "button-foreground", "text-primary", "text-secondary",
                  "text-accent", "text-warning", "text-error", "text-success")
FOOTER_VARIABLES = ("footer-foreground", "footer-key-foreground",
                    "footer-description-foreground")
ON_COLOUR = {  # text variable -> the backgrounds it is drawn on
    "block-cursor-foreground": ("block-cursor-background",),
    "button-color-foreground": ("primary", "success", "warning", "error"),
    # The app's own (``ON_COLOUR_DEFAULTS``): one per coloured button, so each gets its own.
    "on-primary": ("primary",),
    "on-success": ("success",),
    "on-warning": ("warning",),
    "on-error": ("error",),
}
ON_COLOUR_DEFAULTS = {"on-primary": "auto", "on-success": "auto", "on-warning": "auto",
                      "on-error": "auto"}
# Tints the app and Textual lay under text: result cards, program output, the step-mode note,
# a focused result, headers of tables.
TINTS = (("success", 0.10), ("error", 0.10), ("warning", 0.20), ("primary", 0.20),
         ("success", 0.08))
TEXT_MARGIN = 4.6  # a little over 4.5, so rounding in a terminal's colour cannot undo it


def _solid(value: str, under: Color) -> Color | None:
    try:
        color = Color.parse(value)
    except Exception:  # "auto 87%", "transparent", "initial": not a colour to adjust
        return None
    return under.blend(color.with_alpha(1.0), color.a) if color.a < 1 else color


def _all_legible(color: Color, backgrounds: list[Color]) -> Color:
    for _ in range(4):  # each background may pull a little; settle in a few passes
        for background in backgrounds:
            color = legible(color, background, TEXT_MARGIN)
    return color


def legible_variables(variables: dict[str, str]) -> dict[str, str]:
    """``variables`` (a theme's CSS variables) with every text colour moved, if it must be,
    until it reaches ``TEXT_MARGIN`` against each background it may be drawn on; text on a
    block of colour (buttons, the cursor row) is black or white, whichever contrasts more."""
    def solid(name: str, under: Color) -> Color | None:
        return _solid(variables.get(name, ""), under)

    base = solid("background", Color(0, 0, 0)) or Color(0, 0, 0)
    surfaces = [c for name in ("background", "surface", "panel")
                if (c := solid(name, base)) is not None]
    foreground = solid("foreground", base) or Color(255, 255, 255)
    backgrounds = list(surfaces)
    backgrounds += [s.blend(foreground, 0.05) for s in surfaces]  # table headers, hovers
    backgrounds += [s.blend(foreground, 0.10) for s in surfaces]
    for name, amount in TINTS:
        if (tint := solid(name, base)) is not None:
            backgrounds.append(base.blend(tint, amount))
    out = dict(variables)
    for name in TEXT_VARIABLES:
        if (color := solid(name, base)) is not None:
            out[name] = _all_legible(color, backgrounds).hex
    muted = Color.parse(out["foreground"]).blend(base, 0.3)
    out["text-muted"] = _all_legible(muted, backgrounds).hex
    footer = solid("footer-background", base)
    for name in FOOTER_VARIABLES:
        if footer is not None and (color := solid(name, footer)) is not None:
            out[name] = _all_legible(color, [footer, footer.blend(foreground, 0.05)]).hex
    for name, under in ON_COLOUR.items():
        blocks = [c for b in under if (c := solid(b, base)) is not None]
        if blocks:
            black, white = Color(0, 0, 0), Color(255, 255, 255)
            best = max((black, white), key=lambda c: min(contrast(c, b) for b in blocks))
            out[name] = best.hex
    return out


def theme_background(variables: dict[str, str]) -> Color:
    """The theme's background colour (opaque)."""
    return _solid(variables.get("background", "#000000"), Color(0, 0, 0)) or Color(0, 0, 0)

"""What a run costs: a per-model price table (USD per million tokens, input and output).

The bundled table is ``engine/prices.toml``. A ``prices.toml`` of the same layout in the user's
config directory overrides or adds models, entry by entry. The offline ``scripted`` provider is
priced as mistral-small for comparison and says so in its label. A broken override file is a
``PriceFileError`` whose message is one sentence naming the file and what to fix.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from engine.errors import ExplorerError
from engine.settings import paths

PRICES_FILE = "prices.toml"
SCRIPTED = "scripted"


class PriceFileError(ExplorerError, ValueError):
    """A price file that cannot be used; the message is one sentence saying how to fix it."""

    kind = "config"


@dataclass(frozen=True)
class Price:
    """The price of one model: USD per million input and output tokens."""

    model: str
    input_per_million: float
    output_per_million: float
    label: str = ""
    source: str = "bundled"

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (
            input_tokens * self.input_per_million + output_tokens * self.output_per_million
        ) / 1_000_000


def user_prices_path() -> Path:
    """Where a user's price overrides live: ``prices.toml`` in the config directory."""
    return paths().config / PRICES_FILE


def _read(text: str, where: str) -> dict[str, dict[str, Any]]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PriceFileError(
            f"The price file {where} is not valid TOML ({exc}); fix it or delete it."
        ) from None
    models = data.get("models", {})
    if not isinstance(models, dict) or not all(isinstance(v, dict) for v in models.values()):
        raise PriceFileError(
            f"The price file {where} needs a [models.<name>] table per model, "
            "with `input` and `output` in USD per million tokens."
        )
    return models


def _price(name: str, entry: dict[str, Any], table: dict[str, dict[str, Any]], where: str) -> Price:
    if "priced_as" in entry:
        target = str(entry["priced_as"])
        other = table.get(target)
        if other is None or "priced_as" in other:
            raise PriceFileError(
                f"In the price file {where}, model {name!r} is priced_as {target!r}, "
                "which is not a model with its own prices there."
            )
        base = _price(target, other, table, where)
        return Price(
            name,
            base.input_per_million,
            base.output_per_million,
            str(entry.get("label", f"priced as {target}")),
            base.source,
        )
    values = []
    for key in ("input", "output"):
        value = entry.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise PriceFileError(
                f"In the price file {where}, model {name!r} needs `{key}` as a non-negative "
                "number of US dollars per million tokens."
            )
        values.append(float(value))
    return Price(name, values[0], values[1], str(entry.get("label", "")), where)


_CACHE: dict[tuple[str, float | None], dict[str, Price]] = {}


def load_prices(override: Path | None = None) -> dict[str, Price]:
    """The bundled prices with the user's overrides (or ``override``) applied, by model name."""
    path = override if override is not None else user_prices_path()
    try:
        mtime: float | None = path.stat().st_mtime
    except OSError:
        mtime = None
    key = (str(path), mtime)
    if key in _CACHE:
        return _CACHE[key]
    bundled = resources.files("engine").joinpath(PRICES_FILE).read_text(encoding="utf-8")
    table = _read(bundled, "bundled with the app")
    sources = dict.fromkeys(table, "bundled")
    if mtime is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PriceFileError(f"The price file {path} cannot be read ({exc}).") from None
        user = _read(text, str(path))
        table = {**table, **user}
        sources.update(dict.fromkeys(user, str(path)))
    prices = {}
    for name, entry in table.items():
        price = _price(name, entry, table, sources[name])
        if "priced_as" not in entry:
            price = Price(
                name, price.input_per_million, price.output_per_million, price.label, sources[name]
            )
        prices[name] = price
    _CACHE.clear()  # only the latest file version is worth keeping
    _CACHE[key] = prices
    return prices


def _family(model: str) -> str:
    """``mistral-small-2506`` -> ``mistral-small``; ``mistral-small-latest`` -> the same."""
    return re.sub(r"-(latest|\d{4}(-\d{2})?)$", "", model)


def price_for(model: str, prices: dict[str, Price] | None = None) -> Price | None:
    """The price of ``model``: exact name, then its family (dated versions), else None."""
    table = prices if prices is not None else load_prices()
    if model in table:
        return table[model]
    if model.startswith(SCRIPTED) and SCRIPTED in table:
        return table[SCRIPTED]
    family = _family(model)
    for name, price in table.items():
        if _family(name) == family:
            return price
    return None


def cost(model: str, input_tokens: int, output_tokens: int) -> float:
    """USD cost of a request or run on ``model``; 0.0 for a model with no known price."""
    price = price_for(model)
    return price.cost(input_tokens, output_tokens) if price else 0.0


def price_label(model: str) -> str:
    """How a cost on ``model`` should be labelled (scripted: priced as a real model)."""
    price = price_for(model)
    if price is None:
        return f"no price known for {model}"
    return price.label or f"{price.model} list price"

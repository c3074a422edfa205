"""Token and cost accounting of one agent run, by source, without re-encoding the history.

Each message is counted once, when it joins the conversation, with its source (system prompt,
tool schemas or API text, task prompt, earlier assistant turns, tool results or execution
output); a request's input is then a sum, never a re-encode of the history. The counting is
``engine.tokens.TokenLedger``'s (Tekken, the tokenizer of Mistral's models); this adds the
per-round and per-run totals, the API's own figures when it reports them, and the cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.events import TOKEN_SOURCES
from engine.pricing import cost
from engine.providers.base import ToolCallChunk
from engine.tokens import TokenLedger, count_text


@dataclass
class Totals:
    input_tokens: int = 0
    output_tokens: int = 0
    breakdown: dict[str, int] = field(default_factory=dict)
    api_input_tokens: int | None = None
    api_output_tokens: int | None = None


class RunMeter:
    """Counts one run's tokens by source, per round and in total, and prices them."""

    def __init__(self) -> None:
        self.ledger = TokenLedger()
        self.rounds = 0
        self._totals = Totals(breakdown=dict.fromkeys(TOKEN_SOURCES, 0))
        self._api_complete = True
        self._last_round: tuple[int, int, int | None, int | None] = (0, 0, None, None)

    def set_tools(self, tools: list[dict[str, Any]] | str | None) -> int:
        """The tool schemas (tool calling) or the API text (CodeAct), counted once."""
        return self.ledger.set_tools(tools)

    def add_message(self, message: dict[str, Any], source: str) -> None:
        """Count a message once, as it joins the conversation, under ``source``."""
        self.ledger.add(message, source)

    def count(self, text: str) -> int:
        return count_text(text)

    def request_tokens(self) -> tuple[int, dict[str, int]]:
        """Input tokens of the next request, in total and by source."""
        return self.ledger.input_tokens(), self.ledger.breakdown()

    def output_tokens(self, text: str, calls: list[ToolCallChunk]) -> int:
        return self.ledger.count_output(text, calls)

    def add_round(
        self,
        input_tokens: int,
        output_tokens: int,
        breakdown: dict[str, int],
        api_input: int | None,
        api_output: int | None,
    ) -> None:
        t = self._totals
        self.rounds += 1
        t.input_tokens += input_tokens
        t.output_tokens += output_tokens
        for source, n in breakdown.items():
            t.breakdown[source] = t.breakdown.get(source, 0) + n
        if api_input is None or api_output is None:
            self._api_complete = False
        else:
            t.api_input_tokens = (t.api_input_tokens or 0) + api_input
            t.api_output_tokens = (t.api_output_tokens or 0) + api_output
        self._last_round = (input_tokens, output_tokens, api_input, api_output)

    def totals(self) -> Totals:
        t = self._totals
        if self._api_complete and self.rounds:
            return t
        # A total mixing rounds with and without the API's figure would be neither.
        return Totals(t.input_tokens, t.output_tokens, dict(t.breakdown), None, None)

    def round_cost(self, model: str) -> float:
        i, o, ai, ao = self._last_round
        return _cost(model, ai if ai is not None else i, ao if ao is not None else o)

    def cost(self, model: str) -> float:
        t = self.totals()
        i = t.api_input_tokens if t.api_input_tokens is not None else t.input_tokens
        o = t.api_output_tokens if t.api_output_tokens is not None else t.output_tokens
        return _cost(model, i, o)


def _cost(model: str, input_tokens: int, output_tokens: int) -> float:
    try:
        return float(cost(model, input_tokens, output_tokens))
    except Exception:  # a broken price file must not stop the run: `doctor` reports it
        return 0.0

"""How long a model takes to answer: the latency model of the scripted and replay providers.

A streamed reply costs the **time to first token** — a fixed overhead (network, queueing) plus
the prefill of the request's input tokens — then the **decode** of its output tokens::

    ttft_ms  = overhead_ms + 1000 * input_tokens / prefill_tokens_per_s
    total_ms = ttft_ms     + 1000 * output_tokens / decode_tokens_per_s

This is what makes the race's clock honest: tool calling resends ~18k tokens of schemas every
round and pays their prefill each time; CodeAct's prompts are short but its replies (programs)
are long. The defaults (``MISTRAL_SMALL``) are Mistral Small on Mistral's own API:

- decode: **112 output tokens/s** — Artificial Analysis, "Mistral Small 3.1: API Provider
  Benchmarking & Analysis" (https://artificialanalysis.ai/models/mistral-small-3-1/providers),
  median output speed of the Mistral endpoint on their default workload (about 1,000 input
  tokens, 1,000 output tokens; methodology at
  https://artificialanalysis.ai/methodology/performance-benchmarking). Mistral's own launch
  post for Small 3 says "150 tokens/s" (https://mistral.ai/news/mistral-small-3), on their
  hardware; we keep the independent API measurement.
- time to first token at ~1,000 input tokens: **0.29 s** — the same Artificial Analysis page.
- prefill rate: **10,000 input tokens/s — an estimate, not a measurement.** No published
  per-token prefill figure for Mistral's API was found. It is the compute bound of a dense 24B
  model (about 2 x 24e9 FLOP per token) on one H100 SXM (989 dense BF16 TFLOPS, NVIDIA's data
  sheet) at about 50% utilisation. The overhead is then 290 - 1000 * 1,000 / 10,000 = 190 ms,
  so the model reproduces the measured 0.29 s at the measured workload.

A provider that plays a reply at ``pace`` (a time scale: 1 = the model's real speed, 0.5 =
twice as fast, 0 = instant) sleeps ``pace`` times these durations; the ``RoundTiming`` it
reports is always the model's own (unscaled), so the pane and the bench say how long the real
model would take whatever the playback speed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from engine.errors import UserError

TimingSource = Literal["modeled", "recorded", "measured"]


@dataclass(frozen=True)
class LatencyModel:
    """Prefill-plus-decode timing of one reply (see the module doc for the formula and figures).

    ``overhead_ms``: fixed part of the time to first token (ms). ``prefill_tokens_per_s``: input
    tokens processed per second before the first output token. ``decode_tokens_per_s``: output
    tokens streamed per second after it.
    """

    overhead_ms: float = 190.0
    prefill_tokens_per_s: float = 10_000.0
    decode_tokens_per_s: float = 112.0

    def ttft_ms(self, input_tokens: int) -> float:
        """Time to first token (ms) for a request of ``input_tokens`` tokens."""
        return self.overhead_ms + 1000.0 * max(0, input_tokens) / self.prefill_tokens_per_s

    def decode_ms(self, output_tokens: int) -> float:
        """Time (ms) to stream ``output_tokens`` tokens once the first one has arrived."""
        return 1000.0 * max(0, output_tokens) / self.decode_tokens_per_s

    def timing(self, input_tokens: int, output_tokens: int) -> RoundTiming:
        """The modeled timing of a whole reply."""
        ttft = self.ttft_ms(input_tokens)
        return RoundTiming(ttft, ttft + self.decode_ms(output_tokens), "modeled")


MISTRAL_SMALL = LatencyModel()


@dataclass(frozen=True)
class RoundTiming:
    """How long one reply took: time to first token and to the end of the stream (ms).

    ``source``: "modeled" (``LatencyModel``), "recorded" (a replayed run's own timing) or
    "measured" (the wall clock around a live provider's stream).
    """

    ttft_ms: float
    total_ms: float
    source: TimingSource


def check_pace(pace: float) -> float:
    """``pace`` as a playback time scale, or ``UserError`` (a ``ValueError``) with one sentence
    saying why not.

    0 plays instantly, 1 at the model's real speed, 2 twice as slow; negative, infinite and
    NaN values are refused.
    """
    if math.isnan(pace) or math.isinf(pace) or pace < 0:
        raise UserError(f"--pace must be a number of 0 or more (1 = the model's real speed, "
                        f"0 = instant), not {pace:g}.")
    return float(pace)

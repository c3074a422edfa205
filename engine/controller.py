"""``Race``: both agents on the same task at once, as one merged stream of events.

The TUI and the bench drive runs only through this. Each agent runs in its own asyncio task on
its own platform copy (and, for CodeAct, its own sandbox); their events are merged in the order
they happen. Step mode pauses every agent before each round until ``step()``; ``cancel()`` stops
both promptly. Nothing escapes as an exception: a provider that cannot be made (no API key), a
failing provider, a broken sandbox — each becomes a ``RunError`` in that agent's stream, its run
ends with ``RunFinished``, and the other agent keeps running.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from engine.agents import AGENTS, Agent, StepGate
from engine.agents.parts import new_race_id, one_sentence
from engine.events import MODES, Event, Mode, RunError, RunFinished
from engine.prompts import load_prompts
from engine.providers import make_provider
from engine.providers.base import ChatRequest, Provider, ProviderError, StreamChunk
from engine.run import RunConfig

ProviderFactory = Callable[..., Provider]
_DONE = object()


class _UnavailableProvider:
    """Stands in for a provider that could not be made; its first request reports why."""

    scripted = False

    def __init__(self, name: str, model: str | None, error: ProviderError) -> None:
        self.name, self.model, self.error = name, model or "-", error

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        raise self.error
        yield  # pragma: no cover - makes this an async generator

    async def aclose(self) -> None:
        return None


class Race:
    """Runs ``task`` in each of ``modes`` concurrently under one ``RunConfig``.

    ``step_mode`` can be set at any time; ``step()`` lets every waiting agent play one round;
    ``cancel()`` stops both (each ends with ``RunFinished(stop_reason="cancelled")``);
    ``events()`` starts the race and yields the merged events until every agent has finished.
    After the race, ``results`` maps each mode to its ``RunFinished``.
    """

    def __init__(
        self,
        task: Any,
        modes: Sequence[Mode] = MODES,
        config: RunConfig | None = None,
        *,
        provider_factory: ProviderFactory | None = None,
        sandbox_factory: Callable[..., Any] | None = None,
    ) -> None:
        self.task = task
        self.modes: tuple[Mode, ...] = tuple(dict.fromkeys(modes))
        unknown = [m for m in self.modes if m not in AGENTS]
        if not self.modes or unknown:
            raise ValueError(f"modes must be among {', '.join(MODES)}; got {list(modes)}")
        self.config = config or RunConfig()
        self.race_id = new_race_id(task.id)
        self.run_ids: dict[Mode, str] = {m: f"{self.race_id}-{m}" for m in self.modes}
        self.results: dict[Mode, RunFinished] = {}
        self._gate = StepGate()
        self._provider_factory = provider_factory or make_provider
        self._sandbox_factory = sandbox_factory
        self._agents: dict[Mode, Agent] = {}
        self._cancelled = False
        self._started = False

    @property
    def step_mode(self) -> bool:
        return self._gate.step_mode

    @step_mode.setter
    def step_mode(self, value: bool) -> None:
        self._gate.step_mode = value

    def step(self) -> None:
        """Release every agent waiting in step mode for one round."""
        self._gate.step()

    def cancel(self) -> None:
        """Stop both agents promptly; each run ends with stop_reason "cancelled"."""
        self._cancelled = True
        for agent in self._agents.values():
            agent.cancel()
        self._gate.step()

    @property
    def finished(self) -> bool:
        return self._started and len(self.results) == len(self.modes)

    def _provider(self, mode: Mode) -> Provider:
        c = self.config
        try:
            return self._provider_factory(
                c.provider, task=self.task, mode=mode, model=c.model, pace=c.pace,
                replay_path=c.replay_path,
            )
        except ProviderError as exc:
            return _UnavailableProvider(c.provider, c.model, exc)
        except Exception as exc:
            return _UnavailableProvider(c.provider, c.model, ProviderError(
                f"The {c.provider} provider could not start: {one_sentence(exc)}",
                kind="config"))

    def _build(self) -> None:
        prompts = self.config.prompts or load_prompts(self.task.id)
        providers = {mode: self._provider(mode) for mode in self.modes}
        pacers = [p.pacer for p in providers.values() if hasattr(p, "pacer")]
        for provider in providers.values():
            if pacers and hasattr(provider, "pacer"):
                # One request budget for the race: a slow tier's rate is per key, not per agent.
                provider.pacer = pacers[0]
        for mode, provider in providers.items():
            kwargs: dict[str, Any] = {}
            if mode == "codeact" and self._sandbox_factory is not None:
                kwargs["sandbox_factory"] = self._sandbox_factory
            self._agents[mode] = AGENTS[mode](
                self.task, provider, self.config, prompts=prompts, gate=self._gate,
                run_id=self.run_ids[mode], race_id=self.race_id, **kwargs,
            )
            if self._cancelled:
                self._agents[mode].cancel()

    async def events(self) -> AsyncIterator[Event]:
        """Start the race; yield both agents' events as they happen, until both finished."""
        if self._started:
            raise RuntimeError("a Race runs once; make a new one to run again")
        self._started = True
        self._build()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        tasks = [asyncio.create_task(self._pump(agent, queue), name=f"agent-{mode}")
                 for mode, agent in self._agents.items()]
        running = len(tasks)
        try:
            while running:
                item = await queue.get()
                if item is _DONE:
                    running -= 1
                    continue
                if isinstance(item, RunFinished):
                    self.results[item.mode] = item
                yield item
        finally:
            for agent, task in zip(self._agents.values(), tasks, strict=True):
                if not task.done():
                    agent.cancel()
                    task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for agent in self._agents.values():
                with contextlib.suppress(Exception):
                    await agent.provider.aclose()

    async def _pump(self, agent: Agent, queue: asyncio.Queue[Any]) -> None:
        finished = False
        try:
            async for event in agent.run():
                finished = finished or isinstance(event, RunFinished)
                queue.put_nowait(event)
        except Exception as exc:  # the agent guards itself; this is the last safety net
            if not finished:
                message = f"The {agent.mode} agent stopped: {one_sentence(exc)}"
                queue.put_nowait(agent.event(RunError, round=agent.round, kind="internal",
                                             message=message, fatal=True))
                queue.put_nowait(agent.event(
                    RunFinished, stop_reason="error", success=False, answer=agent.answer,
                    verdict=[message], rounds=agent.meter.rounds, input_tokens=0,
                    output_tokens=0))
        finally:
            queue.put_nowait(_DONE)

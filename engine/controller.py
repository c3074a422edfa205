"""``Race``: agents of several modes on the same task at once, as one merged stream of events.

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

from engine.agents import Agent, StepGate
from engine.agents.codeact import SandboxFactory
from engine.agents.parts import new_race_id
from engine.errors import one_sentence
from engine.events import Event, RunError, RunFinished
from engine.modes import DEFAULT_RACE, ModeSpec, mode
from engine.prompts import load_prompts
from engine.providers import ProviderOptions, make_provider
from engine.providers.base import ChatRequest, Provider, ProviderError, StreamChunk
from engine.run import RunConfig
from engine.toolbox import Toolbox
from tasks.suite import Task

# (provider name, options) -> a provider; ``engine.providers.make_provider`` by default.
ProviderFactory = Callable[[str, ProviderOptions], Provider]
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
    """Runs ``task`` in each of ``modes`` (ids of ``engine.modes``) concurrently under one
    ``RunConfig``; ``ValueError`` (``UnknownModeError``) for an unknown or empty list of modes.

    ``step_mode`` can be set at any time; ``step()`` lets every waiting agent play one round;
    ``cancel()`` stops both (each ends with ``RunFinished(stop_reason="cancelled")``);
    ``events()`` starts the race and yields the merged events until every agent has finished.
    After the race, ``results`` maps each mode to its ``RunFinished``.
    """

    def __init__(
        self,
        task: Task,
        modes: Sequence[str] = DEFAULT_RACE,
        config: RunConfig | None = None,
        *,
        provider_factory: ProviderFactory | None = None,
        sandbox_factory: SandboxFactory | None = None,
    ) -> None:
        self.task = task
        self.specs: tuple[ModeSpec, ...] = tuple(mode(m) for m in dict.fromkeys(modes))
        if not self.specs:
            raise ValueError("a race needs at least one mode")
        self.modes: tuple[str, ...] = tuple(s.id for s in self.specs)
        self.config = config or RunConfig()
        self.race_id = new_race_id(task.id)
        self.run_ids: dict[str, str] = {m: f"{self.race_id}-{m}" for m in self.modes}
        self.results: dict[str, RunFinished] = {}
        self._gate = StepGate()
        self._provider_factory = provider_factory or make_provider
        self._sandbox_factory = sandbox_factory
        self._agents: dict[str, Agent] = {}
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

    def _provider(self, spec: ModeSpec, tools: Callable[[], Toolbox]) -> Provider:
        c = self.config
        options = ProviderOptions(task=self.task, mode=spec, model=c.model, pace=c.pace,
                                  replay_path=c.replay_path, tools=tools,
                                  server_url=c.server_url, rate=c.rate)
        try:
            return self._provider_factory(c.provider, options)
        except ProviderError as exc:
            return _UnavailableProvider(c.provider, c.model, exc)
        except Exception as exc:
            return _UnavailableProvider(c.provider, c.model, ProviderError(
                f"The {c.provider} provider could not start: {one_sentence(exc)}",
                kind="config"))

    def _build(self) -> None:
        prompts = self.config.prompts or load_prompts(self.task.id)
        pacer: Any = None
        agents = self._agents
        for spec in self.specs:

            def tools(mode_id: str = spec.id) -> Toolbox:
                return agents[mode_id].open_tools()

            provider = self._provider(spec, tools)
            if hasattr(provider, "pacer"):
                # One request budget for the race: a slow tier's rate is per key, not per agent.
                pacer = pacer or provider.pacer
                provider.pacer = pacer
            kwargs: dict[str, Any] = {}
            if spec.needs_sandbox and self._sandbox_factory is not None:
                kwargs["sandbox_factory"] = self._sandbox_factory
            self._agents[spec.id] = spec.agent(
                self.task, provider, self.config, spec=spec, prompts=prompts, gate=self._gate,
                run_id=self.run_ids[spec.id], race_id=self.race_id, **kwargs,
            )
            if self._cancelled:
                self._agents[spec.id].cancel()

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
            # Over: each provider's ``tools`` closes over this dict, a cycle with every agent
            # (and its history) that only a full garbage collection could free; the app keeps
            # the collector off long-lived objects (tui.gc_policy), so it is cut here.
            self._agents.clear()

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

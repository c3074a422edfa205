"""Command palette commands (ctrl+p): every action, every task, mode, provider and pace.

Commands that would do nothing right now (running while a run is on, say) are left out, the
same rule the footer follows.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from engine.providers import PROVIDERS as PROVIDER_REGISTRY
from tui.choices import PROVIDERS, describe_modes, mode_sets
from tui.screens.race import RaceScreen

PACES = (0.0, 0.5, 1.0, 2.0)  # playback time scale: 1 = the model's real speed
Command = tuple[str, Callable[[], object], str]


def race_commands(screen: RaceScreen) -> list[Command]:
    """The palette's commands for the race screen as it is now."""
    actions = [
        ("run", "Run the race", "start every chosen agent on the chosen task"),
        ("stop", "Stop the race", "cancel every agent now"),
        ("toggle_step", "Toggle step mode", "pause before every round"),
        ("next_round", "Next round", "advance every agent one round (step mode)"),
        ("edit_prompts", "Edit prompts", "system prompts and task prompt; save, rerun"),
        ("reset_prompts", "Prompts: reset to the bundled ones",
         "your saved edits of the raced modes' and this task's prompts go (asks first)"),
        ("history", "History", "replay or export a past run"),
        ("settings", "Setup", "task, task file, modes, provider, model, pace"),
        ("toggle_folding", "Fold or open the rounds", "fold all but the latest, or open all"),
        ("summary", "Race summary", "tokens, savings, rounds, time and cost per mode"),
        ("screenshot", "Save a screenshot", "an SVG of the screen in the export folder"),
    ]
    commands: list[Command] = []
    for action, title, help_text in actions:
        if screen.check_action(action, ()):
            commands.append((title, getattr(screen, f"action_{action}"), help_text))
    if screen.running:
        return commands
    choice = screen.choice
    for task in screen.tasks:
        commands.append((f"Task: {task.title}",
                         partial(screen.set_choice, choice.with_(task_id=task.id)),
                         task.prompt[:80]))
    for modes in mode_sets():
        commands.append((f"Modes: {describe_modes(modes)}",
                         partial(screen.set_choice, choice.with_(modes=modes)), "next run"))
    for provider in PROVIDERS:
        spec = PROVIDER_REGISTRY[provider]
        commands.append((f"Provider: {spec.label}",
                         partial(screen.set_choice, choice.with_(provider=provider)),
                         spec.missing() or spec.description))
    for pace in PACES:
        commands.append((f"Pace: {pace:g}x",
                         partial(screen.set_choice, choice.with_(pace=pace)),
                         "time scale of the scripted agent and replays: 1 = the model's "
                         "real speed, 0 = instant"))
    return commands


class ExplorerCommands(Provider):
    """The app's own commands in the palette."""

    def _commands(self) -> list[Command]:
        screen = getattr(self.app, "race_screen", None)
        return race_commands(screen) if isinstance(screen, RaceScreen) else []

    async def discover(self) -> Hits:
        for title, callback, help_text in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, callback, help_text in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)

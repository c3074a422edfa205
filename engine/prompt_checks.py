"""Whether a race run with edited prompts can still be judged and compared, said before it runs.

Editing prompts is the point of the prompt editor, but two edits make a race say something false:

- **not judged**: the provider does not read prompts (the scripted agent plays the bundled task's
  reference programs; a replay plays what was recorded), and the task prompt sent differs from
  the one it plays. The run is not judged as a success of the edited task: ``RunFinished`` has
  ``judged=False`` and ``success=False``, with the reason as its verdict.
- **not comparable**: a mode's system prompt lost the placeholder through which the model is
  shown its tools (CodeAct's ``{api}``, ``ModeSpec.tools_placeholder``). Its token count then
  leaves out the API listing the comparison is about (and the scripted agent still writes
  correct code). ``RunFinished`` has ``comparable=False``; the bench leaves such pairs out of
  the savings.

A third, informational kind, **tokens only**: system prompts edited for a provider that does not
read them change the token counts, not what the agent does.

``rerun_warnings`` is what the prompt editor calls before a rerun; the agent calls
``check_prompts`` itself at the start of every run and reports each warning as a non-fatal
``RunError`` in round 1 (kind ``not_judged``, ``not_comparable`` or ``tokens_only``).
``edited_prompts`` says it before any run: which raced modes would send saved edits, and what
each of their runs will report, so the app can show it from the moment it opens (saved edits
carry over from one session to the next).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from engine.prompts import PromptSet
from engine.providers import provider_spec

if TYPE_CHECKING:
    from engine.modes import ModeSpec

WarningKind = Literal["not_judged", "not_comparable", "tokens_only"]


@dataclass(frozen=True)
class PromptWarning:
    """One thing a run with these prompts would get wrong: its kind, the mode id it concerns
    (None: every mode of the race) and one sentence for the user."""

    kind: WarningKind
    mode: str | None
    message: str


def check_prompts(
    task: Any,
    prompts: PromptSet,
    modes: Sequence[ModeSpec],
    *,
    played_prompt: str | None,
    provider_label: str,
) -> list[PromptWarning]:
    """The warnings for a run of ``task`` in ``modes`` with ``prompts``.

    ``played_prompt`` is the task prompt the provider's replies answer whatever is sent (the
    bundled task's for the scripted agent, the recorded one for a replay), or None for a
    provider that reads its prompts (a live model). ``provider_label`` names the provider in
    the sentences ("Scripted reference agent").
    """
    found: list[PromptWarning] = []
    who = provider_label[:1].lower() + provider_label[1:]
    if played_prompt is not None:
        sent = prompts.task_prompt(task.prompt)
        if " ".join(sent.split()) != " ".join(played_prompt.split()):
            found.append(PromptWarning(
                "not_judged", None,
                f"The {who} does not read prompts: it plays the task it was made for, not the "
                "edited task prompt, so the run is not judged (token counts change, behaviour "
                "does not)."))
        edited = [m.label for m in modes if m.prompt in prompts.overridden()]
        if edited:
            found.append(PromptWarning(
                "tokens_only", None,
                f"The {who} does not read prompts: the edited {' and '.join(edited)} system "
                f"prompt{'s change' if len(edited) > 1 else ' changes'} the token counts, not "
                "what it does."))
    for spec in modes:
        placeholder = spec.tools_placeholder
        if placeholder and placeholder not in prompts.system_template(spec.prompt):
            found.append(PromptWarning(
                "not_comparable", spec.id,
                f"The {spec.label} system prompt has no {placeholder}: the model is not shown "
                "its tools, so its tokens are not comparable and the run is marked so."))
    return found


def rerun_warnings(task: Any, prompts: PromptSet, provider: str,
                   modes: Sequence[ModeSpec]) -> list[PromptWarning]:
    """What the prompt editor shows before a rerun of ``task`` in ``modes`` with ``prompts`` on
    the registered ``provider`` (a name of ``engine.providers``); empty when the run will be
    judged and compared as usual. Raises ``ProviderError`` for an unknown provider."""
    spec = provider_spec(provider)
    return check_prompts(task, prompts, modes,
                         played_prompt=None if spec.reads_prompts else task.prompt,
                         provider_label=spec.label)


@dataclass(frozen=True)
class EditedPrompts:
    """One raced mode that would send prompts edited from the bundled ones.

    ``mode``: its id; ``edited``: which of its prompts differ, among ``"system"`` (its system
    prompt, ``ModeSpec.prompt``) and ``"task"`` (the task prompt); ``warnings``: what its run
    will report about them in round 1 (``check_prompts`` for this mode alone).
    """

    mode: str
    edited: tuple[str, ...]
    warnings: tuple[PromptWarning, ...]


def edited_prompts(task: Any, prompts: PromptSet, provider: str,
                   modes: Sequence[ModeSpec]) -> list[EditedPrompts]:
    """The modes of ``modes`` (in that order) that would race ``task`` with prompts edited from
    the bundled ones (``prompts``: what the run would send, e.g. ``load_prompts(task.id)``), on
    the registered ``provider``; empty when every raced prompt is the bundled one. Raises
    ``ProviderError`` for an unknown provider."""
    spec = provider_spec(provider)
    overridden = prompts.overridden()
    task_edited = " ".join(prompts.task_prompt(task.prompt).split()) != " ".join(
        task.prompt.split())
    found: list[EditedPrompts] = []
    for mode in modes:
        edited = (("system",) if mode.prompt in overridden else ()) + (
            ("task",) if task_edited else ())
        if edited:
            warnings = check_prompts(task, prompts, [mode],
                                     played_prompt=None if spec.reads_prompts else task.prompt,
                                     provider_label=spec.label)
            found.append(EditedPrompts(mode.id, edited, tuple(warnings)))
    return found


__all__ = ["EditedPrompts", "PromptWarning", "WarningKind", "check_prompts", "edited_prompts",
           "rerun_warnings"]

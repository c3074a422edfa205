"""The one second chance every mode gets: a reply that does nothing and is not an answer.

Each agent says what *acting* is in its mode: for tool calling, a reply with tool calls (they
run); for CodeAct, a reply with a Python program not run before (it runs). A reply that does not
act is the run's final answer, unless it is clearly not one:

- it is empty;
- its prose ends on a colon or an ellipsis ("Here is what I will check:"), or its last sentence
  is a first-person plan ("Let me first look up the user.", "I'll check her team next.") but
  not a courtesy ("Let me know if you need more."): ``engine.agents.code_blocks
  .announces_action``, tuned to be sure rather than complete (a reply it misses is the answer);
- CodeAct only, because only CodeAct leaves something out: nothing but code that already ran
  (a reply that repeats a program is not run again, so it did nothing; a tool call always runs).

Such a reply gets **one nudge per run, in every mode**: the reply goes into the history as the
assistant's message, then a user message saying that nothing ran and how to act or answer,
counted under "results" (it is what the environment answers, as CodeAct's empty-output hint
is), and a non-fatal ``RunError(kind="nudge")`` for the panes, the run record and the bench.
After that, a reply that does not act is the answer, so a model that only talks cannot loop,
and neither mode gets a second chance the other lacks. The same detector reads both modes'
replies, so the same words get the same treatment (tests/test_nudge_policy.py runs the same
replies through both agents). Each mode's bundled system prompt says so in one sentence ("Do not
announce a step without its code / tool call: such a reply is sent back once, then taken as your
answer.").

An empty reply goes back as an assistant message of one space: Mistral refuses an assistant
message with neither content nor tool calls (mistral-common's v3 validation, which the strict
stand-in tests/fake_mistral.py applies), and leaving the turn out would put the nudge right after
a tool message, which the API refuses too.
"""

from __future__ import annotations

from engine.agents.code_blocks import ReplyParts, announces_action, read_reply

# What an empty reply is sent back as (see the module docstring).
EMPTY_REPLY = " "


def not_an_answer(reply: str | ReplyParts) -> bool:
    """Whether a reply that did not act (its text, or the text already read by ``read_reply``)
    is clearly not a final answer: empty, ending on a colon or an ellipsis, or announcing a
    step. The same rule in every mode."""
    return announces_action(read_reply(reply) if isinstance(reply, str) else reply)


def assistant_content(text: str) -> str:
    """The content of the assistant message that carries a reply without tool calls: the reply
    as written, or ``EMPTY_REPLY`` when it is empty."""
    return text if text else EMPTY_REPLY


__all__ = ["EMPTY_REPLY", "assistant_content", "not_an_answer"]

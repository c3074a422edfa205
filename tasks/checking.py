"""Tools the checkers share: what changed between two states, and reading an answer's facts.

Answers are read tolerantly: names case-insensitively with any spacing, numbers in any common
format (``1,234.5``, ``1234.50``, ``1 234``), rounded or not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Record = dict[str, Any]
State = Mapping[str, Iterable[Mapping[str, Any]]]

_NUMBER = re.compile(r"(?<![\w.])-?\d{1,3}(?:[,\u202f\u00a0 ]\d{3})+(?:\.\d+)?(?!\d)"
                     r"|(?<![\w.])-?\d+(?:\.\d+)?")
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
          "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
          "eighteen", "nineteen", "twenty")
_NEGATION = re.compile(r"\b(no|none|nobody|no one|not|never|zero|nothing|hasn't|haven't|"
                       r"didn't|there (?:are|were) no)\b", re.IGNORECASE)


@dataclass
class Changes:
    """Records created, updated (before, after) and deleted between two states, by resource."""

    created: dict[str, list[Record]] = field(default_factory=dict)
    updated: dict[str, list[tuple[Record, Record]]] = field(default_factory=dict)
    deleted: dict[str, list[Record]] = field(default_factory=dict)

    def count(self) -> int:
        return sum(len(v) for part in (self.created, self.updated, self.deleted)
                   for v in part.values())

    def describe(self) -> str:
        parts = [f"{len(v)} {k} {verb}" for verb, part in
                 (("created", self.created), ("updated", self.updated), ("deleted", self.deleted))
                 for k, v in part.items() if v]
        return ", ".join(parts) or "no changes"


def diff(initial: State, final: State) -> Changes:
    """What differs between ``initial`` and ``final`` (both resource -> records)."""
    changes = Changes()
    for name in set(initial) | set(final):
        before = {r["id"]: dict(r) for r in initial.get(name, ())}
        after = {r["id"]: dict(r) for r in final.get(name, ())}
        created = [after[i] for i in sorted(after.keys() - before.keys())]
        deleted = [before[i] for i in sorted(before.keys() - after.keys())]
        updated = [(before[i], after[i]) for i in sorted(before.keys() & after.keys())
                   if before[i] != after[i]]
        if created:
            changes.created[name] = created
        if deleted:
            changes.deleted[name] = deleted
        if updated:
            changes.updated[name] = updated
    return changes


def rows(state: State, resource: str) -> list[Record]:
    """The records of ``resource`` as plain dicts."""
    return [dict(r) for r in state.get(resource, ())]


def by_id(state: State, resource: str) -> dict[int, Record]:
    return {r["id"]: r for r in rows(state, resource)}


def find(state: State, resource: str, **match: Any) -> Record:
    """The one record whose fields equal ``match`` (names compared case-insensitively)."""
    for r in rows(state, resource):
        if all(_same(r.get(k), v) for k, v in match.items()):
            return r
    raise LookupError(f"no {resource} record matches {match}")


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return norm(a) == norm(b)
    return a == b


def norm(text: str) -> str:
    """Lowercase, straight quotes, single spaces: for tolerant text comparisons."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"')
    return " ".join(text.replace("\u201d", '"').lower().split())


def mentions(answer: str, phrase: str) -> bool:
    """Whether ``phrase`` occurs in ``answer``, ignoring case, quotes style and spacing."""
    return norm(phrase) in norm(answer)


def numbers(text: str) -> list[float]:
    """Every number written in ``text``, thousands separators removed."""
    found = []
    text = _DATE.sub(" ", text)  # the parts of 2025-06-05 are not quantities
    for match in _NUMBER.findall(text):
        cleaned = re.sub(r"[,\u202f\u00a0 ]", "", match)
        try:
            found.append(float(cleaned))
        except ValueError:
            continue
    return found


def mentions_number(text: str, value: float, *, rounding: float = 0.5) -> bool:
    """Whether ``text`` states ``value``, exactly or rounded (to within ``rounding``)."""
    return any(abs(n - value) <= rounding + 1e-9 for n in numbers(text))


def mentions_count(text: str, count: int) -> bool:
    """Whether ``text`` states the whole number ``count``, in digits or (up to 20) in words."""
    if any(n == count for n in numbers(text)):
        return True
    return count < len(_WORDS) and re.search(rf"\b{_WORDS[count]}\b", text, re.I) is not None


def mentions_all_or_count(text: str, count: int, labels: Iterable[str]) -> bool:
    """Whether ``text`` gives how many (``count``) or names every one of ``labels``."""
    labels = list(labels)
    return mentions_count(text, count) or (bool(labels) and all(mentions(text, lb)
                                                                for lb in labels))


def mentions_record(text: str, record_id: int, label: str) -> bool:
    """Whether ``text`` names a record by its label or by its id (#12, bug 12, id 12)."""
    return mentions(text, label) or re.search(
        rf"(#|\b(?:id|bug|task|no\.?)\s*#?\s*){record_id}\b", text, re.I) is not None


def says_none(text: str) -> bool:
    """Whether ``text`` says there is nothing (no, none, nobody, ...)."""
    return _NEGATION.search(text) is not None and not re.search(r"^\W*yes\b", text, re.I)


def segment(text: str, phrase: str, others: Iterable[str]) -> str:
    """The part of ``text`` from ``phrase`` to the next of ``others`` (the facts about it)."""
    low = norm(text)
    start = low.find(norm(phrase))
    if start < 0:
        return ""
    end = len(low)
    for other in others:
        pos = low.find(norm(other), start + len(norm(phrase)))
        if pos >= 0 and norm(other) != norm(phrase):
            end = min(end, pos)
    return low[start:end]


def only_changes(changes: Changes, allowed: dict[str, set[str]]) -> list[str]:
    """Reasons for changes outside ``allowed`` ({resource: {"created"|"updated"|"deleted"}})."""
    reasons = []
    for verb, part in (("created", changes.created), ("updated", changes.updated),
                       ("deleted", changes.deleted)):
        for resource, recs in part.items():
            if verb not in allowed.get(resource, set()):
                ids = ", ".join(str((r[0] if isinstance(r, tuple) else r)["id"]) for r in recs)
                reasons.append(f"unexpected: {resource} {verb} (ids {ids})")
    return reasons

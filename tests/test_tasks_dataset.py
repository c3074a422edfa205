"""The seeded dataset: same bytes every run, real relations, fast, and copies independent."""

from __future__ import annotations

import os
import subprocess
import sys

from tasks.catalog import RESOURCES
from tasks.dataset import (
    TODAY,
    _Builder,
    copy_dataset,
    dataset_fingerprint,
    dataset_json,
    initial_dataset,
)
from tasks.platform import new_platform
from tasks.stories import stage_stories

_PRINT_FINGERPRINT = "from tasks.dataset import dataset_fingerprint; print(dataset_fingerprint())"


def test_same_bytes_in_another_process_with_another_hash_seed() -> None:
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", _PRINT_FINGERPRINT], env=env, check=True,
                         capture_output=True, text=True).stdout.strip()
    assert out == dataset_fingerprint()


def test_rebuilding_gives_the_same_bytes() -> None:
    builder = _Builder()
    data = builder.build()
    stage_stories(data, builder.rng, TODAY)
    assert dataset_json({k: tuple(v) for k, v in data.items()}) == dataset_json()


def test_every_record_has_every_field_and_every_foreign_key_resolves() -> None:
    data = initial_dataset()
    ids = {name: {r["id"] for r in rows} for name, rows in data.items()}
    for res in RESOURCES:
        rows = data[res.name]
        assert rows, res.name
        assert [r["id"] for r in rows] == list(range(1, len(rows) + 1))
        for r in rows:
            assert list(r) == ["id", *(f.name for f in res.fields)]
            for f in res.fields:
                value = r[f.name]
                if f.required:
                    assert value is not None, (res.name, r["id"], f.name)
                if f.ref and value is not None:
                    assert value in ids[f.ref], (res.name, r["id"], f.name)
                if f.enum and value is not None:
                    assert value in f.enum


def test_big_enough_that_fetching_everything_takes_many_pages() -> None:
    data = initial_dataset()
    assert len(data["tasks"]) >= 300
    assert len(data["time_entries"]) >= 500


def test_master_is_read_only_and_copies_are_independent() -> None:
    master = initial_dataset()
    try:
        master["users"][0]["name"] = "X"  # type: ignore[index]
        raise AssertionError("the master dataset accepted a write")
    except TypeError:
        pass
    a, b = new_platform(), new_platform()
    a.call("users_update", {"id": 1, "name": "Changed"})
    a.call("tasks_delete", {"id": 1})
    assert b.record("users", 1)["name"] == master["users"][0]["name"]
    assert b.record("tasks", 1) is not None
    copy = copy_dataset()
    copy["users"][0]["name"] = "Other"
    assert master["users"][0]["name"] != "Other"

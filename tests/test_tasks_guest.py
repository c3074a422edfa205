"""Every bundled task's reference programs also solve it inside the WebAssembly sandbox."""

from __future__ import annotations

import pytest
from sandbox_support import shared_cache

from tasks.catalog import guest_api_spec
from tasks.checkers import check
from tasks.dataset import initial_dataset
from tasks.platform import new_platform
from tasks.suite import load_tasks
from wasm_sandbox import Sandbox

TASKS = load_tasks()


@pytest.mark.parametrize("task", TASKS, ids=[t.id for t in TASKS])
def test_reference_program_solves_the_task_in_the_guest(task) -> None:
    platform = new_platform()
    with Sandbox(lambda name, args: platform.call(name, args).to_wire(), guest_api_spec(),
                 cache_dir=shared_cache()) as sandbox:
        results = [sandbox.run(code) for code in task.reference]
    *attempts, last = results
    assert last.error is None and last.limit is None, last.error
    assert all(a.error and "ToolError" in a.error for a in attempts)
    verdict = check(task, last.output.strip(), initial_dataset(), platform)
    assert verdict.success, verdict.reasons

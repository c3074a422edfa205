"""The README's own examples keep working."""

import re
from pathlib import Path

from tasks.checkers import check
from tasks.dataset import initial_dataset
from tasks.reference import run_reference
from tasks.suite import load_tasks

README = Path(__file__).parent.parent / "README.md"


def test_readme_task_file_example_loads_and_its_reference_passes_its_checker(tmp_path):
    block = re.search(r"```toml\n(.*?)```", README.read_text(), re.S)
    assert block, "the README lost its task file example"
    path = tmp_path / "mine.toml"
    path.write_text(block.group(1))
    [task] = load_tasks(path)
    run = run_reference(task)
    assert check(task, run.answer, initial_dataset(), run.platform).success


def test_readme_set_up_commands_are_the_ones_ci_runs():
    text = README.read_text()
    ci = (Path(__file__).parent.parent / ".ci" / "run").read_text()
    assert "-e '.[test]'" in text and "-e '.[test]'" in ci
    assert "python -m pytest" in text and "python -m pytest" in ci

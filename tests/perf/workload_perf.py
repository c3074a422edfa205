"""Workload figures: dataset build, fresh platform copy, one list call, rendering sizes.

Prints one JSON object; no asserts (timings never go into tests). Run:
    python tests/perf/workload_perf.py
"""

from __future__ import annotations

import json
import timeit

from engine.tokens import count_text, count_tools
from tasks.dataset import initial_dataset
from tasks.platform import new_platform
from tasks.render import mistral_tools, python_api_text


def best_ms(stmt, number: int, repeat: int) -> float:  # type: ignore[no-untyped-def]
    return min(timeit.repeat(stmt, number=number, repeat=repeat)) / number * 1000


def main() -> None:
    def build() -> None:
        initial_dataset.cache_clear()
        initial_dataset()

    build_ms = best_ms(build, 1, 20)
    data = initial_dataset()
    platform = new_platform()
    tools, api_text = mistral_tools(), python_api_text()
    print(json.dumps({
        "dataset_build_ms_best_of_20": round(build_ms, 2),
        "dataset_records": sum(len(v) for v in data.values()),
        "records_per_resource": {k: len(v) for k, v in data.items()},
        "new_platform_ms_best_of_50": round(best_ms(new_platform, 1, 50), 3),
        "tasks_list_100_per_page_ms": round(best_ms(
            lambda: platform.call("tasks_list", {"page_size": 100}), 20, 5), 3),
        "mistral_tools_tekken_tokens": count_tools(tools),
        "mistral_tools_chars": len(json.dumps(tools)),
        "python_api_tekken_tokens": count_text(api_text),
        "python_api_chars": len(api_text),
    }, indent=2))


if __name__ == "__main__":
    main()

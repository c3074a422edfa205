"""What reading a CodeAct reply costs: markdown-it-py's import, and ``read_reply`` per reply.

Run: ``python tests/perf/code_blocks_perf.py`` (prints JSON, with the load average: the
figures are noisy on a shared machine). Replies: every style of tests/reply_styles.py around
the create-project reference program, and a long reply (a 200-line program and prose).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reply_styles import STYLES, split_program

from engine.agents.code_blocks import read_reply
from tasks.suite import load_tasks


def _import_ms() -> float:
    code = "import time; t = time.perf_counter(); import markdown_it; " \
           "print((time.perf_counter() - t) * 1000)"
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 check=True).stdout) for _ in range(5)]
    return round(sorted(runs)[len(runs) // 2], 1)


def _per_reply_us(replies: list[str], repeat: int = 50) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        for reply in replies:
            read_reply(reply)
    return round((time.perf_counter() - start) / (repeat * len(replies)) * 1e6, 1)


def main() -> None:
    program = next(t for t in load_tasks() if t.id == "create-project").reference[0].strip()
    replies = [s.reply(*(split_program(program) if s.split else (program, ""))) for s in STYLES]
    long_program = "\n".join(f"x{i} = api.users.get({i})\nprint(x{i}['name'])"
                             for i in range(100))
    long_reply = ("Here is the plan.\n\n" * 20) + f"```python\n{long_program}\n```\n" + "Done.\n"
    print(json.dumps({
        "load_average_1min": round(os.getloadavg()[0], 2),
        "markdown_it_import_ms_median_of_5": _import_ms(),
        "read_reply_us_per_style_reply": _per_reply_us(replies),
        "style_replies": len(replies),
        "read_reply_us_long_reply": _per_reply_us([long_reply], repeat=20),
        "long_reply_chars": len(long_reply),
    }, indent=2))


if __name__ == "__main__":
    main()

"""Sandbox performance figures, printed as one JSON object (no asserts; goals alongside).

    python tests/perf/sandbox_perf.py [--repeat N]

Measures, in this one process: cold compile of python.wasm (into a throw-away cache); cached
module load (deserialize in wasmtime, and the app's own check of the cache file); a fresh
interpreter + ``print(1)`` against native ``python3 -c "print(1)"``; one code action in a live
session; the guest -> host -> guest host-call round trip (median of 1,000, timed in the guest);
and the resident memory of a live session's child process.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from wasm_sandbox import Limits, Sandbox, process, runtime  # noqa: E402

API = {"bench_echo": {"path": "bench.echo", "params": ["value"],
                     "signature": "api.bench.echo(value)", "doc": "Return the value."}}


def echo(name: str, args: dict) -> dict:
    return {"ok": True, "value": args.get("value")}


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def cold_compile() -> float:
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        runtime.prepare(Path(folder))
        return time.perf_counter() - started


def module_load(cache: Path) -> dict:
    import wasmtime

    from wasm_sandbox.child import make_engine

    info = runtime.prepare(cache)
    engine = make_engine(runtime.ENGINE_SETTINGS)
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        wasmtime.Module.deserialize_file(engine, str(info.module_path))
        samples.append(time.perf_counter() - started)
    runtime._module_memo.clear()
    runtime._hash_memo.clear()
    started = time.perf_counter()
    runtime.prepare(cache)
    check_first = time.perf_counter() - started
    started = time.perf_counter()
    runtime.prepare(cache)
    check_again = time.perf_counter() - started
    return {
        "deserialize_ms": ms(statistics.median(samples)),
        "app_cache_check_first_ms": ms(check_first),
        "app_cache_check_memoized_ms": ms(check_again),
    }


def fresh_interpreter(cache: Path, repeat: int) -> dict:
    sandbox_samples, native_samples = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        with Sandbox(echo, API, cache_dir=cache) as sandbox:
            result = sandbox.run("print(1)")
            sandbox_samples.append(time.perf_counter() - started)
        assert result.output == "1\n", result
        started = time.perf_counter()
        subprocess.run(["python3", "-c", "print(1)"], check=True, capture_output=True)
        native_samples.append(time.perf_counter() - started)
    first = sandbox_samples.pop(0)  # includes starting the zygote (once per app process)
    sandbox_ms = ms(statistics.median(sandbox_samples))
    native_ms = ms(statistics.median(native_samples))
    return {
        "first_in_process_with_zygote_start_ms": ms(first),
        "sandbox_ms": sandbox_ms,
        "native_python3_ms": native_ms,
        "ratio": round(sandbox_ms / native_ms, 2),
        "goal": "<= 100 ms and <= 3x native",
    }


def live_session(cache: Path) -> dict:
    with Sandbox(echo, API, limits=Limits(host_calls=5000), cache_dir=cache) as sandbox:
        sandbox.run("x = 0")
        samples = []
        for _ in range(200):
            started = time.perf_counter()
            sandbox.run("x += 1")
            samples.append(time.perf_counter() - started)
        printed = []
        for _ in range(200):
            started = time.perf_counter()
            sandbox.run("print(x)")
            printed.append(time.perf_counter() - started)
        timed = sandbox.run(
            "import time\n"
            "laps = []\n"
            "for i in range(1000):\n"
            "    t = time.perf_counter()\n"
            "    api.bench.echo(i)\n"
            "    laps.append(time.perf_counter() - t)\n"
            "laps.sort()\n"
            "print(laps[500] * 1e6, laps[100] * 1e6, laps[900] * 1e6)\n"
        )
        median_us, p10_us, p90_us = (float(v) for v in timed.output.split())
        started = time.perf_counter()
        sandbox.run("for i in range(1000):\n    api.bench.echo(i)")
        per_call_app_us = (time.perf_counter() - started) * 1e6 / 1000
        child = sandbox._child
        pid = child.pid if child is not None else None
        zygotes = [z.proc.pid for z in process._zygotes.values() if z.alive()]
        return {
            "code_action_ms": {"median": ms(statistics.median(samples)),
                               "p90": ms(sorted(samples)[179]), "goal": "<= 5 ms"},
            "print_action_ms": ms(statistics.median(printed)),
            "host_call_round_trip_us": {
                "median": round(median_us, 1), "p10": round(p10_us, 1),
                "p90": round(p90_us, 1), "goal": "<= 60 us",
                "per_call_in_a_1000_call_run_us": round(per_call_app_us, 1),
            },
            "memory_rss_mib": {
                "session_child": round((rss_kib(pid) or 0) / 1024, 1) if pid else None,
                "zygote_shared_by_all_sessions": round((rss_kib(zygotes[0]) or 0) / 1024, 1)
                if zygotes else None,
                "note": "RSS counts pages the child shares with the zygote (copy-on-write)",
            },
        }


def native_pipe_round_trip_us() -> float:
    """The machine's own floor: one byte to another process over a pipe and back."""
    to_child, from_parent = os.pipe()
    to_parent, from_child = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(from_parent)  # so the parent's close is our end of file
        while data := os.read(to_child, 64):
            os.write(from_child, data)
        os._exit(0)
    os.close(to_child)
    os.close(from_child)
    laps = []
    for _ in range(2000):
        started = time.perf_counter()
        os.write(from_parent, b"x")
        os.read(to_parent, 64)
        laps.append(time.perf_counter() - started)
    os.close(from_parent)
    os.waitpid(pid, 0)
    os.close(to_parent)
    return round(statistics.median(laps) * 1e6, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=8)
    args = parser.parse_args()
    figures: dict = {"machine_cpus": os.cpu_count(), "load_average_1m": os.getloadavg()[0]}
    figures["native_pipe_round_trip_us"] = native_pipe_round_trip_us()
    figures["cold_compile_ms"] = ms(cold_compile())
    with tempfile.TemporaryDirectory() as folder:
        cache = Path(folder)
        runtime.prepare(cache)
        figures["cached_module_load"] = module_load(cache)
        figures["fresh_interpreter_print_1"] = fresh_interpreter(cache, args.repeat)
        figures.update(live_session(cache))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()

"""Run generated Python in CPython compiled to WASI, under wasmtime, with host calls and limits."""

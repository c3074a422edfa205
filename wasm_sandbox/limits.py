"""The hard limits of one sandbox execution; every field has the default named in issue 3."""

from __future__ import annotations

from dataclasses import asdict, dataclass

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Limits applied to each ``Sandbox.run``.

    ``cpu_seconds`` is CPU time spent running the guest, ``wall_seconds`` wall-clock time,
    also while the guest is blocked outside WebAssembly (``time.sleep``, reading its own stdin):
    the child process's watchdog ends that process on either overrun (checked every 5 ms) and
    the app replaces it.
    """

    cpu_seconds: float = 10.0
    wall_seconds: float = 20.0
    memory_bytes: int = 256 * MiB
    output_bytes: int = 16 * 1024
    host_calls: int = 1000
    argument_bytes: int = 1 * MiB

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if value <= 0:
                raise ValueError(f"Limits.{name} must be positive, not {value!r}")

    def to_dict(self) -> dict[str, float | int]:
        """The limits as plain JSON values (sent to the child and the guest)."""
        return asdict(self)

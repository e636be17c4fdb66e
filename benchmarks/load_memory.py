"""Resident memory of loading the default rule pack, stage by stage.

Prints ``VmRSS`` (resident now) and ``VmHWM`` (peak so far) from ``/proc/self/status``
after ``import claimx``, after ``load_packs`` of the default pack, and after
``default_extractor().extract`` of one sentence, so a change to pack loading can be
judged by the peak it causes and by what it leaves behind. Linux only.

Run it in a fresh interpreter per measurement (peaks never go down)::

    PYTHONPATH=. python benchmarks/load_memory.py
"""

from __future__ import annotations

import gc


def _memory_kb() -> dict[str, int]:
    """``VmRSS`` and ``VmHWM`` of this process, in kB."""
    wanted = {"VmRSS", "VmHWM"}
    found: dict[str, int] = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in wanted:
                found[key] = int(value.split()[0])
    return found


def _report(stage: str) -> None:
    """One line: the stage, resident and peak memory in MB."""
    gc.collect()
    memory = _memory_kb()
    print(f"{stage:<28} VmRSS {memory['VmRSS'] / 1024:6.1f} MB   "
          f"VmHWM {memory['VmHWM'] / 1024:6.1f} MB")


def main() -> None:
    """Measure the three stages in order."""
    _report("start")
    import claimx
    from claimx.packs import load_packs

    _report("import claimx")
    packs = load_packs(["zh-business"])
    _report("load_packs(zh-business)")
    del packs
    gc.collect()
    claimx.default_extractor().extract("星河科技计划扩产。")
    _report("default_extractor+extract")


if __name__ == "__main__":
    main()

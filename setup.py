"""Build claimx, compiling its hot modules with mypyc when it can (docs/performance.md,
"Compiled modules").

The metadata lives in pyproject.toml; this file only adds the compiled modules. The same
.py files are the single source: mypyc (from mypy, pinned in [build-system].requires)
translates them to C extension modules that sit beside them and that Python then imports
instead. ``claimx/_native.py`` decides at import whether those binaries may be used: it
checks them against ``claimx/_native.json``, the record of what they were built from
that this build writes (a hash of each compiled module's source and of every claimx
module they import), and runs the pure-Python modules when anything changed since.

- ``CLAIMX_PURE_PYTHON=1`` (any value but empty or ``0``) at build time skips compiling:
  the install is pure Python (and compiled modules left by an earlier in-place build are
  removed).
- When compiling fails (no C compiler, no Python headers, a mypyc error), the build warns
  and goes on: the install is pure Python.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import sys
import traceback
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent

# The modules compiled, as paths from this folder. One mypyc group: they call each other
# natively, so claimx/_native.py uses all of them or none.
COMPILED = ("claimx/match.py", "claimx/assemble.py", "claimx/_word_search.py")
GROUP = "claimx._native"  # the group's shared library: claimx/_native__mypyc.*.so
RECORD = "_native.json"  # written beside the compiled modules (read by claimx/_native.py)
ENV = "CLAIMX_PURE_PYTHON"
# A stand-in so that setuptools runs build_ext (and tags the wheel for this platform);
# build_ext replaces it with what mypyc generates, or with nothing.
_STAND_IN = "claimx._native_stand_in"


def _module_file(name: str) -> Path | None:
    path = HERE.joinpath(*name.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _sources(compiled: tuple[str, ...]) -> list[str]:
    """The compiled modules and every claimx module they import, directly or not (with
    the packages holding them): what mypy read to type them, so what the binaries were
    built against. Paths relative to this folder, sorted."""
    todo = [path[:-3].replace("/", ".") for path in compiled]
    seen: set[str] = set()
    files: set[Path] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        parts = name.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))  # its packages
        path = _module_file(name)
        if path is None:
            continue
        files.add(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            todo.extend(n for n in names if n == "claimx" or n.startswith("claimx."))
    return sorted(p.relative_to(HERE).as_posix() for p in files)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _say(message: str) -> None:
    # pip shows a build's output only with -v or when it fails: stderr it is, prefixed so
    # that the line stands out in a verbose log.
    print(f"claimx build: {message}", file=sys.stderr, flush=True)


class BuildExt(build_ext):
    """build_ext that compiles COMPILED with mypyc, or builds nothing when it cannot."""

    def run(self) -> None:
        self.extensions = [ext for ext in self.extensions if ext.name != _STAND_IN]
        out = self._output_folder()
        self._remove_compiled(out)
        if os.environ.get(ENV, "") not in ("", "0"):
            _say(f"{ENV} is set: not compiling, claimx is pure Python")
            self._write_record(out, {"pure": f"{ENV} was set at build time"})
            return
        try:
            self._compile()
        except (Exception, SystemExit) as error:  # mypyc exits on a type error
            detail = "".join(traceback.format_exception_only(type(error), error)).strip()
            _say(f"compiling {', '.join(COMPILED)} with mypyc failed ({detail}); "
                 "claimx is installed as pure Python, which gives the same results, slower")
            self._remove_compiled(out)
            # pip shows a build's output only with -v: the record keeps the reason, for
            # claimx._native.build_note (benchmarks/bench.py prints it).
            self._write_record(out, {"pure": f"compiling with mypyc failed: {detail}"})
            return
        self._write_record(out, {
            "group": GROUP, "modules": [path[:-3].replace("/", ".") for path in COMPILED],
            "sources": {path: _sha256(HERE / path) for path in _sources(COMPILED)}})
        _say(f"compiled {', '.join(COMPILED)} with mypyc")

    def _write_record(self, out: Path, record: dict[str, object]) -> None:
        out.mkdir(parents=True, exist_ok=True)
        (out / RECORD).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")

    def _compile(self) -> None:
        from mypyc.build import mypycify

        here = os.getcwd()
        os.chdir(HERE)  # mypy reads [tool.mypy] of pyproject.toml from the current folder
        try:
            extensions = mypycify(
                # Third-party packages missing from the build environment (pip's isolated
                # one has only [build-system].requires) are typed Any: attrs is there, its
                # plugin types the attrs classes.
                ["--ignore-missing-imports", *COMPILED],
                group_name=GROUP, opt_level="3",
                target_dir=os.path.join(self.build_temp, "mypyc"))
        finally:
            os.chdir(here)
        # The bookkeeping setuptools' finalize_options did for the stand-in, done for the
        # generated extensions (none is a setuptools Library, so none links to another).
        for ext in extensions:
            ext._full_name = self.get_ext_fullname(ext.name)  # type: ignore[attr-defined]
            ext._links_to_dynamic = False  # type: ignore[attr-defined]
            ext._needs_stub = False  # type: ignore[attr-defined]
            ext._file_name = self.get_ext_filename(ext._full_name)  # type: ignore[attr-defined]
            self.ext_map[ext._full_name] = ext  # type: ignore[attr-defined]
        self.extensions = extensions
        super().run()

    def _output_folder(self) -> Path:
        """The claimx folder the compiled modules go to (the source tree's when in place)."""
        return Path(self.get_ext_fullpath("claimx.match")).resolve().parent

    def _remove_compiled(self, folder: Path) -> None:
        """Remove compiled claimx modules and their record left in ``folder`` by an
        earlier build, so that a pure build is pure."""
        if not folder.is_dir():
            return
        for path in folder.iterdir():
            stem = path.name.split(".", 1)[0]
            if path.name == RECORD or (
                    path.suffix in (".so", ".pyd")
                    and ((folder / f"{stem}.py").is_file() or stem.endswith("__mypyc"))):
                path.unlink()


setup(ext_modules=[Extension(_STAND_IN, sources=[])], cmdclass={"build_ext": BuildExt})

"""Which claimx modules run compiled, and the guard against stale compiled modules.

A build with a C compiler compiles a few hot modules with mypyc (see setup.py and
docs/performance.md, "Compiled modules"): each ``claimx/NAME.py`` gets a
``claimx/NAME.cpython-*.so`` beside it, which Python imports in its place, and the build
writes ``claimx/_native.json``, the record of what the binaries were built from (the
sha256 of each compiled module's source and of every claimx module they import). A build
that compiled nothing writes there why (:func:`build_note`).

:func:`select`, run by ``claimx/__init__.py`` before any other claimx module is imported,
uses the binaries only when every file the record lists is unchanged. Otherwise (a
contributor edited ``match.py`` in an editable install and did not rebuild) it makes
Python import every compiled module from its ``.py`` and warns with
:class:`StaleCompiledModulesWarning`: all of them, since compiled modules of one build
call each other directly, not through the module the interpreter would load. Setting
``CLAIMX_PURE_PYTHON`` (to anything but empty or ``0``) does the same without a warning.

Nothing here may import another claimx module: it runs first.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import os
import sys
import warnings
from collections.abc import Mapping, Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

__all__ = ["ENV", "RECORD", "StaleCompiledModulesWarning", "build_note", "compiled_modules", "plan",
           "select"]

#: The environment variable that asks for pure Python: at build time nothing is compiled,
#: at run time compiled modules present are not used.
ENV = "CLAIMX_PURE_PYTHON"
#: The build's record, beside the compiled modules.
RECORD = "_native.json"
_PACKAGE = Path(__file__).resolve().parent


class StaleCompiledModulesWarning(RuntimeWarning):
    """claimx's compiled modules do not match their sources; the sources run instead."""


#: The modules that run compiled in this process (set by :func:`select`).
compiled_modules: tuple[str, ...] = ()


def build_note(folder: Path = _PACKAGE) -> str | None:
    """Why the build installed pure Python (compiling failed, or the environment
    variable was set), from its record; None when it compiled or left no word."""
    try:
        note = json.loads((folder / RECORD).read_text(encoding="utf-8")).get("pure")
    except (OSError, ValueError, AttributeError):
        return None
    return note if isinstance(note, str) else None


def _binaries(folder: Path) -> dict[str, Path]:
    """The extension modules in ``folder`` that stand in for a ``.py`` beside them, by
    module name (``claimx.match``), and mypyc's shared libraries (``*__mypyc``)."""
    found: dict[str, Path] = {}
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    for path in folder.iterdir():
        if not path.name.endswith(suffixes):
            continue
        stem = path.name.split(".", 1)[0]
        if (folder / f"{stem}.py").is_file() or stem.endswith("__mypyc"):
            found[f"{folder.name}.{stem}"] = path
    return found


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def plan(folder: Path, environ: Mapping[str, str]) -> tuple[tuple[str, ...], tuple[str, ...],
                                                            str | None]:
    """What to do with the compiled modules in the package ``folder``: (the modules that
    may run compiled, the modules to import from their ``.py`` instead, why not compiled:
    None when the binaries are used or there are none or ``environ`` asks for pure
    Python, else the problem to warn about)."""
    shadowing = tuple(sorted(name for name in _binaries(folder)
                             if not name.endswith("__mypyc")))
    if not shadowing:  # (a shared library alone is never imported)
        return (), (), None
    if environ.get(ENV, "") not in ("", "0"):
        return (), shadowing, None
    rebuild = ("; running the pure-Python modules instead (the same results, slower). "
               "Rebuild the compiled ones with `pip install -e .` (or remove them, or "
               f"set {ENV}=1)")
    try:
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        modules = set(record["modules"])
        sources: dict[str, str] = dict(record["sources"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        return (), shadowing, (f"claimx's compiled modules ({', '.join(shadowing)}) have no "
                               f"readable build record {folder / RECORD} ({error})" + rebuild)
    if modules != set(shadowing):
        return (), shadowing, (f"claimx's compiled modules ({', '.join(shadowing)}) are not "
                               f"the ones its build record lists ({', '.join(sorted(modules))})"
                               + rebuild)
    changed = [name for name, digest in sorted(sources.items())
               if _sha256(folder.parent / name) != digest]
    if changed:
        return (), shadowing, (f"{', '.join(changed)} changed since claimx's compiled modules "
                               "were built" + rebuild)
    return shadowing, (), None


class _FromSource:
    """A meta path finder that imports the named modules from their ``.py`` files."""

    def __init__(self, sources: Mapping[str, Path]) -> None:
        self.sources = dict(sources)

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        source = self.sources.get(fullname)
        if source is None:
            return None
        return importlib.util.spec_from_file_location(fullname, source)


def select(folder: Path = _PACKAGE, environ: Mapping[str, str] = os.environ) -> None:
    """Decide, before they are imported, whether claimx's compiled modules are used (see
    the module's docstring); sets :data:`compiled_modules`."""
    global compiled_modules
    use, avoid, problem = plan(folder, environ)
    if avoid:
        sys.meta_path.insert(0, _FromSource(
            {name: folder / f"{name.rsplit('.', 1)[1]}.py" for name in avoid}))
    if problem is not None:
        warnings.warn(problem, StaleCompiledModulesWarning, stacklevel=3)
    compiled_modules = use

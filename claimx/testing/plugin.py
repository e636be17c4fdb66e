"""pytest plugin (entry point ``pytest11: claimx``): rule packs as test suites.

The plugin collects rule packs **only when the project asks for it**: installing claimx
must not turn every ``pack.yaml`` of an unrelated project into a failing test. Opt in with
either

* the ini option ``claimx_packs`` (under ``[tool.pytest.ini_options]`` or in
  ``pytest.ini``): folders, relative to the ini file, whose packs are collected — e.g.
  ``claimx_packs = ["rules"]``; or
* ``--claimx`` on the command line: packs are collected wherever pytest is pointed
  (``pytest --claimx my-pack/``).

Under a collected pack folder (a folder holding ``pack.yaml``):

* from ``pack.yaml``, each inline example of the pack's own rules as an item
  ``PACK::RULE#N`` (the rules a pack inherits through ``extends:`` run with it, but are
  tested with the pack that wrote them);
* from each ``tests/**/*.txt`` annotated file, each sentence as an item
  ``PACK::tests/FILE.txt:LINE`` (a malformed line is a failing item of its own; the other
  lines still run).

Item ids can be pasted back: ``pytest "rules/zh-business/pack.yaml::zh-business::risk.condition#1"``
runs exactly that case, and failures are headed by that id. Each file is collected once
(``pack.yaml`` yields the examples, a ``.txt`` its own lines), so a run over a folder never
collects a case twice. Failures render as ``file:line:col: CX130 expected … got …`` with a
``why:`` line and ``[expected]`` and ``{got}`` marked in the sentence; a case whose only
failures are ``todo`` gaps is reported as xfail.

A pack that ``extends:`` others is loaded with them. ``--claimx-with PACK`` (or the ini
option ``claimx_with``) loads further packs together with each pack under test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

__all__ = ["pytest_addoption", "pytest_collect_file"]

_runners: dict[tuple[str, ...], Any] = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register ``--claimx``, ``--claimx-with`` and the ini options ``claimx_packs`` and
    ``claimx_with``."""
    group = parser.getgroup("claimx", "claimx rule packs")
    group.addoption("--claimx", action="store_true", default=False,
                    help="collect the rule packs (pack.yaml and tests/*.txt) under the "
                         "paths given to pytest")
    group.addoption("--claimx-with", action="append", default=[], metavar="PACK",
                    help="load PACK (name or folder) together with each rule pack under test")
    parser.addini("claimx_packs", type="linelist", default=[],
                  help="folders (relative to the ini file) whose rule packs pytest collects")
    parser.addini("claimx_with", type="linelist", default=[],
                  help="packs loaded together with each rule pack under test")


def _pack_root_of_test_file(path: Path) -> Path | None:
    for parent in path.parents:
        if parent.name == "tests" and (parent.parent / "pack.yaml").is_file():
            return parent.parent
    return None


def _opted_in(config: pytest.Config, path: Path) -> bool:
    """Whether the project asked for the packs at ``path``: ``--claimx``, or ``path`` lies
    under one of the ``claimx_packs`` folders."""
    if config.getoption("claimx", False):
        return True
    folders = config.getini("claimx_packs") or []
    if not folders:
        return False
    base = Path(config.inipath).parent if config.inipath else config.rootpath
    resolved = path.resolve()
    return any(resolved.is_relative_to((base / folder).resolve()) for folder in folders)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Collect ``pack.yaml`` (rule examples) and annotated ``tests/*.txt`` of a pack, when
    the project opted in (see the module docstring)."""
    if file_path.name != "pack.yaml" and file_path.suffix != ".txt":
        return None  # most files: decided without looking at the configuration
    if not _opted_in(parent.config, file_path):
        return None
    if file_path.name == "pack.yaml":
        return PackExamplesFile.from_parent(parent, path=file_path)
    if _pack_root_of_test_file(file_path) is not None:
        return AnnotatedTestFile.from_parent(parent, path=file_path)
    return None


def _runner_for(config: pytest.Config, root: Path) -> Any:
    """One runner per pack folder (plus companions) per process; raises PackLoadError."""
    from claimx.testing.runner import Runner

    companions = [str(p) for p in list(config.getoption("claimx_with") or [])
                  + list(config.getini("claimx_with") or [])]
    own = str(root.resolve())
    key = (own, *companions)
    if key not in _runners:
        others = [c for c in companions if str(Path(c).resolve()) != own]
        _runners[key] = Runner([own, *others])
    return _runners[key]


def _pack_of(runner: Any, root: Path) -> Any:
    own = str(root.resolve())
    return next(p for p in runner.packs if str(Path(p.path).resolve()) == own)


class _PackFileBase(pytest.File):
    """A file of a pack: loads the pack and groups its items under the pack's name."""

    def _root(self) -> Path:
        raise NotImplementedError

    def _cases(self, runner: Any, pack: Any) -> list[Any]:
        raise NotImplementedError

    def collect(self) -> Iterator[pytest.Item | pytest.Collector]:
        from claimx.errors import PackLoadError

        root = self._root()
        try:
            runner = _runner_for(self.config, root)
        except PackLoadError as exc:
            yield PackLoadItem.from_parent(self, name=f"{root.name}::load", error=str(exc))
            return
        pack = _pack_of(runner, root)
        yield PackGroup.from_parent(self, name=pack.name, runner=runner,
                                    cases=self._cases(runner, pack))


class PackExamplesFile(_PackFileBase):
    """``pack.yaml``: collects every inline rule example of the pack."""

    def _root(self) -> Path:
        return self.path.parent

    def _cases(self, runner: Any, pack: Any) -> list[Any]:
        from claimx.testing.runner import collect_cases

        return [c for c in collect_cases([pack]) if c.example is not None]


class AnnotatedTestFile(_PackFileBase):
    """``tests/*.txt``: collects every annotated sentence of the file."""

    def _root(self) -> Path:
        root = _pack_root_of_test_file(self.path)
        assert root is not None
        return root

    def _cases(self, runner: Any, pack: Any) -> list[Any]:
        from claimx.testing.runner import annotated_cases

        return annotated_cases(pack, self.path)


class PackGroup(pytest.Collector):
    """The pack's name as one level of the node id: ``…::zh-business::risk.weakness-word#2``."""

    def __init__(self, *, runner: Any, cases: list[Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.runner = runner
        self.cases = cases

    def collect(self) -> Iterator[pytest.Item]:
        for case in self.cases:
            name = case.id.split("::", 1)[1]
            yield CaseItem.from_parent(self, name=name, runner=self.runner, case=case)


class CaseFailed(Exception):
    """Raised by a failing case; carries the rendered failures."""


class CaseItem(pytest.Item):
    """One rule example or annotated sentence."""

    def __init__(self, *, runner: Any, case: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.runner = runner
        self.case = case

    def runtest(self) -> None:
        outcome = self.runner.run(self.case)
        if not outcome.passed:
            raise CaseFailed(outcome.render())
        if outcome.failures:  # only todo gaps: known, reported, not failing
            pytest.xfail("todo: " + "; ".join(f.expected for f in outcome.failures))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, CaseFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path | str, int | None, str]:
        # The headline of a failure is the node id: pasted back to pytest, it reruns it.
        return self.path, max(self.case.lineno - 1, 0), self.nodeid


class PackLoadItem(pytest.Item):
    """Stands for a pack that does not load: fails with every located problem."""

    def __init__(self, *, error: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error = error

    def runtest(self) -> None:
        raise CaseFailed(self.error)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        return str(excinfo.value)

    def reportinfo(self) -> tuple[Path | str, int | None, str]:
        return self.path, None, self.name

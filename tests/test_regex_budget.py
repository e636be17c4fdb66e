"""Regular expressions are bounded per document, not only per call (issue 16, item 11).

A per-sentence timeout let 200 short sentences against a catastrophic pattern take 50 s
with ``on_rule_timeout="skip"``, and token rules' ``REGEX`` (spaCy's ``re``) had no timeout
at all. The texts and packs here are written for these tests.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from claimx import Extractor, PackLoadError, RuleTimeoutError
from claimx.match import RegexBudget
from claimx.packs import PatternRule

META = "name: slow\nversion: '1'\nlanguage: zh\nclaim_types: {risk: {polarity: negative}}\n"
# (a|a)+$ tries 2^n ways to split a run of n a's before it fails on the b after it.
CATASTROPHIC = "(a|a)+$"
FINE = "  - id: slow.fine\n    kind: lexicon\n    type: risk\n    cues: [风险]\n"
# 200 sentences, each with a run of 25 a's: about 0.25 s of backtracking apiece.
SLOW_TEXT = "存在风险。" + "".join("a" * 25 + "b。" for _ in range(200)) + "后来风险加大。"


def _pack(folder: Path, rules: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pack.yaml").write_text(META, encoding="utf-8")
    (folder / "rules.yaml").write_text("rules:\n" + rules + FINE, encoding="utf-8")
    return folder


@pytest.fixture()
def pattern_pack(tmp_path: Path) -> Path:
    return _pack(tmp_path / "slow", "  - id: slow.pattern\n    kind: pattern\n    type: risk\n"
                                    f"    pattern: '{CATASTROPHIC}'\n")


def test_skip_spends_at_most_the_documents_budget(pattern_pack: Path) -> None:
    ex = Extractor(packs=[pattern_pack], on_rule_timeout="skip", regex_budget=1.0)
    began = time.monotonic()
    claims = ex.extract(SLOW_TEXT)
    elapsed = time.monotonic() - began
    # 200 sentences x 0.25 s took 50 s before; now the budget (1 s) ends the patterns.
    assert elapsed < 10, f"{elapsed:.1f} s"
    assert [c.text for c in claims] == ["存在风险", "后来风险加大"]  # the other rule still ran


def test_raise_names_the_budget_and_both_ways_to_skip(pattern_pack: Path) -> None:
    ex = Extractor(packs=[pattern_pack], regex_budget=0.3, regex_timeout=10)
    with pytest.raises(RuleTimeoutError) as info:
        ex.extract(SLOW_TEXT)
    assert info.value.rule_id == "slow.pattern" and info.value.budget == pytest.approx(0.3)
    message = str(info.value)
    assert "budget" in message
    assert "on_rule_timeout='skip'" in message and "--on-rule-timeout skip" in message


def test_compiling_a_pattern_on_first_use_does_not_spend_the_budget(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A fresh process compiles each pattern the first time a text needs it; on a loaded
    # machine that took a huge line's first window past its budget before any regex had
    # run for long. Here compiling takes 0.3 s against a budget of 0.1 s.
    import claimx._deferred_regex as deferred

    class SlowCompile:
        def __getattr__(self, name: str) -> object:
            return getattr(deferred_regex_module, name)

        @staticmethod
        def compile(pattern: str, flags: int = 0) -> object:
            time.sleep(0.3)
            return deferred_regex_module.compile(pattern, flags)

    deferred_regex_module = deferred.regex
    pack = _pack(tmp_path / "fine", "  - id: slow.plain\n    kind: pattern\n    type: risk\n"
                                    "    pattern: '亏损[0-9]+亿元'\n")
    ex = Extractor(packs=[pack], regex_budget=0.1)
    monkeypatch.setattr(deferred, "regex", SlowCompile())
    claims = ex.extract("星河化工去年亏损3亿元。")
    assert [c.text for c in claims] == ["星河化工去年亏损3亿元"]
    # The budget itself still holds: a pattern that backtracks is stopped by it.
    with pytest.raises(RuleTimeoutError):
        Extractor(packs=[_pack(tmp_path / "slow", "  - id: slow.pattern\n    kind: pattern\n"
                                f"    type: risk\n    pattern: '{CATASTROPHIC}'\n")],
                  regex_budget=0.3, regex_timeout=10).extract(SLOW_TEXT)


def test_the_budget_grows_with_the_document() -> None:
    assert RegexBudget(10, seconds=1.0).seconds == 1.0
    assert RegexBudget(1_000_000, seconds=1.0).seconds == pytest.approx(10.0)


def test_the_clock_starts_with_the_first_pattern() -> None:
    # The automaton pass and the sequence rules before the patterns are not their time: a
    # huge line's window spent a third of its budget there on a slow machine.
    budget = RegexBudget(10, seconds=0.2, timeout=0.1)
    _burn_cpu(0.3)
    assert not budget.spent()  # spent() starts the clock when nothing else has
    assert budget.next_timeout() == pytest.approx(0.1)


def _burn_cpu(seconds: float) -> None:
    began = time.thread_time()
    while time.thread_time() - began < seconds:
        pass


def test_time_the_thread_did_not_run_is_not_spent() -> None:
    # Sleeping stands for other processes holding the CPU: the wall clock passes the
    # deadline, the thread's CPU clock does not.
    budget = RegexBudget(10, seconds=0.2, timeout=0.1)
    budget.begin()
    time.sleep(0.3)
    assert time.monotonic() > budget.deadline - 0.01  # the wall-clock deadline has passed
    assert not budget.spent()
    assert budget.next_timeout() == pytest.approx(0.1)
    _burn_cpu(0.25)  # the thread's own work does spend it
    assert budget.spent() and budget.next_timeout() == 0.0


# Ordinary text for the bundled pack's pattern rules (written for this test).
BUSY_TEXT = ("星河科技表示，公司将加快推进海外市场布局，力争三年内海外收入占比超过三成。"
             "受原材料价格上涨影响，华辰汽车一季度净利润同比下降四成，毛利率承压。")


def test_a_busy_machine_does_not_run_out_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    # On a loaded machine the wall clock ran past one second while the patterns had used a
    # fraction of it, and extract raised RuleTimeoutError on ordinary text (CI, with other
    # jobs on both CPUs). Here the monotonic clock jumps 5 s once the budget has begun, as
    # if the process had waited that long for a CPU.
    from claimx import match as match_stage
    from claimx.normalize import normalize
    from claimx.segment import segment

    ex = Extractor()
    doc = normalize(BUSY_TEXT)
    sentences = segment(doc)
    expected = match_stage.match(ex.compiled, doc.text, sentences, sentiment=False).claim_cues
    assert any(isinstance(hit.rule, PatternRule) for hit in expected)  # patterns ran
    budget = RegexBudget(len(doc.text), seconds=1.0)
    budget.begin()
    real = time.monotonic
    monkeypatch.setattr(time, "monotonic", lambda: real() + 5.0)
    assert time.monotonic() > budget.deadline  # without reclaiming, the budget is gone
    found = match_stage.match(ex.compiled, doc.text, sentences, sentiment=False,
                              budget=budget).claim_cues
    assert found == expected
    assert budget.deadline > real() + 4.0  # the lost 5 s moved the deadline


def test_building_a_rules_searches_on_first_use_does_not_spend_the_budget(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # In a fresh process each pattern rule's required-word index and searches are built the
    # first time a document needs them; a huge line's first window on a slow machine spent
    # its whole budget there. Here each build takes 50 ms of CPU against a 50 ms budget.
    from claimx._match_types import CompiledRules
    from claimx.match import compile_rules
    from claimx.match import match as run_match
    from claimx.normalize import normalize
    from claimx.packs import load_packs
    from claimx.segment import segment

    original = CompiledRules.index_required_words
    built: list[int] = []

    def slow_build(self: CompiledRules, index: int) -> None:
        built.append(index)
        _burn_cpu(0.05)
        original(self, index)

    monkeypatch.setattr(CompiledRules, "index_required_words", slow_build)
    fresh = compile_rules(load_packs(["zh-business"]))  # no rule indexed yet
    doc = normalize(BUSY_TEXT)
    sentences = segment(doc)
    found = run_match(fresh, doc.text, sentences, sentiment=False,
                      budget=RegexBudget(len(doc.text), seconds=0.05))
    assert len(built) >= 3  # well over the budget, had it counted
    assert any(isinstance(hit.rule, PatternRule) for hit in found.claim_cues)


def test_a_busy_machine_still_stops_a_backtracking_pattern(
        pattern_pack: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The budget now counts the thread's own time; a pattern that spends it still stops.
    # The monotonic clock runs ahead by 50 ms at every reading, a machine busier than any.
    real, readings = time.monotonic, itertools.count()
    ex = Extractor(packs=[pattern_pack], regex_budget=0.3, regex_timeout=10)
    monkeypatch.setattr(time, "monotonic", lambda: real() + 0.05 * next(readings))
    began = time.thread_time()
    with pytest.raises(RuleTimeoutError) as info:
        ex.extract(SLOW_TEXT)
    assert info.value.budget == pytest.approx(0.3)
    assert time.thread_time() - began < 5


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_tag_takes_on_rule_timeout(pattern_pack: Path, tmp_path: Path, jobs: str) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "slow", "text": SLOW_TEXT}, ensure_ascii=False) + "\n"
                      + json.dumps({"id": "ok", "text": "存在风险。"}, ensure_ascii=False) + "\n",
                      encoding="utf-8")

    def tag(*extra: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([sys.executable, "-m", "claimx", "tag", str(source),
                               "--input-format", "jsonl", "--pack", str(pattern_pack),
                               "--jobs", jobs, *extra], capture_output=True, timeout=120)

    failing = tag()
    assert failing.returncode == 1
    first, second = [json.loads(line) for line in failing.stdout.splitlines()]
    assert "--on-rule-timeout skip" in first["error"] and second["claims"]
    skipping = tag("--on-rule-timeout", "skip")
    assert skipping.returncode == 0, skipping.stderr.decode()
    first, second = [json.loads(line) for line in skipping.stdout.splitlines()]
    assert [c["text"] for c in first["claims"]] == ["存在风险", "后来风险加大"]


# --------------------------------------------------------------------------- token rules

TOKEN_RULE = ("  - id: slow.tokens\n    kind: tokens\n    type: risk\n    anchors: [风险]\n"
              "    patterns:\n      - [{TEXT: {REGEX: '^" + CATASTROPHIC + "'}}]\n")


def test_a_token_regex_is_timed_and_budgeted(tmp_path: Path) -> None:
    pytest.importorskip("jieba")
    pack = _pack(tmp_path / "slow", TOKEN_RULE)
    # One word of 30 a's and a b took 9 s in spaCy's re, doubling per character.
    text = "风险：" + "a" * 30 + "b。另有风险。"
    strict = Extractor(packs=[pack], segmenter="jieba", regex_timeout=0.2)
    began = time.monotonic()
    with pytest.raises(RuleTimeoutError) as info:
        strict.extract(text)
    assert time.monotonic() - began < 10
    assert info.value.rule_id == "slow.tokens"
    lenient = Extractor(packs=[pack], segmenter="jieba", regex_timeout=0.2,
                        on_rule_timeout="skip")
    # Skipped, the token rule adds nothing: the claims are the lexicon rule's alone.
    lexicon_only = Extractor(packs=[_pack(tmp_path / "fine-only", "")], segmenter="jieba")
    expected = [(c.text, c.rules) for c in lexicon_only.extract(text)]
    assert expected and [(c.text, c.rules) for c in lenient.extract(text)] == expected


@pytest.mark.parametrize("expression, fires", [("^裁", True), ("员$", True), ("^减", False)])
def test_a_token_regex_still_matches_as_spacy_would(tmp_path: Path, expression: str,
                                                    fires: bool) -> None:
    pytest.importorskip("jieba")
    pack = _pack(tmp_path / "fine", (
        "  - id: fine.tokens\n    kind: tokens\n    type: risk\n    anchors: [裁员]\n"
        f"    patterns:\n      - [{{TEXT: {{REGEX: '{expression}'}}}}, "
        "{LIKE_NUM: true, OP: '?'}]\n"))
    ex = Extractor(packs=[pack], segmenter="jieba")
    rules = {rule for c in ex.extract("该公司宣布裁员。") for rule in c.rules}
    assert ("fine.tokens" in rules) is fires


@pytest.mark.parametrize("expression, fragment", [
    ("(?:(?:a{1000}){1000}){1000}", "unroll"), ("(" * 300 + "a" + ")" * 300, "nested"),
    ("(unclosed", "does not compile")])
def test_a_token_regex_that_cannot_run_is_a_load_error(tmp_path: Path, expression: str,
                                                       fragment: str) -> None:
    pack = _pack(tmp_path / "bad", (
        "  - id: bad.tokens\n    kind: tokens\n    type: risk\n    anchors: [风险]\n"
        f"    patterns:\n      - [{{TEXT: {{REGEX: '{expression}'}}}}]\n"))
    with pytest.raises(PackLoadError) as info:
        Extractor(packs=[pack])
    (problem,) = info.value.problems
    assert problem.code == "CX113" and fragment in problem.message and problem.line == 7


# --- regex times a call by the process CPU clock (other threads' time counts) -------------

def test_a_call_timed_out_on_other_threads_time_runs_again_with_room() -> None:
    from claimx.match import run_on_own_clock

    timeouts: list[float] = []

    def run(allowed: float) -> str:
        timeouts.append(allowed)
        return "matched"

    # The thread had a fifth of the process's CPU while its call ran: run again, with a
    # timeout five times as long, so that the call gets about its own 0.25 s.
    assert run_on_own_clock(run, 0.25, share=0.2) == "matched"
    assert timeouts == [pytest.approx(1.25)]


def test_a_call_that_used_its_own_time_is_not_run_again() -> None:
    from claimx.match import run_on_own_clock

    def run(allowed: float) -> None:
        raise AssertionError("a pattern that spent its own time must not run again")

    with pytest.raises(TimeoutError):
        run_on_own_clock(run, 0.25, share=0.95)


def test_a_backtracking_pattern_on_a_busy_process_still_stops() -> None:
    from claimx.match import run_on_own_clock

    calls: list[float] = []

    def run(allowed: float) -> None:
        calls.append(allowed)
        _burn_cpu(0.02)  # its own time: the share measured for the rerun is near 1
        raise TimeoutError

    with pytest.raises(TimeoutError):
        run_on_own_clock(run, 0.02, share=0.1)
    assert len(calls) <= 3
    # No stretch beyond 64 times the call's timeout, however small the share.
    assert all(allowed <= 0.02 * 64 + 1e-9 for allowed in calls)


# (?:a|aa)+c on a run of a's (no c): the ways to split the run grow as the Fibonacci numbers.
SPLITS = "(?:a|aa)+c"


def _run_of_a_taking(seconds: float) -> str:
    """A run of a's that SPLITS takes about ``seconds`` (at least half of it) to fail on."""
    import regex

    compiled = regex.compile(SPLITS)
    for length in range(18, 60):
        began = time.thread_time()
        compiled.search("a" * length, timeout=10)
        if time.thread_time() - began >= seconds / 2:
            return "a" * length
    raise AssertionError("no run long enough")


def test_threads_matching_at_once_do_not_time_each_other_out(tmp_path: Path) -> None:
    # regex releases the GIL while it matches and stops a call when the PROCESS has used
    # its timeout in CPU: with twelve threads matching at once, a call that needed a fifth
    # of its timeout raised RuleTimeoutError. claimx runs it again with room.
    import threading

    import regex

    pack = _pack(tmp_path / "splits", "  - id: slow.splits\n    kind: pattern\n"
                                      f"    type: risk\n    pattern: '{SPLITS}'\n")
    timeout = 0.25
    run = _run_of_a_taking(timeout / 8)
    text = f"存在风险。{run}bc。"  # the c the pattern needs is there, after the b
    ex = Extractor(packs=[pack], regex_timeout=timeout, regex_budget=60)
    expected = [(c.text, c.rules) for c in ex.extract(text)]
    assert expected == [("存在风险", ("slow.fine",))]

    stop = threading.Event()
    compiled = regex.compile(SPLITS)

    def keep_matching() -> None:
        while not stop.is_set():
            try:
                compiled.search(run + run, timeout=0.5)
            except TimeoutError:
                pass

    others = [threading.Thread(target=keep_matching, daemon=True) for _ in range(12)]
    for thread in others:
        thread.start()
    try:
        time.sleep(0.1)
        # The load does what it should: a bare call with the same timeout times out, though
        # its own work is a fraction of it (this is the failure claimx has to absorb).
        timed_out = 0
        for _ in range(3):
            try:
                compiled.search(run, timeout=timeout / 4)
            except TimeoutError:
                timed_out += 1
        assert timed_out, "the other threads did not load the process"
        results = [[(c.text, c.rules) for c in ex.extract(text)] for _ in range(3)]
    finally:
        stop.set()
        for thread in others:
            thread.join()
    assert results == [expected] * 3

"""Assembly stage: turn cue hits and modifier scopes into claims.

For each sentence, every claim cue claims the clause it stands in (or more, by its rule's
``span``); with the pack setting ``one_type_per_clause``, cues of different types in one
clause are settled first (the type with the stronger evidence keeps the clause); cues of one
type on touching clauses merge into one claim. Then:

* **span** — the run of whole clauses, minus a leading connective (但, 而, 此外 …) and the
  trailing punctuation, mapped back to the caller's original text;
* **modality** — ``question`` if the sentence is a question or a question modifier reaches
  a cue, else ``negated`` if a negation reaches one, else ``hedged`` if a hedge does, else
  ``asserted``;
* **polarity** — the rule's polarity, or the claim type's default; negation swaps
  positive and negative;
* **confidence** — see :func:`confidence`;
* **subject** — see :func:`find_subject`.
"""

from __future__ import annotations

import bisect
import operator
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import regex

from claimx.match import (SHADOWABLE, CompiledRules, Hit, MatchResult, PseudoWords,
                          inside_pseudo_word)
from claimx.packs import LexiconRule
from claimx.modifiers import ModifierScope, modifiers_for
from claimx.normalize import NormalizedText
from claimx.segment import Sentence
from claimx.types import Claim, Evidence, Modality, Polarity, Span

__all__ = ["assemble", "calibrate", "confidence", "find_subject"]

_FLIP = {Polarity.POSITIVE: Polarity.NEGATIVE, Polarity.NEGATIVE: Polarity.POSITIVE}
#: The modifier categories of a claim no modifier reaches (most claims).
_NO_CATEGORIES: frozenset[str] = frozenset()


@attrs.define
class _Candidate:
    type: str
    first: int  # clause index range, inclusive
    last: int
    hits: list[Hit]
    exact: tuple[int, int] | None = None  # for span: match


#: How far before a cue a rule's ``not_after`` words are looked for (characters).
NOT_AFTER_WINDOW = 12
#: How far after a cue a rule's ``not_before`` words are looked for (characters).
NOT_BEFORE_WINDOW = 6


def _vetoed(text: str, sentence: Sentence, hit: Hit, compiled: CompiledRules,
            seen: _ContextWordsSeen, previous: Sentence | None = None) -> str | None:
    """A rule's ``veto`` words cancel its hit when they occur in the hit's sentence or in the
    one before it (``previous``: a topic carries over a sentence end, as a quote after a
    report on the economy) — with ``veto_scope: clause``, only in the hit's own clause —,
    unless one of its ``veto_unless`` words occurs in the hit's own
    sentence (a macro-economic word vetoes a risk unless a company is named as well) other
    than inside a longer veto word (控股 in 国有控股 names no company); its ``not_after`` words cancel it when they stand
    shortly before it in the same clause (应对…风险, 克服…不确定因素: the cue is what the
    actor deals with, not what it suffers), and its ``not_before`` words when they follow
    it closely (风险较低, 压力可控); and a hit whose sentence holds none of its
    ``requires`` words is cancelled too, as is one whose sentence holds a ``veto_always`` word
    (no ``veto_unless`` lifts those), and a hit of a ``not_clause_initial`` rule
    that opens its clause. ``seen`` answers, per document, whether a word list occurs in
    a sentence or window, mostly from the matching stage's automaton hits (many rules share
    their lists).

    Returns the name of the rule field that cancelled the hit (``"veto"``, ``"requires"``,
    ``"not_after"`` …; what ``claimx explain`` reports), None when nothing did."""
    if getattr(hit.rule, "not_clause_initial", False) and _opens_clause(text, sentence, hit):
        return "not_clause_initial"
    words = compiled.context_words.get(hit.rule.id)
    if words is None:
        return None
    veto, unless, not_after, not_before, requires, always = words
    occurs = seen.occurs
    if requires is not None and not occurs(requires, text, sentence):
        return "requires"
    if always is not None and occurs(always, text, sentence):
        return "veto_always"
    k = -1  # the hit's clause, found once for the clause-scoped veto and the windows below
    if veto is not None:
        if hit.rule.veto_scope == "clause":  # only the hit's own clause (or clauses) counts
            starts, ends, _ = sentence.clause_bounds
            k = _clause_index(sentence, hit.start)
            vetoed = seen.occurs_between(veto, text, starts[k], max(ends[k], hit.end),
                                         sentence)
        else:
            vetoed = occurs(veto, text, sentence) or (
                previous is not None and occurs(veto, text, previous))
        if vetoed and (unless is None
                       or not seen.occurs_outside(unless, veto, text, sentence)):
            return "veto"
    if not_after is not None or not_before is not None:
        # The windows lie inside the sentence (clauses do; the one after the cue when the
        # cue ends in it): a list the sentence lacks is absent from them, and the
        # sentence's mask, mostly made by the checks above, says so without the hit's
        # clause being looked up. Most hits' not_after and not_before words are absent.
        if not_after is not None and seen.sentence_lacks(not_after, sentence):
            not_after = None
        if (not_before is not None and hit.end <= sentence.end
                and seen.sentence_lacks(not_before, sentence)):
            not_before = None
        if (not_after is not None or not_before is not None) and k < 0:
            starts, ends, _ = sentence.clause_bounds
            k = _clause_index(sentence, hit.start)
        # (A list still here is in the sentence's mask, or the mask is not made yet: the
        # windows' own masks decide, without the sentence's asked again.)
        if not_after is not None and seen.occurs_between(
                not_after, text, max(starts[k], hit.start - NOT_AFTER_WINDOW), hit.start):
            return "not_after"
        if not_before is not None and seen.occurs_between(
                not_before, text, hit.end,
                min(max(ends[k], hit.end), hit.end + NOT_BEFORE_WINDOW)):
            return "not_before"
    return None


#: What may stand between a clause's start and a hit that still opens it.
_CLAUSE_LEAD = " \t\u3000\"'“”‘’「」『』《》（）()【】[]·•"


def _opens_clause(text: str, sentence: Sentence, hit: Hit) -> bool:
    """Whether nothing but spaces and quotes stands before the hit in its clause or in its
    list item (a clause part after 、), and no 了 follows its verb within a few characters
    (…，带动了上游: an effect reported with the subject in the clause before; a directive
    never takes 了)."""
    clause_start = sentence.clause_starts[_clause_index(sentence, hit.start)]
    lead = text[max(clause_start, hit.start - 40):hit.start]
    if lead.rpartition("、")[2].strip(_CLAUSE_LEAD):
        return False
    return "了" not in text[hit.start + 1:hit.start + 5]


class _ContextWordsSeen:
    """Which context word lists occur in which sentences of one document.

    A list the automaton indexes (``_WordSearch.bit``, see
    :attr:`~claimx.match.CompiledRules.context_masks`) is looked up: a sentence's mask, the
    OR of the masks of the words the matching stage found inside it, is made once, and each
    list's answer is one bit of it. Other lists, and every list when the document's
    automaton hits are not at hand, are searched, and the answer is remembered. Either way
    a word found inside one of the pack's pseudo words (未 in 未来, 不得 in 不得不) does not
    count (see :attr:`~claimx.match.CompiledRules.context_shadows`)."""

    __slots__ = ("_found", "_masks", "_searched", "_sentence_masks", "_shadows", "_text")

    def __init__(self, found: Sequence[tuple[int, int, int]] | None,
                 masks: Sequence[int], text: str,
                 shadows: Sequence[PseudoWords | None]) -> None:
        """``found``: the document's automaton hits (``MatchResult.words_found``);
        ``masks``: ``CompiledRules.context_masks``; ``text``: the normalised text they were
        found in; ``shadows``: ``CompiledRules.context_shadows_by_index``."""
        self._found = found
        self._masks = masks
        self._text = text
        self._shadows = shadows
        self._sentence_masks: dict[int, int] = {}
        self._searched: dict[tuple[int, int], bool] = {}

    def occurs(self, words: Any, text: str, sentence: Sentence) -> bool:
        """Whether a word of ``words`` (a ``_WordSearch``) lies inside the sentence."""
        bit = words.bit
        if bit and self._found is not None:
            mask = self._sentence_masks.get(sentence.start)
            if mask is None:
                mask = self._sentence_masks[sentence.start] = self._mask(sentence.start,
                                                                         sentence.end)
            return mask & bit != 0
        key = (id(words), sentence.start)
        found = self._searched.get(key)
        if found is None:
            found = self._searched[key] = words.occurs(text, sentence.start, sentence.end)
        return found

    def occurs_outside(self, words: Any, holders: Any, text: str, sentence: Sentence) -> bool:
        """Whether a word of ``words`` lies inside the sentence other than within a longer
        word of ``holders``: a rule's ``veto_unless`` word that is part of one of its veto
        words (控股 in 国有控股, 公司 in 保险公司) names no company of its own. Answered from
        the automaton hits when both lists are indexed; otherwise as :meth:`occurs`."""
        if not self.occurs(words, text, sentence):
            return False
        found = self._found
        bit, holder_bit = words.bit, holders.bit
        if found is None or not bit or not holder_bit:
            return _outside(words.spans(text, sentence.start, sentence.end),
                            holders.spans(text, sentence.start, sentence.end))
        lo = bisect.bisect_right(found, sentence.start, key=_END)
        hi = bisect.bisect_right(found, sentence.end, lo=lo, key=_END)
        masks, shadows = self._masks, self._shadows
        held: list[tuple[int, int]] = []
        own: list[tuple[int, int]] = []
        for word, word_start, word_end in found[lo:hi]:
            if word_start < sentence.start:
                continue
            word_mask = masks[word]
            if word_mask & SHADOWABLE:
                pairs = shadows[word]
                if pairs is not None and inside_pseudo_word(text, word_start, pairs):
                    continue
            if word_mask & holder_bit:
                held.append((word_start, word_end))
            if word_mask & bit:
                own.append((word_start, word_end))
        return _outside(own, held)

    def sentence_lacks(self, words: Any, sentence: Sentence) -> bool:
        """Whether the sentence's mask (see :meth:`occurs`), if it has been made already,
        says that no word of ``words`` is in the sentence (False when it cannot say)."""
        bit = words.bit
        if not bit:
            return False
        mask = self._sentence_masks.get(sentence.start)
        return mask is not None and not mask & bit

    def occurs_between(self, words: Any, text: str, start: int, end: int,
                       sentence: Sentence | None = None) -> bool:
        """Whether a word of ``words`` lies inside ``text[start:end]`` (not remembered: the
        windows around cues rarely repeat). ``sentence``: one that holds the window, whose
        mask, when already made, can answer no without a look at the window."""
        bit = words.bit
        if bit and self._found is not None:
            if (sentence is not None and sentence.start <= start and end <= sentence.end
                    and self.sentence_lacks(words, sentence)):
                # A word inside the window is inside the sentence (and one inside a pseudo
                # word is left out of both): when the sentence lacks the list, so does the
                # window.
                return False
            return self._mask(start, end) & bit != 0
        return bool(words.occurs(text, start, end))

    def _mask(self, start: int, end: int) -> int:
        """The OR of the masks of the words found inside ``[start, end)`` (0 if it is
        empty or reversed, where a search finds no word either)."""
        found = self._found
        assert found is not None
        # The hits are ordered by end: those ending in (start, end], minus the ones that
        # began before ``start``, are the words inside the span.
        lo = bisect.bisect_right(found, start, key=_END)
        hi = bisect.bisect_right(found, end, lo=lo, key=_END)
        masks, text, shadows = self._masks, self._text, self._shadows
        mask = 0
        for word, word_start, _ in found[lo:hi]:
            if word_start >= start:
                word_mask = masks[word]
                # A word that may lie inside a pseudo word (a negator-like word in a context
                # list: ``SHADOWABLE``, set for exactly the words that have ``shadows``)
                # counts only where it does not. One pass: the first of two (the OR, then
                # again without the shadowed words when the OR had the flag) made 40 % of
                # the loop's steps on news, where such a word stands in a third of the
                # sentences.
                if word_mask & SHADOWABLE:
                    pairs = shadows[word]
                    if pairs is not None and inside_pseudo_word(text, word_start, pairs):
                        continue
                mask |= word_mask
        return mask


_END = operator.itemgetter(2)


def _outside(own: list[tuple[int, int]], held: list[tuple[int, int]]) -> bool:
    """Whether one of the spans ``own`` lies within none of the longer spans ``held``."""
    for start, end in own:
        for holder_start, holder_end in held:
            if (holder_start <= start and end <= holder_end
                    and holder_end - holder_start > end - start):
                break
        else:
            return True
    return False


def _clause_index(sentence: Sentence, position: int) -> int:
    """Index of the clause holding ``position`` (the one before it if it falls between
    clauses, the first if it lies before them all)."""
    # bisect_right is at most len(starts): only the lower bound needs a clamp.
    k = bisect.bisect_right(sentence.clause_starts, position) - 1
    return k if k > 0 else 0


def _clause_range(sentence: Sentence, hit: Hit) -> tuple[int, int]:
    starts = sentence.clause_starts
    n = len(starts)
    first = _clause_index(sentence, hit.start)
    # Most cues end in the clause they start in: a second search only when the cue's
    # last character reaches the next clause.
    tail = max(hit.start, hit.end - 1)
    last = (_clause_index(sentence, tail) if first + 1 < n and tail >= starts[first + 1]
            else first)
    mode = hit.rule.span
    if mode == "sentence":
        return 0, n - 1
    if mode == "to_end":
        return first, n - 1
    if mode == "from_start":
        return 0, last
    if first == 0 and sentence.clause_bounds[2] and n > 1:
        # A heading such as `劣势:` states its claim about what follows it in the sentence.
        return first, n - 1
    return first, last


def calibrate(raw: float, points: Sequence[tuple[float, float]]) -> float:
    """Map a raw confidence through a monotone piecewise-linear calibration curve."""
    if not points:
        return raw
    xs = [p[0] for p in points]
    k = bisect.bisect_right(xs, raw)
    if k == 0:
        return points[0][1]
    if k == len(points):
        return points[-1][1]
    (x0, y0), (x1, y1) = points[k - 1], points[k]
    return y0 if x1 == x0 else y0 + (y1 - y0) * (raw - x0) / (x1 - x0)


def confidence(hits: Sequence[Hit], mods: Sequence[ModifierScope],
               calibration: Sequence[tuple[float, float]],
               fitted_priors: dict[str, float] | None = None, *,
               calibrations: dict[str, Sequence[tuple[float, float]]] | None = None
               ) -> tuple[float, tuple[str, ...]]:
    """Confidence of a claim, with the steps that led to it.

    1. *evidence*: the priors of the distinct rules that fired combine by noisy-OR,
       ``raw = 1 - Π(1 - prior_r)`` — each independent rule is another chance to be right;
       a rule's prior is its fitted prior from its pack's calibration when there is one,
       else the ``prior`` written on the rule;
    2. *contrast*: a claim standing before a contrast word (…，但…) is the weaker half:
       ``raw *= 0.85``;
    3. *calibration*: ``raw`` goes through the pack's monotone calibration curve (fitted on
       gold data, see docs/quality.md); without one it is used as is.

    Calibration applies per pack, to the claims of that pack's own rules: ``calibrations``
    maps a pack name to its curve (a rule's pack is ``rule.pack``), and ``calibration`` is
    the curve of rules whose pack is not in it. A claim resting on rules of several packs
    is scored per pack (steps 1-3) and the packs' scores combine by noisy-OR.
    """
    fitted = fitted_priors or {}
    rules = {hit.rule.id: hit.rule for hit in hits}
    priors = {rid: fitted.get(rid, rule.prior) for rid, rule in rules.items()}
    groups = _by_pack(rules, priors)
    curves = {pack: (calibrations or {}).get(pack, calibration) for pack in groups}
    return _confidence_of(groups, _before_contrast(hits, mods), curves)


def _by_pack(rules: dict[str, Any], priors: dict[str, float]) -> dict[str, dict[str, float]]:
    groups: dict[str, dict[str, float]] = {}
    for rule_id, rule in rules.items():
        groups.setdefault(rule.pack, {})[rule_id] = priors[rule_id]
    return groups


def _before_contrast(hits: Sequence[Hit], mods: Sequence[ModifierScope]) -> bool:
    """Whether a contrast word follows the claim's last cue (the claim is the weaker half)."""
    last_end = max(h.end for h in hits)
    return any(m.category == "contrast" and m.hit.start >= last_end for m in mods)


def _confidence_of(groups: dict[str, dict[str, float]], before_contrast: bool,
                   curves: Mapping[str, Sequence[tuple[float, float]]]
                   ) -> tuple[float, tuple[str, ...]]:
    """Steps 1-3 of :func:`confidence` for each pack's rules; packs combine by noisy-OR."""
    if len(groups) == 1:
        ((pack, priors),) = groups.items()
        return _pack_confidence(priors, before_contrast, curves[pack], "")
    scores: list[float] = []
    steps: list[str] = []
    for pack in sorted(groups):
        score, pack_steps = _pack_confidence(groups[pack], before_contrast, curves[pack],
                                             f"{pack}: ")
        scores.append(score)
        steps.extend(pack_steps)
    final = _noisy_or(scores)
    steps.append(f"noisy-OR of the packs' scores {', '.join(f'{v:.3f}' for v in scores)} = "
                 f"{final:.3f}")
    return final, tuple(steps)


def _pack_confidence(priors: dict[str, float], before_contrast: bool,
                     calibration: Sequence[tuple[float, float]], label: str
                     ) -> tuple[float, tuple[str, ...]]:
    raw = _noisy_or(priors.values())
    steps = [f"{label}noisy-OR of rule priors {', '.join(f'{k}={v:.2f}' for k, v in sorted(priors.items()))} = {raw:.3f}"]
    if before_contrast:
        raw *= 0.85
        steps.append(f"{label}before a contrast word: x0.85 = {raw:.3f}")
    final = min(1.0, max(0.0, calibrate(raw, calibration)))
    if calibration:
        steps.append(f"{label}calibrated = {final:.3f}")
    return final, tuple(steps)


#: Distinct (rules, contrast) combinations remembered per compiled rule set; a document
#: that produces more (only a crafted one could) empties the memo and starts over.
_CONFIDENCE_MEMO_MAX = 4096


def _claim_confidence(hits: Sequence[Hit], mods: Sequence[ModifierScope],
                      compiled: CompiledRules) -> tuple[float, tuple[str, ...]]:
    """:func:`confidence` for a claim, remembered per compiled rule set.

    A claim's confidence depends only on which rules fired and whether a contrast word
    follows it, and news text repeats a few hundred such combinations; formatting the
    steps was a tenth of the assembly stage before they were remembered.
    """
    before_contrast = bool(mods) and _before_contrast(hits, mods)
    memo = compiled.confidence_memo
    if len(hits) == 1:  # most claims: the key without a dict of one rule
        key: tuple[tuple[str, ...], bool] = ((hits[0].rule.id,), before_contrast)
        found = memo.get(key)
        if found is not None:
            return found
    rule_ids = {hit.rule.id: hit.rule for hit in hits}
    key = (tuple(sorted(rule_ids)) if len(rule_ids) > 1 else tuple(rule_ids), before_contrast)
    found = memo.get(key)
    if found is None:
        fitted = compiled.priors
        priors = {rid: fitted.get(rid, rule.prior) for rid, rule in rule_ids.items()}
        groups = _by_pack(rule_ids, priors)
        curves = {pack: (compiled.calibration if pack == compiled.main_pack or not
                         compiled.main_pack else compiled.calibrations.get(pack, ()))
                  for pack in groups}
        found = _confidence_of(groups, before_contrast, curves)
        if len(memo) >= _CONFIDENCE_MEMO_MAX:
            memo.clear()
        memo[key] = found
    return found


def _strip_leading(text: str, start: int, end: int,
                   connectives: dict[str, tuple[str, ...]]) -> int:
    """New start of ``text[start:end]`` without leading separators and connectives (但, 而,
    此外 …); ``connectives`` maps a first character to the words starting with it, longest
    first, so each position costs one dict lookup instead of a test per connective."""
    changed = True
    while changed and start < end:
        changed = False
        while start < end and (text[start].isspace() or text[start] in ",，、;；:："):
            start += 1
            changed = True
        for word in connectives.get(text[start], ()) if start < end else ():
            if text.startswith(word, start) and start + len(word) < end:
                start += len(word)
                changed = True
                break
    return start


def _trim_end(text: str, start: int, end: int) -> int:
    while end > start and (text[end - 1].isspace() or text[end - 1] in "。.!！?？;；,，:：、…—-"):
        end -= 1
    return end


_QUOTE_PAIRS = (("“", "”"), ("「", "」"), ("(", ")"), ("《", "》"), ("『", "』"))
_CLOSING_QUOTES = frozenset(closing for _, closing in _QUOTE_PAIRS)


def _balance_quotes(text: str, start: int, end: int, limit: int) -> int:
    """Keep a closing quote that directly follows the span when the span opened it."""
    if end >= limit or text[end] not in _CLOSING_QUOTES:
        return end  # the common case: nothing to balance, no counting
    span = text[start:end]
    for opening, closing in _QUOTE_PAIRS:
        if span.count(opening) > span.count(closing) and end < limit and text[end] == closing:
            end += 1
    return end


#: How far before a claim (characters) an organisation-like subject is looked for.
SUBJECT_WINDOW = 40
#: At most this many name characters stand before a subject suffix (星河科技|公司).
SUBJECT_NAME_MAX = 10
#: A topic subject (the name before the first stop word) has at most this many characters.
SUBJECT_TOPIC_MAX = 12


def find_subject(text: str, sentence: Sentence, claim_start: int, cue_start: int,
                 settings: dict[str, Any], claim_end: int | None = None
                 ) -> tuple[int, int] | None:
    """Where the actor a claim is about is named (normalised offsets), if anywhere: see
    :func:`_named_subject` for the steps. A subject that is the company's bare name for
    itself (公司, 该行) in a sentence that opens with a name announcing it (星河化工公告，
    公司拟…; the pack's ``subject_speech_verbs``) is that name."""
    span = _named_subject(text, sentence, claim_start, cue_start, settings, claim_end)
    self_refs = settings.get("_subject_self_regex")
    if span is not None and self_refs is not None and self_refs.fullmatch(text, *span):
        return _announcer(text, sentence, span[0], settings) or span
    return span


def _named_subject(text: str, sentence: Sentence, claim_start: int, cue_start: int,
                   settings: dict[str, Any], claim_end: int | None = None
                   ) -> tuple[int, int] | None:
    """Where the actor a claim is about is named, as the sentence writes it:

    0. the company's name for itself (the pack's ``subject_self_refs``: 公司, 本集团 …) when
       the claim opens with it;
    1. the nearest organisation-like name before the cue (a name ending in one of the pack's
       ``subject_suffixes`` such as 公司, 集团, 银行, 平台), within ``SUBJECT_WINDOW``
       characters before the claim;
    2. else the topic at the start of the claim's span or the sentence: the run of name
       characters before the first of the pack's ``subject_stops`` (在, 将, 已, 的 …);
    3. else the last of the pack's ``subject_self_refs`` (公司, 本集团 …) before the claim in
       its sentence (annual-report prose names its actor once, then lists what it does);
    4. else the topic (as in 2) of an earlier clause of the sentence, the nearest first;
    5. else the run of name characters from the claim's start to its cue (中佳易购|非法集资),
       up to a figure;
    6. else the first of the pack's ``subject_self_refs`` inside the claim after its cue
       (对公司业绩造成压力, 报告期内，公司积极…): the company is the one the claim is on;
       ``claim_end`` bounds the search (the sentence's end when not given);
    7. else None.

    The caller reads the subject from the original text, so it stays "as written".
    """
    # 0. a claim that opens with the company's name for itself (公司将…, 本集团拥有…) is
    # about it, whatever other names follow.
    self_refs = settings.get("_subject_self_regex")
    if self_refs is not None:
        opening = self_refs.match(text, claim_start)
        if opening is not None:
            return opening.span()
    suffixes = settings.get("_subject_suffix_regex")
    not_names = settings.get("_subject_not_start", ())
    not_ends = settings.get("_subject_not_end", ())
    # The actor is named close before the cue: only a bounded window is searched, for the
    # last suffix (公司, 集团 …) that ends a name (no Han character right after it); the name
    # is the run of name characters before it, cut after the last stop word or punctuation.
    window_start = max(sentence.start, min(cue_start, claim_start) - SUBJECT_WINDOW)
    if suffixes is not None:
        found = list(suffixes.finditer(text, window_start, max(cue_start, claim_start) + 1))
        markers = settings.get("_subject_object_markers", ())
        weak = settings.get("_subject_weak_suffixes", frozenset())
        for index in range(len(found) - 1, -1, -1):  # the nearest name first
            candidate = found[index]
            # Suffixes that touch form one name (腾讯|控股|有限公司); an earlier, separate
            # suffix ends the previous name (子公司|光明电力公司).
            first = index
            while first > 0 and found[first - 1].end() == found[first].start():
                first -= 1
            start = found[first].start()
            head = max(window_start, start - SUBJECT_NAME_MAX,
                       found[first - 1].end() if first > 0 else 0)
            boundary = ""
            for cut in settings["_subject_boundary_regex"].finditer(text, head, start):
                head, boundary = cut.end(), cut.group()
            # 了 ends a verb, so a name begins after it (…压缩了|民爆器材生产企业); not a
            # boundary word, which would cut topics too (有赞完成了…).
            done = text.rfind("了", head, start)
            if done >= 0:
                head = done + 1
            if boundary in markers:
                continue  # 被监管部门, 向合作方: an agent or object, not the claim's actor
            if text.startswith(not_names, head):
                continue  # 在所有电商平台, 面对互联网公司: a place or an object, not the actor
            if head == start and text[start:candidate.end()] in weak:
                continue  # a bare 行业 or 电商 names no one; 公司 alone does (年报 style)
            return head, candidate.end()
    stops = settings.get("_subject_stop_regex")
    if stops is None:
        return None
    reach = settings["_subject_stop_reach"]
    # The topic at the claim's start, after a heading (优势:星河科技拥有…), or at the
    # sentence's start: 2 to SUBJECT_TOPIC_MAX name characters up to the first stop word.
    clause_starts, _, heading = sentence.clause_bounds
    after_heading = clause_starts[1] if len(clause_starts) > 1 and heading else claim_start
    # Usually two or all three are one position (a claim opening its sentence): each is
    # tried once, since a start that failed fails again.
    tried = dict.fromkeys((claim_start, after_heading, sentence.start))
    lead = settings.get("_subject_lead_regex")
    for start in tried:
        topic = _topic_at(text, _after_lead(lead, text, start), sentence.end, stops, reach,
                          not_names, not_ends)
        if topic is not None:
            return _name_in_topic(text, topic, settings)
    # 3. else the company's own name for itself (公司, 本集团 …) where the sentence has it
    # before the claim: annual reports name the actor once and then list what it does.
    if self_refs is not None:
        last_ref = None
        for last_ref in self_refs.finditer(text, sentence.start, max(cue_start, claim_start)):
            pass
        if last_ref is not None:
            return last_ref.span()
    # 4. else the topic of an earlier clause of the sentence, the nearest first: news names
    # the actor once and goes on about it (星河影业在年报中称，票房低迷正对其…造成冲击).
    for start in reversed(clause_starts):
        if start < claim_start and start not in tried:
            topic = _topic_at(text, _after_lead(lead, text, start), sentence.end, stops,
                              reach, not_names, not_ends)
            if topic is not None:
                return _name_in_topic(text, topic, settings)
    # 5. else the name that stands between the claim's start and its cue with no stop word
    # to end it (中佳易购|非法集资, 宜贷网|清盘): what precedes the predicate is its subject.
    # It ends at a figure (招行|2021年净利润…) and does not open with a figure or a word
    # that cannot start a name (对其他…, 累计…).
    run = _NAME_BEFORE_FIGURE.match(text, claim_start, cue_start)
    if (run is not None and 2 <= run.end() - claim_start <= SUBJECT_TOPIC_MAX
            and not text.startswith(not_names, claim_start)
            and not text[claim_start:run.end()].endswith(not_ends)
            and stops.match(text, claim_start) is None
            and "了" not in text[claim_start:run.end()]):  # 有赞启动了第一轮|裁员: a verb
        return claim_start, run.end()
    # 6. else the company's name for itself inside the claim, after the cue: annual reports
    # name the company as the one a risk falls on (…可能对公司经营造成影响) or after a
    # time phrase the claim opens with (报告期内，公司持续…).
    if self_refs is not None:
        limit = sentence.end if claim_end is None else claim_end
        for inside in self_refs.finditer(text, cue_start, limit):
            before = text[inside.start() - 1] if inside.start() > 0 else ""
            # Not the tail of another name (项目公司, 保险公司, 上市公司协会); the search
            # itself leaves out compounds it heads (公司治理).
            if not _HAN.match(before) or before in _BEFORE_SELF_REF:
                return inside.span()
    return None


def _topic_at(text: str, start: int, limit: int, stops: Any, reach: int,
              not_names: tuple[str, ...], not_ends: tuple[str, ...] = ()
              ) -> tuple[int, int] | None:
    """The topic opening ``text`` at ``start``: 2 to SUBJECT_TOPIC_MAX name characters up to
    the first stop word (在, 将, 已 …) within ``reach``, or None. None too when a stop word of
    two characters or more opens the clause (积极推进…) or the run holds 了 (巩固了星河建工…):
    such a clause opens with its predicate, not with the actor's name. None as well when the
    run ends in one of ``not_ends`` (调研中, 建成后, 之所): a time or a clause, not a name."""
    # A stop word of two characters or more opening the clause (表明了…, 积极推进…) leaves no
    # topic; one of one character there may begin a name (和顺电气, 向日光电).
    opening = stops.match(text, start)
    if opening is not None and opening.end() - start >= 2:
        return None
    # The first stop word that leaves a name of two characters or more: a one-character
    # stop right after the first character belongs to the name (华能电力, 华为).
    for stop in stops.finditer(text, start + 1, min(limit, start + reach)):
        if stop.start() - start >= 2:
            end = stop.start()
            name = text[start:end]
            if (end - start <= SUBJECT_TOPIC_MAX and _NAME_RUN.fullmatch(text, start, end)
                    and not name.startswith(not_names) and not name.endswith(not_ends)
                    and not _DATE_ONLY.fullmatch(text, start, end)  # 2月8日|晚间
                    and "了" not in name):  # 彰显了国家…: a verb, not a name
                return start, end
            return None
    return None


def _after_lead(lead: Any, text: str, start: int) -> int:
    """``start`` moved past a list item's marker, a date and a time word that open a clause
    before its actor (④ 亚马逊…, 去年10月|网易云音乐宣布…, 昨日|AT&T就…): news dates the
    clause first and names the actor second; reports number their paragraphs."""
    if lead is None:
        return start
    opening = lead.match(text, start)
    return opening.end() if opening is not None else start


def _before_officer(text: str, topic: tuple[int, int], settings: dict[str, Any]
                    ) -> tuple[int, int]:
    """``topic`` cut before an officer's role (the pack's ``subject_officer_roles``) that
    follows a name of two characters or more in it: 云帆汽车副总裁李四|称 speaks for 云帆汽车."""
    officers = settings.get("_subject_officer_regex")
    if officers is None:
        return topic
    role = officers.search(text, topic[0] + 2, topic[1])
    return (topic[0], role.start()) if role is not None else topic


def _name_in_topic(text: str, topic: tuple[int, int], settings: dict[str, Any]
                   ) -> tuple[int, int]:
    """The name a topic holds: without an officer's role and what follows it, and without a
    date after the name (商务部新闻发言人束珏婷 → 商务部, 沃尔沃汽车8日 → 沃尔沃汽车)."""
    return _undated(text, _before_officer(text, topic, settings))


def _undated(text: str, topic: tuple[int, int]) -> tuple[int, int]:
    """``topic`` without a date that follows the name in it (沃尔沃汽车8日|表示,
    国家发改委1月|新闻发布会上): the date is when, not who."""
    dated = _DATE_IN_TOPIC.search(text, topic[0] + 2, topic[1])
    if dated is None or _DATE_ONLY.fullmatch(text, topic[0], dated.start()):
        return topic  # no date after a name (2021年12月初 is a date, not a name and a date)
    return topic[0], dated.start()


def _announcer(text: str, sentence: Sentence, claim_start: int,
               settings: dict[str, Any]) -> tuple[int, int] | None:
    """The named actor that opens the sentence and announces the claim (星河化工公告，公司拟…;
    星河化工在官网宣布，公司已…), with only a time word, a place and one of the pack's
    ``subject_speech_verbs`` between the name and the claim; None if the sentence does not
    open that way or its topic is a person's role (``subject_speaker_roles``: 分析师表示，)."""
    speech = settings.get("_subject_speech_regex")
    stops = settings.get("_subject_stop_regex")
    if speech is None or stops is None or claim_start <= sentence.start:
        return None
    topic = _topic_at(text, sentence.start, claim_start, stops,
                      settings["_subject_stop_reach"], settings["_subject_not_start"])
    if topic is None or not speech.fullmatch(text, topic[1], claim_start):
        return None
    # An officer speaks for the company named before the role (星河科技董事长张三表示，公司…);
    # another speaker (分析师表示，) speaks about it. A date after the name (星河化工1月18日晚间
    # 公告，公司…) is not part of it.
    spoken_for = _before_officer(text, topic, settings)
    if spoken_for == topic and any(role in text[topic[0]:topic[1]]
                                   for role in settings["_subject_speaker_roles"]):
        return None
    return _undated(text, spoken_for)


# A list item's marker that opens a clause before its actor (④ 亚马逊…, 4、公司…, （三）…).
_LIST_MARKER = (r"(?:(?:[\u2460-\u2473]|[0-9]{1,2}[、．.](?![0-9])"
                r"|[（(][一二三四五六七八九十0-9]{1,3}[）)]|[一二三四五六七八九十]{1,3}、)\s*)?")
# A date inside a topic: figures followed by 年, 月 or 日; a topic that is only a date.
_DATE_IN_TOPIC = regex.compile(r"(?<![0-9])[0-9]{1,4}[年月日]")
_DATE_ONLY = regex.compile(r"(?:[0-9]{1,4}[年月日号])+")

# A Han character: a self-reference right after one is usually the tail of a longer name.
_HAN = regex.compile(r"\p{Han}")
# Words a self-reference may follow inside a claim and still stand alone (对公司…, 使公司…).
_BEFORE_SELF_REF = frozenset("对使令让给将由向在是了后因致于为")

# The characters a topic subject is made of.
_NAME_RUN = regex.compile(r"[\p{Han}A-Za-z0-9·&\-]+")
# A name up to the first figure, reaching the end of the window it is matched in.
_NAME_BEFORE_FIGURE = regex.compile(r"[\p{Han}A-Za-z·&\-]+(?=[0-9]|$)")


def prepare_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Compile the regexes that assembly needs from a pack's settings (once per extractor).

    They are kept under names starting with ``_``; such names given in ``settings`` are
    dropped (the loader refuses them in a pack, CX110), so that a regex read here is one
    compiled here."""
    given: dict[Any, Any] = settings  # (compiled, a typed key is checked to be a str)
    out = {key: value for key, value in given.items()
           if not (isinstance(key, str) and key.startswith("_"))}
    out["_sentiment_only_categories"] = frozenset(
        settings.get("sentiment_reversal_categories") or ())
    out["_neutral_categories"] = frozenset(settings.get("neutral_polarity_categories") or ())
    suffixes = sorted(settings.get("subject_suffixes", []), key=len, reverse=True)
    # Time words (今日, 晚间) end a topic like the stop words do (星河银行今日宣布…).
    times = sorted(settings.get("subject_time_words", []), key=len, reverse=True)
    time_words = "|".join(regex.escape(w) for w in times) or "(?!)"
    stops = sorted(dict.fromkeys([*settings.get("subject_stops", []), *times]), key=len,
                   reverse=True)
    if suffixes:
        alternation = "|".join(re.escape(s) for s in suffixes)
        # A suffix ends a name unless it starts a compound (公司债, 公司法, 平台化). The
        # standard library's engine: it skips ahead on the first characters of a plain
        # word alternation, twice as fast here as `regex` (1.3 µs vs 2.8 µs per window).
        out["_subject_suffix_regex"] = re.compile(r"(?:" + alternation + r")(?!债|法|化)")
        # What ends the name before a suffix: a stop word or a non-name character.
        markers = sorted(settings.get("subject_object_markers", []), key=len, reverse=True)
        # A stop word of one character that also stands inside names (华能, 华为, 成都: the
        # pack's subject_name_chars) does not cut the name before a suffix.
        inside = set(settings.get("subject_name_chars", []))
        cutting = [w for w in markers + stops if not (len(w) == 1 and w in inside)]
        boundary_words = "|".join(regex.escape(w) for w in cutting) or "(?!)"
        out["_subject_boundary_regex"] = regex.compile(
            r"(?:" + boundary_words + r"|[^\p{Han}A-Za-z0-9&·])")
    if stops:
        # The first stop word after a topic's first character (stdlib `re`, as above).
        out["_subject_stop_regex"] = re.compile(
            "|".join(re.escape(s) for s in stops))
        out["_subject_stop_reach"] = SUBJECT_TOPIC_MAX + len(stops[0])
    # Time words, adverbs and question words open a clause but never name its actor.
    out["_subject_not_start"] = tuple(settings.get("subject_not_start", []))
    # A list marker, dates and time words (④, 去年10月, 昨日) that open a clause before the
    # actor's name: the topic step starts after them.
    if stops:
        out["_subject_lead_regex"] = regex.compile(
            _LIST_MARKER + r"(?:[0-9]{2,4}年度?|[0-9]{1,2}月份?|[0-9]{1,2}[日号]|"
            + time_words + r")*")
    # … and a run that ends in a time or clause word (调研中, 建成后) names no one.
    out["_subject_not_end"] = tuple(settings.get("subject_not_end", []))
    out["_subject_weak_suffixes"] = frozenset(settings.get("subject_weak_suffixes", []))
    out["_subject_object_markers"] = frozenset(settings.get("subject_object_markers", []))
    out["_causatives"] = tuple(settings.get("causative_verbs", []))
    out["_complement_frames"] = tuple(settings.get("complement_frames", []))
    # "当…时" → ("当", "时"): a clause opening with the first and closing with the second.
    out["_scene_frames"] = tuple(tuple(frame.split("…", 1))
                                 for frame in settings.get("scene_clauses") or ())
    self_refs = sorted(settings.get("subject_self_refs", []), key=len, reverse=True)
    if self_refs:
        # A self-reference standing as a word (公司, not 公司债, 子公司 or 公司治理).
        out["_subject_self_regex"] = re.compile(
            r"(?<![子分总母孙控参])(?:" + "|".join(re.escape(w) for w in self_refs)
            + r")(?![债法化]|治理|层面|制度|章程|名称)")
    speech_verbs = sorted(settings.get("subject_speech_verbs", []), key=len, reverse=True)
    if speech_verbs:
        # What stands between an announcing name and the claim it announces: a time word
        # (晚间), a place (在互动平台上), the verb, an optional 称 and a comma or colon.
        out["_subject_speech_regex"] = regex.compile(
            r"(?:" + time_words + r")?(?:在[^，,。；;：:！!？?]{1,12}?)?(?:"
            + "|".join(regex.escape(w) for w in speech_verbs)
            + r")称?\s*[，,：:]\s*")
    out["_subject_speaker_roles"] = tuple(settings.get("subject_speaker_roles", []))
    officers = sorted(settings.get("subject_officer_roles", []), key=len, reverse=True)
    if officers:
        out["_subject_officer_regex"] = re.compile("|".join(re.escape(w) for w in officers))
    by_first: dict[str, list[str]] = {}
    for word in sorted(settings.get("leading_connectives", []), key=len, reverse=True):
        if word:
            by_first.setdefault(word[0], []).append(word)
    out["_connectives"] = {first: tuple(words) for first, words in by_first.items()}
    return out


def _inside_a_cue(scope: ModifierScope, hits: Sequence[Hit]) -> bool:
    """Whether the modifier's word is part of a cue word of the claim: the 不 of
    增收不增利 (a word of a lexicon rule) negates nothing, even where it also stands in the
    gap of another cue of the same claim (陷入…困局), and 没一罚六 is a penalty, not a denial.
    Only plain words count: a pattern's match and a sequence's stretch hold text around
    their words (对业绩|暂未|产生影响 is a denied effect), and a rule that states its own
    modality (不存在…问题) means its negator."""
    word_start, word_end = scope.hit.start, scope.hit.end
    for hit in hits:
        if (hit.start <= word_start and word_end <= hit.end
                and isinstance(hit.rule, LexiconRule) and hit.rule.modality is None):
            return True
    return False


def assemble(doc: NormalizedText, sentences: Sequence[Sentence], result: MatchResult,
             all_scopes: Sequence[ModifierScope], compiled: CompiledRules,
             settings: dict[str, Any], cancelled: list[tuple[Hit, str]] | None = None
             ) -> list[Claim]:
    """Build the claims of one document (offsets into ``doc.original``), sorted by start.

    With ``cancelled``, each claim cue that yields no claim is appended to it with the
    reason: the rule field that cancelled it (see :func:`_vetoed`) or
    ``"one_type_per_clause"`` when its clause went to a cue of another type."""
    if not result.claim_cues:  # a quarter of news articles: nothing to set up
        return []
    text = doc.text
    starts = [s.start for s in sentences]
    per_sentence: dict[int, list[Hit]] = {}
    seen = _ContextWordsSeen(result.words_found, compiled.context_masks, text,
                             compiled.context_shadows_by_index)
    for hit in result.claim_cues:
        si = bisect.bisect_right(starts, hit.start) - 1
        if si < 0:
            continue
        sentence = sentences[si]
        if hit.start < sentence.end and sentence.clause_starts:
            reason = _vetoed(text, sentence, hit, compiled, seen,
                             sentences[si - 1] if si > 0 else None)
            if reason is not None:
                if cancelled is not None:
                    cancelled.append((hit, reason))
                continue
            per_sentence.setdefault(si, []).append(hit)
    scope_hits = [m.hit.start for m in all_scopes]  # sorted: scopes follow their hits' order
    gap = int(settings.get("merge_gap", 1))
    settle = bool(settings.get("one_type_per_clause", False))
    claims: list[Claim] = []
    scenes = settings.get("_scene_frames", ())
    for si, hits in per_sentence.items():
        sentence = sentences[si]
        if scenes and len(sentence.clause_starts) > 1:
            # A clause that only sets the scene for the next (当…上线时, 在推出首款车一个月后)
            # states no claim of its own: its cues are the time of the main clause's claim.
            kept = _outside_scene_clauses(text, sentence, hits, scenes,
                                          settings["_connectives"])
            _note_dropped(cancelled, hits, kept, "scene_clause")
            hits = kept
            if not hits:
                continue
        if settle and len(hits) > 1:
            kept = _one_type_per_clause(sentence, hits, compiled.priors,
                                        settings.get("_causatives", ()),
                                        settings.get("_complement_frames", ()))
            _note_dropped(cancelled, hits, kept, "one_type_per_clause")
            hits = kept
        candidates: list[_Candidate] = []
        for hit in hits:
            if hit.rule.span == "match":
                first = _clause_index(sentence, hit.start)
                candidates.append(_Candidate(hit.rule.type, first, first, [hit], (hit.start, hit.end)))
                continue
            first, last = _clause_range(sentence, hit)
            candidates.append(_Candidate(hit.rule.type, first, last, [hit]))
        if len(candidates) > 1:  # a sentence with one cue (the most common) has nothing to merge
            candidates.sort(key=lambda c: (c.type, c.first, c.last))
            merged: list[_Candidate] = []
            for cand in candidates:
                prev = merged[-1] if merged else None
                if (prev is not None and prev.type == cand.type and prev.exact is None
                        and cand.exact is None and cand.first <= prev.last + gap):
                    prev.last = max(prev.last, cand.last)
                    prev.hits.extend(cand.hits)
                else:
                    merged.append(cand)
            candidates = merged
        # The modifiers standing in this sentence (a scope never crosses its sentence).
        lo = bisect.bisect_left(scope_hits, sentence.start)
        hi = bisect.bisect_left(scope_hits, sentence.end)
        sentence_scopes = all_scopes[lo:hi]
        for cand in candidates:
            claims.append(_build_claim(doc, sentence, cand, sentence_scopes, compiled, settings))
    if len(claims) > 1:
        claims.sort(key=lambda c: (c.start, c.end, str(c.type)))
    return claims


def _one_type_per_clause(sentence: Sentence, hits: list[Hit], fitted_priors: dict[str, float],
                         causatives: tuple[str, ...] = (),
                         frames: tuple[str, ...] = ()) -> list[Hit]:
    """Keep, in each clause, only the cues of the claim type with the strongest evidence.

    The annotation guidelines give a clause one reading: a plan (…将加大投入) or a strength
    (…竞争力将进一步增强), not both. Cues are grouped by the clause they start in; where
    types disagree, a cue that lies inside a longer cue of another type gives way first (既是
    挑战也是机遇 is a mixed blessing, not the risk its word 挑战 names); then the type of the
    cue that starts last keeps the clause: a Chinese clause ends in its predicate, and cues
    before it stand in its topic (外资品牌的大举进入|将加剧…竞争, 渠道下沉|仍面临挑战). On
    read-part gold this chooses as well as comparing the rules' fitted priors (sentence F1
    0.778 both, 0.771 without settling) and it does not move when priors are refitted.
    Except after a causative verb (the pack's ``causative_verbs``: 倒逼, 推动, 促使 …): a
    cue starting with one takes the rest of the clause as its complement, so later cues of
    other types give way to it (倒逼传统零售商|加快转型 is an effect on others). And so does a
    cue ending in one of the pack's ``complement_frames`` (在于, 来自 …): 核心优势在于|与公立医院
    的深度绑定 states a strength, whatever the words of its complement. Claims of different
    types in different clauses are untouched.
    """
    by_clause: dict[int, list[Hit]] = {}
    for hit in hits:
        by_clause.setdefault(_clause_index(sentence, hit.start), []).append(hit)
    if all(len({h.rule.type for h in group}) == 1 for group in by_clause.values()):
        return hits
    text = sentence.source
    kept: list[Hit] = []
    for group in by_clause.values():
        if len({h.rule.type for h in group}) > 1:
            # ... unless the inner cue opens with a causative verb: 集采政策|让仿制药企业的利润
            # 大幅缩水 is an effect on others even where a longer cue of the squeezed
            # party's own risk spans it.
            group = [h for h in group if (causatives and text.startswith(causatives, h.start))
                     or not any(
                g.rule.type != h.rule.type and g.start <= h.start and h.end <= g.end
                and g.end - g.start > h.end - h.start for g in group)]
        if causatives and len({h.rule.type for h in group}) > 1:
            cause = next((h for h in group if text.startswith(causatives, h.start)), None)
            if cause is not None:
                group = [h for h in group
                         if h.rule.type == cause.rule.type or h.start <= cause.start]
        if frames and len({h.rule.type for h in group}) > 1:
            frame = next((h for h in group if text.endswith(frames, h.start, h.end)), None)
            if frame is not None:
                group = [h for h in group
                         if h.rule.type == frame.rule.type or h.start < frame.end]
        if len({h.rule.type for h in group}) > 1:
            # The last cue's type; on a tie (cues starting together), stronger evidence.
            evidence: dict[str, dict[str, float]] = {}
            for hit in group:
                evidence.setdefault(hit.rule.type, {})[hit.rule.id] = fitted_priors.get(
                    hit.rule.id, hit.rule.prior)
            last = max(h.start for h in group)
            best = max({h.rule.type for h in group if h.start == last},
                       key=lambda t: (_noisy_or(evidence[t].values()), t))
            group = [h for h in group if h.rule.type == best]
        kept.extend(group)
    kept.sort(key=lambda h: (h.start, h.end))
    return kept


def _note_dropped(cancelled: list[tuple[Hit, str]] | None, hits: list[Hit],
                  kept: list[Hit], reason: str) -> None:
    """Record in ``cancelled`` (when the caller asked for it) the hits a step dropped."""
    if cancelled is not None and len(kept) < len(hits):
        kept_ids = {id(h) for h in kept}
        cancelled.extend((h, reason) for h in hits if id(h) not in kept_ids)


#: Longest clause (characters) read as a scene: a long clause states more than a time.
SCENE_CLAUSE_MAX = 40


def _outside_scene_clauses(text: str, sentence: Sentence, hits: list[Hit],
                           frames: tuple[tuple[str, ...], ...],
                           connectives: Any) -> list[Hit]:
    """The hits that do not lie in a scene-setting clause of a sentence with more than one
    clause: one that, after a leading connective (而, 但 …), opens with the first word of
    one of the pack's ``scene_clauses`` frames (当…时 → 当) and closes with its second (时),
    within ``SCENE_CLAUSE_MAX`` characters. The sentence's last clause is never a scene: a
    scene sets up what follows it."""
    starts, ends, _ = sentence.clause_bounds
    last = len(starts) - 1
    scenes: dict[int, bool] = {}
    kept: list[Hit] = []
    for hit in hits:
        k = _clause_index(sentence, hit.start)
        if k < last and hit.end <= ends[k]:
            scene = scenes.get(k)
            if scene is None:
                start = _strip_leading(text, starts[k], ends[k], connectives)
                scene = scenes[k] = ends[k] - start <= SCENE_CLAUSE_MAX and any(
                    text.startswith(opening, start) and text.endswith(closing, start, ends[k])
                    and ends[k] - start > len(opening) + len(closing)
                    for opening, closing in frames)
            if scene:
                continue
        kept.append(hit)
    return kept


def _noisy_or(priors: Iterable[float]) -> float:
    miss = 1.0
    for prior in priors:
        miss *= 1.0 - prior
    return 1.0 - miss


def _evidence(doc: NormalizedText, start: int, end: int, label: str, rule: str) -> Span:
    """An evidence span in the original text (mapped once: this runs for every cue)."""
    o_start, o_end = doc.to_original(start, end)
    return Span(o_start, o_end, doc.original[o_start:o_end], label, rule)


def _build_claim(doc: NormalizedText, sentence: Sentence, cand: _Candidate,
                 sentence_scopes: Sequence[ModifierScope], compiled: CompiledRules,
                 settings: dict[str, Any]) -> Claim:
    text = doc.text
    hits = cand.hits
    if cand.exact is not None:
        start, end = cand.exact
    else:
        clause_starts, clause_ends, _ = sentence.clause_bounds
        start = clause_starts[cand.first]
        end = clause_ends[cand.last]
        start = _strip_leading(text, start, end, settings["_connectives"])
        end = _trim_end(text, start, end)
        end = _balance_quotes(text, start, end, sentence.end)
    if end <= start:  # a claim made only of punctuation: fall back to the cue itself
        start, end = hits[0].start, hits[0].end
    single = len(hits) == 1  # most claims rest on one cue: no generators over its hits
    mods: list[ModifierScope] = []
    if sentence_scopes:  # most claims' sentences hold no modifier at all
        # By identity: comparing attrs values field by field is slow. A modifier limited
        # to some claim types (`allowed_types`) leaves the others alone, as in ConText.
        # Modifiers that only sentiment reads (``sentiment_reversal_categories``) touch no
        # claim either.
        sentiment_only = settings["_sentiment_only_categories"]
        seen: set[int] = {id(scope) for scope in sentence_scopes
                          if (scope.hit.rule.allowed_types
                              and cand.type not in scope.hit.rule.allowed_types)
                          or scope.category in sentiment_only}
        for hit in hits:
            for scope in modifiers_for(hit.start, hit.end, sentence_scopes, hit.gaps):
                if id(scope) not in seen and (single or not _inside_a_cue(scope, hits)):
                    seen.add(id(scope))
                    mods.append(scope)
        # Hedges and questions inside the claim's span colour the whole claim (意味着, 能否 in
        # a later clause of the same claim); negation stays local to the cues it reaches.
        for scope in sentence_scopes:
            if (scope.category in ("hedge", "question") and start <= scope.hit.start < end
                    and id(scope) not in seen):
                seen.add(id(scope))
                mods.append(scope)
    categories = {m.category for m in mods} if mods else _NO_CATEGORIES
    in_last_clause = cand.last == len(sentence.clause_starts) - 1
    if "question" in categories or (sentence.is_question and in_last_clause):
        modality = Modality.QUESTION
    elif "negation" in categories:
        modality = Modality.NEGATED
    elif "hedge" in categories:
        modality = Modality.HEDGED
    else:
        # A rule whose cue states its own modality (a denial: 不存在…的情形) gives it where
        # no modifier says otherwise.
        stated_modality = (hits[0].rule.modality if single else
                           next((h.rule.modality for h in hits
                                 if h.rule.modality is not None), None))
        modality = Modality.ASSERTED if stated_modality is None else stated_modality
    # The rules' own polarities, in text order; a definite one (positive, negative, mixed)
    # wins over a neutral one, since a neutral rule only says "no direction stated".
    if single:
        rule_polarity = hits[0].rule.polarity
    else:
        stated = [h.rule.polarity for h in hits if h.rule.polarity is not None]
        rule_polarity = next((p for p in stated if p is not Polarity.NEUTRAL), None) or (
            stated[0] if stated else None)
    type_info = compiled.claim_types.get(cand.type)
    polarity = rule_polarity or (type_info.polarity if type_info else Polarity.NEUTRAL)
    if "negation" in categories and modality is Modality.NEGATED:
        # A negation modifier turns the cue's direction round; a rule that states its cue
        # negated states the polarity of the claim as written.
        polarity = _FLIP.get(polarity, polarity)
    if categories & settings["_neutral_categories"]:
        # A modifier of a neutralising category reaches it (the default pack's
        # `collective`: a move many actors make at once, 纷纷入局, is a trend of the
        # industry, not one actor's plan): the claim states no direction for its subject.
        polarity = Polarity.NEUTRAL
    score, steps = _claim_confidence(hits, mods, compiled)
    cue_start = hits[0].start if single else min(h.start for h in hits)
    subject_span = find_subject(text, sentence, start, cue_start, settings, end)
    original = doc.original
    ordered = hits if single else sorted(hits, key=lambda h: h.start)
    if doc.offsets.is_identity:
        # Offsets map to themselves (most news text): no mapping call per span.
        subject = original[subject_span[0]:subject_span[1]] if subject_span else None
        o_start, o_end = start, end
        cues = tuple([Span(h.start, h.end, original[h.start:h.end], str(h.rule.type), h.rule.id)
                      for h in ordered])
        modifier_spans = tuple([Span(m.hit.start, m.hit.end, original[m.hit.start:m.hit.end],
                                     m.category, m.hit.rule.id) for m in mods])
    else:
        # As written, in its own script, without inline pinyin or invisible characters.
        subject = doc.original_words(*subject_span) if subject_span else None
        o_start, o_end = doc.to_original(start, end)
        cues = tuple([_evidence(doc, h.start, h.end, str(h.rule.type), h.rule.id)
                      for h in ordered])
        modifier_spans = tuple([_evidence(doc, m.hit.start, m.hit.end, m.category,
                                          m.hit.rule.id) for m in mods])
    return Claim(
        type=cand.type, start=o_start, end=o_end, text=original[o_start:o_end],
        polarity=polarity, modality=modality, subject=subject, confidence=score,
        rules=(hits[0].rule.id,) if single else tuple(dict.fromkeys(h.rule.id for h in hits)),
        evidence=Evidence(cues=cues, modifiers=modifier_spans, confidence_steps=steps))

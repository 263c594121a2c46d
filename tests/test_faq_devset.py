"""The real content against the public dev set: the targets as a whole, not line by line."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared"
DEV = SHARED / "eval" / "faq-dev.tsv"

pytestmark = pytest.mark.skipif(not DEV.exists(), reason=f"dev set not found at {DEV}")


def _bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("faq_bench", ROOT / "bench" / "faq_bench.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("faq_bench", module)  # dataclasses look the module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def report():  # type: ignore[no-untyped-def]
    from knowledge.content import load_entries
    from knowledge.matcher import Matcher

    bench = _bench()
    matcher = Matcher(load_entries())
    rep = bench.evaluate(bench.matcher_predictor(matcher), bench.read_dev(DEV))
    bench.print_report("dev set", rep)
    for line, fallback, got in rep.misses:
        want = ",".join(sorted(line.topics)) or "OOS"
        print(f"  miss [{line.variant}] {line.question!r} want={want} fallback={fallback} {got}")
    return rep


def test_top1_topic_accuracy(report) -> None:  # type: ignore[no-untyped-def]
    assert report.top1 >= 90.0


def test_top3_topic_accuracy(report) -> None:  # type: ignore[no-untyped-def]
    assert report.top3 >= 97.0


def test_out_of_scope_falls_back(report) -> None:  # type: ignore[no-untyped-def]
    assert report.oos >= 90.0


def test_no_diacritics_close_to_accented(report) -> None:  # type: ignore[no-untyped-def]
    def top1(variant: str) -> float:
        t = report.by_variant[variant]
        return 100.0 * t.top1 / t.n_in

    assert top1("noaccent") >= top1("accent") - 3.0


@pytest.fixture(scope="module")
def cv():  # type: ignore[no-untyped-def]
    """Each entry's phrasings held out in turn; parameters picked on the other folds."""
    from knowledge.content import load_entries

    bench = _bench()
    entries = load_entries()
    oos, blind = bench.calibration_lines(bench.read_dev(DEV))
    fitted: list = []  # type: ignore[type-arg]
    ours, _ = bench.cross_validate(
        bench.matcher_raw,
        entries,
        oos,
        bench.MATCHER_MARGINS,
        bench.MATCHER_FLOOR,
        bench.MATCHER_SUBJECTS,
        shorts=bench.MATCHER_SHORTS,
        fitted=fitted,
        knowns=bench.MATCHER_KNOWN,
        strongs=bench.MATCHER_KNOWN_STRONG,
        blind=blind,
        beliefs=bench.MATCHER_OOS_BELIEFS,
    )
    # The same questions (phrasings and labelled questions) for both.
    plain, _ = bench.cross_validate(
        bench.baseline_raw(bench.bm25_baseline), entries, oos, blind=blind
    )
    bench.print_cv("matcher", ours, [])
    bench.print_cv("plain BM25", plain, [])
    return ours, plain, fitted[0]


def _rate(total, variant: str = "ALL", what: str = "top1") -> float:  # type: ignore[no-untyped-def]
    t = total[variant]
    if what == "oos":
        return 100.0 * t.oos_ok / t.n_oos
    return 100.0 * getattr(t, what) / t.n_in


def test_cross_validated_matcher_beats_plain_bm25_on_held_out_phrasings(cv) -> None:  # type: ignore[no-untyped-def]
    ours, plain, _ = cv
    assert _rate(ours) >= _rate(plain) + 4.0
    assert _rate(ours, "noaccent") >= _rate(ours, "accent") - 2.0
    times = sorted(ours["ALL"].times)
    assert times[len(times) // 2] < 0.002  # median under 2 ms per question


def test_cross_validated_top3_is_not_below_plain_bm25(cv) -> None:  # type: ignore[no-untyped-def]
    """Candidates of different topics: the list of three is at least as good as BM25's."""
    ours, plain, _ = cv
    assert _rate(ours, what="top3") >= _rate(plain, what="top3")


def test_cross_validated_out_of_scope_refused(cv) -> None:  # type: ignore[no-untyped-def]
    ours, _, _ = cv
    assert _rate(ours, what="oos") >= 95.0
    # Asked as if the off-topic list did not name their subject, most are still refused:
    # the decision reads what the question is about, not only the list.
    assert _rate(ours, "unlisted", "oos") >= 92.0


def test_cross_validated_figures_improved_on_the_previous_matcher(cv) -> None:  # type: ignore[no-untyped-def]
    """Guard against regressions: the matcher before issue 12's generalisation work scored
    66.5% top-1 and 87.9% top-3 under this protocol; after it 70.6% and 93.8%; with the
    blind dev questions in the folds and the content work on their misses, 77.0% / 95.7%;
    learning the labelled questions (each fold learns only the others') and their
    out-of-scope class, 88.8% / 97.6%, and 96.7% top-1 on the labelled questions themselves."""
    ours, _, _ = cv
    assert _rate(ours) >= 87.0
    assert _rate(ours, what="top3") >= 97.0
    assert _rate(ours, "blind") >= 95.5


@pytest.fixture(scope="module")
def heldout():  # type: ignore[no-untyped-def]
    """bench/heldout_questions.yaml through the shipped matcher: never tuned on, reported."""
    from knowledge.content import load_entries
    from knowledge.matcher import Matcher

    bench = _bench()
    entries = load_entries()
    matcher = Matcher(entries)
    lines = bench.read_heldout(bench.HELDOUT, entries)

    def entry_of(question: str) -> str | None:
        r = matcher.match(question)
        return None if r.fallback or r.best is None else r.best.entry_id

    report = bench.print_heldout("held-out file", bench.matcher_predictor(matcher), lines, entry_of)
    right = sum(1 for line, ids in lines if ids and entry_of(line.question) in ids)
    return report, 100.0 * right / sum(1 for _, ids in lines if ids)


def test_hand_written_held_out_questions(heldout) -> None:  # type: ignore[no-untyped-def]
    report, right_entry = heldout
    assert report.top1 >= 93.0
    assert report.top3 >= 98.0
    assert report.oos >= 90.0
    assert right_entry >= 90.0


def test_shipped_constants_are_the_cross_validated_ones(cv) -> None:  # type: ignore[no-untyped-def]
    from knowledge import matcher

    _, _, fitted = cv
    shipped = (
        matcher.THRESHOLD,
        matcher.MARGIN,
        matcher.SUBJECT_MIN,
        matcher.SHORT_EXTRA,
        matcher.KNOWN_MIN,
        matcher.SHORT_WORDS,
        matcher.KNOWN_STRONG,
        matcher.OOS_BELIEF,
    )
    got = (fitted.threshold, fitted.margin, fitted.subject, fitted.short_extra, fitted.known)
    assert shipped[:5] == pytest.approx(got)
    assert shipped[5] == fitted.short_words
    assert shipped[6] == pytest.approx(fitted.known_strong)
    assert shipped[7] == pytest.approx(fitted.oos_belief)


def test_blind_test_questions_meet_the_targets() -> None:
    """bench/blind_test.tsv (written blind, never tuned on) through the shipped matcher:
    issue 12's targets on questions the matcher has not seen (measured 97.0 / 98.7 / 100, no
    diacritics 96.7 vs 97.9, plain BM25 88.3)."""
    from knowledge.content import load_entries
    from knowledge.matcher import Matcher

    bench = _bench()
    lines = bench.read_dev(bench.BLIND_TEST)
    assert sum(1 for x in lines if not x.oos) >= 290 and sum(1 for x in lines if x.oos) >= 70
    entries = load_entries()
    predict = bench.matcher_predictor(Matcher(entries))
    ours = bench.evaluate(predict, lines)
    assert ours.top1 is not None and ours.top1 >= 93.0
    assert ours.top3 is not None and ours.top3 >= 98.0
    assert ours.oos is not None and ours.oos >= 95.0
    make = bench.bm25_baseline(entries)
    plain = bench.evaluate(make(bench.pick_threshold(make, bench.read_dev(DEV))), lines)
    assert plain.top1 is not None and ours.top1 >= plain.top1 + 4.0
    by_variant = {
        v: bench.evaluate(predict, [x for x in lines if x.variant == v])
        for v in ("accent", "noaccent")
    }
    assert by_variant["noaccent"].top1 >= by_variant["accent"].top1 - 2.0  # type: ignore[operator]

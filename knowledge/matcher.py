"""Matching a user's question to a knowledge-base entry.

Pipeline (all on ``normalize``d text):

1. Terms: content syllables (stopwords dropped) and adjacent-syllable bigrams (dropped only
   when both syllables are stopwords). Bigrams disambiguate what folding merges: "hoi cho"
   (hội chợ) vs "cho em hoi" (cho em hỏi), "ho tro" vs "ho so" vs "ho kinh doanh".
2. Typo repair: a query syllable unknown to the content is replaced by the nearest content
   syllable at edit distance 1 (``côg`` -> ``cong``), with a reduced weight.
3. Retrieval: BM25 over entry documents (each entry's phrasings and title), a sparse
   numpy implementation. The score is divided by the query's ideal score (every term matched
   once in an average-length document), where terms unknown to the content still count, so
   "how much of the question does this entry explain" is a number in 0..1.
4. Rerank the best few entries with rapidfuzz against each phrasing (typos, word order).
   The candidates shown are of different topics while there are others (a list of three
   entries of one topic hides the other readings of the question).
5. Decide: fallback if the question is about a subject that is not khuyến công (the
   thesaurus' ``off_topic`` list by life domain: khuyến nông, weather, bank loans, civil
   papers, schooling ...; read before and after typo repair) and the best entry does not
   speak of it; if it carries no domain term and the best score is not strong; if the best
   entry contains under ``subject_min`` of what the question is about (its words beyond
   procedure words); if the best score is under ``threshold`` (``short_extra`` more for a
   question of at most ``short_words`` content syllables); or if the runner-up of another
   topic is within ``margin``.

Synonyms of the domain thesaurus (``knowledge/rules/thesaurus.yaml``) are rewritten to one
form on both sides (entries at build time, the question at match time). ``threshold``,
``margin``, ``subject_min`` and the short-question extra are calibrated by nested
cross-validation over held-out phrasings and out-of-scope lines (bench/faq_bench.py prints
the values fitted on all folds; tests/test_faq_devset.py checks these constants are them).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from knowledge.normalize import tokens as norm_tokens
from knowledge.thesaurus import Thesaurus, default_thesaurus

__all__ = ["DOMAIN_TERMS", "STOPWORDS", "Candidate", "MatchResult", "Matcher", "strip_filler"]


class _EntryLike(Protocol):
    # Read-only, so that frozen dataclasses (knowledge.content.Entry) fit.
    @property
    def id(self) -> str: ...
    @property
    def topic(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def questions(self) -> tuple[str, ...]: ...


# General Vietnamese function words and chat filler (folded). Syllables that fold onto a
# domain word stay meaningful through bigrams ("cho" = chợ in "hoi cho", "co" = cơ in
# "co so"); common words that carry the domain alone ("may" = máy, "hoi" = hội, "so" = số,
# "nghe" = nghề, "can" = cán/cần, "lam" = làm) are not stopwords.
STOPWORDS: frozenset[str] = frozenset(
    """
    a ah ak anh ban bay bi boi ca cac cai cau chi chiu cho chu chua co con cua cung da dac
    dang day de den deu di do doi dong du duoc em gi gium giup goi hay he hem het hi hien
    hoac hom hon khi khong kia la lai len luc ma minh moi mot muon nao nay neu ngay nguoi
    nhe nha nhi nho nhu nhung noi nua o oi ok on phai qua ra rang rat roi sao se sang ta tai
    tao the thi thoi thu thuc toi trong tu tuc ui va vai van vay ve vi viec voi vo vui xin
    xem y uh uk ukm dung ay
    """.split()  # noqa: SIM905
)

# Domain-bearing syllables and bigrams (folded). A question with none of these is not about
# khuyến công. Generic on purpose: the vocabulary of the programme, not of the FAQ lines.
DOMAIN_TERMS: frozenset[str] = frozenset(
    w.replace("_", " ")
    for w in """
    khuyen cong_nghiep nong_thon cnnt ocop ho_tro kinh_phi ngan_sach von tien co_so
    doanh_nghiep hop_tac to_hop ho_kinh xuong san_xuat lang_nghe nghe_nhan dao_tao
    truyen_nghe day_nghe tap_huan lop khoa_hoc quan_ly khoi_su hoi_thao tham_quan mo_hinh
    trinh_dien ky_thuat cong_nghe chuyen_giao may_moc thiet_bi day_chuyen may sach_hon
    o_nhiem moi_truong xu_ly nang_luong tiet_kiem di_doi chat_thai san_pham tieu_bieu
    binh_chon hoi_cho trien_lam gian_hang trung_bay thuong_hieu nhan_hieu bao_bi tu_van
    du_an marketing tai_chinh ke_toan nhan_luc chuyen_doi thuong_mai dien_tu online ban_hang
    thong_tin tuyen_truyen tai_lieu ban_tin lien_ket hiep_hoi chuoi lien_doanh ho_so thu_tuc
    de_an dang_ky nop thuyet_minh nghiem_thu giai_ngan quyet_toan thanh_toan bao_cao
    trung_tam can_bo dien_thoai dia_chi lien_he van_phong gio_lam cong_tac tac_vien
    nghi_dinh thong_tu quyet_dinh van_ban phap_luat chinh_sach hieu_luc doi_tuong dieu_kien
    toi_da muc_ho
    """.split()  # noqa: SIM905
)


# Calibrated by cross-validation (bench/faq_bench.py, "fitted on all folds"): each entry's
# phrasings are held out in turn and asked of a matcher built without them, with the OOS
# lines (asked also as if their off-topic subject were not listed); the parameters with the
# most right decisions (answer rate + refusal rate) are kept.
THRESHOLD = 0.40
# Two entries of different topics closer than this: ask rather than guess.
MARGIN = 0.0
# Minimum share of a question's subject the best entry must contain (cross-validated).
SUBJECT_MIN = 0.1
# Short questions (at most SHORT_WORDS content syllables) need SHORT_EXTRA more.
SHORT_WORDS = 7
SHORT_EXTRA = 0.1
# Added to entries of the conversation's previous topic when reading a follow-up.
TOPIC_BONUS = 0.06


@dataclass(frozen=True)
class Candidate:
    entry_id: str
    topic: str
    score: float


@dataclass(frozen=True)
class MatchResult:
    fallback: bool
    best: Candidate | None
    candidates: list[Candidate] = field(default_factory=list)
    reason: str = ""
    # Share of the question's subject the best entry contains (None: no subject words).
    coverage: float | None = None
    # Content syllables of the question (stopwords dropped).
    length: int = 0


_ASKERS = frozenset({"em", "minh", "toi", "anh", "chi", "xin", "ban", "cho", "muon", "can"})


def _strip_filler(toks: list[str]) -> list[str]:
    """Drop chat filler that folding makes look like domain words: "cho em hỏi" (hỏi, not
    hội), "ơi"."""
    return [
        t
        for i, t in enumerate(toks)
        if not (t == "oi" or (t == "hoi" and i and toks[i - 1] in _ASKERS))
    ]


strip_filler = _strip_filler


def _terms(toks: Sequence[str]) -> list[str]:
    """Unigrams (no stopwords) and bigrams (unless both halves are stopwords)."""
    out = [t for t in toks if t not in STOPWORDS]
    for a, b in zip(toks, toks[1:], strict=False):
        if a not in STOPWORDS or b not in STOPWORDS:
            out.append(f"{a} {b}")
    return out


class Matcher:
    """Built once from the entries; ``match`` is cheap and thread-safe (read only)."""

    def __init__(
        self,
        entries: Iterable[_EntryLike],
        *,
        threshold: float = THRESHOLD,
        margin: float = MARGIN,
        k1: float = 1.2,
        b: float = 0.5,
        fuzzy_weight: float = 0.4,
        rerank: int = 20,
        unknown_bigram: float = 0.5,
        subject_min: float = SUBJECT_MIN,
        thesaurus: Thesaurus | None = None,
        per_topic: int = 1,
        short_words: int = SHORT_WORDS,
        short_extra: float = SHORT_EXTRA,
    ) -> None:
        self.thesaurus = thesaurus if thesaurus is not None else default_thesaurus()
        self.threshold = threshold
        self.margin = margin
        self.k1 = k1
        self.b = b
        self.fuzzy_weight = fuzzy_weight
        self.rerank = rerank
        # Weight of a query bigram the content never has, relative to an unknown syllable.
        self.unknown_bigram = unknown_bigram
        # Share of the question's subject (its terms beyond the thesaurus' generic
        # procedure words) the best entry must contain; under it the question is about
        # something else ("hồ sơ xin việc", "đăng ký kết hôn").
        self.subject_min = subject_min
        self.doc_terms: list[frozenset[str]] = []
        # Candidates shown: at most this many of one topic before the others' turn.
        self.per_topic = per_topic
        # A short question (at most ``short_words`` content syllables) must score
        # ``short_extra`` more: a few words match much of an entry by chance.
        self.short_words = short_words
        self.short_extra = short_extra

        self.ids: list[str] = []
        self.topics: list[str] = []
        docs: list[Counter[str]] = []
        # Phrasings (normalised, stopwords dropped) for fuzzy reranking, per entry.
        self.phrasings: list[list[str]] = []
        # Every syllable sequence of an entry, to tell whether it speaks of an off-topic
        # subject itself ("khuyến công có giống khuyến nông không").
        self.entry_texts: list[list[list[str]]] = []
        seen: set[str] = set()
        for entry in entries:
            if entry.id in seen:
                continue
            seen.add(entry.id)
            self.ids.append(entry.id)
            self.topics.append(entry.topic)
            counter: Counter[str] = Counter()
            texts: list[str] = []
            token_lists: list[list[str]] = []
            for text in (*entry.questions, entry.title):
                toks = self.thesaurus.rewrite(_strip_filler(norm_tokens(text)))
                token_lists.append(toks)
                counter.update(_terms(toks))
                content = " ".join(t for t in toks if t not in STOPWORDS)
                if content and content not in texts:
                    texts.append(content)
            docs.append(counter)
            self.doc_terms.append(frozenset(counter))
            self.phrasings.append(texts)
            self.entry_texts.append(token_lists)
        self._build_index(docs)

    # ----------------------------------------------------------------------------------

    def _build_index(self, docs: list[Counter[str]]) -> None:
        n = len(docs)
        self.n_docs = n
        lengths = np.array([sum(d.values()) for d in docs], dtype=np.float64)
        avg = float(lengths.mean()) if n else 1.0
        df: Counter[str] = Counter()
        for d in docs:
            df.update(d.keys())
        self.idf: dict[str, float] = {
            t: math.log(1.0 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()
        }
        # Unknown terms weigh like a term found in a single entry.
        self.unknown_idf = math.log(1.0 + (n - 0.5) / 1.5) if n else 1.0
        postings: dict[str, tuple[list[int], list[float]]] = {}
        norm = self.k1 * (1.0 - self.b + self.b * lengths / avg) if n else lengths
        for i, d in enumerate(docs):
            for t, tf in d.items():
                w = self.idf[t] * tf * (self.k1 + 1.0) / (tf + norm[i])
                ids, ws = postings.setdefault(t, ([], []))
                ids.append(i)
                ws.append(w)
        self.postings = {
            t: (np.array(ids, dtype=np.int32), np.array(ws, dtype=np.float64))
            for t, (ids, ws) in postings.items()
        }
        self.vocab = sorted({t for t in df if " " not in t})
        self.topic_arr = self.topics

    def _repair(self, toks: list[str]) -> tuple[list[str], set[str]]:
        """Replace unknown syllables with a content syllable at edit distance 1."""
        out: list[str] = []
        repaired: set[str] = set()
        for t in toks:
            if t in self.idf or t in STOPWORDS or len(t) < 3 or t.isdigit():
                out.append(t)
                continue
            hit = process.extractOne(t, self.vocab, scorer=Levenshtein.distance, score_cutoff=1)
            if hit is not None:
                out.append(hit[0])
                repaired.add(hit[0])
            else:
                out.append(t)
        return out, repaired

    def subject_coverage(self, terms: Sequence[str], i: int) -> float | None:
        """The idf share of the question's subject terms found in entry ``i``; None when
        the question has no subject terms (only procedure words)."""
        generic = self.thesaurus.generic
        total = covered = 0.0
        for t in terms:
            words = t.split()
            if all(w in STOPWORDS or w in generic for w in words):
                continue
            weight = self.idf.get(t)
            if weight is None:
                weight = self.unknown_idf * (self.unknown_bigram if len(words) > 1 else 1.0)
            total += weight
            if t in self.doc_terms[i]:
                covered += weight
        return covered / total if total > 0.0 else None

    def entries_speaking_of(self, question: str) -> list[str]:
        """Ids of the entries whose phrasings name an off-topic subject the question names
        ("khuyến nông" → "Khuyến công có giống khuyến nông không?")."""
        off = self.thesaurus.off_topic_in(self.query_tokens(question))
        if not off:
            return []
        return [
            self.ids[i]
            for i, texts in enumerate(self.entry_texts)
            if any(_contains(text, p) for p in off for text in texts)
        ]

    def _pick(
        self, combined: list[tuple[float, int]], n: int, per_topic: int
    ) -> list[tuple[float, int]]:
        """The ``n`` candidates to show, best first, at most ``per_topic`` entries of one
        topic while other topics are left: three entries of one topic would hide the other
        readings of the question (when unsure, the user picks among different subjects)."""
        picked: list[tuple[float, int]] = []
        rest: list[tuple[float, int]] = []
        per: Counter[str] = Counter()
        for s, i in combined:
            if len(picked) >= n:
                break
            if per[self.topics[i]] < per_topic:
                picked.append((s, i))
                per[self.topics[i]] += 1
            else:
                rest.append((s, i))
        picked.extend(rest[: n - len(picked)])
        picked.sort(key=lambda x: (-x[0], x[1]))
        return picked

    def query_tokens(self, question: str) -> list[str]:
        """The question as the index sees it: normalised, filler dropped, synonyms rewritten."""
        return self.thesaurus.rewrite(_strip_filler(norm_tokens(question)))

    def match(self, question: str, k: int = 3, *, prefer_topic: str | None = None) -> MatchResult:
        """The best entries for ``question``; ``prefer_topic`` (a follow-up's previous topic)
        lifts that topic's entries by ``TOPIC_BONUS``."""
        toks = self.query_tokens(question)
        if not toks or self.n_docs == 0:
            return MatchResult(True, None, [], "empty")
        # Off-topic subjects are read before typo repair too: a word the content lacks is
        # not a typo of a content word ("hộ nghèo" is not "hộ nghề").
        off = self.thesaurus.off_topic_in(toks)
        toks, repaired = self._repair(toks)
        if repaired:
            toks = self.thesaurus.rewrite(toks)
        terms = list(dict.fromkeys(_terms(toks)))
        if not terms:
            return MatchResult(True, None, [], "no content words")

        scores = np.zeros(self.n_docs, dtype=np.float64)
        ideal = 0.0
        for t in terms:
            factor = 0.8 if t in repaired else 1.0
            post = self.postings.get(t)
            if post is None:
                ideal += self.unknown_idf * (self.unknown_bigram if " " in t else 1.0)
                continue
            ideal += self.idf[t]
            ids, ws = post
            scores[ids] += ws * factor
        if ideal <= 0.0 or not scores.any():
            return MatchResult(True, None, [], "no known words")
        scores /= ideal

        top_n = min(self.rerank, self.n_docs)
        if top_n < self.n_docs:
            idx = np.argpartition(-scores, top_n - 1)[:top_n]
        else:
            idx = np.arange(self.n_docs)
        query_text = " ".join(t for t in toks if t not in STOPWORDS) or " ".join(toks)
        combined: list[tuple[float, int]] = []
        fw = self.fuzzy_weight
        for i in idx:
            i = int(i)
            lexical = min(1.0, float(scores[i]))
            if lexical <= 0.0:
                continue
            fz = 0.0
            for p in self.phrasings[i]:
                s = fuzz.token_sort_ratio(query_text, p)
                if s > fz:
                    fz = s
            value = (1.0 - fw) * lexical + fw * fz / 100.0
            if prefer_topic is not None and self.topics[i] == prefer_topic:
                value += TOPIC_BONUS
            combined.append((min(1.0, value), i))
        # Best first; ties broken by entry order so results are deterministic.
        combined.sort(key=lambda x: (-x[0], x[1]))

        if not combined:
            return MatchResult(True, None, [], "no candidates")
        # A follow-up is read within the previous topic: its entries are not spread out.
        per_topic = self.per_topic if prefer_topic is None else max(k, 2)
        picked = self._pick(combined, max(k, 2), per_topic)
        cands = [Candidate(self.ids[i], self.topics[i], round(s, 4)) for s, i in picked]
        best = cands[0]
        shown = cands[:k]
        coverage = self.subject_coverage(terms, combined[0][1])
        length = sum(1 for t in toks if t not in STOPWORDS)
        threshold = self.threshold + (self.short_extra if length <= self.short_words else 0.0)
        off = list(dict.fromkeys([*off, *self.thesaurus.off_topic_in(toks)]))
        if off:
            # Refused, unless the question compares it with khuyến công and the entry does
            # too ("khuyến công có giống khuyến nông không").
            best_i = combined[0][1]
            compared = _contains(toks, ("khuyen", "cong")) and any(
                _contains(text, p) for p in off for text in self.entry_texts[best_i]
            )
            if not compared:
                return MatchResult(True, None, shown, "off topic", coverage, length)
        has_domain = any(t in DOMAIN_TERMS for t in terms) or any(t in DOMAIN_TERMS for t in toks)
        if not has_domain and best.score < self.thesaurus.strong_without_domain:
            return MatchResult(True, None, shown, "no domain term", coverage, length)
        if coverage is not None and coverage < self.subject_min:
            return MatchResult(True, None, shown, "subject not covered", coverage, length)
        if best.score < threshold:
            return MatchResult(True, None, shown, "low score", coverage, length)
        if len(cands) > 1:
            second = cands[1]
            if second.topic != best.topic and best.score - second.score < self.margin:
                return MatchResult(True, None, shown, "ambiguous", coverage, length)
        return MatchResult(False, best, shown, "", coverage, length)


def _contains(toks: Sequence[str], phrase: Sequence[str]) -> bool:
    n = len(phrase)
    p = tuple(phrase)
    return any(tuple(toks[i : i + n]) == p for i in range(len(toks) - n + 1))

"""Matching a user's question to a knowledge-base entry.

Pipeline (all on ``normalize``d text):

1. Terms: content syllables (stopwords dropped) and adjacent-syllable bigrams (dropped only
   when both syllables are stopwords). Bigrams disambiguate what folding merges: "hoi cho"
   (hội chợ) vs "cho em hoi" (cho em hỏi), "ho tro" vs "ho so" vs "ho kinh doanh".
2. Typo repair: a query syllable unknown to the content is replaced by the nearest content
   syllable at edit distance 1 (``côg`` -> ``cong``), with a reduced weight.
3. Retrieval: field-weighted BM25 over entry documents (phrasings, title, the answer's first
   sentence and the answer, see TITLE_WEIGHT ...), a sparse numpy implementation. The score
   is divided by the query's ideal score (every term matched once in an average-length
   document), where terms unknown to the content still count, so "how much of the question
   does this entry explain" is a number in 0..1.
4. Rerank the best few entries with rapidfuzz against each phrasing (typos, word order) and
   a topic model (naive Bayes over each topic's pooled words — its entries and the users'
   questions labelled with it, knowledge/rules/labelled_questions.tsv: a question phrased
   unlike any single entry still shares its topic's vocabulary), whose lift is scaled by the
   entry's own lexical evidence. The candidates shown are of different topics while there
   are others (a list of three entries of one topic hides the other readings of the
   question).
5. Decide: fallback if the question is about a subject that is not khuyến công (the
   thesaurus' ``off_topic`` list by life domain: khuyến nông, weather, bank loans, civil
   papers, schooling ...; read before and after typo repair) and the best entry does not
   speak of it; if it carries no domain term and the best entry's own words do not match it
   strongly; if under ``known_min`` of its subject words and word pairs occur anywhere in the
   content (it is about something else: "đăng ký xe máy") and the best entry scores under
   ``known_strong`` (a strong match may name a thing no entry names); if the best
   entry contains under ``subject_min`` of what the question is about (its words beyond
   procedure words); if the best score is under ``threshold`` (``short_extra`` more for a
   question of at most ``short_words`` content syllables that does not name the programme);
   or if the runner-up of another topic is within ``margin``. A question comparing
   khuyến công with an off-topic programme is answered by the entry that names it.

Who asks is not what a question is about: the words naming a kind of facility (thesaurus
``actors``: hợp tác xã, doanh nghiệp, hộ kinh doanh, a craft) weigh ``ACTOR_WEIGHT`` when the
question names something else too ("HTX xin hỗ trợ máy đóng gói").

Synonyms of the domain thesaurus (``knowledge/rules/thesaurus.yaml``) are rewritten to one
form on both sides (entries at build time, the question at match time). ``threshold``,
``margin``, ``subject_min``, ``known_min``, ``known_strong`` and the short-question extra are
calibrated by nested cross-validation over held-out phrasings, blind-written questions and
out-of-scope lines (bench/faq_bench.py prints
the values fitted on all folds; tests/test_faq_devset.py checks these constants are them).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from knowledge.labelled import LabelledQuestion, default_labelled
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
    toi_da muc_ho doi_ung kinh_doanh thu_cong my_nghe det tho_cam may_tre gom_su
    che_bien do_go
    """.split()  # noqa: SIM905
)


# Calibrated by cross-validation (bench/faq_bench.py, "fitted on all folds"): each entry's
# phrasings are held out in turn and asked of a matcher built without them, with the OOS
# lines (asked also as if their off-topic subject were not listed); the parameters with the
# most right decisions (answer rate + refusal rate) are kept.
THRESHOLD = 0.46
# Two entries of different topics closer than this: ask rather than guess.
MARGIN = 0.0
# Minimum share of a question's subject the best entry must contain (cross-validated).
SUBJECT_MIN = 0.0
# Short questions (at most SHORT_WORDS content syllables) need SHORT_EXTRA more.
SHORT_WORDS = 5
SHORT_EXTRA = 0.15
# Minimum share of the question's subject words and pairs the content knows at all...
KNOWN_MIN = 0.7
# ...unless the best entry scores at least this: a question the content answers strongly
# may still name a thing no entry names ("tiền xe chở hàng" to a fair). Over 1: never waived.
KNOWN_STRONG = 0.85
# Weight of a term naming who asks (thesaurus ``actors``: HTX, doanh nghiệp ...) when the
# question also names something else: that something is what it is about.
ACTOR_WEIGHT = 0.35
# Names of the programme itself (folded): a question naming one is about khuyến công however
# short it is.
PROGRAMME_NAMES = (("khuyen", "cong"), ("ocop",), ("cnnt",), ("cong", "nghiep", "nong", "thon"))
# Added to entries of the conversation's previous topic when reading a follow-up.
TOPIC_BONUS = 0.06
# Share of a follow-up's topic belief that comes from the conversation's previous topic.
FOLLOWUP_TOPIC_SHARE = 0.35

# Fields of an entry's document, by weight: each phrasing 1, the title TITLE_WEIGHT (a
# short statement of the subject), the answer's first sentence LEAD_WEIGHT and the whole
# answer ANSWER_WEIGHT (they speak of the subject in words the phrasings may not use).
TITLE_WEIGHT = 3.0
LEAD_WEIGHT = 0.3
ANSWER_WEIGHT = 0.2
# Topic model (naive Bayes over the pooled words of every entry of a topic): its belief
# adds up to TOPIC_WEIGHT to an entry, scaled by the entry's own lexical evidence
# (TOPIC_GAIN × its BM25 share, at most 1). NB_ALPHA: additive smoothing; NB_TEMP: the
# log-likelihood is divided by NB_TEMP × sqrt(known terms) before the softmax.
TOPIC_WEIGHT = 0.5
TOPIC_GAIN = 4.0
NB_ALPHA = 0.1
NB_TEMP = 1.0
# Weight of a labelled user question (knowledge/labelled.py) in its topic's pool, against 1
# for an entry's phrasing: users word a topic in more ways than its entries do.
LABELLED_WEIGHT = 2.0
# Refused when the topic model's out-of-scope class (the labelled out-of-scope questions)
# holds at least this share of the belief: what the question is about, learned from how
# people ask about other things (cross-validated; over 1: never).
OOS_BELIEF = 0.4
# These six were chosen on the cross-validated ranking (bench/faq_bench.py), not on any
# evaluation file; the decision constants above are then fitted by the same CV.

_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def _lead(answer: str) -> str:
    """The answer's first sentence: what the entry is about."""
    m = re.search(r"[.!?\n]\s", answer)
    return answer[: m.start()] if m else answer


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
    # Share of the question's subject words and word pairs the content uses anywhere
    # (None: no subject words): low when the question is about something else.
    known: float | None = None
    # Short (at most ``short_words`` content syllables, not naming the programme): the
    # threshold is ``short_extra`` higher.
    short: bool = False
    # The topic model's belief that the question is not about khuyến công (None: unknown).
    oos_belief: float | None = None


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


def _add(doc: dict[str, float], terms: Iterable[str], weight: float) -> None:
    if weight:
        for t in terms:
            doc[t] = doc.get(t, 0.0) + weight


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
        answer_weight: float = ANSWER_WEIGHT,
        lead_weight: float = LEAD_WEIGHT,
        topic_weight: float = TOPIC_WEIGHT,
        nb_alpha: float = NB_ALPHA,
        nb_temp: float = NB_TEMP,
        title_weight: float = TITLE_WEIGHT,
        known_min: float = KNOWN_MIN,
        known_strong: float = KNOWN_STRONG,
        topic_gain: float = TOPIC_GAIN,
        labelled: Iterable[LabelledQuestion] | None = None,
        labelled_weight: float = LABELLED_WEIGHT,
        oos_belief: float = OOS_BELIEF,
    ) -> None:
        # Refuse when the out-of-scope class believes at least this (over 1: never).
        self.oos_belief = oos_belief
        self.topic_gain = topic_gain
        # Users' questions labelled with a topic: more of each topic's vocabulary for the
        # topic model (default: knowledge/rules/labelled_questions.tsv).
        self.labelled = tuple(default_labelled() if labelled is None else labelled)
        self.labelled_weight = labelled_weight
        # Share of the question's subject the content must know (``known_share``).
        self.known_min = known_min
        self.known_strong = known_strong
        self.topic_weight = topic_weight
        self.nb_alpha = nb_alpha
        self.nb_temp = nb_temp
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
        docs: list[dict[str, float]] = []
        # Phrasings (normalised, stopwords dropped) for fuzzy reranking, per entry.
        self.phrasings: list[list[str]] = []
        # Every syllable sequence of an entry, to tell whether it speaks of an off-topic
        # subject itself ("khuyến công có giống khuyến nông không").
        self.entry_texts: list[list[list[str]]] = []
        seen: set[str] = set()
        answer_terms: dict[str, tuple[list[str], list[str]]] = {}
        for entry in entries:
            if entry.id in seen:
                continue
            seen.add(entry.id)
            self.ids.append(entry.id)
            self.topics.append(entry.topic)
            doc: dict[str, float] = {}
            texts: list[str] = []
            token_lists: list[list[str]] = []
            for text, weight in (*((q, 1.0) for q in entry.questions), (entry.title, title_weight)):
                toks = self.thesaurus.rewrite(_strip_filler(norm_tokens(text)))
                token_lists.append(toks)
                _add(doc, _terms(toks), weight)
                content = " ".join(t for t in toks if t not in STOPWORDS)
                if content and content not in texts:
                    texts.append(content)
            # The answer speaks of its subject in words the phrasings may not use: its
            # first sentence says what the entry is about, the rest weighs less.
            answer = _PLACEHOLDER.sub(" ", str(getattr(entry, "answer", "") or ""))
            if answer not in answer_terms:  # copies of one answer are read once
                answer_terms[answer] = (
                    _terms(self.thesaurus.rewrite(norm_tokens(_lead(answer)))),
                    _terms(self.thesaurus.rewrite(norm_tokens(answer))),
                )
            lead_terms, body_terms = answer_terms[answer]
            _add(doc, lead_terms, lead_weight)
            _add(doc, body_terms, answer_weight)
            docs.append(doc)
            self.doc_terms.append(frozenset(doc))
            self.phrasings.append(texts)
            self.entry_texts.append(token_lists)
        self._build_index(docs)

    # ----------------------------------------------------------------------------------

    def _build_index(self, docs: list[dict[str, float]]) -> None:
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
        self._build_topic_model(docs)

    def _build_topic_model(self, docs: list[dict[str, float]]) -> None:
        """Multinomial naive Bayes over topics: every entry of a topic pools its words, so
        a question phrased unlike any single entry still finds the topic whose vocabulary
        it shares. The labelled questions join their topics' pools; the out-of-scope ones
        make one more class, "not khuyến công", whose belief the decision reads."""
        self.topic_names = list(dict.fromkeys(self.topics))
        index = {t: j for j, t in enumerate(self.topic_names)}
        self.topic_of = np.array([index[t] for t in self.topics], dtype=np.int32)
        n_t = len(self.topic_names)
        out_of_scope = [q for q in self.labelled if q.oos] if n_t else []
        if out_of_scope:
            # Topics labelled questions name but this content lacks still compete with the
            # out-of-scope class (a content without trade-fair entries does not make "hội
            # chợ" out of scope); they are left out of the topic posterior.
            for q in self.labelled:
                for t in sorted(q.topics):
                    index.setdefault(t, len(index))
        # The last column is the out-of-scope class when there are such questions.
        self.n_classes = len(index) + (1 if out_of_scope else 0)
        column: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        pooled: list[tuple[int, dict[str, float]]] = [
            (index[self.topics[i]], d) for i, d in enumerate(docs)
        ]
        memo: dict[str, str | None] = {}
        oos_class = [self.n_classes - 1] if out_of_scope else []
        for q in self.labelled:
            known = oos_class if q.oos else [index[t] for t in sorted(q.topics) if t in index]
            if not known:  # its topics are not in this content
                continue
            # Read as a question is read at match time, typo repair included: both sides
            # then name a word the content lacks the same way.
            toks, repaired = self._repair(
                self.thesaurus.rewrite(_strip_filler(norm_tokens(q.question))), memo
            )
            terms = _terms(self.thesaurus.rewrite(toks) if repaired else toks)
            share = self.labelled_weight / len(known)
            counts_of: dict[str, float] = {}
            _add(counts_of, terms, share)
            pooled.extend((j, counts_of) for j in known)
        for j, d in pooled:
            for term, c in d.items():
                rows.append(column.setdefault(term, len(column)))
                cols.append(j)
                vals.append(c)
        counts = np.zeros((len(column), max(1, self.n_classes)))
        np.add.at(counts, (np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)), vals)
        totals = counts.sum(axis=0)
        v = max(1, len(column))
        logp = np.log((counts + self.nb_alpha) / (totals + self.nb_alpha * v))
        self.nb = {t: logp[r] for t, r in column.items()}

    def _log_likelihood(self, terms: Sequence[str]) -> np.ndarray | None:
        known = [self.nb[t] for t in terms if t in self.nb]
        if not known or not self.topic_names:
            return None
        return np.sum(known, axis=0) / (self.nb_temp * math.sqrt(len(known)))

    def topic_posterior(self, terms: Sequence[str]) -> np.ndarray | None:
        """Belief over the content's topics (the out-of-scope class left out)."""
        lp = self._log_likelihood(terms)
        return None if lp is None else self._topic_share(lp)

    def _topic_share(self, lp: np.ndarray) -> np.ndarray:
        topics = lp[: len(self.topic_names)]
        p = np.exp(topics - topics.max())
        return p / p.sum()

    def _out_of_scope_share(self, lp: np.ndarray | None) -> float | None:
        """How much the question's words are those of the labelled out-of-scope questions
        rather than of any topic (0..1); None without such questions or known words."""
        if lp is None or self.n_classes <= len(self.topic_names):
            return None
        p = np.exp(lp - lp.max())
        return float(p[-1] / p.sum())

    def _repair(
        self, toks: list[str], memo: dict[str, str | None] | None = None
    ) -> tuple[list[str], set[str]]:
        """Replace unknown syllables with a content syllable at edit distance 1 (``memo``
        keeps the answers when many texts are read at once)."""
        out: list[str] = []
        repaired: set[str] = set()
        for t in toks:
            if t in self.idf or t in STOPWORDS or len(t) < 3 or t.isdigit():
                out.append(t)
                continue
            if memo is not None and t in memo:
                fix = memo[t]
            else:
                hit = process.extractOne(t, self.vocab, scorer=Levenshtein.distance, score_cutoff=1)
                fix = None if hit is None else hit[0]
                if memo is not None:
                    memo[t] = fix
            if fix is not None:
                out.append(fix)
                repaired.add(fix)
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

    def closeness(self, question: str, entry_id: str) -> float:
        """How nearly ``question`` is one of the entry's phrasings or its title, word for
        word as the index sees them (0..1): a one-word question is answered only when it is
        all but the entry's own question."""
        try:
            i = self.ids.index(entry_id)
        except ValueError:
            return 0.0
        toks = self.query_tokens(question)
        text = " ".join(t for t in toks if t not in STOPWORDS) or " ".join(toks)
        return max((fuzz.token_sort_ratio(text, p) / 100.0 for p in self.phrasings[i]), default=0.0)

    def known_share(self, toks: Sequence[str]) -> float | None:
        """The share of the question's subject (its words beyond stopwords and procedure
        words, and the pairs of such words: Vietnamese compounds) that the content uses
        anywhere. "đăng ký xe máy", "thủ tục làm sổ đỏ" name things no entry speaks of;
        an unseen phrasing of a khuyến công question still uses the programme's words."""
        generic = self.thesaurus.generic
        words = [t for t in toks if t not in STOPWORDS and t not in generic]
        pairs = [
            f"{a} {b}"
            for a, b in zip(toks, toks[1:], strict=False)
            if a not in STOPWORDS and b not in STOPWORDS and not (a in generic and b in generic)
        ]
        items = words + pairs
        if not items:
            return None
        return sum(1 for t in items if t in self.idf) / len(items)

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
        self, combined: list[tuple[float, float, int]], n: int, per_topic: int
    ) -> list[tuple[float, float, int]]:
        """The ``n`` candidates to show, best first, at most ``per_topic`` entries of one
        topic while other topics are left: three entries of one topic would hide the other
        readings of the question (when unsure, the user picks among different subjects).
        ``combined``: (score, raw lexical score, entry index), best first."""
        picked: list[tuple[float, float, int]] = []
        rest: list[tuple[float, float, int]] = []
        per: Counter[str] = Counter()
        for row in combined:
            if len(picked) >= n:
                break
            topic = self.topics[row[2]]
            if per[topic] < per_topic:
                picked.append(row)
                per[topic] += 1
            else:
                rest.append(row)
        picked.extend(rest[: n - len(picked)])
        picked.sort(key=lambda x: (-x[0], -x[1], x[2]))
        return picked

    def query_tokens(self, question: str) -> list[str]:
        """The question as the index sees it: normalised, filler dropped, synonyms rewritten."""
        return self.thesaurus.rewrite(_strip_filler(norm_tokens(question)))

    def match(self, question: str, k: int = 3, *, prefer_topic: str | None = None) -> MatchResult:
        """The best entries for ``question``; ``prefer_topic`` (a follow-up's previous topic)
        lifts that topic's entries by ``TOPIC_BONUS``."""
        words = norm_tokens(question)
        toks = self.thesaurus.rewrite(_strip_filler(words))  # what query_tokens gives
        if not toks or self.n_docs == 0:
            return MatchResult(True, None, [], "empty")
        # Off-topic subjects are read before typo repair too: a word the content lacks is
        # not a typo of a content word ("hộ nghèo" is not "hộ nghề"); and before the
        # synonyms: "mua máy cày" is a farm machine before "mua máy" becomes "thiết bị".
        off = [*self.thesaurus.off_topic_in(toks), *self.thesaurus.off_topic_in(words)]
        toks, repaired = self._repair(toks)
        if repaired:
            toks = self.thesaurus.rewrite(toks)
        terms = list(dict.fromkeys(_terms(toks)))
        if not terms:
            return MatchResult(True, None, [], "no content words")

        actors = self.thesaurus.actor_terms(toks)
        generic = self.thesaurus.generic
        other_subject = any(
            t not in actors and not all(w in generic or w in actors for w in t.split())
            for t in terms
        )
        scores = np.zeros(self.n_docs, dtype=np.float64)
        ideal = 0.0
        for t in terms:
            factor = 0.8 if t in repaired else 1.0
            weight = ACTOR_WEIGHT if other_subject and t in actors else 1.0
            posting = self.postings.get(t)
            if posting is None:
                ideal += weight * self.unknown_idf * (self.unknown_bigram if " " in t else 1.0)
                continue
            ideal += weight * self.idf[t]
            ids, ws = posting
            scores[ids] += ws * (factor * weight)
        if ideal <= 0.0 or not scores.any():
            return MatchResult(True, None, [], "no known words")
        scores /= ideal

        top_n = min(self.rerank, self.n_docs)
        if top_n < self.n_docs:
            idx = np.argpartition(-scores, top_n - 1)[:top_n]
        else:
            idx = np.arange(self.n_docs)
        query_text = " ".join(t for t in toks if t not in STOPWORDS) or " ".join(toks)
        combined: list[tuple[float, float, int]] = []
        # Each entry's score from its own words alone (no topic model, no follow-up bonus).
        own_words: dict[int, float] = {}
        fw = self.fuzzy_weight
        tw = self.topic_weight
        lp = self._log_likelihood(terms)
        post = self._topic_share(lp) if tw and lp is not None else None
        if post is not None and prefer_topic in self.topic_names:
            # A follow-up: the conversation tells the topic as much as the words do.
            post = post * (1.0 - FOLLOWUP_TOPIC_SHARE)
            post[self.topic_names.index(prefer_topic)] += FOLLOWUP_TOPIC_SHARE
        for i in idx:
            i = int(i)
            raw = float(scores[i])
            if raw <= 0.0:
                continue
            fz = 0.0
            for p in self.phrasings[i]:
                s = fuzz.token_sort_ratio(query_text, p)
                if s > fz:
                    fz = s
            # The topic model lifts an entry in proportion to its own lexical evidence, so
            # that a confident topic never makes a weak match look strong. Entries are ranked
            # on the whole value; it is shown and decided capped at 1.
            own = (1.0 - fw) * min(1.0, raw) + fw * fz / 100.0
            value = own
            if post is not None:
                evidence = min(1.0, self.topic_gain * raw)
                value += tw * evidence * float(post[self.topic_of[i]])
            if prefer_topic is not None and self.topics[i] == prefer_topic:
                value += TOPIC_BONUS
            combined.append((value, raw, i))
            own_words[i] = own
        # Best first; ties broken by the lexical score, then entry order (deterministic).
        combined.sort(key=lambda x: (-x[0], -x[1], x[2]))

        if not combined:
            return MatchResult(True, None, [], "no candidates")
        # A follow-up is read within the previous topic: its entries are not spread out.
        per_topic = self.per_topic if prefer_topic is None else max(k, 2)
        picked = self._pick(combined, max(k, 2), per_topic)
        cands = [
            Candidate(self.ids[i], self.topics[i], round(min(1.0, s), 4)) for s, _raw, i in picked
        ]
        best = cands[0]
        shown = cands[:k]
        coverage = self.subject_coverage(terms, combined[0][2])
        length = sum(1 for t in toks if t not in STOPWORDS)
        known = self.known_share(toks)
        belief = self._out_of_scope_share(lp)

        def refuse(reason: str) -> MatchResult:
            return MatchResult(True, None, shown, reason, coverage, length, known, short, belief)

        names_programme = any(_contains(toks, p) for p in PROGRAMME_NAMES)
        # A short question needs more, unless it names the programme: "kc có hỗ trợ nâng
        # hạng OCOP không" is short but says what it is about.
        short = length <= self.short_words and not names_programme
        threshold = self.threshold + (self.short_extra if short else 0.0)
        off = list(dict.fromkeys([*off, *self.thesaurus.off_topic_in(toks)]))
        if off:
            # Refused, unless the question compares it with khuyến công and an entry does
            # too ("khuyến công có giống khuyến nông không"): that entry is the answer.
            speaking = [
                row
                for row in combined
                if any(_contains(text, p) for p in off for text in self.entry_texts[row[2]])
            ]
            if not (_contains(toks, ("khuyen", "cong")) and speaking):
                return refuse("off topic")
            if speaking[0] is not combined[0]:
                combined.remove(speaking[0])
                combined.insert(0, speaking[0])
                i = speaking[0][2]
                best = Candidate(self.ids[i], self.topics[i], round(min(1.0, speaking[0][0]), 4))
                shown = [best, *[c for c in shown if c.entry_id != best.entry_id]][:k]
                coverage = self.subject_coverage(terms, i)
        has_domain = any(t in DOMAIN_TERMS for t in terms) or any(t in DOMAIN_TERMS for t in toks)
        # Without a khuyến công word, only the entry's own words may vouch for the answer.
        if not has_domain and own_words[combined[0][2]] < self.thesaurus.strong_without_domain:
            return refuse("no domain term")
        if known is not None and known < self.known_min and best.score < self.known_strong:
            return refuse("unknown subject")
        if belief is not None and belief >= self.oos_belief:
            return refuse("out-of-scope words")
        if coverage is not None and coverage < self.subject_min:
            return refuse("subject not covered")
        if best.score < threshold:
            return refuse("low score")
        if len(shown) > 1:
            second = shown[1]
            if second.topic != best.topic and best.score - second.score < self.margin:
                return refuse("ambiguous")
        return MatchResult(False, best, shown, "", coverage, length, known, short, belief)


def _contains(toks: Sequence[str], phrase: Sequence[str]) -> bool:
    n = len(phrase)
    p = tuple(phrase)
    return any(tuple(toks[i : i + n]) == p for i in range(len(toks) - n + 1))

"""The matcher on a small fixture: right entry, fallback on doubt, stable ordering."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from knowledge.content import load_entries
from knowledge.matcher import Matcher


@dataclass(frozen=True)
class E:
    id: str
    topic: str
    title: str
    questions: tuple[str, ...]


ENTRIES = [
    E(
        "overview-what-is",
        "overview",
        "Khuyến công là gì?",
        ("Khuyến công là gì vậy?", "Chính sách khuyến công là gì", "Khuyến công nghĩa là sao"),
    ),
    E(
        "machinery-level",
        "machinery",
        "Mức hỗ trợ máy móc thiết bị",
        (
            "Mua máy móc thiết bị được hỗ trợ bao nhiêu tiền",
            "Hỗ trợ đầu tư máy móc tiên tiến",
            "Đổi mới dây chuyền sản xuất có được hỗ trợ không",
        ),
    ),
    E(
        "trade-fairs-cost",
        "trade-fairs",
        "Hỗ trợ đi hội chợ",
        ("Tham gia hội chợ triển lãm được hỗ trợ gì", "Chi phí gian hàng hội chợ"),
    ),
    E(
        "application-documents",
        "application",
        "Hồ sơ đề nghị hỗ trợ",
        ("Hồ sơ xin hỗ trợ khuyến công gồm những gì", "Cần chuẩn bị giấy tờ gì để nộp hồ sơ"),
    ),
    E(
        "contact-phone",
        "contact",
        "Số điện thoại Trung tâm",
        ("Số điện thoại cán bộ khuyến công", "Liên hệ trung tâm khuyến công ở đâu"),
    ),
    E(
        "training-vocational",
        "training",
        "Đào tạo nghề",
        ("Hỗ trợ đào tạo nghề cho lao động", "Mở lớp truyền nghề cho thợ"),
    ),
]


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(ENTRIES, labelled=())


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("Khuyến công là gì?", "overview-what-is"),
        ("khuyen cong la gi", "overview-what-is"),
        ("kc la gi", "overview-what-is"),
        ("khuyến côg là gì", "overview-what-is"),
        ("mua may moc dc ho tro bn tien", "machinery-level"),
        ("hỗ trợ mmtb", "machinery-level"),
        ("di hoi cho co dc ho tro ko", "trade-fairs-cost"),
        ("hs gom nhung giay to j", "application-documents"),
        ("sdt can bo kc", "contact-phone"),
        ("dao tao nghe cho ld", "training-vocational"),
    ],
)
def test_answers(matcher: Matcher, question: str, entry_id: str) -> None:
    result = matcher.match(question)
    assert not result.fallback, result
    assert result.best is not None and result.best.entry_id == entry_id
    assert result.candidates[0] == result.best


@pytest.mark.parametrize(
    "question",
    ["", "   ", "🙏🙏🙏", "?!?!", "asdkjh qwepoi zxcmnb", "là gì vậy ạ", "cho em hỏi với"],
)
def test_garbage_falls_back(matcher: Matcher, question: str) -> None:
    result = matcher.match(question)
    assert result.fallback
    assert result.best is None


@pytest.mark.parametrize(
    "question", ["trời hôm nay có mưa không", "cách làm bánh mì", "giá vàng hôm nay"]
)
def test_out_of_scope_falls_back(matcher: Matcher, question: str) -> None:
    assert matcher.match(question).fallback


def test_candidates_distinct_best_first_scores_in_range(matcher: Matcher) -> None:
    result = matcher.match("hỗ trợ máy móc và hội chợ", k=3)
    ids = [c.entry_id for c in result.candidates]
    assert len(ids) == len(set(ids)) <= 3
    scores = [c.score for c in result.candidates]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)


def test_k_limits_candidates(matcher: Matcher) -> None:
    assert len(matcher.match("hỗ trợ", k=1).candidates) <= 1
    assert len(matcher.match("hỗ trợ máy móc hội chợ đào tạo", k=5).candidates) <= 5


def test_deterministic(matcher: Matcher) -> None:
    first = matcher.match("hỗ trợ máy móc hội chợ")
    for _ in range(5):
        assert matcher.match("hỗ trợ máy móc hội chợ") == first
    # Same content in another order gives the same answer.
    again = Matcher(list(reversed(ENTRIES))).match("hỗ trợ máy móc thiết bị")
    assert again.best is not None and again.best.entry_id == "machinery-level"


def test_threshold_controls_fallback() -> None:
    strict = Matcher(ENTRIES, labelled=(), threshold=0.99)
    lax = Matcher(ENTRIES, labelled=(), threshold=0.0)
    question = "mua máy"
    assert strict.match(question).fallback
    lax_result = lax.match(question)
    assert not lax_result.fallback
    assert lax_result.best is not None and lax_result.best.entry_id == "machinery-level"


def test_margin_between_topics() -> None:
    # Two entries of different topics answer "hỗ trợ" about equally: a wide margin refuses,
    # no margin answers.
    question = "hỗ trợ hội chợ và máy móc"
    wide = Matcher(ENTRIES, labelled=(), threshold=0.0, margin=0.5, known_min=0.0).match(question)
    assert wide.fallback
    assert {c.topic for c in wide.candidates[:2]} == {"trade-fairs", "machinery"}
    assert (
        not Matcher(ENTRIES, labelled=(), threshold=0.0, margin=0.0, known_min=0.0)
        .match(question)
        .fallback
    )


def test_margin_ignored_within_one_topic() -> None:
    entries = [
        *ENTRIES,
        E("machinery-imported", "machinery", "Máy nhập khẩu", ("Máy móc thiết bị nhập khẩu",)),
    ]
    result = Matcher(entries, labelled=(), threshold=0.0, margin=0.5).match("máy móc thiết bị")
    assert [c.topic for c in result.candidates[:2]] == ["machinery", "machinery"]
    assert not result.fallback


def test_duplicate_ids_are_counted_once() -> None:
    result = Matcher([*ENTRIES, ENTRIES[0]], labelled=()).match("khuyến công là gì")
    ids = [c.entry_id for c in result.candidates]
    assert len(ids) == len(set(ids))


def test_empty_content_always_falls_back() -> None:
    result = Matcher([], labelled=()).match("khuyến công là gì")
    assert result.fallback and result.candidates == []


# -- thesaurus, off-topic subjects, strong matches, follow-up preference ----------------


def test_thesaurus_rewrites_variants_to_one_form() -> None:
    from knowledge.thesaurus import Thesaurus

    th = Thesaurus.from_data(
        {"synonyms": [["dang ky", "đăng kí"], ["gạch nung", "lò gạch"]], "off_topic": ["thời tiết"]}
    )
    assert th.rewrite(["dang", "ki", "hoi", "cho"]) == ["dang", "ky", "hoi", "cho"]
    assert th.rewrite(["lo", "gach", "thu", "cong"]) == ["gach", "nung", "thu", "cong"]
    assert th.off_topic_in(["du", "bao", "thoi", "tiet"]) == [("thoi", "tiet")]


def test_shipped_thesaurus_joins_spellings_at_index_and_query_time() -> None:
    m = Matcher(load_entries())
    a = m.match("muốn đi hội chợ thì đăng kí thế nào")
    b = m.match("muốn đi hội chợ thì đăng ký thế nào")
    assert a.best is not None and b.best is not None
    assert a.best.entry_id == b.best.entry_id
    assert a.best.score == b.best.score


def test_off_topic_subject_is_refused_unless_the_entry_speaks_of_it() -> None:
    m = Matcher(load_entries())
    refused = m.match("khuyến mãi tết cho cửa hàng hỗ trợ bao nhiêu")
    assert refused.fallback and refused.reason == "off topic"
    answered = m.match("khuyến công có giống khuyến nông không")
    assert not answered.fallback and answered.best is not None
    assert answered.best.topic == "overview"


def test_a_strong_match_is_answered_without_a_listed_domain_word() -> None:
    m = Matcher(load_entries())
    result = m.match("lo gach thu cong co dc ko")
    assert not result.fallback and result.best is not None
    assert result.best.entry_id == "eligibility-brick-kiln"


def test_prefer_topic_lifts_the_previous_topic() -> None:
    m = Matcher(load_entries())
    question = "dc ho tro bao nhieu phan tram"

    def demo_score(result) -> float:  # type: ignore[no-untyped-def]
        return max((c.score for c in result.candidates if c.topic == "demo-model"), default=0.0)

    plain = m.match(question, k=3)
    lifted = m.match(question, k=3, prefer_topic="demo-model")
    # Alone, «what percentage» is most often asked of machinery support.
    assert plain.best is not None and plain.best.topic == "machinery"
    assert demo_score(lifted) > demo_score(plain)
    # Read with the previous answer's title, as a follow-up is, the topic is kept.
    followup = m.match(f"Mô hình trình diễn kỹ thuật là gì? {question}", prefer_topic="demo-model")
    assert followup.best is not None and followup.best.entry_id == "demo-model-support-level"


# -- candidates of different topics, subject, short questions, off-topic domains --------


def test_candidates_are_of_different_topics_while_others_are_left() -> None:
    entries = [
        *ENTRIES,
        E("machinery-imported", "machinery", "Máy nhập khẩu", ("Máy móc thiết bị nhập khẩu",)),
        E("machinery-used", "machinery", "Máy cũ", ("Mua máy móc thiết bị cũ",)),
    ]
    question = "máy móc thiết bị nhập khẩu cũ, hội chợ, đào tạo nghề"
    crowded = Matcher(entries, labelled=(), threshold=0.0, per_topic=3).match(question, k=3)
    assert [c.topic for c in crowded.candidates].count("machinery") >= 2
    result = Matcher(entries, labelled=(), threshold=0.0).match(question, k=3)
    topics = [c.topic for c in result.candidates]
    assert len(set(topics)) == len(topics) == 3
    assert result.candidates[0] == crowded.candidates[0]
    # A follow-up read within the previous topic keeps that topic's entries together.
    followup = Matcher(entries, labelled=(), threshold=0.0).match(
        question, k=3, prefer_topic="machinery"
    )
    assert [c.topic for c in followup.candidates].count("machinery") >= 2
    # Only one topic in the content: the list is filled with it.
    same = [e for e in entries if e.topic == "machinery"]
    only = Matcher(same, labelled=(), threshold=0.0).match("máy móc thiết bị", k=3)
    assert [c.topic for c in only.candidates] == ["machinery"] * 3


def test_off_topic_subject_is_read_before_typo_repair() -> None:
    """«nghèo» is not a typo of «nghề»: the subject is seen before the repair."""
    from knowledge.thesaurus import Thesaurus

    th = Thesaurus.from_data({"off_topic": ["hộ nghèo"]})
    result = Matcher(ENTRIES, labelled=(), thesaurus=th).match("hỗ trợ đào tạo nghề cho hộ nghèo")
    assert result.fallback and result.reason == "off topic"
    # The same question without the subject is answered.
    answered = Matcher(ENTRIES, labelled=(), thesaurus=th).match("hỗ trợ đào tạo nghề cho lao động")
    assert not answered.fallback


def test_a_short_question_needs_a_higher_score() -> None:
    lax = Matcher(ENTRIES, labelled=(), threshold=0.3, short_words=3, short_extra=0.0).match(
        "mua máy"
    )
    # 0.3 + 0.75 is more than any score: no short question passes.
    strict = Matcher(ENTRIES, labelled=(), threshold=0.3, short_words=3, short_extra=0.75).match(
        "mua máy"
    )
    assert not lax.fallback
    assert strict.fallback and strict.reason == "low score"
    assert strict.length <= 3
    long_q = "mua máy móc thiết bị được hỗ trợ bao nhiêu tiền"
    long_result = Matcher(
        ENTRIES, labelled=(), threshold=0.3, short_words=3, short_extra=0.75
    ).match(long_q)
    assert not long_result.fallback and long_result.length > 3


def test_result_carries_the_subject_coverage() -> None:
    m = Matcher(ENTRIES, labelled=())
    full = m.match("hỗ trợ đào tạo nghề cho lao động")
    assert full.coverage is not None and full.coverage > 0.8
    assert m.match("hồ sơ gồm những gì").coverage is None  # procedure words only


def test_shipped_off_topic_subjects_are_not_words_of_the_content() -> None:
    """A question of the content that names an off-topic subject compares it with khuyến
    công, and is answered by its own entry."""
    from knowledge.normalize import tokens

    m = Matcher(load_entries())
    for entry in load_entries():
        for text in (*entry.questions, entry.title):
            if m.thesaurus.off_topic_in(tokens(text)):
                assert "khuyen cong" in " ".join(tokens(text)), text
                result = m.match(text)
                assert not result.fallback and result.best is not None, text
                assert result.best.entry_id == entry.id, text


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("tiết kiệm tiền điện cho xưởng có được hỗ trợ không", "cleaner-production"),
        ("học nghề có được hỗ trợ học phí không", "training"),
        ("đi hội chợ nước ngoài có hỗ trợ vé máy bay không", "trade-fairs"),
        ("cơ sở do phụ nữ làm chủ có được ưu tiên không", "eligibility"),
        ("có mua máy cũ được hỗ trợ không", "machinery"),
        ("tư vấn viết phương án vay ngân hàng", "consulting"),
    ],
)
def test_khuyen_cong_questions_near_everyday_subjects_are_answered(
    question: str, topic: str
) -> None:
    result = Matcher(load_entries()).match(question)
    assert not result.fallback, result
    assert result.best is not None and result.best.topic == topic


@pytest.mark.parametrize(
    "question",
    [
        "đăng ký thường trú cho con",
        "ho tro tien hoc cho con ho ngheo",
        "hồ sơ xin việc gồm những gì",
        "làm lại căn cước công dân ở đâu",
        "đổi bằng lái xe ô tô",
        "khám bệnh bảo hiểm y tế ở bệnh viện nào",
        "gia xang hom nay",
    ],
)
def test_everyday_subjects_sharing_programme_words_are_refused(question: str) -> None:
    result = Matcher(load_entries()).match(question)
    assert result.fallback and result.reason == "off topic"


# -- generalisation: answer text, topic model, what the question is about ----------------


@dataclass(frozen=True)
class A:
    id: str
    topic: str
    title: str
    questions: tuple[str, ...]
    answer: str


ANSWERED = [
    A(
        "machinery-level",
        "machinery",
        "Mức hỗ trợ máy móc",
        ("Hỗ trợ mua máy móc bao nhiêu tiền",),
        "Hỗ trợ tối đa 50% chi phí mua máy móc thiết bị tiên tiến, không quá 300 triệu đồng.",
    ),
    A(
        "machinery-used",
        "machinery",
        "Máy cũ",
        ("Máy cũ có được hỗ trợ không",),
        "Máy đã qua sử dụng không được hỗ trợ: máy phải là máy mới.",
    ),
    A(
        "cleaner-production-relocation",
        "cleaner-production",
        "Di dời cơ sở gây ô nhiễm",
        ("Di dời xưởng gây ô nhiễm có được hỗ trợ không",),
        "Cơ sở gây ô nhiễm môi trường di dời vào cụm công nghiệp được hỗ trợ chi phí tư vấn.",
    ),
    A(
        "training-vocational",
        "training",
        "Đào tạo nghề",
        ("Hỗ trợ đào tạo nghề cho lao động",),
        "Khuyến công hỗ trợ mở lớp đào tạo nghề, truyền nghề cho lao động nông thôn.",
    ),
]


def test_words_only_in_the_answer_find_the_entry() -> None:
    # "cụm công nghiệp" is in no phrasing, only in the relocation answer.
    result = Matcher(ANSWERED, known_min=0.0).match("dời xưởng vào cụm công nghiệp")
    assert result.best is not None and result.best.entry_id == "cleaner-production-relocation"
    without = Matcher(ANSWERED, known_min=0.0, answer_weight=0.0, lead_weight=0.0)
    unaided = without.match("dời xưởng vào cụm công nghiệp")
    assert unaided.best is None or unaided.best.score < result.best.score


def test_topic_model_follows_the_vocabulary_of_a_topic() -> None:
    m = Matcher(ANSWERED, known_min=0.0)
    posterior = m.topic_posterior(["may", "moi", "thiet bi"])
    assert posterior is not None
    assert m.topic_names[int(posterior.argmax())] == "machinery"
    assert m.topic_posterior(["xyz"]) is None  # no known word: no belief


def test_topic_model_lifts_by_at_most_its_weight() -> None:
    from knowledge.matcher import TOPIC_WEIGHT

    for question in ("máy", "lao động", "máy mới tiên tiến"):
        lifted = Matcher(ANSWERED, threshold=0.0, known_min=0.0).match(question)
        plain = Matcher(ANSWERED, threshold=0.0, known_min=0.0, topic_weight=0.0).match(question)
        top, base = lifted.candidates[0].score, plain.candidates[0].score
        assert base <= top <= base + TOPIC_WEIGHT


@pytest.mark.parametrize(
    "question", ["đăng ký xe máy ở đâu", "cách làm bánh mì", "mua đất nền ở đâu rẻ"]
)
def test_a_question_about_what_the_content_never_speaks_of_is_refused(question: str) -> None:
    """No list names these subjects: most of their words and word pairs are simply not
    in the content."""
    m = Matcher(load_entries())
    result = m.match(question)
    assert result.fallback, result
    assert result.known is not None and result.known < m.known_min


def test_unseen_phrasings_of_the_programme_are_known() -> None:
    m = Matcher(load_entries())
    for question in ("xưởng mộc muốn mua máy cưa mới", "đi hội chợ có được hỗ trợ gian hàng"):
        result = m.match(question)
        assert result.known is not None and result.known >= m.known_min, result
        assert not result.fallback


def test_closeness_to_an_entrys_own_phrasing() -> None:
    m = Matcher(load_entries())
    assert m.closeness("khuyến công", "overview-what-is") >= 0.95
    assert m.closeness("cnnt", "typical-products-what") < 0.95
    assert m.closeness("khuyến công", "no-such-entry") == 0.0


# -- who asks, comparisons, programme names, strong matches, farm machines --------------


def test_a_kind_of_facility_beside_another_subject_weighs_less() -> None:
    """«HTX» alone finds the entry about cooperatives; beside a machine it is the machine."""
    m = Matcher(load_entries())
    alone = m.match("hợp tác xã có được hỗ trợ khuyến công không")
    assert alone.best is not None and alone.best.entry_id == "eligibility-sme"
    beside = m.match("HTX xin hỗ trợ máy đóng gói được không")
    assert not beside.fallback and beside.best is not None
    assert beside.best.topic == "machinery"
    th = m.thesaurus
    assert th.actor_terms(["hop", "tac", "xa", "mua", "may"]) == {
        "hop",
        "tac",
        "xa",
        "hop tac",
        "tac xa",
    }
    # A syllable also used outside the phrase keeps its weight ("xã" where the shop is).
    assert "xa" not in th.actor_terms(["hop", "tac", "xa", "o", "xa"])


def test_a_comparison_with_an_off_topic_programme_is_answered_by_the_entry_naming_it() -> None:
    m = Matcher(load_entries())
    result = m.match("khuyen cong voi khuyen nong khac nhau cho nao")
    assert not result.fallback and result.best is not None
    named = m.entries_speaking_of("khuyen cong voi khuyen nong khac nhau cho nao")
    assert result.best.entry_id in named
    assert result.candidates[0] == result.best


def test_a_short_question_naming_the_programme_is_not_held_to_the_short_threshold() -> None:
    m = Matcher(load_entries(), short_words=7, short_extra=0.15)
    named = m.match("kc co ho tro nang hang sao ocop ko")
    assert not named.short and named.length <= m.short_words
    assert not named.fallback and named.best is not None and named.best.topic == "ocop"
    plain = m.match("nâng hạng sao được không")
    assert plain.short


def test_a_strong_match_is_answered_though_it_names_a_thing_the_content_does_not() -> None:
    """«tiền xe chở hàng» is not in the content; the fair support entry still answers when
    strong matches waive the unknown-subject rule (whether they do is cross-validated:
    ``KNOWN_STRONG`` over 1 means never)."""
    strict = Matcher(load_entries(), known_strong=1.01, known_min=0.6)
    q = "di hoi cho co duoc ho tro tien xe cho hang khong"
    refused = strict.match(q)
    assert refused.fallback and refused.reason == "unknown subject"
    result = Matcher(load_entries(), known_strong=0.9, known_min=0.6).match(q)
    assert not result.fallback and result.best is not None and result.best.topic == "trade-fairs"


def test_an_off_topic_subject_is_read_before_synonyms_rewrite_it() -> None:
    """«mua máy» becomes «thiết bị» for matching; «máy cày» is still a farm machine."""
    result = Matcher(load_entries()).match("Mua máy cày ruộng được nhà nước hỗ trợ không")
    assert result.fallback and result.reason == "off topic"


# -- labelled questions: topic vocabulary and the out-of-scope class --------------------


def _labelled(*rows: tuple[str, str]):  # type: ignore[no-untyped-def]
    from knowledge.labelled import LabelledQuestion

    return [
        LabelledQuestion(q, frozenset() if t == "OOS" else frozenset(t.split(","))) for q, t in rows
    ]


OUT_OF_SCOPE_LINES = (
    ("cho con đi học mẫu giáo cần giấy tờ gì", "OOS"),
    ("đăng ký cho con vào lớp một ở đâu", "OOS"),
    ("trường mẫu giáo nào gần nhà nhận trẻ ba tuổi", "OOS"),
    ("học phí mẫu giáo công lập bao nhiêu", "OOS"),
)


def test_labelled_questions_teach_a_topic_how_users_word_it() -> None:
    """«đi chợ phiên bán sản phẩm» words a fair as no fair entry does; plain, the machinery
    entry wins on «hỗ trợ tiền»; two labelled questions that word it so lift the fair topic."""
    question = "đi chợ phiên bán sản phẩm có được hỗ trợ tiền không"
    plain = Matcher(ENTRIES, threshold=0.0, labelled=()).match(question)
    assert plain.best is not None and plain.best.topic == "machinery"
    taught = Matcher(
        ENTRIES,
        threshold=0.0,
        labelled=_labelled(
            ("chở hàng ra Hà Nội bán ở chợ phiên có được hỗ trợ tiền xe", "trade-fairs"),
            ("mang sản phẩm đi bán ở chợ phiên tỉnh bạn có được hỗ trợ", "trade-fairs"),
        ),
    ).match(question)
    assert taught.best is not None and taught.best.topic == "trade-fairs"


def test_the_out_of_scope_class_refuses_what_people_ask_about_other_things() -> None:
    """A kindergarten question names no listed off-topic subject; the labelled out-of-scope
    questions teach the topic model that its words are not khuyến công."""
    question = "giấy tờ đăng ký cho con học mẫu giáo gồm những gì"
    without = Matcher(ENTRIES, threshold=0.0, known_min=0.0, labelled=())
    assert without.match(question).oos_belief is None
    assert not without.match(question).fallback  # the documents entry would answer it
    learned = Matcher(
        ENTRIES,
        threshold=0.0,
        known_min=0.0,
        oos_belief=0.3,
        labelled=_labelled(*OUT_OF_SCOPE_LINES),
    )
    result = learned.match(question)
    assert result.fallback and result.reason == "out-of-scope words"
    assert result.oos_belief is not None and result.oos_belief >= 0.3
    kept = learned.match("hồ sơ xin hỗ trợ khuyến công gồm những giấy tờ gì")
    assert not kept.fallback and kept.oos_belief is not None and kept.oos_belief < 0.01


def test_a_topic_missing_from_the_content_is_not_out_of_scope() -> None:
    """Labelled questions of a topic the content lacks still compete with the out-of-scope
    class: removing the fair entries does not make fair questions «not khuyến công»."""
    no_fairs = [e for e in ENTRIES if e.topic != "trade-fairs"]
    everyday_fairs = (
        ("hội chợ việc làm tháng này tổ chức ở đâu", "OOS"),
        ("thuê gian hàng ở hội chợ tết giá bao nhiêu", "OOS"),
        ("vé vào hội chợ hoa xuân bao nhiêu tiền", "OOS"),
    )
    fair_lines = (
        ("đi hội chợ triển lãm có được hỗ trợ tiền thuê gian hàng không", "trade-fairs"),
        ("hội chợ hàng thủ công được hỗ trợ gian hàng thế nào", "trade-fairs"),
    )
    question = "thuê gian hàng hội chợ triển lãm"

    def belief(rows) -> float:  # type: ignore[no-untyped-def]
        m = Matcher(no_fairs, threshold=0.0, labelled=_labelled(*rows))
        assert "trade-fairs" not in m.topic_names
        value = m.match(question).oos_belief
        assert value is not None
        return value

    alone = belief(everyday_fairs)
    with_fairs = belief((*everyday_fairs, *fair_lines))
    assert alone > 0.5  # only everyday fairs were ever labelled: out of scope
    assert with_fairs < 0.5 and with_fairs < alone


def test_the_shipped_labelled_questions_refuse_an_unlisted_everyday_subject() -> None:
    """Household electricity support is a welfare matter; no off-topic phrase names it."""
    question = "ho tro tien dien cho ho gia dinh dang ky the nao"
    result = Matcher(load_entries()).match(question)
    assert result.fallback and result.reason == "out-of-scope words"
    assert not Matcher(load_entries(), oos_belief=1.01).match(question).fallback

"""The engine on the tiny exported model: every mode × form well-formed and constrained,
determinism, batch independence, streaming, cancellation, overload and bad input."""

from __future__ import annotations

import os
import threading
from collections import Counter

import numpy as np
import pytest

from model.engine.candidate import Candidate
from model.engine.check import check_poem
from model.engine.engine import OPENING_TOKENS, Engine
from model.engine.meter import next_key, template
from model.engine.parallel import couplet_parallelism
from model.engine.plan import MAX_KEYWORD_CHARS, MAX_KEYWORDS
from model.engine.prosody import BOTH, PING, UNKNOWN, ZE, heard_tone, rhyme_groups
from model.engine.types import CancelledError, OverloadedError, PoemRequest, PoetryError
from model.forms import FORMS

# Openings whose own characters keep the meter (line 1 ends in 仄 and is not a rhyme line).
OPENINGS = {5: "白日依山尽，", 7: "两岸猿声啼不住，"}
HEADS = "春江花月夜长风起"


def request_for(mode: str, form: str, seed: int, **extra) -> PoemRequest:
    width, lines = FORMS[form].chars_per_line, FORMS[form].lines
    text = {"random": "", "continue": OPENINGS[width], "acrostic": HEADS[:lines], "theme": "秋夜思乡"}[mode]
    return PoemRequest(mode=mode, form=form, text=text, seed=seed, **extra)


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("mode", ["random", "continue", "acrostic", "theme"])
def test_every_mode_and_form_is_well_formed_and_constrained(engine: Engine, mode: str, form: str) -> None:
    tickets = [engine.submit(request_for(mode, form, seed, n=2)) for seed in range(4)]
    for ticket in tickets:
        result = ticket.result(timeout=120)
        assert result.form == form
        for poem in result.poems:
            assert all(poem.constraints.values()) and poem.faults == [], (poem.text, poem.constraints, poem.faults)
            facts = check_poem(poem.lines, FORMS[form], False)  # checked again, independently
            assert facts["well_formed"] and facts["rhyme"] and facts["meter"] and facts["no_repeat"]
            assert poem.text == "".join(line + ("，" if i % 2 == 0 else "。") for i, line in enumerate(poem.lines))
            if mode == "acrostic":
                assert "".join(line[0] for line in poem.lines) == HEADS[: FORMS[form].lines]
            if mode == "continue":
                assert poem.text.startswith(OPENINGS[FORMS[form].chars_per_line])


def test_a_keyword_too_long_for_the_prefix_is_left_out_not_cut(engine: Engine) -> None:
    result = engine.generate(PoemRequest(mode="theme", text="中华人民共和国的春天", seed=3), timeout=60)
    assert "中华人民共和国"[:MAX_KEYWORD_CHARS] not in result.keywords and result.keywords, result.keywords
    assert result.left_out == ["中华人民共和国"]  # and the response says so


@pytest.mark.parametrize(
    "theme, words", [("人工智能与手机", ["人工智能", "手机"]), ("我想写一首关于大海的诗", ["大海"])]
)
def test_theme_keywords_are_content_words_not_particles(engine: Engine, theme: str, words: list[str]) -> None:
    assert engine.generate(PoemRequest(mode="theme", text=theme, seed=1), timeout=60).keywords == words


def test_a_theme_of_particles_only_is_a_clear_error(engine: Engine) -> None:
    with pytest.raises(PoetryError, match="content word"):
        engine.submit(PoemRequest(mode="theme", text="的了吗呢"))


def test_theme_reports_its_keywords(engine: Engine) -> None:
    result = engine.generate(PoemRequest(mode="theme", text="秋天的夜晚思念故乡", seed=3), timeout=60)
    assert result.keywords and all(word in "秋天的夜晚思念故乡" for word in result.keywords)


def follows_strict_templates(poem, form: str, first_keys: str = PING + ZE) -> bool:
    """Some first-line key among first_keys, carried through the poem by 粘对, gives every line a
    template it fits (a character with both readings fits either tone)."""
    rhymes, width = FORMS[form].rhyme_lines(False), FORMS[form].chars_per_line

    def fits(tones: str, wanted: str) -> bool:
        return all(t in (w, BOTH) for t, w in zip(tones, wanted) if t != UNKNOWN)

    for key in first_keys:
        templates = []
        for index in range(len(poem.lines)):
            key = next_key(key, index) if index else key
            templates.append(template(width, key, PING if index in rhymes else ZE))
        if all(fits(tones, wanted) for tones, wanted in zip(poem.tones, templates)):
            return True
    return False


def test_strict_meter_follows_a_whole_template(engine: Engine) -> None:
    for form in ("五律", "七绝"):
        poem = engine.generate(PoemRequest(form=form, seed=11, strict_meter=True), timeout=60).poems[0]
        assert follows_strict_templates(poem, form), (poem.lines, poem.tones)
        assert poem.constraints["strict_meter"]
    plain = engine.generate(PoemRequest(form="五律", seed=11), timeout=60).poems[0]
    assert "strict_meter" not in plain.constraints  # reported where it was asked for


def test_strict_meter_keeps_the_key_of_the_users_first_line(engine: Engine) -> None:
    """白日依山尽 is 仄仄平平仄: its key is 仄, whatever key a strict candidate would draw for itself."""
    tickets = [
        engine.submit(PoemRequest(mode="continue", text="白日依山尽，", form="五律", seed=seed, n=2, strict_meter=True))
        for seed in range(4)
    ]
    for ticket in tickets:
        for poem in ticket.result(timeout=120).poems:
            assert follows_strict_templates(poem, "五律", first_keys=ZE), (poem.lines, poem.tones)
            assert poem.constraints["meter"]


def test_constraints_can_be_switched_off(engine: Engine) -> None:
    request = PoemRequest(form="七律", seed=5, rhyme=False, meter=False, no_repeat=False, n=4)
    for poem in engine.generate(request, timeout=60).poems:
        assert poem.constraints["well_formed"]
        assert len(poem.lines) == 8 and all(len(line) == 7 for line in poem.lines)


def test_same_seed_same_poem_alone_or_batched(engine: Engine) -> None:
    target = PoemRequest(form="七律", seed=42, n=2)
    alone = engine.generate(target, timeout=60)
    crowd = [engine.submit(PoemRequest(form=f, seed=s, mode="acrostic", text="山水")) for s, f in enumerate(FORMS)]
    batched = engine.submit(target)
    crowd += [engine.submit(PoemRequest(form="五绝", seed=s)) for s in range(6)]
    assert [p.text for p in batched.result(60).poems] == [p.text for p in alone.poems]
    for ticket in crowd:
        ticket.result(60)


def test_different_seeds_give_different_poems(engine: Engine) -> None:
    texts = {engine.generate(PoemRequest(seed=s), timeout=60).poems[0].text for s in range(4)}
    assert len(texts) == 4


def test_progress_streams_a_growing_poem(engine: Engine) -> None:
    updates = []
    ticket = engine.submit(PoemRequest(form="五绝", seed=7), on_progress=updates.append)
    final = ticket.result(60).poems[0].text
    assert updates and updates[-1].text == final
    assert all(u.index == 0 for u in updates)
    assert max(len(u.text) for u in updates) == len(final)


@pytest.mark.parametrize("every", [1, 4])
def test_progress_every_few_characters(engine: Engine, every: int) -> None:
    updates = []
    ticket = engine.submit(PoemRequest(form="七律", seed=3), on_progress=updates.append, progress_every=every)
    final = ticket.result(60).poems[0].text
    texts = [u.text for u in updates]
    assert len(texts[0]) == 1 and texts[-1] == final  # the first character at once, the whole poem last
    for before, after in zip(texts, texts[1:-1]):  # in between: grown by `every` or more (punctuation
        # and forced characters come with the character before them), or cut back to re-sample a line
        assert (after.startswith(before) and len(after) - len(before) >= every) or before.startswith(after)
    if every > 1:
        assert len(texts) < len(final) / every + 10  # far fewer messages than characters


def test_cancel_frees_the_batch(tiny_model_dir) -> None:
    small = Engine(tiny_model_dir, max_batch=8, max_queue=4)
    try:
        ticket = small.submit(PoemRequest(form="七律", n=8, seed=1))
        ticket.cancel()
        with pytest.raises(CancelledError):
            ticket.result(30)
        assert small.generate(PoemRequest(form="五绝", n=8, seed=2), timeout=60).poems
    finally:
        small.close()


def test_a_failed_step_fails_its_requests_and_the_engine_goes_on(tiny_model_dir, monkeypatch) -> None:
    small = Engine(tiny_model_dir, max_batch=8, max_queue=4)
    try:
        real_step = small.runtime.decode
        calls = iter([RuntimeError("boom")])

        def step_that_fails_once(*args, **kwargs):
            error = next(calls, None)
            if error is not None:
                raise error
            return real_step(*args, **kwargs)

        monkeypatch.setattr(small.runtime, "decode", step_that_fails_once)
        with pytest.raises(RuntimeError, match="boom"):
            small.generate(PoemRequest(form="五绝", seed=1), timeout=30)
        assert small.generate(PoemRequest(form="五绝", seed=1), timeout=60).poems[0].constraints["well_formed"]
    finally:
        small.close()


def test_a_candidate_that_finishes_early_waits_for_its_siblings(tiny_model_dir, monkeypatch) -> None:
    # Candidate 1 rejects its last line three times, so candidate 0 is done many steps before it.
    # (A finished candidate used to stay in the batch and run out of tokens to feed.)
    real = Candidate._line_acceptable

    def picky(self, line: int) -> bool:
        if self.index == 1 and line == self.form.lines - 1 and self.attempts[line] < 3:
            return False
        return real(self, line)

    monkeypatch.setattr(Candidate, "_line_acceptable", picky)
    small = Engine(tiny_model_dir, max_batch=8, max_queue=4)
    try:
        result = small.generate(PoemRequest(form="五绝", n=2, seed=1), timeout=60)
        assert [p.constraints["well_formed"] for p in result.poems] == [True, True]
        assert small.generate(PoemRequest(form="五绝", seed=2), timeout=60).poems  # the batch is clean after
    finally:
        small.close()


def test_full_queue_is_refused_at_once(tiny_model_dir) -> None:
    small = Engine(tiny_model_dir, max_batch=8, max_queue=1)
    try:
        started, gate = threading.Event(), threading.Event()

        def hold(_) -> None:  # keeps the first request in the batch until the queue is tested
            started.set()
            gate.wait(10)

        first = small.submit(PoemRequest(form="七律", n=8, seed=1), on_progress=hold)
        assert started.wait(30)
        second = small.submit(PoemRequest(form="七律", n=8, seed=2))
        with pytest.raises(OverloadedError):
            small.submit(PoemRequest(form="七律", n=8, seed=3))
        gate.set()
        assert first.result(60).poems and second.result(60).poems
    finally:
        small.close()


def unknown_character(engine: Engine) -> str:
    return next(chr(c) for c in range(0x4E00, 0x9FFF) if engine.tokenizer.id_of(chr(c)) == engine.tokenizer.unk_id)


@pytest.mark.parametrize("form", ["五绝", "七律"])
def test_a_row_started_from_the_cached_opening_sees_what_feeding_it_gives(engine: Engine, form: str) -> None:
    runtime, prefix = engine.runtime, engine.tokenizer.prefix(form, ["秋夜"])
    assert not engine.live  # the engine is idle: row 0 is free to use here

    def logits_fed_from(start: int) -> np.ndarray:
        """Row 0's logits after feeding the prefix from position `start` on."""
        for position in range(start, len(prefix)):
            logits = runtime.step(np.array([prefix[position]]), np.array([position]))
        return logits

    fed = logits_fed_from(0)
    runtime.load_columns(0, *engine.openings[form])
    assert np.abs(logits_fed_from(OPENING_TOKENS) - fed).max() <= 1e-6
    other = "七律" if form == "五绝" else "五绝"  # and the opening is the form's own
    runtime.load_columns(0, *engine.openings[other])
    assert np.abs(logits_fed_from(OPENING_TOKENS) - fed).max() > 1e-3


def test_a_lone_poem_is_the_same_on_one_thread_and_on_all(engine: Engine) -> None:
    lone = engine.runtime.requests[1][0]
    assert len(lone.requests) == (2 if (os.cpu_count() or 1) > 1 else 1)  # both kept: they agreed bitwise
    saved = lone.current, lone.until_trial
    poems = []
    try:
        for index in range(len(lone.requests)):
            lone.current, lone.until_trial = index, 10**9  # no trial of the other
            poems.append(
                [engine.generate(request_for("random", "七律", seed), timeout=60).poems[0].text for seed in range(3)]
            )
    finally:
        lone.current, lone.until_trial = saved
    assert all(p == poems[0] for p in poems)
    assert len(set(poems[0])) == 3


def test_the_cache_holds_the_longest_request(engine: Engine) -> None:
    longest_prefix = engine.tokenizer.prefix("七律", ["山" * MAX_KEYWORD_CHARS] * MAX_KEYWORDS)
    # positions 0 .. len-2 are fed (the last token is never fed)
    assert engine.runtime.max_positions >= len(longest_prefix) + FORMS["七律"].tokens - 1


def test_a_candidates_text_and_counts_follow_its_tokens_through_retries(engine: Engine, monkeypatch) -> None:
    """A candidate keeps its text and character counts as it goes; after every choice they must say
    what its tokens say, with the first attempt at every line refused and a user's [UNK] character."""
    real_take, real_acceptable, refused = Candidate.take, Candidate._line_acceptable, set()
    checked = []

    def acceptable_second_time(self, line):
        if (id(self), line) in refused:
            return real_acceptable(self, line)
        refused.add((id(self), line))
        return False

    def take_and_check(self, choice):
        real_take(self, choice)
        poem, tokenizer = self.tokens[self.poem_start :], self.shared.tokenizer
        rebuilt = [tokenizer.tokens[t] for t in poem]
        for (line, column), char in self.plan.forced.items():
            if self.form.line_starts[line] + column < len(rebuilt):
                rebuilt[self.form.line_starts[line] + column] = char
        assert self.text() == "".join(rebuilt)
        assert self.han_counts == Counter(t for t in poem if self.shared.is_han[t])
        checked.append(self.attempts[:])

    monkeypatch.setattr(Candidate, "_line_acceptable", acceptable_second_time)
    monkeypatch.setattr(Candidate, "take", take_and_check)
    opening = "春" + unknown_character(engine) + "山"
    result = engine.generate(PoemRequest(mode="continue", text=opening, form="五绝", seed=5), timeout=60)
    assert result.poems[0].text.startswith(opening)
    assert checked and max(max(attempts) for attempts in checked) >= 1  # lines were re-sampled


@pytest.mark.parametrize(
    "request_fields, needle",
    [
        ({"mode": "sonnet"}, "mode"),
        ({"form": "五古"}, "form"),
        ({"n": 0}, "n must"),
        ({"n": 9}, "n must"),
        ({"temperature": 0}, "temperature"),
        ({"temperature": float("nan")}, "temperature"),
        ({"top_k": -1}, "top_k"),
        ({"top_p": 1.5}, "top_p"),
        ({"repetition_penalty": 3}, "repetition_penalty"),
        ({"seed": -1}, "seed"),
        ({"mode": "acrostic", "text": ""}, "acrostic"),
        ({"mode": "acrostic", "text": "春夏秋冬春夏秋冬春"}, "at most 8"),
        ({"mode": "acrostic", "text": "春夏秋冬山", "form": "五绝"}, "too few"),
        ({"mode": "acrostic", "text": "spring"}, "Chinese characters"),
        ({"mode": "continue", "text": ""}, "opening"),
        ({"mode": "continue", "text": "床前明月光啊，"}, "5 or 7"),
        ({"mode": "continue", "text": "床前明月光，疑是地上霜。", "form": "七绝"}, "5 or 7"),
        ({"mode": "continue", "text": "一二三四五，" * 5, "form": "五绝"}, "more than a 五绝"),
        ({"mode": "continue", "text": "一二三四五，" * 9}, "more than a 五律"),
        ({"seed": 2**64}, "9223372036854775807"),
        ({"seed": 1.5}, "seed must be an integer"),
        ({"n": 2.0}, "n must be an integer"),
        ({"top_k": True}, "top_k must be an integer"),
        ({"temperature": "0.8"}, "temperature must be a number"),
        ({"rhyme": 1}, "rhyme must be true or false"),
        ({"text": 5}, "text must be a string"),
        ({"mode": "theme", "text": "山" * 60}, "at most 50"),
        ({"mode": "continue", "text": "白日依山𠀀，"}, "cannot write"),
        ({"mode": "continue", "text": "hello，"}, "Chinese characters"),
        ({"mode": "theme", "text": ""}, "theme"),
        ({"mode": "theme", "text": "山" * 51}, "theme too long"),
        ({"mode": "continue", "text": "山" * 65}, "text too long"),
    ],
)
def test_bad_input_gets_a_bilingual_error(engine: Engine, request_fields: dict, needle: str) -> None:
    with pytest.raises(PoetryError) as error:
        engine.submit(PoemRequest(**request_fields))
    assert needle in error.value.en and error.value.zh


@pytest.mark.parametrize("rare", [False, True])
def test_an_unknown_acrostic_character_is_named(engine: Engine, rare: bool) -> None:
    char = "𠀀" if rare else unknown_character(engine)  # rare: an ideograph of CJK extension B
    with pytest.raises(PoetryError) as error:
        engine.submit(PoemRequest(mode="acrostic", text="春" + char))
    assert char in error.value.zh and char in error.value.en and "cannot write" in error.value.en


def test_traditional_acrostic_characters_are_mapped(engine: Engine) -> None:
    poem = engine.generate(PoemRequest(mode="acrostic", text="風雲", seed=1), timeout=60).poems[0]
    assert poem.lines[0][0] == "风" and poem.lines[1][0] == "云"


def test_info_describes_the_model(engine: Engine) -> None:
    info = engine.info()
    assert info["vocab_size"] == len(engine.tokenizer) and set(info["forms"]) == set(FORMS)
    shapes = {shape["name"]: shape for shape in info["form_shapes"]}
    assert [shape["name"] for shape in info["form_shapes"]] == info["forms"]
    assert shapes["五律"]["line_lengths"] == [5] * 8 and shapes["五律"]["stanzas"] == [8]  # a 诗 is one stanza
    assert shapes["七绝"]["marks"] == ["，", "。"] * 2 and shapes["七绝"]["pattern"] == "7-7-7-7"


@pytest.mark.slow  # builds a copy table: over 2 s
def test_no_line_is_copied_from_the_training_poems(tiny_model_dir, tmp_path) -> None:
    """With every line the model writes at one seed marked as 'training', it must write others."""
    import shutil

    import numpy as np

    from model.engine.copies import TABLE_NAME, line_hash

    model_dir = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model_dir)
    request = PoemRequest(form="五绝", seed=8)
    free = Engine(model_dir)
    try:
        first = free.generate(request, timeout=60).poems[0]
    finally:
        free.close()
    np.save(model_dir / TABLE_NAME, np.array(sorted(map(line_hash, first.lines)), dtype=np.uint32))
    guarded = Engine(model_dir)
    try:
        poem = guarded.generate(request, timeout=60).poems[0]
        allowed = guarded.generate(PoemRequest(form="五绝", seed=8, no_copy=False), timeout=60).poems[0]
    finally:
        guarded.close()
    assert not set(poem.lines) & set(first.lines) and poem.constraints["no_copy"]
    assert allowed.lines == first.lines and not allowed.constraints["no_copy"]


def test_a_whole_quatrain_without_a_form_is_continued_as_a_regulated_poem(engine: Engine) -> None:
    opening = "床前明月光，疑是地上霜。举头望明月，低头思故乡。"
    result = engine.generate(PoemRequest(mode="continue", text=opening, seed=1), timeout=60)
    assert result.form == "五律" and result.poems[0].text.startswith(opening)


def test_an_opening_that_fills_its_form_comes_back_judged_and_the_engine_goes_on(engine: Engine) -> None:
    """The page's edit of a poem's last line sends the whole poem; it once stayed in the batch,
    ran past its tokens and took the decode thread down with every request beside it."""
    beside = engine.submit(PoemRequest(form="七律", seed=4))
    opening = "床前明月光，疑是地上霜，举头望明月，低头思故乡"  # no last mark: the same poem
    whole = engine.generate(PoemRequest(mode="continue", text=opening, form="五绝", seed=1, n=2), timeout=60)
    # n=2 gives the same poem twice: shown once.
    assert [p.text for p in whole.poems] == ["床前明月光，疑是地上霜。举头望明月，低头思故乡。"]
    assert whole.poems[0].constraints["well_formed"] and whole.poems[0].constraints["kept"]
    assert whole.poems[0].tones[0] == "平平平仄平"  # 床前明月光
    # Judged whole, the user's lines included: 静夜思 is a 古绝, and says where it leaves the rules.
    assert not whole.poems[0].constraints["meter"]
    assert any((f.line, f.rule, f.user) == (3, "失粘", True) for f in whole.poems[0].faults), whole.poems[0].faults
    assert beside.result(timeout=60).poems[0].constraints["well_formed"]
    assert engine.generate(PoemRequest(form="五绝", seed=2), timeout=60).poems[0].constraints["well_formed"]


@pytest.mark.parametrize(
    "typed, marked",
    [
        ("白日依山尽黄河入海流", "白日依山尽，黄河入海流。"),  # whole lines typed without marks
        ("千山鸟飞绝", "千山鸟飞绝，"),  # a full line without its mark is the user's line all the same
    ],
)
def test_an_opening_reads_the_same_with_or_without_marks(engine: Engine, typed: str, marked: str) -> None:
    poems = [
        engine.generate(PoemRequest(mode="continue", text=text, seed=3), timeout=60).poems[0]
        for text in (typed, marked)
    ]
    assert poems[0].text == poems[1].text and poems[0].constraints == poems[1].constraints
    assert poems[0].faults == poems[1].faults and all(f.user for f in poems[0].faults), poems[0].faults
    assert poems[0].constraints["kept"] and poems[0].constraints["rhyme"], poems[0].constraints


def test_a_users_first_line_ending_in_an_oblique_tone_is_not_made_to_rhyme(engine: Engine) -> None:
    """晓 is 仄: asking line 1 to rhyme cannot hold, so the user's line decides."""
    tickets = [
        engine.submit(PoemRequest(mode="continue", text="春眠不觉晓，", form="五绝", seed=seed, rhyme_first_line=True))
        for seed in range(4)
    ]
    for ticket in tickets:
        poem = ticket.result(timeout=60).poems[0]
        assert poem.rhyme_positions == [1, 3] and all(poem.constraints.values()), poem.constraints


def test_acrostic_heads_still_to_come_count_as_repeats(engine: Engine) -> None:
    tickets = [engine.submit(PoemRequest(mode="acrostic", text="春夏秋冬春夏", seed=seed)) for seed in range(4)]
    for ticket in tickets:
        poem = ticket.result(timeout=60).poems[0]
        assert poem.text.count("春") == 2, poem.text
        # The user's own heads repeat (春, 夏): faults of theirs; the engine adds no repeat of its own.
        assert {(f.rule, f.user) for f in poem.faults} == {("重字", True)}, poem.faults


def test_spaces_do_not_count_against_the_theme_limit(engine: Engine) -> None:
    result = engine.generate(PoemRequest(mode="theme", text="秋 " * 30, form="五绝", seed=1), timeout=60)
    assert result.keywords


def test_a_request_whose_report_fails_fails_alone(engine: Engine, monkeypatch) -> None:
    """A bug in building one result (or in a progress callback) fails that request, not the engine."""
    result_of = Engine._result

    def broken_for_seed_7(self, ticket):
        if ticket.request.seed == 7:
            raise RuntimeError("broken check")
        return result_of(self, ticket)

    monkeypatch.setattr(Engine, "_result", broken_for_seed_7)
    broken = engine.submit(PoemRequest(form="五绝", seed=7))
    fine = engine.submit(PoemRequest(form="五绝", seed=8))
    with pytest.raises(RuntimeError, match="broken check"):
        broken.result(timeout=60)
    assert fine.result(timeout=60).poems[0].constraints["well_formed"]
    assert engine.generate(PoemRequest(form="五绝", seed=9), timeout=60).poems


def test_an_opening_that_rhymes_on_an_oblique_tone_goes_on_in_that_group(engine: Engine) -> None:
    """千山鸟飞绝，万径人踪灭: 灭 is 仄 (入九屑), so the poem rhymes in 入九屑 and its third line, which
    does not rhyme, ends 平 as a 仄韵 poem's does."""
    for seed in range(4):
        poem = engine.generate(
            PoemRequest(mode="continue", text="千山鸟飞绝，万径人踪灭。", seed=seed), timeout=60
        ).poems[0]
        assert poem.rhyme_group == "入九屑" and poem.constraints["rhyme"], poem.text
        assert "入九屑" in rhyme_groups(poem.lines[3][-1], ZE) and heard_tone(poem.lines[2][-1]) == PING, poem.text
        assert all(f.user for f in poem.faults), poem.faults  # 千山鸟飞绝 is the user's 二四同声, no more


@pytest.mark.parametrize("form", list(FORMS))
def test_rhyme_tone_asks_for_an_oblique_rhyme_in_every_form(engine: Engine, form: str) -> None:
    for seed in range(3):
        poem = engine.generate(PoemRequest(form=form, rhyme_tone="仄", seed=seed), timeout=60).poems[0]
        assert poem.rhyme_group.startswith(("上", "去", "入")), poem.rhyme_group
        assert all(poem.constraints.values()) and poem.faults == [], (poem.text, poem.faults)
        assert all(heard_tone(poem.lines[i][-1]) == ZE for i in poem.rhyme_positions), poem.text


def test_an_unknown_rhyme_tone_is_a_clear_error(engine: Engine) -> None:
    with pytest.raises(PoetryError, match="rhyme_tone"):
        engine.submit(PoemRequest(rhyme_tone="上"))


def test_no_generated_line_ends_on_a_level_tone_it_may_not_use(engine: Engine) -> None:
    """The independent checker's finding: line 1 ended on 中 characters (行 过 难 庭 闻 …) that a
    reader hears 平 and that do not rhyme. Now line 1 either rhymes or is heard 仄, in every form."""
    tickets = [engine.submit(PoemRequest(form=form, seed=seed)) for form in FORMS for seed in range(6)]
    for ticket in tickets:
        poem = ticket.result(timeout=60).poems[0]
        first = poem.lines[0][-1]
        assert heard_tone(first) == ZE or 0 in poem.rhyme_positions, poem.text
        ends = [line[-1] for line in poem.lines]
        assert len(set(ends)) == len(ends), poem.text  # no 重韵


def test_an_answering_line_is_the_best_of_its_versions(tiny_model_dir, monkeypatch) -> None:
    """With line_choices 3, lines 4 and 6 of a 律诗 are each written three times and the one that faces
    the line before best stays; the poem still keeps every rule, and the same seed gives it again."""
    choices: list[tuple[str, list[str], str]] = []  # (the line above, the versions, the one kept)
    real = Candidate._weigh

    def weigh_and_record(self, line):
        earlier = [written.text for written in self.alternatives]
        current, above = self.lines()[line], self.lines()[line - 1]
        real(self, line)
        if not self.alternatives:  # the choice was just made
            choices.append((above, earlier + [current], self.lines()[line]))

    monkeypatch.setattr(Candidate, "_weigh", weigh_and_record)
    engine = Engine(tiny_model_dir, max_batch=8, max_queue=8, line_choices=3)
    try:
        first = engine.generate(PoemRequest(form="七律", seed=5), timeout=60).poems[0]
        again = engine.generate(PoemRequest(form="七律", seed=5), timeout=60).poems[0]
    finally:
        engine.close()
    assert first.text == again.text and all(first.constraints.values()) and first.faults == []
    assert len(choices) == 4  # lines 4 and 6, in both poems
    for above, versions, kept in choices:
        assert len(versions) == 3 and kept in versions
        assert couplet_parallelism(above, kept) == max(couplet_parallelism(above, v) for v in versions)
    assert [kept for _, _, kept in choices[:2]] == [first.lines[3], first.lines[5]]

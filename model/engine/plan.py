"""Turn a PoemRequest into a Plan (form, keywords, the characters the user fixed), or a clear error."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from model.engine.types import FORM_NAMES, MAX_CANDIDATES, MAX_TEXT, MAX_THEME, MODES, PoemRequest, PoetryError
from model.engine.prosody import PING, tone_of
from model.forms import FORMS, Form
from model.text import is_han, normalise_punctuation, split_lines, to_simplified
from model.tokenizer import CharTokenizer, UnknownCharacterError

DEFAULT_FORM = "七绝"
MAX_KEYWORDS = 3
MAX_KEYWORD_CHARS = 4
# [CLS] [form] ([KW] keyword)* [SEP]: the longest conditioning prefix a request can have.
MAX_PREFIX_TOKENS = 3 + MAX_KEYWORDS * (1 + MAX_KEYWORD_CHARS)


@dataclass
class Plan:
    """What the decoder must honour for one request."""

    form: Form
    keywords: list[str] = field(default_factory=list)
    forced: dict[tuple[int, int], str] = field(default_factory=dict)  # (line, column) -> user's character
    first_line_rhymes: bool = False  # asked for, or implied by a user's first line ending in a level tone
    given_lines: int = 0  # whole lines the user wrote (continuation): context, not judged for meter


def check_ranges(request: PoemRequest) -> None:
    """Sampling parameters within their documented ranges."""
    checks = [
        (request.mode in MODES, f"未知模式 {request.mode!r}", f"unknown mode {request.mode!r}; use one of {', '.join(MODES)}"),
        (request.form in ("", *FORM_NAMES), f"未知诗体 {request.form!r}", f"unknown form {request.form!r}; use one of {', '.join(FORM_NAMES)}"),
        (len(request.text) <= MAX_TEXT, f"文字过长（最多 {MAX_TEXT} 字）", f"text too long (at most {MAX_TEXT} characters)"),
        (1 <= request.n <= MAX_CANDIDATES, f"候选数须在 1–{MAX_CANDIDATES} 之间", f"n must be between 1 and {MAX_CANDIDATES}"),
        (request.seed is None or 0 <= request.seed < 2**63, "随机种子须为非负整数", "seed must be a non-negative integer"),
        (0 < request.temperature <= 2 and math.isfinite(request.temperature), "温度须在 (0, 2] 之间", "temperature must be in (0, 2]"),
        (0 <= request.top_k <= 1000, "top_k 须在 0–1000 之间", "top_k must be between 0 and 1000"),
        (0 < request.top_p <= 1, "top_p 须在 (0, 1] 之间", "top_p must be in (0, 1]"),
        (1 <= request.repetition_penalty <= 2, "重复惩罚须在 [1, 2] 之间", "repetition_penalty must be in [1, 2]"),
    ]
    for ok, zh, en in checks:
        if not ok:
            raise PoetryError(zh, en)


def clean_text(text: str) -> str:
    return normalise_punctuation(to_simplified(text))


def plan_acrostic(text: str, form_name: str, tokenizer: CharTokenizer) -> Plan:
    heads = clean_text(text)
    if not heads:
        raise PoetryError("藏头诗需要 1–8 个字", "an acrostic needs 1 to 8 characters")
    if not is_han(heads):
        raise PoetryError("藏头字只能是汉字", "acrostic characters must be Chinese characters")
    if len(heads) > 8:
        raise PoetryError(f"藏头字最多 8 个，收到 {len(heads)} 个", f"at most 8 acrostic characters, got {len(heads)}")
    form = FORMS[form_name] if form_name else FORMS["七绝" if len(heads) <= 4 else "七律"]
    if len(heads) > form.lines:
        raise PoetryError(f"{form.name}只有 {form.lines} 句，放不下 {len(heads)} 个藏头字",
                          f"a {form.name} has {form.lines} lines, too few for {len(heads)} acrostic characters")
    for char in heads:
        try:
            tokenizer.id_of(char, strict=True)
        except UnknownCharacterError:
            raise PoetryError(f"模型不会写“{char}”字，请换一个", f"the model cannot write the character {char!r}; use another") from None
    return Plan(form, forced={(i, 0): char for i, char in enumerate(heads)})


def opening_width(complete: list[str], partial: str, form_name: str) -> int:
    """The line length an opening implies, or a clear error."""
    widths = {len(line) for line in complete}
    if form_name:
        width = FORMS[form_name].chars_per_line
    elif widths:
        width = widths.pop() if len(widths) == 1 else 0
    else:
        width = 5 if len(partial) == 5 else 7
    if any(len(line) != width for line in complete) or width not in (5, 7):
        raise PoetryError("开头的每句须同为五字或七字" + (f"（{form_name}每句 {width} 字）" if form_name else ""),
                          "every line of the opening must have 5 or 7 characters, all the same"
                          + (f" ({form_name} lines have {width})" if form_name else ""))
    if len(partial) > width:
        raise PoetryError(f"末句超过 {width} 字", f"the last line is longer than {width} characters")
    return width


def plan_continuation(text: str, form_name: str) -> Plan:
    opening = clean_text(text)
    if not opening:
        raise PoetryError("续写需要开头", "a continuation needs an opening")
    lines, marks = split_lines(opening)
    complete = [line for line, mark in zip(lines, marks) if mark]
    partial = "" if marks[-1] else lines[-1]
    if not all(is_han(line) for line in complete) or (partial and not is_han(partial)):
        raise PoetryError("开头只能是汉字和标点，且不能有空句", "the opening may hold only Chinese characters and punctuation, with no empty line")
    width = opening_width(complete, partial, form_name)
    count = len(complete) + bool(partial)
    if form_name:
        form = FORMS[form_name]
    else:
        form = next((f for f in FORMS.values() if f.chars_per_line == width and f.lines >= count), None)
    if form is None or count > form.lines:
        raise PoetryError(f"开头有 {count} 句，超过诗体的句数", f"the opening has {count} lines, more than the form allows")
    given = "".join(line.ljust(width, "\0") for line in complete) + partial
    forced = {divmod(i, width): char for i, char in enumerate(given) if char != "\0"}
    return Plan(form, forced=forced, given_lines=len(complete))


def theme_keywords(text: str, tokenizer: CharTokenizer) -> list[str]:
    """Up to three keywords jieba finds in the theme, limited to characters the model knows."""
    import jieba.analyse

    theme = clean_text(text)
    if not theme:
        raise PoetryError("主题不能为空", "the theme must not be empty")
    if len(theme) > MAX_THEME:
        raise PoetryError(f"主题过长（最多 {MAX_THEME} 字）", f"theme too long (at most {MAX_THEME} characters)")
    known = lambda word: all(tokenizer.id_of(c) != tokenizer.unk_id for c in word)  # noqa: E731
    words = [w for w in jieba.analyse.extract_tags(theme, topK=8) if is_han(w) and known(w)]
    words = [w[:MAX_KEYWORD_CHARS] for w in words][:MAX_KEYWORDS]
    if not words:
        chars = "".join(c for c in theme if is_han(c) and known(c))[:MAX_KEYWORD_CHARS]
        words = [chars] if chars else []
    if not words:
        raise PoetryError("主题里没有可用的汉字", "the theme holds no Chinese characters the model knows")
    return words


def ends_in_level_tone(plan: Plan) -> bool:
    """Whether the user wrote all of line 1 and it ends in a level-tone (平) character."""
    last = plan.forced.get((0, plan.form.chars_per_line - 1))
    return last is not None and tone_of(last) == PING


def plan_request(request: PoemRequest, tokenizer: CharTokenizer) -> Plan:
    """Validate the request and say what the decoder must do, or raise PoetryError."""
    check_ranges(request)
    if request.mode == "acrostic":
        plan = plan_acrostic(request.text, request.form, tokenizer)
    elif request.mode == "continue":
        plan = plan_continuation(request.text, request.form)
    elif request.mode == "theme":
        plan = Plan(FORMS[request.form or DEFAULT_FORM], keywords=theme_keywords(request.text, tokenizer))
    else:
        plan = Plan(FORMS[request.form or DEFAULT_FORM])
    plan.first_line_rhymes = request.rhyme_first_line or ends_in_level_tone(plan)
    return plan

"""Turn a PoemRequest into a Plan (form, keywords, the characters the user fixed), or a clear error."""

from __future__ import annotations

from dataclasses import dataclass, field

from model.engine.contract import echo, validate
from model.engine.prosody import PING, ZE, heard_tone
from model.engine.types import FORM_NAMES, MAX_TEXT, MAX_THEME, PoemRequest, PoetryError
from model.forms import FORMS, Form
from model.text import clean, is_han, is_ideograph, split_lines
from model.tokenizer import CharTokenizer

DEFAULT_FORM = "七绝"
MAX_KEYWORDS = 3
MAX_KEYWORD_CHARS = 4
# [CLS] [form] ([KW] keyword)* [SEP]: the longest conditioning prefix a request can have.
MAX_PREFIX_TOKENS = 3 + MAX_KEYWORDS * (1 + MAX_KEYWORD_CHARS)
# jieba's part-of-speech tags of the words a theme may steer with: nouns, verbs, adjectives, times,
# places, idioms; not particles, pronouns, prepositions, conjunctions, numbers or measure words.
CONTENT_POS = (
    "n",
    "nr",
    "ns",
    "nt",
    "nz",
    "nw",
    "ng",
    "v",
    "vn",
    "vd",
    "vg",
    "a",
    "an",
    "ad",
    "ag",
    "t",
    "tg",
    "s",
    "i",
    "l",
    "j",
)


@dataclass
class Plan:
    """What the decoder must honour for one request."""

    form: Form
    keywords: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # theme words no prefix can hold
    forced: dict[tuple[int, int], str] = field(default_factory=dict)  # (line, column) -> user's character
    first_line_rhymes: bool = False  # as asked, unless the user wrote line 1's last character: its tone decides
    given_lines: int = 0  # whole lines the user wrote (continuation)
    rhyme_tone: str = PING  # as asked, unless the user wrote line 2's last character: the tone heard there decides


def check_request(request: PoemRequest) -> None:
    """Every field of its type and range (the contract), and the text within its mode's limit."""
    validate(request)
    limit = MAX_THEME if request.mode == "theme" else MAX_TEXT
    what_zh, what_en = ("主题", "theme") if request.mode == "theme" else ("文字", "text")
    if len("".join(request.text.split())) > limit:  # spaces do not count: they are dropped
        raise PoetryError(f"{what_zh}过长（最多 {limit} 字）", f"{what_en} too long (at most {limit} characters)")


def of_width(width: int) -> list[Form]:
    """The 诗 forms whose lines have `width` characters, shortest first (the 绝句, then the 律诗)."""
    return sorted((f for f in FORMS.values() if f.chars_per_line == width), key=lambda f: f.lines)


def acrostic_form(heads: int) -> Form | None:
    """The form an acrostic that names none gets: the shortest of the default form's width with a line for
    each head; None where there are more heads than any has lines."""
    return next((f for f in of_width(FORMS[DEFAULT_FORM].chars_per_line) if f.lines >= heads), None)


def max_heads() -> int:
    """The most heads an acrostic that names no form may have."""
    return of_width(FORMS[DEFAULT_FORM].chars_per_line)[-1].lines


def opening_form(width: int, lines: int) -> Form:
    """The form an opening of `lines` whole lines of `width` characters gets where it names none: the
    shortest of its width with room after it, else the longest (a whole 绝句 is continued as a 律诗,
    and a whole 律诗 given back judged)."""
    forms = of_width(width)
    return next((f for f in forms if f.lines > lines), forms[-1])


def automatic_forms() -> list[dict]:
    """The form written where a request names none, for every input that choice hangs on: random's and
    theme's; an acrostic's by its heads; a continuation's by its opening's line length and whole lines
    (0 where a mode has no such input). GetInfo exports it, so that a page can say what 自动 writes."""
    rows = [{"mode": mode, "width": 0, "lines": 0, "form": DEFAULT_FORM} for mode in ("random", "theme")]
    rows += [
        {"mode": "acrostic", "width": 0, "lines": heads, "form": acrostic_form(heads).name}
        for heads in range(1, max_heads() + 1)
    ]
    for width in sorted({f.chars_per_line for f in FORMS.values()}):
        rows += [
            {"mode": "continue", "width": width, "lines": lines, "form": opening_form(width, lines).name}
            for lines in range(of_width(width)[-1].lines + 1)
        ]
    return rows


def plan_acrostic(text: str, form: Form | None, tokenizer: CharTokenizer) -> Plan:
    """Heads on the lines in order (a 叠句 opens as the line it repeats, so it takes none)."""
    heads = clean(text)
    if not heads:
        raise PoetryError("藏头诗需要至少一个字", "an acrostic needs at least one character")
    for char in heads:
        if not is_ideograph(char):
            raise PoetryError(
                f"藏头字只能是汉字，“{char}”不是", f"acrostic characters must be Chinese characters; {char!r} is not"
            )
    form = form or acrostic_form(len(heads))
    if form is None:
        most = max_heads()
        raise PoetryError(
            f"藏头字最多 {most} 个，收到 {len(heads)} 个", f"at most {most} acrostic characters, got {len(heads)}"
        )
    own_lines = [line for line in range(form.lines) if line not in form.repeats]
    if len(heads) > len(own_lines):
        raise PoetryError(
            f"{form.name}只有 {len(own_lines)} 句可以藏头，放不下 {len(heads)} 个藏头字",
            f"a {form.name} has {len(own_lines)} lines to open, too few for {len(heads)} acrostic characters",
        )
    for char in heads:
        if not writable(char, tokenizer):
            raise cannot_write(char)
    return Plan(form, forced={(line, 0): char for line, char in zip(own_lines, heads)})


def cannot_write(char: str) -> PoetryError:
    return PoetryError(f"模型不会写“{char}”字，请换一个", f"the model cannot write the character {char!r}; use another")


def writable(char: str, tokenizer: CharTokenizer) -> bool:
    """Whether the model can write char: a Han character of its vocabulary."""
    return is_han(char) and tokenizer.id_of(char) != tokenizer.unk_id


def opening_width(complete: list[str], tail: str, form_name: str) -> int:
    """The line length an opening implies, or a clear error. Without a form or a marked line, an
    unpunctuated opening is read as lines of 5 when its length is a multiple of 5 and not of 7,
    else as (part of) lines of 7."""
    widths = {len(line) for line in complete}
    if form_name:
        width = FORMS[form_name].chars_per_line
    elif widths:
        width = widths.pop() if len(widths) == 1 else 0
    else:
        width = 5 if len(tail) % 5 == 0 and len(tail) % 7 != 0 else 7
    if any(len(line) != width for line in complete) or width not in (5, 7):
        raise PoetryError(
            "开头的每句须同为五字或七字" + (f"（{form_name}每句 {width} 字）" if form_name else ""),
            "every line of the opening must have 5 or 7 characters, all the same"
            + (f" ({form_name} lines have {width})" if form_name else ""),
        )
    return width


def continuation_form(width: int, lines: int, partial: bool, form_name: str) -> Form:
    """The asked form, else the one an opening of these lines gets (opening_form); or a clear error
    when the opening has more lines than the form.
    An opening that fills its form is given back judged, with nothing written: the page's edit of a
    poem's last line asks for just that."""
    form = FORMS[form_name] if form_name else opening_form(width, lines)
    if lines + partial > form.lines:
        raise PoetryError(
            f"开头有 {lines + partial} 句，{form.name}只有 {form.lines} 句",
            f"the opening has {lines + partial} lines, more than a {form.name}'s {form.lines}",
        )
    return form


def read_opening(text: str) -> tuple[list[str], str]:
    """An opening's marked lines and the unmarked rest, or a clear error."""
    opening = clean(text)
    if not opening:
        raise PoetryError("续写需要开头", "a continuation needs an opening")
    lines, marks = split_lines(opening)
    complete = [line for line, mark in zip(lines, marks) if mark]
    tail = "" if marks[-1] else lines[-1]
    rare = next((c for c in opening if is_ideograph(c) and not is_han(c)), None)
    if rare:
        raise cannot_write(rare)
    if not all(is_han(line) for line in complete) or (tail and not is_han(tail)):
        raise PoetryError(
            "开头只能是汉字和标点，且不能有空句",
            "the opening may hold only Chinese characters and punctuation, with no empty line",
        )
    return complete, tail


def plan_tune_opening(text: str, form: Form) -> Plan:
    """A 词's opening: marked lines must have the tune's lengths, line by line; unmarked characters
    fill the tune's cells in order."""
    complete, tail = read_opening(text)
    for index, line in enumerate(complete):
        if index >= form.lines or len(line) != form.line_lengths[index]:
            wanted = f"{form.line_lengths[index]} 字" if index < form.lines else "没有这一句"
            raise PoetryError(
                f"第 {index + 1} 句有 {len(line)} 字，{form.name}第 {index + 1} 句{wanted}（{form.pattern}）",
                f"line {index + 1} has {len(line)} characters; {form.name}'s pattern is {form.pattern}",
            )
    start = sum(form.line_lengths[: len(complete)])
    cells = [(line, column) for line, length in enumerate(form.line_lengths) for column in range(length)]
    if start + len(tail) > len(cells):
        raise PoetryError(f"开头比整首{form.name}还长", f"the opening is longer than a whole {form.name}")
    given = "".join(complete) + tail
    forced = {cell: char for cell, char in zip(cells, given)}
    whole = len(complete) + sum(
        1
        for line in range(len(complete), form.lines)
        if all((line, c) in forced for c in range(form.line_lengths[line]))
    )
    return Plan(form, forced=forced, given_lines=whole)


def plan_continuation(text: str, form_name: str) -> Plan:
    complete, tail = read_opening(text)
    width = opening_width(complete, tail, form_name)
    # Whole lines typed without marks count as lines, as do the user's marked ones; what is left is
    # the start of the next line.
    whole = len(tail) - len(tail) % width
    complete += [tail[i : i + width] for i in range(0, whole, width)]
    partial = tail[whole:]
    form = continuation_form(width, len(complete), bool(partial), form_name)
    given = "".join(complete) + partial
    forced = {divmod(i, width): char for i, char in enumerate(given)}
    return Plan(form, forced=forced, given_lines=len(complete))


def theme_keywords(text: str, tokenizer: CharTokenizer) -> tuple[list[str], list[str]]:
    """Up to three content words jieba finds in the theme (nouns, verbs, adjectives, times, places:
    no particles or stop words, so 的了吗呢 has none), and those left out: a word longer than the
    prefix's MAX_KEYWORD_CHARS (its first characters are seldom a word) or with a character the
    model cannot write."""
    import jieba.analyse

    theme = clean(text)
    if not theme:
        raise PoetryError("主题不能为空", "the theme must not be empty")
    words = jieba.analyse.extract_tags(theme, topK=8, allowPOS=CONTENT_POS)
    fits = [w for w in words if len(w) <= MAX_KEYWORD_CHARS and all(writable(c, tokenizer) for c in w)]
    if not fits:
        raise PoetryError(
            "主题里没有模型能写的实词（名词、动词、形容词）",
            "the theme holds no content word (noun, verb, adjective) the model can write",
        )
    return fits[:MAX_KEYWORDS], [w for w in words if w not in fits]


def rhyme_tone(plan: Plan, asked: str) -> str:
    """The rhyme's tone: as asked, unless the user wrote line 2's last character (the first rhyme
    every poem has), whose tone as a reader hears it decides: 千山鸟飞绝，万径人踪灭 goes on in 仄."""
    last = plan.forced.get((1, plan.form.chars_per_line - 1))
    heard = heard_tone(last) if last else None
    return heard if heard in (PING, ZE) else asked


def first_line_rhymes(plan: Plan, asked: bool) -> bool:
    """Whether line 1 rhymes: as asked, unless the user wrote its last character, which then decides
    by the tone a reader hears there (the rhyme's tone makes it rhyme, the other cannot; an
    undecided one may, as asked)."""
    last = plan.forced.get((0, plan.form.chars_per_line - 1))
    if last is None:
        return asked
    heard = heard_tone(last)
    return heard == plan.rhyme_tone or (asked and heard not in (PING, ZE))


def plan_request(request: PoemRequest, tokenizer: CharTokenizer, tunes: dict[str, Form] | None = None) -> Plan:
    """Validate the request and say what the decoder must do, or raise PoetryError; tunes are the
    词 forms the engine's model can write."""
    tunes = tunes or {}
    check_request(request)
    tune = tunes.get(request.form)
    if request.form and request.form not in FORMS and tune is None:
        raise PoetryError(
            f"未知诗体或词牌 {echo(request.form)}：诗体为 {'、'.join(FORM_NAMES)}，"
            "可写的词牌见 GetInfo（网页 /api/info）",
            f"unknown form or tune {echo(request.form)}: forms are {', '.join(FORM_NAMES)}; "
            "GetInfo (GET /api/info on the web app) lists the tunes",
        )
    form = tune or FORMS.get(request.form)
    if request.mode == "acrostic":
        plan = plan_acrostic(request.text, form, tokenizer)
    elif request.mode == "continue":
        plan = plan_tune_opening(request.text, tune) if tune else plan_continuation(request.text, request.form)
    elif request.mode == "theme":
        keywords, left_out = theme_keywords(request.text, tokenizer)
        plan = Plan(form or FORMS[DEFAULT_FORM], keywords=keywords, left_out=left_out)
    else:
        plan = Plan(form or FORMS[DEFAULT_FORM])
    plan.rhyme_tone = rhyme_tone(plan, request.rhyme_tone)
    plan.first_line_rhymes = first_line_rhymes(plan, request.rhyme_first_line)
    return plan

"""One candidate poem being decoded: its tokens, its constraints, and line-level backtracking."""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from model.engine.cilin import rhyme_names
from model.engine.copies import CopyTable
from model.engine.meter import column_tone, key_of_line, line_faults, meter_columns, next_key, template
from model.engine.parallel import couplet_parallelism
from model.engine.plan import Plan
from model.engine.prosody import PING, ZE, VocabProsody, may_double, opposite
from model.engine.sampler import Choice, SamplingParams, Selection
from model.engine.types import PoemRequest
from model.forms import CI
from model.tokenizer import CharTokenizer

MAX_LINE_ATTEMPTS = 8  # retries of one line before its constraints are relaxed
MIN_ALLOWED_MASS = 1e-4  # below this the model finds every allowed character implausible: retry the line


@dataclass
class Written:
    """A finished line kept while its alternatives are written: its tokens, their log-probabilities
    and text, and how well it answers the line before (对仗, then the model's own score)."""

    tokens: list[int]
    logprobs: list[float | None]
    text: str
    merit: tuple[float, float]


@dataclass
class Shared:
    """Per-engine tables every candidate reads."""

    tokenizer: CharTokenizer
    prosody: VocabProsody
    han: np.ndarray  # tokens that may stand in a line
    copies: CopyTable  # lines of the training poems
    line_choices: int = 1  # lines written for each answering line of a 律诗's middle couplets, the best kept
    masks: dict[tuple, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.is_han: list[bool] = self.han.tolist()  # a list: indexing it by one id costs far less than a numpy array

    def mask(
        self, tone: str | None, heard: bool, known_tone: bool, rhyme: str | None, groups: frozenset[str] | None
    ) -> np.ndarray:
        """The (read-only, cached) 1/0 float mask of Han tokens with this tone (heard: as a reader
        takes it), a known tone, and/or rhyming in the rhyme tone's groups; float, as the sampler's
        head takes it, so filling a row is a plain copy."""
        key = (tone, heard, known_tone, rhyme, groups)
        if key not in self.masks:
            mask = self.han.copy()
            if tone:
                mask &= self.prosody.tone_mask(tone, heard)
            if known_tone:
                mask &= self.prosody.known_tone
            if rhyme:
                mask &= self.prosody.rhyme_mask(groups, rhyme)
            mask = mask.astype(np.float32)
            mask.flags.writeable = False
            self.masks[key] = mask
        return self.masks[key]


class Candidate:
    """Tokens = prefix + poem so far; `fed` of them are in the KV cache (row `row`). The poem's
    tokens change only through _append and _retry_line, which keep its text and counts in step."""

    def __init__(self, shared: Shared, request: PoemRequest, plan: Plan, seed: int, index: int):
        self.shared, self.request, self.plan, self.index = shared, request, plan, index
        self.form = plan.form
        self.lengths = plan.form.line_lengths
        self.meter = request.meter and plan.form.regulated  # the rules of 近体诗 hold for this form
        self.rng = np.random.default_rng([seed, index])
        self.params = SamplingParams(request.temperature, request.top_k, request.top_p, request.repetition_penalty)
        self.rhymes = self.form.rhyme_lines(plan.first_line_rhymes)
        self.rhyme_tone = plan.rhyme_tone  # a regular poem's; a 词's rhymes have the tune's tones
        self.tune_tones = request.meter and bool(self.form.tones)  # a 词's tones at the tune's fixed places
        self.first_key = self.rng.choice([PING, ZE]) if request.strict_meter else None
        self.tokens = shared.tokenizer.prefix(self.form.name, plan.keywords)
        self.poem_start = len(self.tokens)
        self.logprobs: list[float | None] = [None] * self.poem_start
        # Kept up to date as tokens come and go, instead of recounted every step of every row.
        self.han_counts: Counter[int] = Counter()  # the poem's Han tokens
        self._text = ""  # the poem's characters, the user's own where the model saw [UNK]
        # The user's Han characters by cell, as tokens (their repeats are counted before they are written).
        forced = {cell: shared.tokenizer.id_of(char) for cell, char in plan.forced.items()}
        self.forced_tokens = [(cell, token) for cell, token in sorted(forced.items()) if shared.is_han[token]]
        self.forced_cells = [cell for cell, _ in self.forced_tokens]
        self.attempts = [0] * self.form.lines
        self.alternatives: list[Written] = []  # the current answering line's finished versions
        self.fed = 0
        self.row = -1
        self._append_forced()

    # -- where we are ---------------------------------------------------------------
    @property
    def done(self) -> bool:
        return len(self.tokens) - self.poem_start == self.form.tokens

    def text(self) -> str:
        """The poem so far, with the user's own characters where the model saw [UNK]."""
        return self._text

    def lines(self) -> list[str]:
        text = self.text()
        return [
            text[start : start + length]
            for start, length in zip(self.form.line_starts, self.lengths)
            if start < len(text)
        ]

    def _cell(self) -> tuple[int, int]:
        return self.form.cell(len(self.tokens) - self.poem_start)

    def next_input(self) -> tuple[int, int]:
        """The token to feed now and its position."""
        return self.tokens[self.fed], self.fed

    # -- decoding -------------------------------------------------------------------
    def chooses_after_this_feed(self) -> bool:
        """Whether the token after the one fed now is ours to choose (not forced, not the end)."""
        return self.fed + 1 >= len(self.tokens) and not self.done

    def selection(self) -> Selection:
        """What the next cell may hold, for the sampler, with this candidate's next uniform number."""
        allowed, banned, used = self._masks()
        return Selection(self.row, allowed, banned, used, self.params, self.rng.random())

    def _masks(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For the next cell: the tokens its constraints allow (a shared read-only mask), the ids
        banned besides (repeats, earlier line ends) and the ids of the characters already used."""
        line, column = self._cell()
        counts = self.han_counts
        used = np.fromiter(counts, dtype=np.int64, count=len(counts))
        if self.attempts[line] >= MAX_LINE_ATTEMPTS:  # relaxed: any Han character
            return self.shared.mask(None, False, False, None, None), used[:0], used
        allowed, banned = self._allowed(line, column)
        if self.request.no_repeat:
            # No character twice, but for a doubling the masters use (萧萧); the user's characters
            # still to come count too (an acrostic's later heads).
            later = self.forced_tokens[bisect.bisect_right(self.forced_cells, (line, column)) :]
            taken = set(counts) | {token for _, token in later}
            previous = self.tokens[-1] if column > 0 else None
            if previous in counts and counts[previous] == 1 and may_double(self.shared.tokenizer.tokens[previous]):
                taken.discard(previous)
            if taken:
                banned = np.concatenate([banned, list(taken)]).astype(np.int64)
        return allowed, banned, used

    def take(self, choice: Choice | None) -> None:
        """Append the sampled token, or go back to the line's start when the choice is a dead end."""
        line, column = self._cell()
        relaxed = self.attempts[line] >= MAX_LINE_ATTEMPTS
        if choice is None or (choice.allowed_mass < MIN_ALLOWED_MASS and not relaxed):
            return self._retry_line(line)
        self._append(choice.token, choice.logprob)
        if column == self.lengths[line] - 1 and not relaxed:
            if not self._line_acceptable(line):
                return self._retry_line(line)
            if self._answers_a_couplet(line) and self.shared.line_choices > 1:
                return self._weigh(line)
        self._append_forced()

    def _answers_a_couplet(self, line: int) -> bool:
        """Whether the line answers a 律诗's middle couplet (lines 4 and 6), where 对仗 is wanted."""
        return self.form.regulated and self.form.lines == 8 and line in (3, 5)

    def _weigh(self, line: int) -> None:
        """Keep this version of an answering line; write another until there are line_choices, then
        go on with the one that faces the line before best (the model's score breaking ties)."""
        start = self.poem_start + self.form.line_starts[line]
        chosen = [lp for lp in self.logprobs[start:] if lp is not None]
        lines = self.lines()
        merit = (couplet_parallelism(lines[line - 1], lines[line]), sum(chosen) / max(len(chosen), 1))
        self.alternatives.append(
            Written(self.tokens[start:], self.logprobs[start:], self._text[start - self.poem_start :], merit)
        )
        if len(self.alternatives) < self.shared.line_choices:
            self._cut(line)
            return self._refill()
        best = max(self.alternatives, key=lambda written: written.merit)
        if best is not self.alternatives[-1]:  # the last one is in place already
            self._cut(line)
            for token, logprob, char in zip(best.tokens, best.logprobs, best.text):
                self._append(token, logprob, char)
        self.alternatives = []
        self._refill()

    def _append_forced(self) -> None:
        """Append punctuation, a 叠句's repeat of the line before, and the user's characters up to
        the next free cell."""
        ids = self.shared.tokenizer.ids
        while not self.done:
            line, column = self._cell()
            if column == self.lengths[line]:
                self._append(ids[self.form.marks[line]], None)
            elif line in self.form.repeats:
                above = self.poem_start + self.form.line_starts[line - 1] + column
                self._append(self.tokens[above], None, self._text[above - self.poem_start])
            elif (line, column) in self.plan.forced:
                char = self.plan.forced[(line, column)]
                self._append(self.shared.tokenizer.id_of(char), None, char)
            else:
                return

    def _append(self, token: int, logprob: float | None, char: str | None = None) -> None:
        """Append a one-character token; char is its text where given (the user's own character,
        which the vocabulary may only know as [UNK])."""
        self.tokens.append(token)
        self.logprobs.append(logprob)
        self._text += char or self.shared.tokenizer.tokens[token]
        if self.shared.is_han[token]:
            self.han_counts[token] += 1

    def _retry_line(self, line: int) -> None:
        """Drop the current line back to its start (keeping the user's characters) and sample it again."""
        self.attempts[line] += 1
        self._cut(line)
        self._refill()

    def _cut(self, line: int) -> None:
        """Drop the poem's tokens back to the start of a line."""
        start = self.poem_start + self.form.line_starts[line]
        del self.tokens[start:], self.logprobs[start:]
        is_han = self.shared.is_han
        self.han_counts = Counter(t for t in self.tokens[self.poem_start :] if is_han[t])
        self._text = self._text[: start - self.poem_start]

    def _refill(self) -> None:
        """After a cut: the forced tokens up to the next free cell, and feeding from the first token
        the cache no longer holds (at least the last one: its logits choose the next)."""
        self._append_forced()
        self.fed = min(self.fed, len(self.tokens) - 1)

    # -- constraints ----------------------------------------------------------------
    def _allowed(self, line: int, column: int) -> tuple[np.ndarray, np.ndarray]:
        lines = self.lines()
        tone, heard = self._required_tone(lines, line, column)
        # Without a required tone, the character that fixes the line's key must have a known one.
        known_tone = not tone and self.meter and column in meter_columns(self.lengths[line])
        last = column == self.lengths[line] - 1
        rhyme = self._rhyme_tone_of(line) if last and self.request.rhyme and line in self.rhymes else None
        groups = self._rhyme_groups(lines, line) if rhyme else None
        if rhyme:  # heard in the rhyme's tone: 重 and 从 rhyme in 去二宋, but a reader hears them 平
            tone, heard = rhyme, True
        # No character closes two lines (重韵).
        banned = [self.shared.tokenizer.id_of(lines[previous][-1]) for previous in range(line)] if last else []
        return self.shared.mask(tone, heard, known_tone, rhyme, groups), np.array(banned, dtype=np.int64)

    def _required_tone(self, lines: list[str], line: int, column: int) -> tuple[str | None, bool]:
        """The tone this cell must have, and whether as a reader hears it (where a line rule hangs
        on one character) rather than any of its readings (the 粘对 columns)."""
        width = self.lengths[line]
        last = column == width - 1
        if self.tune_tones:  # as a reader hears it: the tune's pattern is what one hears
            wanted = self.form.tones[line][column]
            return (wanted, True) if wanted in (PING, ZE) else (None, False)
        key = self._line_key(lines, line)
        rhymes = line in self.rhymes
        ends = self.rhyme_tone if rhymes else opposite(self.rhyme_tone)  # the tone the line ends in
        if self.request.strict_meter and self.form.regulated and key:
            return template(width, key, ends)[column], last
        if not self.meter:
            return None, False
        if last and not rhymes:
            return ends, True  # 平收 / 仄收: a line that does not rhyme ends in the other tone
        if key and column in meter_columns(width):
            return column_tone(key, column), False
        if key and ends == PING and column == width - 3 and column_tone(key, width - 2) == PING:
            return opposite(PING), True  # 三平尾: 仄仄仄平平 may not become 仄仄平平平
        if (
            key
            and ends == PING
            and column == width - 5
            and column_tone(key, width - 4) == PING
            and column_tone(key, width - 2) == opposite(PING)
        ):
            return PING, True  # 孤平: 平平仄仄平 may not become 仄平仄仄平
        return None, False

    def _line_key(self, lines: list[str], line: int) -> str | None:
        """The key tone line `line` must follow: the one line 1 shows (the user's own line, or one written
        to the strict template's key), else the strict key drawn at the start; then fixed by 粘对."""
        key = (key_of_line(lines[0], self.lengths[0]) if lines else None) or self.first_key
        for index in range(1, line + 1):
            if key:
                key = next_key(key, index)
            elif index < len(lines):
                key = key_of_line(lines[index], self.lengths[index])
        return key

    def _rhyme_tone_of(self, line: int) -> str:
        """The tone a rhyming line rhymes in: its rhyme set's (a tune's), else the poem's."""
        return self.form.rhyme_set_of(line, self.plan.first_line_rhymes).tone or self.rhyme_tone

    def _rhyme_groups(self, lines: list[str], line: int) -> frozenset[str] | None:
        """Groups the rhyme characters of the line's rhyme set so far share; None before the first one."""
        rhyme_set = self.form.rhyme_set_of(line, self.plan.first_line_rhymes)
        tone, groups = self._rhyme_tone_of(line), None
        for index in self.rhymes:
            if index < line and self.form.rhyme_set_of(index, self.plan.first_line_rhymes) is rhyme_set:
                found = rhyme_names(lines[index][-1], tone, self.form.kind == CI)
                if found:
                    groups = found if groups is None else (groups & found or groups)
        return groups

    def _line_acceptable(self, line: int) -> bool:
        """The line rules the masks cannot see whole (a two-tone character in a 粘对 column read
        the other way), a repeated line, a copied one."""
        lines = self.lines()
        if self.request.no_repeat and lines[line] in lines[:line]:
            return False
        if self.meter and line_faults(lines[line], line in self.rhymes, self.rhyme_tone):
            return False
        return not (self.request.no_copy and lines[line] in self.shared.copies)

    def score(self) -> float:
        """Mean model log-probability of the characters the engine chose."""
        chosen = [lp for lp in self.logprobs[self.poem_start :] if lp is not None]
        return sum(chosen) / len(chosen) if chosen else 0.0

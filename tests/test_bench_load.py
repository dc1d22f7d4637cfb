"""The load benchmark's machinery against a real server on a loopback port (for a second or two:
its numbers are for `python -m bench.load`, not for the tests)."""

from __future__ import annotations

import pytest

from bench.engine import keep_in_flight
from bench.load import is_loopback, main, replicas, run, server_max_batch, summary
from tests.grpc_helpers import running_server

pytestmark = pytest.mark.slow  # load runs of seconds against live servers


def test_load_run_counts_poems_and_errors_by_code(tiny_model_dir) -> None:
    with running_server(tiny_model_dir, max_batch=8, max_queue=16) as (address, _):
        result = summary(run(address, concurrency=4, seconds=1.0, form="五绝"), 4, "五绝")
    assert result["poems"] > 0 and result["poems_per_s"] > 0 and not result["errors"]
    assert result["p50_ms"] <= result["p95_ms"] <= result["p99_ms"]
    assert result["first_p50_ms"] <= result["p50_ms"]


def test_unreachable_server_is_reported_as_errors() -> None:
    result = summary(run("127.0.0.1:1", concurrency=2, seconds=0.5, form="五绝"), 2, "五绝")
    assert result["poems"] == 0 and result["errors"].get("UNAVAILABLE", 0) >= 2


def test_in_process_load_finishes_every_poem_it_starts(engine) -> None:
    poems, seconds = keep_in_flight(engine, concurrency=4, seconds=0.5, form="七绝")
    assert poems >= 4 and seconds >= 0.5
    assert not engine.live and not engine.waiting  # nothing left running into the next turn


@pytest.mark.parametrize(
    "address, loopback",
    [
        ("127.0.0.1:50051", True),
        ("localhost:1", True),
        ("[::1]:50051", True),
        ("10.0.0.5:50051", False),
        ("127.0.0.1:51301,127.0.0.1:51302", True),
        ("127.0.0.1:51301,10.0.0.5:50051", False),  # every replica must be local
    ],
)
def test_only_loopback_servers_are_loaded(address: str, loopback: bool) -> None:
    assert is_loopback(address) is loopback


def test_a_remote_server_is_refused(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["--server", "192.0.2.1:50051", "--seconds", "0.1"])
    assert "not a loopback address" in capsys.readouterr().err


def test_replicas_are_started_loaded_through_one_target_and_stopped(tiny_model_dir) -> None:
    with replicas(2, tiny_model_dir) as servers:
        result = summary(run(servers, concurrency=4, seconds=1.0, form="五绝"), 4, "五绝")
        assert len(servers.split(",")) == 2
    assert result["poems"] > 0 and not result["errors"]
    assert run(servers, concurrency=1, seconds=0.1, form="五绝").errors["UNAVAILABLE"]  # stopped


def test_a_negative_number_of_replicas_is_refused(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["--replicas", "-1", "--seconds", "0.1"])
    assert "--replicas must not be negative" in capsys.readouterr().err


def test_the_in_process_engine_takes_the_servers_max_batch(tiny_model_dir) -> None:
    with running_server(tiny_model_dir, max_batch=12, max_queue=16) as (address, _):
        assert server_max_batch(address) == 12
    assert server_max_batch("127.0.0.1:1") is None  # then --max-batch applies


def test_an_unknown_form_is_refused_at_parsing(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["--form", "十四行", "--seconds", "0.1"])
    assert "invalid choice" in capsys.readouterr().err

"""Many poems on Ray: the JSONL in and out of client.batch, written by engines held in Ray actors.

    python -m server.ray_batch IN -o OUT.jsonl [--address ADDR] [--actors 2] [--resume] [--ordered]

IN and OUT are client.batch's (its --help says what a line and a record hold): a bad line becomes an
error record, --resume appends only the ids OUT lacks, --ordered writes in IN's order, and each record
is written once, whole, as its line finishes. Each actor loads the engine once (server.ray_actor) and
keeps up to --in-flight lines in it, so that it decodes them in one batch; a finished line frees its
place for the next. A local Ray starts by default, or the job joins a cluster (--address, or
$RAY_ADDRESS as `ray job submit` sets it). Ray restarts a crashed actor and reruns its unfinished lines
there; an actor gone for good (its restarts used up, its node lost) leaves its lines to the others.
Lines left undone are counted and left for --resume. Exits 0 when every line has its poems, 1 when a
line failed or is left to do, 2 for bad input or actors that cannot start.
"""

from __future__ import annotations

import argparse
import logging
import os
import queue
import sys
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from functools import partial
from pathlib import Path

from tqdm import tqdm

from client.batch_io import RecordWriter, Summary, add_file_arguments, load_requests, positive, report, to_do
from server.settings import ServerSettings

try:
    import ray
    from ray.actor import ActorHandle
    from ray.exceptions import ActorDiedError, RayActorError, RayTaskError
except ImportError as missing:  # Ray is not part of `make run`'s set
    raise ImportError(
        "server.ray_batch 需要 Ray：pip install -r requirements-ray.txt / "
        "server.ray_batch needs Ray: pip install -r requirements-ray.txt"
    ) from missing

from server.ray_actor import PoetActor

PROG = "python -m server.ray_batch"
LOCAL = "local"  # ray.init's word for a Ray of our own, even where another runs on this machine
RESTARTS = 3  # times Ray restarts a crashed actor (which reloads its engine), rerunning its unfinished lines
LOCAL_STARTS = 3
OBJECT_STORE_BYTES = 80 * 2**20  # Ray's least: records come back inline, too small for the object store


class Dispatcher:
    """Keeps up to `in_flight` lines on each live actor, each new line on the least busy one, and gives
    the lines of an actor that died for good to the others."""

    def __init__(self, todo: list[dict], actors: list[ActorHandle], in_flight: int):
        self.todo, self.actors, self.in_flight = todo, actors, in_flight
        self.waiting = deque(range(len(todo)))  # indexes into todo of the lines no actor holds
        self.load = dict.fromkeys(range(len(actors)), 0)  # each live actor (its index): lines it holds
        self.calls = 0  # in flight, on all actors
        # Each call puts itself here as it finishes: taking one is then one step, where ray.wait would read
        # every call in flight each time (thousands, on a cluster of many actors).
        self.finished: queue.SimpleQueue[tuple[int, int, Future]] = queue.SimpleQueue()

    def records(self) -> Iterator[tuple[int, dict | None]]:
        """(index into todo, record) as each line finishes; None for a line left for --resume."""
        while self.waiting or self.calls:
            yield from self._send()
            if not self.calls:
                break  # no actor left
            yield from self._take()
        yield from ((index, None) for index in self.waiting)

    def _send(self) -> Iterator[tuple[int, dict]]:
        """Lines to actors with room; a line with an error already is its own record."""
        while self.waiting and any(held < self.in_flight for held in self.load.values()):
            index = self.waiting.popleft()
            if "error" in self.todo[index]:
                yield index, self.todo[index]
                continue
            actor = min(self.load, key=self.load.__getitem__)
            call = self.actors[actor].write.remote(self.todo[index]).future()
            call.add_done_callback(partial(self._finished, index, actor))
            self.load[actor] += 1
            self.calls += 1

    def _finished(self, index: int, actor: int, call: Future) -> None:
        """Ray's thread, as a call ends: the call for _take."""
        self.finished.put((index, actor, call))

    def _take(self) -> Iterator[tuple[int, dict | None]]:
        """The next call to finish: its record, or its line back in the queue when its actor is gone."""
        index, actor, call = self.finished.get()
        self.calls -= 1
        if actor in self.load:
            self.load[actor] -= 1
        try:
            record = call.result()
        except RayActorError as error:  # died for good, or out of reach: whether it ran is unknown
            if isinstance(error, ActorDiedError):
                self._drop(actor, error)
            self.waiting.appendleft(index)
            return
        except RayTaskError as error:  # the engine failed this line only: like the server's INTERNAL, not done
            tqdm.write(f"{self.todo[index]['id']}: 未完成 / not done: {error.cause!r}", file=sys.stderr)
            record = None
        yield index, record

    def _drop(self, actor: int, error: ActorDiedError) -> None:
        """No more lines for this actor; said once, though each of its calls in flight fails."""
        if self.load.pop(actor, None) is not None:
            tqdm.write(f"actor {actor} 已退出 / actor {actor} is gone: {error.error_msg}", file=sys.stderr)


def start_local(**options: object) -> None:
    """A local Ray, tried LOCAL_STARTS times: Ray gives its raylet a fixed 30 s to register, which a
    machine whose cores are all busy (a training run beside it) can overrun."""
    for attempt in range(1, LOCAL_STARTS + 1):
        try:
            ray.init(LOCAL, **options)
            return
        except Exception as error:  # Ray raises a bare Exception for this timeout
            if "timed out during startup" not in str(error) or attempt == LOCAL_STARTS:
                raise
            ray.shutdown()


def connect(address: str, actors: int, threads: int | None) -> int:
    """Start a local Ray or join a cluster; the OpenVINO threads each actor gets: as asked, else the
    CPUs shared among the actors, at most one node's."""
    quiet = {"log_to_driver": False, "logging_level": logging.WARNING}  # the actors' logs stay in Ray's session
    if address == LOCAL:
        cpus = max(os.cpu_count() or 1, actors * (threads or 1))  # every actor fits, though the cores are fewer
        start_local(num_cpus=cpus, include_dashboard=False, object_store_memory=OBJECT_STORE_BYTES, **quiet)
    else:
        ray.init(address, **quiet)
    if threads:
        return threads
    node_cpus = max(node["Resources"].get("CPU", 0) for node in ray.nodes() if node["Alive"])
    return max(1, int(min(node_cpus, ray.cluster_resources().get("CPU", 0) // actors)))


def start_actors(args: argparse.Namespace, threads: int, settings: ServerSettings) -> tuple[list[ActorHandle], str]:
    """The actors, each with its engine loaded (raises ActorDiedError where one cannot load it), and the model."""
    options = {"num_cpus": threads, "max_restarts": RESTARTS, "max_task_retries": RESTARTS}
    engine = {
        "model_dir": str(args.model.resolve()),  # a worker's working folder is not the driver's
        "threads": threads,
        "max_batch": settings.max_batch,
        "max_queue": args.in_flight,  # room for every line it holds
        "line_choices": settings.line_choices,
    }
    actors = [PoetActor.options(**options).remote(**engine) for _ in range(args.actors)]
    models = ray.get([actor.model.remote() for actor in actors])
    return actors, models[0]


def run(args: argparse.Namespace, requests: list[dict], actors: list[ActorHandle]) -> Summary:
    """Write every request OUT lacks, each record as soon as it is done (or its turn comes)."""
    todo = to_do(requests, args.output, args.resume)
    summary, started = Summary(), time.perf_counter()
    with RecordWriter(args.output, args.resume, args.ordered) as out:
        finished = Dispatcher(todo, actors, args.in_flight).records()
        for index, record in tqdm(finished, total=len(todo), desc="requests", file=sys.stderr):
            summary.count(record)
            out.put(index, record)
    summary.seconds = time.perf_counter() - started
    return summary


def parse_args(argv: list[str] | None, settings: ServerSettings) -> argparse.Namespace:
    """client.batch's flags for IN and OUT, and where and how the actors run."""
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_file_arguments(parser)
    parser.add_argument(
        "--address",
        default=os.environ.get("RAY_ADDRESS", LOCAL),
        help="the Ray cluster to join, as ray.init takes it (default $RAY_ADDRESS, else a local Ray of its own)",
    )
    parser.add_argument("--actors", type=positive(int), default=2, help="actors, each with its own engine")
    parser.add_argument(
        "--threads", type=positive(int), help="OpenVINO threads (and Ray CPUs) per actor (default: the CPUs shared)"
    )
    parser.add_argument(
        "--in-flight", type=positive(int), default=settings.max_batch, help="lines each actor holds at once"
    )
    parser.add_argument(
        "--model",
        type=Path,
        default=settings.model,
        help="model folder, at this path on every node (default $POET_MODEL)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the job; prints a summary on stderr and returns the exit status."""
    settings = ServerSettings.from_env()
    args = parse_args(argv, settings)
    requests = load_requests(PROG, args)  # before OUT is opened: a mistake here must not truncate it
    if requests is None:
        return 2
    threads = connect(args.address, args.actors, args.threads)
    try:
        started = time.perf_counter()
        try:
            actors, model = start_actors(args, threads, settings)
        except ActorDiedError as error:  # its last line names the cause, as a missing model folder
            cause = error.error_msg.strip().splitlines()[-1]
            print(f"{PROG}: error: 无法启动 actor / the actors cannot start: {cause}", file=sys.stderr)
            return 2
        print(
            f"actors: {args.actors} × {threads} OpenVINO threads, model {model}, "
            f"ready in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
        return report(run(args, requests, actors), args.output)
    finally:
        ray.shutdown()


if __name__ == "__main__":
    sys.exit(main())

"""A run's Ray actors: placed within a bounded time, and work that survives losing them.

A cluster shrinks: a process dies, or a whole node goes (a spot machine taken
back), with its actors and the objects in its store. A replacement actor
that no node can take would wait in Ray's queue for ever, and a run waiting
on it would hang without a word. So every new actor gets ``PLACE_SECONDS`` to
start; one that has not started by then stays queued (Ray places it when a
node can take it), the run goes on with the actors it has, and says so in
one line on stderr. The pool grows again when a queued actor starts.

``run`` sends each job to an actor and gathers the results; the job of an
actor that was lost (or that lacks what the job builds on) is sent again,
``fresh``, to an actor that is left. Jobs are pure functions of what the
driver sends, so where a job runs does not change its result.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

from evogan.distributed.cluster import connect, import_ray
from evogan.errors import EvoganError

ATTEMPTS = 3  # rounds of sending a job again on the actors left before the run gives up
# Seconds a new actor may take to be placed and started before the run goes on without
# it. Generous: on a busy 2-core machine actors took 16 s to start (minutes at nice 15).
PLACE_SECONDS = 60.0

Send = Callable[[Any, Any, bool], Any]  # (actor, job, fresh) -> the ref of its result


class ActorPool:
    """A run's actors on Ray, those still queued, and Ray itself when the run started it."""

    fresh_after_loss = False  # whether a job sent again after a loss goes in full

    def __init__(self, address: str | None) -> None:
        self.ray = import_ray()
        self.address = address
        self.started_ray = False
        self.actors: list[Any] = []  # started: they take jobs
        self.queued: list[tuple[Any, Any]] = []  # (actor, ref of its first call): not started
        self.told = 0  # workers the last line (or the start) announced

    def new_actor(self) -> Any:
        """A fresh actor (not yet placed); each pool makes its own kind."""
        raise NotImplementedError

    def needs(self) -> dict[str, float]:
        """What one actor asks of a node."""
        return {"CPU": 1.0}

    def join(self, cpus: int) -> None:
        """Join the cluster, or start a local Ray of ``cpus`` CPUs."""
        self.started_ray = connect(self.ray, self.address, cpus) or self.started_ray

    def spawn(self, count: int) -> None:
        """Ask for ``count`` more actors and wait up to ``PLACE_SECONDS`` for them."""
        for _ in range(count):
            actor = self.new_actor()
            self.queued.append((actor, actor.pid.remote()))
        self.admit(PLACE_SECONDS)
        if not self.actors:
            raise EvoganError(
                f"ray: no actor placed within {PLACE_SECONDS:g} s: each needs "
                f"{self.needs()}, and the cluster has {self.free()} free"
            )

    def admit(self, wait: float) -> None:
        """Queued actors that start within ``wait`` seconds join the pool."""
        if self.queued:
            refs = [ref for _, ref in self.queued]
            started, _ = self.ray.wait(refs, num_returns=len(refs), timeout=wait)
            done = set(started)
            for actor, ref in [entry for entry in self.queued if entry[1] in done]:
                try:
                    self.ray.get(ref)
                    self.actors.append(actor)
                except self.lost():  # died while starting: ask for another
                    self.queued.append((fresh := self.new_actor(), fresh.pid.remote()))
            self.queued = [entry for entry in self.queued if entry[1] not in done]
        self.tell()

    def tell(self) -> None:
        """One line on stderr whenever the number of workers changed since the last."""
        now, queued = len(self.actors), len(self.queued)
        if now == self.told or not now:
            return
        going_on = f"going on with {plural(now, 'worker')}"
        if now > self.told and self.told:
            line = f"{plural(now - self.told, 'actor')} placed; {going_on}"
            line += f" ({queued} still queued)" if queued else ""
        elif now < self.told or queued:
            line = (f"{plural(queued, 'actor')} needing {self.needs()} not placed within "
                    f"{PLACE_SECONDS:g} s (the cluster has {self.free()} free); {going_on}, "
                    "and more when a node can take them")  # fmt: skip
        else:  # the first start, in full: no news
            line = ""
        if line:
            print(f"evogan: ray: {line}", file=sys.stderr, flush=True)
        self.told = now

    def free(self) -> dict[str, float]:
        """What the cluster has free now, of what an actor needs."""
        available = self.ray.available_resources()
        return {name: available.get(name, 0.0) for name in self.needs()}

    def lost(self) -> tuple[type[BaseException], ...]:
        """What Ray raises for an actor, or an object, that is gone."""
        errors = self.ray.exceptions
        return (errors.RayActorError, errors.ObjectLostError, errors.WorkerCrashedError)

    def run(self, jobs: Sequence[Any], send: Send) -> list[Any]:
        """Each job's result, each on its actor (``assign``).

        A job whose actor is lost is sent again after replacements get
        ``PLACE_SECONDS`` to start (``fresh`` if ``fresh_after_loss``); a job whose
        actor answers None (it lacks what the job builds on) is sent again fresh."""
        self.admit(0)  # actors placed since the last call join now
        results: dict[int, Any] = {}
        fresh: set[int] = set()
        todo = list(range(len(jobs)))
        for _ in range(ATTEMPTS + 1):
            sent = list(self.assign(todo).items())
            refs = [send(actor, jobs[i], i in fresh) for i, actor in sent]
            todo, gone = [], []
            for (i, actor), ref in zip(sent, refs, strict=True):
                try:
                    result = self.ray.get(ref)
                except self.lost() as err:  # an object lost with its node leaves the actor
                    gone += [] if isinstance(err, self.ray.exceptions.ObjectLostError) else [actor]
                    todo.append(i)
                    fresh |= {i} if self.fresh_after_loss else set()
                    continue
                if result is None:
                    todo.append(i)
                    fresh.add(i)
                else:
                    results[i] = result
            if not todo:
                return [results[i] for i in range(len(jobs))]
            self.replace(gone)
        raise EvoganError(f"ray: job(s) {todo} failed on the workers left, {ATTEMPTS} times")

    def assign(self, jobs: list[int]) -> dict[int, Any]:
        """The actor of each of ``jobs``: job ``i`` on actor ``i`` (mod the actors there are)."""
        return {i: self.actors[i % len(self.actors)] for i in jobs}

    def replace(self, gone: list[Any]) -> None:
        """Drop lost actors and ask for as many new ones (bounded wait)."""
        dead = list({id(actor): actor for actor in gone}.values())
        for actor in dead:
            self.actors = [a for a in self.actors if a is not actor]
            self.ray.kill(actor)
        if dead:
            self.spawn(len(dead))

    def close(self) -> None:
        """Stop the actors (started or queued), and Ray itself if this pool started it."""
        for actor in [*self.actors, *(actor for actor, _ in self.queued)]:
            self.ray.kill(actor)
        self.actors, self.queued, self.told = [], [], 0
        if self.started_ray:
            self.ray.shutdown()
            self.started_ray = False


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


__all__ = ["ATTEMPTS", "PLACE_SECONDS", "ActorPool", "Send"]

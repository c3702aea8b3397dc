"""Rollback is exact and costs what an envelope touches.

A hook that fails halfway through mutating state (attributes, nested dicts, lists, sets,
deletions that would reorder a dict, containers the undo log cannot see into) leaves the
projection exactly as it was: same values, same types, same insertion order. The undo log of
one envelope does not grow with the size of the session, and no whole-state copy is taken.
"""

from __future__ import annotations

import collections
import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from macp_sdk.projections.decision import DecisionProjection, VoteRecord

from .envelopes import DECISION, Feed, anomaly_kinds, apply_ok, state_of

ORCH, A, B = "agent://orch", "agent://a", "agent://b"


def exact(value: Any) -> Any:
    """A comparable picture of ``value`` that keeps types and insertion order."""
    if isinstance(value, dict):
        return (type(value).__mro__[-2].__name__, [(k, exact(v)) for k, v in value.items()])
    if isinstance(value, list | tuple | collections.deque):
        return (type(value).__name__, [exact(v) for v in value])
    if isinstance(value, set | frozenset):
        return ("set", sorted(map(repr, value)))
    return value


def picture(projection: DecisionProjection, skip: tuple[str, ...] = ()) -> Any:
    return exact({k: v for k, v in state_of(projection).items() if k not in skip})


class FailsHalfway(DecisionProjection):
    """Mutates every kind of state on a Vote, then raises if the vote says so."""

    def __init__(self) -> None:
        super().__init__()
        self.tally: dict[str, dict[str, list[str]]] = {}
        self.voters: set[str] = set()
        self.order: list[str] = []
        self.window: collections.deque[str] = collections.deque(maxlen=3)
        self.counter: collections.Counter[str] = collections.Counter()
        self.last: str | None = None

    def on_vote(self, record: VoteRecord) -> None:
        super().on_vote(record)
        self.tally.setdefault(record.proposal_id, {}).setdefault(record.sender, []).append(
            record.vote
        )
        self.tally.pop("gone", None)  # a deletion: the dict's order must come back exactly
        self.tally["gone"] = {"again": []}
        self.voters.add(record.sender)
        self.voters.discard("agent://nobody")
        self.order.insert(0, record.sender)
        self.order.sort()
        self.window.append(record.vote)  # not a tracked container: copied whole
        self.counter[record.vote] += 1
        self.last = record.vote
        self.extra = {"fresh": [1, 2]}
        setattr(self, "new_" + record.message_id, [record.vote])  # must disappear again
        if self.proposals:
            del self.proposals[next(iter(self.proposals))]
        self._anomaly("halfway", record, "noted before failing")
        if record.vote == "BOOM":
            raise RuntimeError("hook failed halfway")


def test_a_hook_failing_halfway_leaves_the_state_exactly_as_before() -> None:
    proj, feed = FailsHalfway(), Feed(DECISION)
    apply_ok(
        proj,
        feed.start(ORCH, [ORCH, A, B]),
        feed.send(ORCH, "Proposal", proposal_id="p1", option="x"),
        feed.send(ORCH, "Proposal", proposal_id="p2", option="y"),
        feed.send(ORCH, "Proposal", proposal_id="p3", option="z"),
        feed.send(A, "Vote", proposal_id="p2", vote="APPROVE"),
    )
    proj.tally["gone"] = {"kept": ["v"]}
    before, deep_before = picture(proj), copy.deepcopy(state_of(proj))
    anomalies_before = len(proj.anomalies)

    assert not proj.apply_envelope(feed.send(B, "Vote", proposal_id="p3", vote="BOOM"))

    assert picture(proj) == before
    assert state_of(proj) == deep_before
    assert list(proj.proposals) == ["p2", "p3"]  # deleted key restored in its old place
    assert [name for name in vars(proj) if name.startswith("new_")] == ["new_s-1-m5"]
    assert anomaly_kinds(proj)[anomalies_before:] == ["rejected_envelope"]
    assert "hook failed halfway" in proj.anomalies[-1].detail

    # The rolled-back state keeps working: the next envelope applies and is journaled again.
    apply_ok(proj, feed.send(B, "Vote", proposal_id="p3", vote="REJECT"))
    assert proj.tally["p3"] == {B: ["REJECT"]} and "new_s-1-m7" in vars(proj)
    after_good = picture(proj)
    assert not proj.apply_envelope(feed.send(A, "Vote", proposal_id="p3", vote="BOOM"))
    assert picture(proj) == after_good


def test_hooks_see_ordinary_containers() -> None:
    proj, feed = FailsHalfway(), Feed(DECISION)
    apply_ok(proj, feed.start(ORCH, [ORCH, A]), feed.send(A, "Vote", proposal_id="p", vote="Y"))
    assert isinstance(proj.tally, dict) and isinstance(proj.tally["p"][A], list)
    assert isinstance(proj.voters, set) and proj.tally["p"] == {A: ["Y"]}
    assert proj.tally == {"p": {A: ["Y"]}, "gone": {"again": []}}


class Recording(DecisionProjection):
    """Remembers how many undo steps each Vote had logged when its hook finished."""

    def __init__(self) -> None:
        super().__init__()
        self.steps_per_vote: list[int] = []

    def on_vote(self, record: VoteRecord) -> None:
        super().on_vote(record)
        steps = self._journal.steps
        assert steps is not None
        list.append(self.steps_per_vote, len(steps))  # bookkeeping, outside the journal


def steps_of_one_vote(proposals: int) -> int:
    proj, feed = Recording(), Feed(DECISION)
    apply_ok(proj, feed.start(ORCH, [ORCH, A, B]))
    for index in range(proposals):
        apply_ok(proj, feed.send(ORCH, "Proposal", proposal_id=f"p{index}", option="o"))
        apply_ok(proj, feed.send(A, "Vote", proposal_id=f"p{index}", vote="APPROVE"))
    apply_ok(proj, feed.send(B, "Vote", proposal_id="p0", vote="REJECT"))
    return proj.steps_per_vote[-1]


def test_undo_log_of_one_vote_does_not_grow_with_the_session(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_whole_copies(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("applying an envelope must not deep-copy state")

    monkeypatch.setattr(copy, "deepcopy", no_whole_copies)
    small, large = steps_of_one_vote(10), steps_of_one_vote(1_000)
    assert small == large <= 8  # the same few steps at 10 and at 1,000 proposals


# -- random mutation programs: whatever a hook did before failing is undone exactly -------

KEYS = st.sampled_from(["a", "b", "c", "d"])
OPS = st.one_of(
    st.tuples(st.just("dset"), KEYS, st.integers(0, 9)),
    st.tuples(st.just("ddel"), KEYS),
    st.tuples(st.just("dpop"), KEYS),
    st.tuples(st.just("dnest"), KEYS, KEYS, st.integers(0, 9)),
    st.tuples(st.just("dupdate"), st.dictionaries(KEYS, st.integers(0, 9), max_size=3)),
    st.tuples(st.just("dclear")),
    st.tuples(st.just("lappend"), st.integers(0, 9)),
    st.tuples(st.just("lextend"), st.lists(st.integers(0, 9), max_size=3)),
    st.tuples(st.just("lpop"), st.integers(-3, 3)),
    st.tuples(st.just("linsert"), st.integers(-3, 3), st.integers(0, 9)),
    st.tuples(st.just("lset"), st.integers(-3, 3), st.integers(0, 9)),
    st.tuples(st.just("lsort")),
    st.tuples(st.just("lappendlist"), st.integers(0, 9)),
    st.tuples(st.just("lnested"), st.integers(0, 9)),
    st.tuples(st.just("sadd"), KEYS),
    st.tuples(st.just("sdiscard"), KEYS),
    st.tuples(st.just("supdate"), st.sets(KEYS, max_size=3)),
    st.tuples(st.just("sior"), st.sets(KEYS, max_size=3)),
    st.tuples(st.just("sisub"), st.sets(KEYS, max_size=3)),
    st.tuples(st.just("attr"), st.integers(0, 9)),
    st.tuples(st.just("attrdict")),
    st.tuples(st.just("attrdel")),
)


def run(proj: Any, op: tuple[Any, ...]) -> None:
    name, *args = op
    d, lst, s = proj.d, proj.lst, proj.s
    try:
        if name == "dset":
            d[args[0]] = args[1]
        elif name == "ddel":
            del d[args[0]]
        elif name == "dpop":
            d.pop(args[0], None)
        elif name == "dnest":
            inner = d.setdefault(args[0], {})
            if isinstance(inner, dict):
                inner[args[1]] = args[2]
        elif name == "dupdate":
            d.update(args[0])
        elif name == "dclear":
            d.clear()
        elif name == "lappend":
            lst.append(args[0])
        elif name == "lextend":
            lst.extend(args[0])
        elif name == "lpop":
            lst.pop(args[0])
        elif name == "linsert":
            lst.insert(args[0], args[1])
        elif name == "lset":
            lst[args[0]] = args[1]
        elif name == "lsort":
            lst.sort(key=repr)
        elif name == "lappendlist":
            lst.append([args[0]])
        elif name == "lnested":
            for item in lst:
                if isinstance(item, list):
                    item.append(args[0])
                    break
        elif name == "sadd":
            s.add(args[0])
        elif name == "sdiscard":
            s.discard(args[0])
        elif name == "supdate":
            s.update(args[0])
        elif name == "sior":
            proj.s |= args[0]
        elif name == "sisub":
            proj.s -= args[0]
        elif name == "attr":
            proj.n = args[0]
        elif name == "attrdict":
            proj.d = {"new": {"x": [1]}}
        elif name == "attrdel" and "n" in vars(proj):
            del proj.n
    except (KeyError, IndexError):
        pass  # an op that does not apply to the current state is a no-op


class Scripted(DecisionProjection):
    """Runs a scripted list of mutations on each Vote, then fails if told to."""

    def __init__(self) -> None:
        super().__init__()
        self.d: dict[str, Any] = {"a": 1, "b": {"x": 2}}
        self.lst: list[Any] = [3, [4]]
        self.s: set[str] = {"a"}
        self.n = 0
        self.script: list[tuple[Any, ...]] = []
        self.fail = False

    def on_vote(self, record: VoteRecord) -> None:
        super().on_vote(record)
        for op in self.script:
            run(self, op)
        if self.fail:
            raise RuntimeError("scripted failure")


@settings(max_examples=150, deadline=None)
@given(setup=st.lists(OPS, max_size=15), failing=st.lists(OPS, min_size=1, max_size=15))
def test_random_mutations_then_failure_roll_back_exactly(
    setup: list[tuple[Any, ...]], failing: list[tuple[Any, ...]]
) -> None:
    proj, feed = Scripted(), Feed(DECISION)
    object.__setattr__(proj, "script", setup)  # the script itself is not state under test
    apply_ok(proj, feed.start(ORCH, [ORCH, A]), feed.send(A, "Vote", proposal_id="p", vote="Y"))
    before = picture(proj, skip=("script", "fail"))
    object.__setattr__(proj, "script", failing)
    object.__setattr__(proj, "fail", True)
    assert not proj.apply_envelope(feed.send(A, "Vote", proposal_id="p", vote="N"))
    assert picture(proj, skip=("script", "fail")) == before

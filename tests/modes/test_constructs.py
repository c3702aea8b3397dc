"""Every proto3 construct a payload can use, end to end (the golden `constructs` case).

The case's protos (tests/golden/constructs/proto: acme.market.v1 importing acme.common.v1) are
added to a copy of the project's protos and generated once per module. Then:
- a session on the embedded runtime sends every construct, and both the session's own
  projection and a fresh one fed from the runtime's stream hold records equal to what was sent
  (the asyncio session's records too);
- mypy --strict accepts the generated modules and correct calls, and rejects two oneof
  members, a wrong enum name and a wrong message type, line by line;
- the builders refuse the same mistakes at run time.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from codegen_helpers import run_cli
from mypy import api as mypy_api

HERE = Path(__file__).resolve().parent
CASE = HERE.parent / "golden" / "constructs" / "proto"


@pytest.fixture(scope="module")
def market_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = HERE.parents[1]
    project = tmp_path_factory.mktemp("constructs")
    shutil.copytree(repo / "proto", project / "proto")
    shutil.copytree(CASE / "acme", project / "proto" / "acme")
    shutil.copy(repo / "pyproject.toml", project / "pyproject.toml")
    result = run_cli("generate", "--project-root", str(project))
    assert result.status == 0, result.err
    return project / "generated"


def test_every_construct_round_trips_through_the_runtime(market_tree: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(HERE / "constructs_drive.py"), str(market_tree)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr
    facts = json.loads(run.stdout.strip().splitlines()[-1])
    assert facts["registered"] is True
    for side in ("local", "stream"):
        seen = facts[side]
        assert seen["offer"] == dict.fromkeys(seen["offer"], True), (side, seen["offer"])
        assert len(seen["offer"]) == 16  # every field of OfferPayload
        assert seen["bid"] == dict.fromkeys(
            (
                *("amount", "currency", "max_increments", "sequence", "weight", "automatic"),
                *("tier", "wire", "card_id", "funding"),
            ),
            True,
        ), side
        assert seen["closes"] == [
            {"sold_to": True, "outcome": True},
            {"no_sale_reason": True, "outcome": True},
            {"relisted_at": True, "outcome": True},
            {"refunded_in": True, "outcome": True},
        ], side
        assert seen["unset"] == dict.fromkeys(seen["unset"], True), (side, seen["unset"])
        assert seen["extension_unpacks"] is True
        assert seen["anomalies"] == 0
    assert facts["records_equal"] == [True, True, True]
    assert facts["async"] == {"offer": True, "bid": True, "closes": [True] * 4}
    assert facts["refused"] == {
        "two_oneof_members": "outcome",
        "no_oneof_member": "outcome",
        "wrong_enum_name": "currency",
        "naive_datetime": "relisted_at",
        "empty_required_member": "sold_to",
        "value_not_allowed": "tier",
    }


CORRECT_USE = """
from datetime import UTC, datetime, timedelta

from acme.common.v1 import money_pb2
from acme.market.v1 import market_pb2
from macp_sdk import MacpClient
from macp_sdk.modes.market import CurrencyName, MarketSession, build_bid, build_close_payload
from macp_sdk.projections.market import MarketProjection


def use(client: MacpClient, projection: MarketProjection) -> None:
    session = MarketSession(client)
    session.offer(
        "lot-1",
        lot=market_pb2.OfferPayload.Lot(title="Clock"),
        reserve_prices=[money_pb2.Money(units=1)],
        labels={"room": "east"},
        floor_by_region={"eu": money_pb2.Money(units=2)},
        opens_at=datetime.now(UTC),
        duration=timedelta(hours=1),
        attributes={"weight": 3.5, "tags": ["a"]},
        extension=money_pb2.Money(),
        currencies=["CURRENCY_EUR", market_pb2.CURRENCY_USD],
        currency_by_region={"eu": "CURRENCY_EUR"},
        condition=market_pb2.OfferPayload.CONDITION_NEW,
        grade="GRADE_MINT",
        note=None,
        subtitle="x",
    )
    session.bid("lot-1", amount=money_pb2.Money(units=3), currency="CURRENCY_USD", card_id="c")
    session.bid("lot-1", amount=money_pb2.Money(), wire={"iban": "x"}, tier="GOLD")
    session.close("lot-1", refunded_in=market_pb2.CURRENCY_EUR)
    session.close("lot-1", sold_to="bob")
    session.close("lot-1", relisted_at=datetime.now(UTC))
    build_close_payload(no_sale_reason="none")
    build_bid(session_id="s", sender="a", amount=money_pb2.Money(), max_increments=None, card_id="")
    record = projection.close_records["lot-1"][0]
    if record.outcome == "sold_to":
        winner: str | None = record.sold_to
    offer = projection.offer_records["lot-1"][0]
    names: tuple[CurrencyName | int, ...] = offer.currencies
    when: datetime | None = offer.opens_at
    attrs: dict[str, object] | None = offer.attributes
"""

MISUSE = """
from acme.common.v1 import money_pb2
from acme.market.v1 import market_pb2
from macp_sdk import MacpClient
from macp_sdk.modes.market import MarketSession, build_close_payload


def misuse(client: MacpClient) -> None:
    session = MarketSession(client)
    session.close("lot-1", sold_to="bob", no_sale_reason="x")  # E: call-overload
    build_close_payload(sold_to="a", relisted_at=None)  # E: call-overload
    session.offer("lot-1", currencies=["CURRENCY_YEN"])  # E: list-item
    session.offer("lot-1", condition=5)  # E: arg-type
    session.offer("lot-1", grade="CURRENCY_EUR")  # E: arg-type
    session.offer("lot-1", lot=money_pb2.Money())  # E: arg-type
    session.offer("lot-1", reserve_prices=[market_pb2.OfferPayload.Lot()])  # E: list-item
    session.offer("lot-1", opens_at=1_700_000_000)  # E: arg-type
    session.bid("lot-1", amount=money_pb2.Money(), card_id="c", wire={})  # E: call-overload
    session.bid("lot-1", amount=money_pb2.Money())  # E: call-overload
    session.close("lot-1", refunded_in="CURRENCY_YEN")  # E: call-overload
"""


def _mypy(tree: Path, source: str, name: str) -> str:
    core = HERE.parents[1] / "core"
    config = tree.parent / "mypy-constructs.ini"
    config.write_text(
        f"[mypy]\nstrict = true\npython_version = 3.11\nexplicit_package_bases = true\n"
        f"mypy_path = {core}:{tree}\ncache_dir = {tree.parent / '.mypy_cache'}\n"
    )
    snippet = tree.parent / name
    snippet.write_text(source)
    stdout, stderr, _ = mypy_api.run(
        [
            "--config-file",
            str(config),
            "--show-error-codes",
            str(snippet),
            str(tree / "macp_sdk" / "modes" / "market.py"),
            str(tree / "macp_sdk" / "projections" / "_market_base.py"),
            str(tree / "macp_sdk" / "projections" / "market.py"),
        ]
    )
    return stdout + stderr


def test_generated_modules_and_correct_calls_type_check(market_tree: Path) -> None:
    report = _mypy(market_tree, CORRECT_USE, "correct_use.py")
    assert "Success: no issues found" in report, report


def test_misuse_is_rejected_line_by_line(market_tree: Path) -> None:
    report = _mypy(market_tree, MISUSE, "misuse.py")
    errors: dict[int, set[str]] = {}
    for match in re.finditer(r"misuse\.py:(\d+): error: .*\[([a-z-]+)\]", report):
        errors.setdefault(int(match[1]), set()).add(match[2])
    expected = {
        number: code
        for number, line in enumerate(MISUSE.splitlines(), start=1)
        for code in re.findall(r"# E: ([a-z-]+)", line)
    }
    assert len(expected) == 11
    for number, code in expected.items():
        assert code in errors.get(number, set()), f"line {number}: expected [{code}]\n{report}"
    unexpected = set(errors) - set(expected)
    assert not unexpected, f"errors on lines that should be fine: {unexpected}\n{report}"
    assert not re.search(r"(market|_market_base)\.py:\d+: error", report), report

"""Run by tests/modes/test_constructs.py in a fresh interpreter: argv[1] is a generated tree
holding the golden `constructs` case (acme.market.v1). Drives one session on the embedded
runtime with every construct, replays the session from the runtime's stream into a fresh
projection and prints, as JSON, which records equal what was sent.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta, timezone

sys.path.insert(0, sys.argv[1])

import macp_sdk  # noqa: E402

assert macp_sdk.__file__ is not None and macp_sdk.__file__.startswith(sys.argv[1])

from acme.common.v1 import money_pb2  # noqa: E402
from acme.market.v1 import market_pb2  # noqa: E402
from google.protobuf import any_pb2  # noqa: E402
from macp_sdk import AsyncMacpClient, AuthConfig, MacpClient  # noqa: E402
from macp_sdk.errors import MacpValidationError  # noqa: E402
from macp_sdk.local_runtime import LocalRuntime  # noqa: E402
from macp_sdk.modes.market import (  # noqa: E402
    AsyncMarketSession,
    MarketSession,
    build_bid_payload,
    build_close_payload,
)
from macp_sdk.projections.market import MarketProjection  # noqa: E402

OFFER = {
    "lot": market_pb2.OfferPayload.Lot(title="Clock", quantity=2),
    "reserve_prices": [money_pb2.Money(currency_code="EUR", units=500)],
    "labels": {"room": "east", "era": "1900s"},
    "floor_by_region": {"eu": money_pb2.Money(currency_code="EUR", units=450)},
    "opens_at": datetime(2026, 5, 1, 9, 30, 15, 250_000, tzinfo=UTC),
    "duration": timedelta(hours=2, microseconds=7),
    "attributes": {"weight_kg": 3.5, "tags": ["brass", "antique"], "signed": True, "box": None},
    "extension": money_pb2.Money(currency_code="USD", units=1),
    "photo": b"\x89PNG\x00\xff",
    "note": "",  # optional: an empty string is still "set"
    "currencies": ["CURRENCY_EUR", market_pb2.CURRENCY_USD],
    "subtitle": "a fine clock",
    "currency_by_region": {"eu": "CURRENCY_EUR", "us": "CURRENCY_USD"},
    "viewings": [datetime(2026, 4, 30, 18, 0, tzinfo=timezone(timedelta(hours=2)))],
    "condition": "CONDITION_USED",
    "grade": "GRADE_MINT",
}
PACKED = any_pb2.Any()
PACKED.Pack(OFFER["extension"])
# What each record attribute must read back as (Python values, enum names, Any packed).
EXPECTED_OFFER = {
    **OFFER,
    "extension": PACKED,
    "reserve_prices": tuple(OFFER["reserve_prices"]),
    "currencies": ("CURRENCY_EUR", "CURRENCY_USD"),
    "viewings": tuple(OFFER["viewings"]),
}
BID = {
    "amount": money_pb2.Money(currency_code="EUR", units=520),
    "currency": "CURRENCY_EUR",
    "max_increments": 0,  # optional: zero is still "set"
    "sequence": -(2**62),
    "weight": 0.25,
    "automatic": True,
    "tier": "GOLD",
    "wire": {"iban": "DE00", "amount": 520},
}
EXPECTED_BID = {**BID, "tier": "gold", "card_id": None, "funding": "wire"}
CLOSES = [
    {"sold_to": "bob"},
    {"no_sale_reason": ""},  # a oneof member set to its default is still the chosen one
    {"relisted_at": datetime(2026, 6, 1, tzinfo=UTC)},
    {"refunded_in": "CURRENCY_USD"},
]


def compare(record: object, expected: dict[str, object]) -> dict[str, bool]:
    return {name: getattr(record, name) == value for name, value in expected.items()}


def runtime_checks() -> dict[str, str]:
    """What the builders refuse at run time (mypy refuses the same calls statically)."""
    refused: dict[str, str] = {}
    attempts = {
        "two_oneof_members": lambda: build_close_payload(sold_to="a", no_sale_reason="b"),  # type: ignore[call-overload]
        "no_oneof_member": lambda: build_close_payload(),  # type: ignore[call-overload]
        "wrong_enum_name": lambda: build_bid_payload(
            amount=money_pb2.Money(), card_id="c", currency="EURO"
        ),  # type: ignore[arg-type]
        "naive_datetime": lambda: build_close_payload(relisted_at=datetime(2026, 1, 1)),
        "empty_required_member": lambda: build_close_payload(sold_to=""),
        "value_not_allowed": lambda: build_bid_payload(
            amount=money_pb2.Money(),
            card_id="c",
            tier="bronze",  # type: ignore[arg-type]
        ),
    }
    for name, attempt in attempts.items():
        try:
            attempt()
        except MacpValidationError as exc:
            refused[name] = exc.field
        else:
            refused[name] = "accepted"
    return refused


async def async_leg(target: str, auth: AuthConfig, bob: AuthConfig) -> dict[str, object]:
    """The asyncio session sends the same payloads; its records must equal them too."""
    async with AsyncMacpClient(target=target, secure=False, auth=auth) as client:
        session = AsyncMarketSession(client, auth=auth)
        await session.start(intent="sell lot 9", participants=["auctioneer", "bob"], ttl_ms=60_000)
        await session.offer("lot-9", **OFFER)  # type: ignore[arg-type]
        await session.bid("lot-9", sender="bob", auth=bob, **BID)  # type: ignore[arg-type]
        for close in CLOSES:
            await session.close("lot-9", **close)  # type: ignore[call-overload]
        projection = session.market_projection
        closes = projection.close_records["lot-9"]
        return {
            "offer": all(compare(projection.offer_records["lot-9"][0], EXPECTED_OFFER).values()),
            "bid": all(compare(projection.bid_records["lot-9"][0], EXPECTED_BID).values()),
            "closes": [
                all(compare(record, close).values()) and record.outcome == next(iter(close))
                for record, close in zip(closes, CLOSES, strict=True)
            ],
        }


def main() -> None:
    auth = AuthConfig.for_dev_agent("auctioneer")
    bob = AuthConfig.for_dev_agent("bob")
    with LocalRuntime() as runtime:
        with MacpClient(target=runtime.target, secure=False, auth=auth) as client:
            registered = MarketSession.register_mode(client)
            session = MarketSession(client, auth=auth)
            session.start(intent="sell lot 7", participants=["auctioneer", "bob"], ttl_ms=60_000)
            session.offer("lot-7", **OFFER)  # type: ignore[arg-type]
            session.bid("lot-7", sender="bob", auth=bob, **BID)  # type: ignore[arg-type]
            session.offer("lot-8")  # every field left at its default / unset
            for close in CLOSES:
                session.close("lot-7", **close)  # type: ignore[call-overload]
            local = session.market_projection
            replayed = MarketProjection(session.session_id)
            stream = session.open_stream(subscribe=True, after_sequence=0)
            try:
                while len(replayed.transcript) < len(local.transcript):
                    envelope = stream.read(timeout=30)
                    if envelope is None:
                        break
                    replayed.apply_envelope(envelope)
            finally:
                stream.close()
        asynchronous = asyncio.run(async_leg(runtime.target, auth, bob))
    facts: dict[str, object] = {"registered": registered.ok}
    for name, projection in (("local", local), ("stream", replayed)):
        offer, bare = projection.offer_records["lot-7"][0], projection.offer_records["lot-8"][0]
        bid = projection.bid_records["lot-7"][0]
        closes = projection.close_records["lot-7"]
        facts[name] = {
            "offer": compare(offer, EXPECTED_OFFER),
            "bid": compare(bid, EXPECTED_BID),
            "closes": [
                {**compare(record, close), "outcome": record.outcome == next(iter(close))}
                for record, close in zip(closes, CLOSES, strict=True)
            ],
            "unset": compare(
                bare,
                {
                    "lot": None,
                    "opens_at": None,
                    "attributes": None,
                    "extension": None,
                    "note": None,
                    "subtitle": None,
                    "labels": {},
                    "currencies": (),
                    "condition": "CONDITION_UNSPECIFIED",
                },
            ),
            "extension_unpacks": offer.extension is not None
            and offer.extension.Unpack(money_pb2.Money())
            and isinstance(offer.extension, any_pb2.Any),
            "anomalies": len(projection.anomalies),
        }
    facts["records_equal"] = [
        local.offer_records == replayed.offer_records,
        local.bid_records == replayed.bid_records,
        local.close_records == replayed.close_records,
    ]
    facts["async"] = asynchronous
    facts["refused"] = runtime_checks()
    print(json.dumps(facts))


main()

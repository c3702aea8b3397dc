"""The `macp-local-runtime` command's configuration: CLI flags over the reference's env vars.

Variable names follow the reference runtime (runtime-behavior.md §1.1); a flag given on the
command line wins over its variable. `MACP_TLS_CLIENT_CA_PATH`, `MACP_MAX_STREAMS` and
`MACP_STREAM_IDLE_TIMEOUT_SECS` are this runtime's own (the reference has no mTLS option and
relies on tonic's limits). Every bad value is a `SettingsError` naming the flag or variable.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path

from .auth import StaticToken, parse_static_tokens
from .guard import DEFAULT_MAX_STREAMS
from .limits import RateLimits
from .server import DEFAULT_MAX_PAYLOAD_BYTES, RuntimeConfig

DEFAULT_LISTEN = "127.0.0.1:50051"


class SettingsError(ValueError):
    """A flag or environment variable the runtime cannot start with."""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="macp-local-runtime",
        description=(
            "Run the embedded MACP runtime. Like the reference runtime it refuses to serve "
            "plaintext or dev-mode auth unless --allow-insecure (or MACP_ALLOW_INSECURE=1)."
        ),
    )
    add = p.add_argument
    add("--listen", metavar="HOST:PORT", help=f"MACP_BIND_ADDR (default {DEFAULT_LISTEN})")
    add(
        "--allow-insecure",
        action="store_true",
        default=None,
        help="MACP_ALLOW_INSECURE=1: allow plaintext and dev-mode auth (warns)",
    )
    add("--tls-cert", metavar="PEM", help="MACP_TLS_CERT_PATH: server certificate chain")
    add("--tls-key", metavar="PEM", help="MACP_TLS_KEY_PATH: server private key")
    add("--tls-client-ca", metavar="PEM", help="MACP_TLS_CLIENT_CA_PATH: require client certs")
    add("--auth-tokens-json", metavar="JSON", help="MACP_AUTH_TOKENS_JSON: static tokens")
    add("--auth-tokens-file", metavar="PATH", help="MACP_AUTH_TOKENS_FILE: static tokens")
    add("--max-payload-bytes", metavar="N", help="MACP_MAX_PAYLOAD_BYTES (default 1048576)")
    add(
        "--rate-limits",
        action="store_true",
        default=None,
        help="enforce per-sender limits (60 SessionStarts, 600 messages a minute, or "
        "MACP_SESSION_START_LIMIT_PER_MINUTE / MACP_MESSAGE_LIMIT_PER_MINUTE)",
    )
    add("--max-streams", metavar="N", help=f"MACP_MAX_STREAMS (default {DEFAULT_MAX_STREAMS})")
    add(
        "--stream-idle-timeout",
        metavar="SECONDS",
        help="MACP_STREAM_IDLE_TIMEOUT_SECS: end idle StreamSessions (default: never)",
    )
    add("--session-retention-secs", metavar="N", help="MACP_SESSION_RETENTION_SECS (3600)")
    add("--cleanup-interval-secs", metavar="N", help="MACP_CLEANUP_INTERVAL_SECS (60)")
    return p


class _Source:
    """Look-ups of one setting: the flag if given, else the variable, else nothing."""

    def __init__(self, args: argparse.Namespace, env: Mapping[str, str]) -> None:
        self._args = args
        self._env = env

    def get(self, flag: str | None, variable: str) -> tuple[str, str] | None:
        value = None if flag is None else getattr(self._args, flag)
        if flag is not None and value is not None:
            return f"--{flag.replace('_', '-')}", str(value)
        if self._env.get(variable, "") != "":
            return variable, self._env[variable]
        return None

    def positive_int(self, flag: str | None, variable: str, default: int) -> int:
        found = self.get(flag, variable)
        if found is None:
            return default
        name, text = found
        try:
            value = int(text)
        except ValueError:
            raise SettingsError(f"{name}: expected a positive integer, got {text!r}") from None
        if value <= 0:
            raise SettingsError(f"{name}: expected a positive integer, got {text!r}")
        return value

    def path_bytes(self, flag: str, variable: str) -> bytes | None:
        found = self.get(flag, variable)
        if found is None:
            return None
        name, text = found
        try:
            return Path(text).read_bytes()
        except OSError as error:
            raise SettingsError(f"{name}: cannot read {text!r} ({error.strerror})") from None


def _listen(source: _Source) -> str:
    found = source.get("listen", "MACP_BIND_ADDR")
    name, value = found if found is not None else ("--listen", DEFAULT_LISTEN)
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise SettingsError(f"{name}: expected HOST:PORT, got {value!r}")
    return value


def _tokens(source: _Source) -> list[StaticToken] | None:
    # As in the reference, the JSON variable wins over the file.
    found = source.get("auth_tokens_json", "MACP_AUTH_TOKENS_JSON")
    if found is not None:
        name, text = found
        origin = name
    else:
        found = source.get("auth_tokens_file", "MACP_AUTH_TOKENS_FILE")
        if found is None:
            return None
        name, path = found
        try:
            text = Path(path).read_text()
        except OSError as error:
            raise SettingsError(f"{name}: cannot read {path!r} ({error.strerror})") from None
        origin = path
    try:
        tokens = parse_static_tokens(text, origin)
    except ValueError as error:
        raise SettingsError(str(error)) from None
    if not tokens:
        raise SettingsError(f"{origin}: no tokens configured")
    return tokens


_START_LIMIT = "MACP_SESSION_START_LIMIT_PER_MINUTE"
_MESSAGE_LIMIT = "MACP_MESSAGE_LIMIT_PER_MINUTE"


def _rate_limits(source: _Source, enabled: bool) -> RateLimits | None:
    """Off unless --rate-limits or a limit variable is set (the values come from the env)."""
    defaults = RateLimits()
    starts = source.positive_int(None, _START_LIMIT, defaults.session_starts_per_minute)
    messages = source.positive_int(None, _MESSAGE_LIMIT, defaults.messages_per_minute)
    configured = source.get(None, _START_LIMIT) or source.get(None, _MESSAGE_LIMIT)
    if not (enabled or configured):
        return None
    return RateLimits(session_starts_per_minute=starts, messages_per_minute=messages)


def config_from(argv: Sequence[str] | None, env: Mapping[str, str]) -> RuntimeConfig:
    """The RuntimeConfig for this command line and environment (raises SettingsError)."""
    args = parser().parse_args(argv)
    source = _Source(args, env)
    if (
        env.get("MACP_AUTH_ISSUER")
        or env.get("MACP_AUTH_JWKS_JSON")
        or env.get("MACP_AUTH_JWKS_URL")
    ):
        raise SettingsError(
            "MACP_AUTH_ISSUER / MACP_AUTH_JWKS_*: JWT auth is not supported by the local "
            "runtime; use static tokens (MACP_AUTH_TOKENS_JSON or MACP_AUTH_TOKENS_FILE)"
        )
    allow_insecure = bool(args.allow_insecure) or env.get("MACP_ALLOW_INSECURE") == "1"
    idle = source.get("stream_idle_timeout", "MACP_STREAM_IDLE_TIMEOUT_SECS")
    idle_s: float | None = None
    if idle is not None:
        try:
            idle_s = float(idle[1])
        except ValueError:
            idle_s = -1.0
        if not idle_s > 0:
            raise SettingsError(f"{idle[0]}: expected a positive number of seconds")
    retention = source.positive_int("session_retention_secs", "MACP_SESSION_RETENTION_SECS", 3600)
    return RuntimeConfig(
        listen=_listen(source),
        auth_tokens=_tokens(source),
        allow_insecure=allow_insecure,
        tls_cert_chain=source.path_bytes("tls_cert", "MACP_TLS_CERT_PATH"),
        tls_private_key=source.path_bytes("tls_key", "MACP_TLS_KEY_PATH"),
        tls_client_ca=source.path_bytes("tls_client_ca", "MACP_TLS_CLIENT_CA_PATH"),
        rate_limits=_rate_limits(source, bool(args.rate_limits)),
        max_payload_bytes=source.positive_int(
            "max_payload_bytes", "MACP_MAX_PAYLOAD_BYTES", DEFAULT_MAX_PAYLOAD_BYTES
        ),
        max_streams=source.positive_int("max_streams", "MACP_MAX_STREAMS", DEFAULT_MAX_STREAMS),
        stream_idle_timeout_s=idle_s,
        session_retention_ms=retention * 1000,
        sweep_interval_s=float(
            source.positive_int("cleanup_interval_secs", "MACP_CLEANUP_INTERVAL_SECS", 60)
        ),
    )

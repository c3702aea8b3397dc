"""`register_mode` raises when the runtime refuses the mode, instead of returning ok=False."""

from __future__ import annotations

import pytest
from macp_sdk import AuthConfig, DecisionSession, MacpClient, MacpSdkError, MultiRoundSession
from macp_sdk.local_runtime import LocalRuntime


def test_a_refused_registration_raises_with_the_runtimes_reason() -> None:
    auth = AuthConfig.for_dev_agent("registrar")
    with LocalRuntime() as runtime:
        with MacpClient(target=runtime.target, secure=False, auth=auth) as client:
            # macp.mode.* is reserved for standards-track modes: the runtime refuses it.
            with pytest.raises(MacpSdkError, match=r"refused to register mode 'macp\.mode\."):
                DecisionSession.register_mode(client)
            # The embedded runtime ships multi_round as a built-in extension: a second
            # registration is refused, and the error carries the runtime's reason.
            with pytest.raises(MacpSdkError, match="already registered"):
                MultiRoundSession.register_mode(client)


def test_range_errors_print_whole_bounds_as_integers() -> None:
    from macp_core._field_checks import checked
    from macp_sdk import MacpValidationError

    with pytest.raises(MacpValidationError) as caught:
        checked("amount", 100_000_001, minimum=0.0, maximum=100_000_000.0)
    assert "from 0 to 100000000" in str(caught.value)
    assert "e+" not in str(caught.value)

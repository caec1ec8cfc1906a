"""The sharing rules as a state machine: whatever the citizen, the operator and the
agencies do, in any order, data is served only on an approved request whose basis is in
force -- a consent not withdrawn and not expired, or an exemption."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import example, given, settings
from hypothesis import strategies as st

from identity.errors import IdentityError
from identity.registry import sharing
from identity.registry.catalog import CatalogEntry, parse_entry

T0 = datetime(2026, 6, 1, tzinfo=UTC)
CITIZEN = "did:example:citizen"
ENTRY = CatalogEntry(
    "psb.register",
    1,
    "psb",
    "did:example:psb",
    parse_entry(
        {
            "id": "psb.register",
            "title": "Register",
            "fields": [{"name": "fullName"}, {"name": "address"}],
            "legalBasis": "Act",
            "requesters": ["*"],
        }
    ),
    T0,
)

ACTIONS = st.lists(
    st.sampled_from(["grant", "refuse", "exempt", "approve", "access", "withdraw", "wait"]),
    max_size=12,
)


def test_a_new_request_awaits_consent_and_names_what_was_asked() -> None:
    step = sharing.new_request(
        "r1", ENTRY, ("edu", "did:example:edu"), CITIZEN, {"purpose": "School"}, T0
    )
    assert step.request.state == sharing.AWAITING and step.request.events == 1
    assert sharing.body(step.request)["fields"] == ["address", "fullName"]
    assert step.leaf_fields()["resource"] == "psb.register"
    assert step.leaf_fields()["requester"] == "did:example:edu"
    assert step.leaf_fields()["holder"] == "did:example:psb"
    assert CITIZEN not in str(step.leaf_fields())


@settings(max_examples=500, deadline=None)
@given(ACTIONS)
@example(["grant", "approve", "wait", "access"])
@example(["grant", "approve", "withdraw", "access"])
@example(["exempt", "approve", "access", "withdraw", "access"])
def test_data_is_served_only_on_an_approved_request_with_a_basis_in_force(
    actions: list[str],
) -> None:
    now = T0
    request = sharing.new_request(
        "r1", ENTRY, ("edu", "did:example:edu"), CITIZEN, {"purpose": "School"}, now
    ).request
    consent_until: datetime | None = None
    withdrawn = exempted = approved = answered = False
    for action in actions:
        if action == "wait":
            now += timedelta(days=31)  # one wait outlives a 30-day consent
            continue
        try:
            if action in ("grant", "refuse"):
                receipt = sharing.consent_credential(request, action, now + timedelta(days=30), now)
                step = sharing.answer(request, receipt, CITIZEN, now + timedelta(days=30), now)
            elif action == "exempt":
                step = sharing.exempt(request, "Public Health Act art. 4", None, now)
            elif action == "approve":
                step = sharing.approve(request, now)
            elif action == "access":
                step = sharing.access(request, {}, now)
            else:
                step = sharing.withdraw(request, now)
        except IdentityError:
            continue
        consent_in_force = consent_until is not None and consent_until > now and not withdrawn
        if action == "access":
            assert approved and (exempted or consent_in_force)
        if action == "approve":
            assert exempted or consent_in_force
            approved = True
        if action in ("grant", "refuse"):
            assert not answered and not exempted
            answered = True
            consent_until = now + timedelta(days=30) if action == "grant" else None
        if action == "exempt":
            assert not answered
            exempted = True
        if action == "withdraw":
            assert consent_until is not None and not withdrawn
            withdrawn = True
        assert step.request.events == request.events + 1
        request = step.request

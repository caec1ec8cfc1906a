"""Credential-type schemas and the accreditation chain (one level of delegation)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from identity.errors import (
    MalformedValueError,
    PermissionDeniedError,
    RangeError,
    SchemaViolationError,
)
from identity.registry.accreditation import Accreditation, accredited_for, delegate
from identity.registry.types import CredentialType, bundled_types

T0 = datetime(2026, 1, 1, tzinfo=UTC)
YEAR = timedelta(days=365)


def _type(name: str) -> CredentialType:
    return next(t for t in bundled_types() if t.name == name)


def test_four_realistic_types_ship_with_valid_schemas() -> None:
    names = {t.name for t in bundled_types()}
    assert names == {
        "ResidencePermitCredential",
        "BusinessLicenceCredential",
        "ProfessionalQualificationCredential",
        "HealthCertificateCredential",
    }


def test_a_fitting_subject_passes() -> None:
    _type("ResidencePermitCredential").validate_subject(
        {
            "id": "did:example:1",
            "fullName": "Li Lei",
            "dateOfBirth": "1990-02-03",
            "residenceAddress": "1 Hengshan Rd",
            "permitNumber": "SH2026001",
        }
    )


@pytest.mark.parametrize(
    ("subject", "path"),
    [
        (
            {
                "id": "did:example:1",
                "fullName": "Li",
                "dateOfBirth": "1990-02-30x",
                "residenceAddress": "x",
                "permitNumber": "SH2026001",
            },
            "$.credentialSubject.dateOfBirth",
        ),
        (
            {
                "id": "did:example:1",
                "fullName": "Li",
                "dateOfBirth": "1990-02-03",
                "residenceAddress": "x",
            },
            "$.credentialSubject",
        ),
        (
            {
                "id": "did:example:1",
                "fullName": "Li",
                "dateOfBirth": "1990-02-03",
                "residenceAddress": "x",
                "permitNumber": "SH2026001",
                "extra": 1,
            },
            "$.credentialSubject",
        ),
        (
            {
                "id": 5,
                "fullName": "Li",
                "dateOfBirth": "1990-02-03",
                "residenceAddress": "x",
                "permitNumber": "SH2026001",
            },
            "$.credentialSubject.id",
        ),
    ],
)
def test_a_claim_that_does_not_fit_names_its_json_path(subject: dict[str, Any], path: str) -> None:
    with pytest.raises(SchemaViolationError) as info:
        _type("ResidencePermitCredential").validate_subject(subject)
    assert info.value.data["path"] == path


@pytest.mark.parametrize(
    "definition",
    [
        {"type": "X1Credential", "schema": {"type": "nonsense"}},
        {"type": "X1Credential", "schema": {"minLength": -1}},
        {"type": "lowercase", "schema": {}},
        {"type": "VerifiableCredential", "schema": {}},
        {"type": "X1Credential", "schema": []},
        {"type": "X1Credential", "schema": {}, "validityDays": 0},
    ],
)
def test_invalid_type_definitions_are_refused(definition: dict[str, Any]) -> None:
    with pytest.raises(MalformedValueError):
        CredentialType.from_json(definition)


def _root(types: set[str] | None = None, issuer: str = "bureau") -> Accreditation:
    return delegate(
        None,
        new_id="root-1",
        issuer_id=issuer,
        types=sorted(types or {"A", "B"}),
        valid_from=T0,
        valid_until=T0 + YEAR,
        now=T0,
        by="operator",
    )


def _to_district(parent: Accreditation | None, **overrides: Any) -> Accreditation:
    """``parent`` (the bureau by default) delegates type A to the district for a year."""
    args: dict[str, Any] = dict(
        new_id="d-1",
        issuer_id="district",
        types=["A"],
        valid_from=T0,
        valid_until=T0 + YEAR,
        now=T0,
        by="bureau",
    )
    return delegate(parent, **{**args, **overrides})


def _lookup(*accs: Accreditation) -> tuple[Any, Any]:
    by_id = {a.id: a for a in accs}
    return (lambda issuer: [a for a in accs if a.issuer_id == issuer]), by_id.__getitem__


def test_the_root_accredits_and_the_bureau_delegates_a_subset() -> None:
    root = _root()
    child = _to_district(root, valid_until=T0 + YEAR / 2)
    result = accredited_for("district", "A", T0 + timedelta(days=10), *_lookup(root, child))
    assert result.accredited
    assert [a.accredited_by for a in result.chain] == ["bureau", "operator"]
    assert not accredited_for("district", "B", T0, *_lookup(root, child)).accredited
    assert not accredited_for("district", "A", T0 + YEAR, *_lookup(root, child)).accredited


def test_a_delegation_dies_with_its_parent() -> None:
    root = _root()
    child = _to_district(root)
    revoked_root = replace(root, revoked_at=T0 + timedelta(days=5))
    lookup = _lookup(revoked_root, child)
    assert accredited_for("district", "A", T0 + timedelta(days=4), *lookup).accredited
    assert not accredited_for("district", "A", T0 + timedelta(days=6), *lookup).accredited


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"types": ["C"]}, PermissionDeniedError),
        ({"valid_until": T0 + 2 * YEAR}, RangeError),
        ({"by": "someone-else"}, PermissionDeniedError),
        ({"issuer_id": "bureau"}, MalformedValueError),
    ],
)
def test_bad_delegations_are_refused(kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        _to_district(_root(), **kwargs)


def test_delegation_deeper_than_one_level_is_refused() -> None:
    child = _to_district(_root())
    with pytest.raises(PermissionDeniedError, match="deeper"):
        _to_district(child, new_id="d-2", issuer_id="street", by="district")


def test_an_expired_parent_cannot_delegate() -> None:
    with pytest.raises(PermissionDeniedError):
        _to_district(_root(), now=T0 + 2 * YEAR)


def test_an_empty_window_is_a_range_error() -> None:
    with pytest.raises(RangeError):
        _to_district(None, valid_until=T0, by="operator")

"""SD-JWT VC issuance, presentation and verification, and every refusal of RFC 9901 §7."""

from __future__ import annotations

import json
from typing import Any

import pytest

from identity import errors as e
from identity.jose.jws import parse_compact, sign_compact
from identity.jose.keys import SigningKey, b64url
from identity.sdjwt.disclosures import Disclosure, sd_digest
from identity.sdjwt.format import sd_hash, split
from identity.sdjwt.holder import KeyBinding, disclosure_paths, present
from identity.sdjwt.issuance import IssuedSdJwt
from identity.sdjwt.verifier import KeyBindingRequirement, VerifiedSdJwtVc, verify_sd_jwt_vc
from tests.sdjwt.conftest import ALWAYS, CLAIMS, ISS, NOW, VCT, counter_random, issue_vc

AUD = "https://verifier.example"
REQ = KeyBindingRequirement(nonce="n-0S6_WzA2Mj", audience=AUD)


def verify(
    token: str, agency: SigningKey, kb: KeyBindingRequirement | None = REQ, now: int = NOW
) -> VerifiedSdJwtVc:
    return verify_sd_jwt_vc(
        token,
        issuer_key=lambda header, payload: agency.public_jwk,
        now=now,
        always_disclosed=lambda payload: ALWAYS,
        key_binding=kb,
    )


def show(issued: IssuedSdJwt, holder: SigningKey, paths: list[str], iat: int = NOW) -> str:
    return present(issued.sd_jwt, paths, holder_key=holder, binding=KeyBinding(REQ.nonce, AUD, iat))


def resign(agency: SigningKey, payload: dict[str, Any], disclosures: list[str]) -> str:
    """An issuer JWT over an arbitrary payload, with the given disclosures (no KB)."""
    jwt = sign_compact({"typ": "dc+sd-jwt"}, payload, agency)
    return jwt + "~" + "".join(f"{d}~" for d in disclosures)


def test_issued_payload_hides_disclosable_claims(issued: IssuedSdJwt) -> None:
    payload = issued.payload
    assert payload["iss"] == ISS and payload["vct"] == VCT and payload["_sd_alg"] == "sha-256"
    assert payload["fullName"] == "张三"  # always disclosed
    assert "dateOfBirth" not in payload and "residenceAddress" not in payload
    assert payload["cnf"]["jwk"]["crv"] == "P-256"
    assert payload["status"]["status_list"] == {"idx": 3, "uri": ISS + "/statuslists/1"}
    header = parse_compact(issued.issuer_jwt).header
    assert header == {"alg": "EdDSA", "typ": "dc+sd-jwt", "kid": "did:web:identity.example#key-1"}
    # 2 top-level + 2 nested + 2 array elements; decoys make _sd longer than the claims
    assert len(issued.disclosures) == 6
    assert len(payload["_sd"]) > 2 and payload["_sd"] == sorted(payload["_sd"])
    assert len(payload["nationalities"]) > 2
    for value in json.dumps(payload, ensure_ascii=False), issued.issuer_jwt:
        assert "1990-05-01" not in value and "Chaoyang" not in value


def test_every_digest_is_sha256_of_the_encoded_disclosure(issued: IssuedSdJwt) -> None:
    for disclosure in issued.disclosures:
        assert Disclosure.parse(disclosure.encoded) == disclosure
        assert disclosure.digest == sd_digest(disclosure.encoded)


def test_rfc9901_disclosure_digest_vector() -> None:
    # RFC 9901 §4.2.3 (the example "family_name": "Möbius" disclosure and its digest)
    encoded = "WyI2cU1RdlJMNWhhaiIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0"
    assert sd_digest(encoded) == "uutlBuYeMDyjLLTpf6Jxi7yNkEF35jdyWMn9U7b_RYY"
    assert Disclosure.parse(encoded).value == "Möbius"
    assert Disclosure.make("6qMQvRL5haj", "family_name", "Möbius").encoded == encoded


def test_full_presentation_round_trip(
    issued: IssuedSdJwt, agency: SigningKey, holder: SigningKey
) -> None:
    token = show(issued, holder, ["dateOfBirth", "residenceAddress.district", "nationalities[1]"])
    verified = verify(token, agency)
    assert verified.claims["dateOfBirth"] == "1990-05-01"
    assert verified.claims["residenceAddress"] == {"district": "Chaoyang"}
    assert verified.claims["nationalities"] == ["HK"]
    assert "street" not in json.dumps(verified.claims)
    assert verified.disclosed == (
        "dateOfBirth",
        "nationalities[0]",
        "residenceAddress",
        "residenceAddress.district",
    )
    assert verified.key_binding is not None and verified.key_binding["nonce"] == REQ.nonce
    assert verified.holder == holder.public_jwk


def test_minimal_presentation_discloses_nothing_optional(
    issued: IssuedSdJwt, agency: SigningKey, holder: SigningKey
) -> None:
    verified = verify(show(issued, holder, []), agency)
    assert verified.disclosed == ()
    assert set(verified.claims) == {
        "iss",
        "vct",
        "iat",
        "nbf",
        "exp",
        "cnf",
        "status",
        "fullName",
        "nationalities",
    }
    assert verified.claims["nationalities"] == []  # the array is plain; its elements hidden


def test_holder_paths_and_unknown_path(issued: IssuedSdJwt, holder: SigningKey) -> None:
    assert sorted(disclosure_paths(issued.sd_jwt).values()) == [
        "dateOfBirth",
        "nationalities[0]",
        "nationalities[1]",
        "residenceAddress",
        "residenceAddress.district",
        "residenceAddress.street",
    ]
    with pytest.raises(e.MalformedValueError):
        present(issued.sd_jwt, ["fullName"])


def test_ed25519_holder_key(agency: SigningKey) -> None:
    holder = SigningKey.generate_ed25519(counter_random())
    issued = issue_vc(agency, holder)
    assert verify(show(issued, holder, ["dateOfBirth"]), agency).claims["dateOfBirth"]


def test_without_key_binding_when_not_required(issued: IssuedSdJwt, agency: SigningKey) -> None:
    token = present(issued.sd_jwt, ["dateOfBirth"])
    assert token.endswith("~")
    assert verify(token, agency, kb=None).key_binding is None


# -- the bad-input list --------------------------------------------------------------------


def test_unreferenced_disclosure_refused(
    issued: IssuedSdJwt, agency: SigningKey, holder: SigningKey
) -> None:
    stray = Disclosure.make("c2FsdHNhbHRzYWx0", "dateOfBirth", "2001-01-01").encoded
    parts = split(show(issued, holder, ["dateOfBirth"]))
    token = resign(agency, issued.payload, [*parts.disclosures, stray])
    with pytest.raises(e.UnreferencedDisclosureError):
        verify(token, agency, kb=None)


def test_repeated_disclosure_refused(issued: IssuedSdJwt, agency: SigningKey) -> None:
    parts = split(issued.sd_jwt)
    token = resign(agency, issued.payload, [parts.disclosures[0], parts.disclosures[0]])
    with pytest.raises(e.RepeatedDisclosureError):
        verify(token, agency, kb=None)


def test_digest_referenced_twice_refused(agency: SigningKey, holder: SigningKey) -> None:
    d = Disclosure.make("c2FsdA", "dateOfBirth", "1990-05-01")
    payload = {"iss": ISS, "vct": VCT, "_sd": [d.digest], "nested": {"_sd": [d.digest]}}
    with pytest.raises(e.RepeatedDisclosureError):
        verify(resign(agency, payload, [d.encoded]), agency, kb=None)


def test_disclosure_for_always_disclosed_claim_refused(
    agency: SigningKey, holder: SigningKey
) -> None:
    issued = issue_vc(agency, holder, disclosable=("fullName", "dateOfBirth"))
    token = present(issued.sd_jwt, ["fullName"])
    with pytest.raises(e.AlwaysDisclosedClaimError) as info:
        verify(token, agency, kb=None)
    assert info.value.data["claim"] == "fullName"


def test_registered_claim_disclosure_refused(agency: SigningKey) -> None:
    d = Disclosure.make("c2FsdA", "exp", NOW + 10**6)
    payload = {"iss": ISS, "vct": VCT, "_sd": [d.digest]}
    with pytest.raises(e.AlwaysDisclosedClaimError):
        verify(resign(agency, payload, [d.encoded]), agency, kb=None)


@pytest.mark.parametrize("name", ["_sd", "..."])
def test_disclosure_naming_reserved_claim_refused(agency: SigningKey, name: str) -> None:
    raw = b64url(json.dumps(["c2FsdA", name, "x"]).encode())
    payload = {"iss": ISS, "vct": VCT, "_sd": [sd_digest(raw)]}
    with pytest.raises(e.ForbiddenSdClaimError):
        verify(resign(agency, payload, [raw]), agency, kb=None)


@pytest.mark.parametrize(
    "payload",
    [
        {"_sd": "not-a-list"},
        {"list": [{"...": "abc", "extra": 1}]},
        {"obj": {"...": "abc"}},
        {"_sd": [5]},
    ],
)
def test_reserved_names_misused_in_payload_refused(
    agency: SigningKey, payload: dict[str, Any]
) -> None:
    with pytest.raises(e.ForbiddenSdClaimError):
        verify(resign(agency, {"iss": ISS, "vct": VCT, **payload}, []), agency, kb=None)


def test_disclosed_claim_already_present_refused(agency: SigningKey) -> None:
    d = Disclosure.make("c2FsdA", "fullName", "李四")
    payload = {"iss": ISS, "vct": VCT, "fullName": "张三", "_sd": [d.digest]}
    with pytest.raises(e.ForbiddenSdClaimError):
        verify(resign(agency, payload, [d.encoded]), agency, kb=None)


def test_wrong_kind_of_disclosure_refused(agency: SigningKey) -> None:
    element = Disclosure.make("c2FsdA", None, "CN")
    payload = {"iss": ISS, "vct": VCT, "_sd": [element.digest]}
    with pytest.raises(e.ForbiddenSdClaimError):
        verify(resign(agency, payload, [element.encoded]), agency, kb=None)


def test_issuing_reserved_claim_names_refused(agency: SigningKey, holder: SigningKey) -> None:
    with pytest.raises(e.ForbiddenSdClaimError):
        issue_vc(agency, holder, claims={"x": {"_sd": []}})
    with pytest.raises(e.ForbiddenSdClaimError):
        issue_vc(agency, holder, disclosable=("status",))
    with pytest.raises(e.MalformedValueError):
        issue_vc(agency, holder, claims={"iss": "https://evil.example"})


def test_missing_key_binding_refused(issued: IssuedSdJwt, agency: SigningKey) -> None:
    with pytest.raises(e.KeyBindingError) as info:
        verify(present(issued.sd_jwt, ["dateOfBirth"]), agency)
    assert info.value.data["reason"] == "missing"


@pytest.mark.parametrize("iat", [NOW - 3600, NOW + 3600])
def test_stale_or_future_key_binding_refused(
    issued: IssuedSdJwt, agency: SigningKey, holder: SigningKey, iat: int
) -> None:
    with pytest.raises(e.KeyBindingError) as info:
        verify(show(issued, holder, ["dateOfBirth"], iat=iat), agency)
    assert info.value.data["reason"] == "stale"


@pytest.mark.parametrize(
    ("req", "reason"),
    [
        (KeyBindingRequirement("other-nonce", AUD), "nonce"),
        (KeyBindingRequirement(REQ.nonce, "https://other.example"), "aud"),
    ],
)
def test_key_binding_for_another_verifier_refused(
    issued: IssuedSdJwt, agency: SigningKey, holder: SigningKey, req: Any, reason: str
) -> None:
    with pytest.raises(e.KeyBindingError) as info:
        verify(show(issued, holder, ["dateOfBirth"]), agency, kb=req)
    assert info.value.data["reason"] == reason


def test_sd_hash_mismatch_refused(
    issued: IssuedSdJwt, agency: SigningKey, holder: SigningKey
) -> None:
    bound = split(show(issued, holder, ["dateOfBirth"]))
    # Drop the disclosure after binding: the KB-JWT's sd_hash covered it.
    token = bound.issuer_jwt + "~" + bound.kb_jwt  # type: ignore[operator]
    with pytest.raises(e.SdHashMismatchError):
        verify(token, agency)


def test_key_binding_by_another_key_refused(issued: IssuedSdJwt, agency: SigningKey) -> None:
    thief = SigningKey.generate_p256()
    with pytest.raises(e.ProofVerificationError):
        verify(show(issued, thief, ["dateOfBirth"]), agency)


def test_key_binding_with_wrong_typ_refused(
    issued: IssuedSdJwt, agency: SigningKey, holder: SigningKey
) -> None:
    shown = present(issued.sd_jwt, ["dateOfBirth"])
    kb = sign_compact(
        {"typ": "JWT"},
        {"iat": NOW, "aud": AUD, "nonce": REQ.nonce, "sd_hash": sd_hash(shown)},
        holder,
    )
    with pytest.raises(e.TokenTypeError):
        verify(shown + kb, agency)


def test_issuer_jwt_with_wrong_typ_refused(agency: SigningKey, issued: IssuedSdJwt) -> None:
    jwt = sign_compact({"typ": "JWT"}, issued.payload, agency)
    with pytest.raises(e.TokenTypeError):
        verify(jwt + "~", agency, kb=None)


def test_alg_none_issuer_jwt_refused(agency: SigningKey, issued: IssuedSdJwt) -> None:
    head = b64url(b'{"alg":"none","typ":"dc+sd-jwt"}')
    body = b64url(json.dumps(issued.payload).encode())
    with pytest.raises(e.UnsupportedAlgorithmError):
        verify(f"{head}.{body}.~", agency, kb=None)


def test_unknown_crit_refused(agency: SigningKey, issued: IssuedSdJwt) -> None:
    jwt = sign_compact({"typ": "dc+sd-jwt", "crit": ["x-new"], "x-new": 1}, issued.payload, agency)
    with pytest.raises(e.UnknownCriticalHeaderError):
        verify(jwt + "~", agency, kb=None)


def test_oversized_token_refused(issued: IssuedSdJwt, agency: SigningKey) -> None:
    with pytest.raises(e.TokenTooLargeError):
        verify(issued.sd_jwt + "A" * 40_000 + "~", agency, kb=None)


def test_signature_by_another_issuer_refused(issued: IssuedSdJwt) -> None:
    with pytest.raises(e.ProofVerificationError):
        verify(issued.sd_jwt, SigningKey.generate_ed25519(), kb=None)


def test_validity_times(agency: SigningKey, holder: SigningKey) -> None:
    expired = issue_vc(agency, holder, valid_until=NOW - 3600)
    with pytest.raises(e.ValidityPeriodError):
        verify(expired.sd_jwt, agency, kb=None)
    future = issue_vc(agency, holder, valid_from=NOW + 3600)
    with pytest.raises(e.ValidityPeriodError):
        verify(future.sd_jwt, agency, kb=None)


@pytest.mark.parametrize("token", ["no-tilde", "a.b.c~~", 5, "~"])
def test_unparseable_sd_jwt(token: object, agency: SigningKey) -> None:
    with pytest.raises(e.TokenParsingError):
        verify(token, agency, kb=None)  # type: ignore[arg-type]


def test_claims_unchanged_by_verification(issued: IssuedSdJwt, agency: SigningKey) -> None:
    before = json.dumps(issued.payload)
    verify(issued.sd_jwt, agency, kb=None)
    assert json.dumps(issued.payload) == before
    assert CLAIMS["residenceAddress"] == {"district": "Chaoyang", "street": "1 Guanghua Road"}

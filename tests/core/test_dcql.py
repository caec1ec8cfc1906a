"""DCQL (OpenID4VP 1.0 §6) and claims path pointers (§7) on plain data."""

from __future__ import annotations

from typing import Any

import pytest

from identity.oid4vp import dcql
from identity.oid4vp.errors import DcqlQueryError

CLAIMS: dict[str, Any] = {
    "name": "Li Lei",
    "address": {"district": "Xuhui", "city": "Shanghai"},
    "nationalities": ["CN", "SG"],
    "degrees": [{"type": "BSc"}, {"type": "MSc"}],
}


def q(**extra: Any) -> dict[str, Any]:
    return {"id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:v"]}, **extra}


@pytest.mark.parametrize(
    ("path", "selected"),
    [
        (["name"], ["Li Lei"]),
        (["address", "district"], ["Xuhui"]),
        (["nationalities", 1], ["SG"]),
        (["nationalities", None], ["CN", "SG"]),
        (["degrees", None, "type"], ["BSc", "MSc"]),
        (["missing"], []),
        (["name", "x"], []),
        (["nationalities", 5], []),
    ],
)
def test_claims_path_pointers_select_as_section_7_says(
    path: list[Any], selected: list[Any]
) -> None:
    assert dcql.select(CLAIMS, tuple(path)) == selected


def test_claim_sets_pick_the_first_option_answered_and_values_constrain() -> None:
    query = dcql.parse_query(
        {
            "credentials": [
                q(
                    claims=[
                        {"id": "a", "path": ["missing"]},
                        {"id": "b", "path": ["name"]},
                        {"id": "c", "path": ["nationalities", None], "values": ["SG"]},
                    ],
                    claim_sets=[["a", "b"], ["b", "c"]],
                )
            ]
        }
    )
    chosen = dcql.satisfied_claims(query.credentials[0], CLAIMS)
    assert chosen is not None and [c.id for c in chosen] == ["b", "c"]
    strict = dcql.parse_query(
        {"credentials": [q(claims=[{"path": ["nationalities", None], "values": ["FR"]}])]}
    )
    assert dcql.satisfied_claims(strict.credentials[0], CLAIMS) is None


def test_credential_sets_decide_what_is_required() -> None:
    query = dcql.parse_query(
        {
            "credentials": [q(id="a"), q(id="b"), q(id="c")],
            "credential_sets": [
                {"options": [["a"], ["b"]]},
                {"options": [["c"]], "required": False},
            ],
        }
    )
    assert dcql.required_ids(query, {"b"}) == []
    assert dcql.required_ids(query, {"c"}) == ["a"]
    plain = dcql.parse_query({"credentials": [q(id="a"), q(id="b")]})
    assert dcql.required_ids(plain, {"a"}) == ["b"]


def test_meta_matches_vct_and_type_values() -> None:
    sd = dcql.parse_query({"credentials": [q()]}).credentials[0]
    assert dcql.meta_matches(sd, {"vct": "urn:v"}) and not dcql.meta_matches(sd, {"vct": "x"})
    ldp = dcql.parse_query(
        {"credentials": [{"id": "x", "format": "ldp_vc", "meta": {"type_values": [["A", "B"]]}}]}
    ).credentials[0]
    assert dcql.meta_matches(ldp, {"type": ["VerifiableCredential", "A", "B"]})
    assert not dcql.meta_matches(ldp, {"type": ["VerifiableCredential", "A"]})


@pytest.mark.parametrize(
    "bad",
    [
        {"credentials": [q(), q()]},  # duplicate ids
        {"credentials": [q(claims=[{"path": ["a", True]}])]},
        {"credentials": [q(claims=[{"path": ["a"]}], claim_sets=[["nope"]])]},
        {"credentials": [q()], "credential_sets": [{"options": [["other"]]}]},
        {"credentials": [q(multiple="yes")]},
    ],
)
def test_malformed_queries_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(DcqlQueryError):
        dcql.parse_query(bad)


def test_path_strings_for_the_holder() -> None:
    assert dcql.path_string(("address", "district")) == "address.district"
    assert dcql.path_string(("nationalities", 0)) == "nationalities[0]"
    assert dcql.path_string(("degrees", None, "type")) == "degrees[].type"

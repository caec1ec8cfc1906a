"""did:web (W3C CCG did-method-web): URL mapping, hosted documents, the caching resolver."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from identity.canonical import rdfc
from identity.clock import FixedClock
from identity.dids.key import did_from_key
from identity.dids.resolver import MethodResolver
from identity.dids.web import (
    WebDidResolver,
    agency_web_did,
    agency_web_document,
    did_web_url,
    domain_of,
    hosted_agency_id,
)
from identity.errors import (
    DidResolutionError,
    IdentityError,
    InvalidDidDocumentError,
    InvalidDidError,
    InvalidVerificationMethodError,
    NotFoundError,
    UnavailableError,
)
from identity.jsonld import ContextLoader
from identity.keys import Ed25519PrivateKey
from identity.stores import IssuerRecord

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
REMOTE = "did:web:agency.example:agencies:psb"
REMOTE_URL = "https://agency.example/agencies/psb/did.json"


def _issuer(n: int = 1, issuer_id: str = "psb") -> IssuerRecord:
    key = Ed25519PrivateKey(n.to_bytes(32, "big"))
    return IssuerRecord(
        id=issuer_id,
        name="Public Security Bureau",
        did=did_from_key(key.public_key()),
        sealed_key=b"sealed",
        created=NOW,
    )


def _body(document: Any) -> bytes:
    return json.dumps(document).encode()


class FakeFetch:
    """Answers from a table of URL -> bytes or exception, and counts the calls."""

    def __init__(self, answers: dict[str, bytes | IdentityError] | None = None) -> None:
        self.answers = answers or {}
        self.calls: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.calls.append(url)
        answer = self.answers.get(url, NotFoundError("nothing there", url=url))
        if isinstance(answer, Exception):
            raise answer
        return answer


def _resolver(fetch: Callable[[str], bytes], clock: FixedClock, **kw: Any) -> WebDidResolver:
    return WebDidResolver(fetch, clock, **kw)


# -- URL mapping (did:web §Read (Resolve)) -------------------------------------------------


@pytest.mark.parametrize(
    ("did", "url"),
    [
        # the spec's own examples
        ("did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"),
        ("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"),
        ("did:web:example.com%3A3000", "https://example.com:3000/.well-known/did.json"),
        (
            "did:web:example.com%3A3000:user:alice",
            "https://example.com:3000/user/alice/did.json",
        ),
        ("did:web:example.com:u:bob", "https://example.com/u/bob/did.json"),
        # and ours
        ("did:web:example.com", "https://example.com/.well-known/did.json"),
        ("did:web:localhost%3A8443", "https://localhost:8443/.well-known/did.json"),
        ("did:web:localhost%3a8443", "https://localhost:8443/.well-known/did.json"),
        ("did:web:xn--bcher-kva.example", "https://xn--bcher-kva.example/.well-known/did.json"),
        ("did:web:example.com:u:%C3%A9t%C3%A9", "https://example.com/u/%C3%A9t%C3%A9/did.json"),
        ("did:web:example.com:a.b:c_d:e-f", "https://example.com/a.b/c_d/e-f/did.json"),
    ],
)
def test_did_web_url_follows_the_spec(did: str, url: str) -> None:
    assert did_web_url(did) == url


@pytest.mark.parametrize(
    "did",
    [
        "did:web:",
        "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        "did:web:example.com::alice",  # empty segment
        "did:web:example.com:..",  # path traversal
        "did:web:example.com:.",
        "did:web:example.com:a:%2E%2E",  # traversal, percent-encoded
        "did:web:example.com:a%2Fb",  # an encoded slash
        "did:web:example.com:a%5Cb",  # an encoded backslash
        "did:web:example.com:a%252F",  # double encoding
        "did:web:example.com:a%00",  # a control character
        "did:web:example.com:a%3Fx",  # a query in disguise
        "did:web:example.com:%FF",  # not UTF-8
        "did:web:user%40example.com",  # userinfo
        "did:web:example.com%2Fevil",
        "did:web:127.0.0.1",  # IP addresses are forbidden
        "did:web:127.0.0.1%3A8443",
        "did:web:2130706433",  # an IPv4 address as one number
        "did:web:0x7f.1",
        "did:web:%5B%3A%3A1%5D",  # [::1]
        "did:web:example.com%3A0",
        "did:web:example.com%3A65536",
        "did:web:example.com%3A",
        "did:web:example.com%3A08443",
        "did:web:example.com%3A80%3A81",
        "did:web:ex_ample.com",
        "did:web:-example.com",
        "did:web:example-.com",
        "did:web:example..com",
        "did:web:" + "a" * 64 + ".com",
        "did:web:example.com:" + "a" * 2100,
        "did:web:example.com#key-1",
        "did:web:example.com?x=1",
    ],
)
def test_bad_did_web_is_refused(did: str) -> None:
    with pytest.raises(InvalidDidError):
        did_web_url(did)


@pytest.mark.parametrize(
    ("url", "domain"),
    [
        ("https://id.example", "id.example"),
        ("https://id.example/", "id.example"),
        ("https://ID.Example:443", "id.example"),
        ("http://localhost:8000", "localhost%3A8000"),
        ("http://localhost:80", "localhost"),
        ("https://id.example:8443", "id.example%3A8443"),
        ("https://gov.example/identity/", "gov.example:identity"),
    ],
)
def test_domain_of_a_public_url(url: str, domain: str) -> None:
    assert domain_of(url) == domain


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000",
        "http://[::1]:8000",
        "https://user@id.example",
        "https://id.example/?x=1",
        "ftp://id.example",
        "id.example",
        "https://id.example:0",
    ],
)
def test_domain_of_refuses_urls_without_a_did_web_form(url: str) -> None:
    with pytest.raises(InvalidDidError):
        domain_of(url)


def test_agency_web_did_and_its_inverse() -> None:
    did = agency_web_did("localhost%3A8000", "psb")
    assert did == "did:web:localhost%3A8000:agencies:psb"
    assert did_web_url(did) == "https://localhost:8000/agencies/psb/did.json"
    assert hosted_agency_id(did, "localhost%3A8000") == "psb"
    assert hosted_agency_id(did, "other.example") is None
    assert hosted_agency_id("did:web:localhost%3A8000:agencies:psb:x", "localhost%3A8000") is None
    assert hosted_agency_id("did:web:localhost%3A8000:agencies:..", "localhost%3A8000") is None
    for bad in ("..", "a/b", "a:b", "", "a%2F"):
        with pytest.raises(InvalidDidError):
            agency_web_did("localhost%3A8000", bad)


# -- the hosted document ------------------------------------------------------------------


def test_agency_document_shape() -> None:
    issuer = _issuer()
    did = agency_web_did("id.example", "psb")
    msid = issuer.did.removeprefix("did:key:")
    assert agency_web_document(did, issuer) == {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "alsoKnownAs": [issuer.did],
        "verificationMethod": [
            {
                "id": f"{did}#key-1",
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": msid,
            }
        ],
        "authentication": [f"{did}#key-1"],
        "assertionMethod": [f"{did}#key-1"],
    }


def test_agency_document_is_json_ld_from_bundled_contexts_only() -> None:
    """Every term is defined by the two bundled contexts: RDFC-1.0 (safe mode, offline
    loader) neither drops anything nor fetches anything."""
    document = agency_web_document(agency_web_did("id.example", "psb"), _issuer())
    nquads = rdfc(document, ContextLoader())
    assert "https://w3id.org/security#publicKeyMultibase" in nquads
    assert "https://www.w3.org/ns/activitystreams#alsoKnownAs" in nquads


# -- the resolver ---------------------------------------------------------------------------


def _remote_document(did: str = REMOTE, n: int = 1) -> dict[str, Any]:
    return agency_web_document(did, _issuer(n))


def test_remote_resolution_and_its_verification_method() -> None:
    fetch = FakeFetch({REMOTE_URL: _body(_remote_document())})
    resolver = _resolver(fetch, FixedClock(NOW))
    resolution = resolver.resolve(REMOTE)
    assert resolution.did_document["id"] == REMOTE
    assert resolution.resolution_metadata == {"contentType": "application/did+ld+json"}
    method = resolver.verification_method(f"{REMOTE}#key-1", at=NOW)
    assert method.controller == REMOTE
    assert method.public_key.multibase == _issuer(1).did.removeprefix("did:key:")
    assert method.purposes == {"authentication", "assertionMethod"}
    assert fetch.calls == [REMOTE_URL]  # the second lookup came from the cache
    # through the method dispatcher, with the `at` the proof code passes
    dispatch = MethodResolver({"web": resolver})
    assert dispatch.verification_method(f"{REMOTE}#key-1", NOW) == method


def test_cache_expires_after_cache_seconds() -> None:
    clock = FixedClock(NOW)
    fetch = FakeFetch({REMOTE_URL: _body(_remote_document())})
    resolver = _resolver(fetch, clock, cache_seconds=300)
    resolver.resolve(REMOTE)
    clock.advance(timedelta(seconds=299))
    resolver.resolve(REMOTE)
    assert len(fetch.calls) == 1
    fetch.answers[REMOTE_URL] = _body(_remote_document(n=2))  # the host rotated its key
    clock.advance(timedelta(seconds=1))
    resolution = resolver.resolve(REMOTE)
    assert len(fetch.calls) == 2
    assert resolution.did_document == _remote_document(n=2)


def test_cache_is_bounded_least_recently_used_first() -> None:
    dids = [f"did:web:agency.example:agencies:a{i}" for i in range(3)]
    fetch = FakeFetch({did_web_url(d): _body(_remote_document(d)) for d in dids})
    resolver = _resolver(fetch, FixedClock(NOW), max_entries=2)
    resolver.resolve(dids[0])
    resolver.resolve(dids[1])
    resolver.resolve(dids[0])  # a0 is now the most recently used
    resolver.resolve(dids[2])  # evicts a1
    assert len(fetch.calls) == 3
    resolver.resolve(dids[0])
    assert len(fetch.calls) == 3
    resolver.resolve(dids[1])
    assert len(fetch.calls) == 4


def test_cache_seconds_zero_never_caches() -> None:
    fetch = FakeFetch({REMOTE_URL: _body(_remote_document())})
    resolver = _resolver(fetch, FixedClock(NOW), cache_seconds=0)
    resolver.resolve(REMOTE)
    resolver.resolve(REMOTE)
    assert len(fetch.calls) == 2


@pytest.mark.parametrize(
    "error",
    [
        NotFoundError("404", url=REMOTE_URL),
        UnavailableError("HTTP 503", url=REMOTE_URL),
        UnavailableError("timed out", url=REMOTE_URL),
        DidResolutionError("exceeds 65536 bytes", url=REMOTE_URL, limit=65536),
        DidResolutionError("HTTP 302 (redirects are not followed)", url=REMOTE_URL),
    ],
)
def test_fetch_failures_pass_through_and_are_not_cached(error: IdentityError) -> None:
    fetch = FakeFetch({REMOTE_URL: error})
    resolver = _resolver(fetch, FixedClock(NOW))
    with pytest.raises(type(error)) as raised:
        resolver.resolve(REMOTE)
    assert raised.value is error
    fetch.answers[REMOTE_URL] = _body(_remote_document())  # the host is back
    assert resolver.resolve(REMOTE).did_document["id"] == REMOTE
    assert len(fetch.calls) == 2


def _broken(**changes: Any) -> bytes:
    document = _remote_document()
    document.update(changes)
    return _body(document)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe",
        b'{"id": "did:web:agency.example:agencies:psb", "id": "did:web:evil.example"}',
        b'{"id": "did:web:agency.example:agencies:psb", "n": 9007199254740993}',
        b"[1, 2]",
        b'"did:web:agency.example:agencies:psb"',
        b"[" * 100 + b"]" * 100,
        _broken(id="did:web:evil.example"),  # id mismatch (DID Core §5.1.1)
        _broken(id=None),
        _broken(verificationMethod={"id": "x"}),
        _broken(verificationMethod=["did:web:agency.example:agencies:psb#key-1"]),
        _broken(verificationMethod=[{"id": "x", "type": "Multikey"}]),  # no controller
        _broken(assertionMethod="#key-1"),
        _broken(authentication=[5]),
        _broken(alsoKnownAs=[{"id": "x"}]),
        _broken(controller=[1]),
        _broken(**{"@context": 5}),
    ],
)
def test_invalid_documents_are_refused_and_not_cached(body: bytes) -> None:
    fetch = FakeFetch({REMOTE_URL: body})
    resolver = _resolver(fetch, FixedClock(NOW))
    for _ in range(2):
        with pytest.raises(InvalidDidDocumentError):
            resolver.resolve(REMOTE)
    assert len(fetch.calls) == 2
    assert issubclass(InvalidDidDocumentError, DidResolutionError)


def test_verification_method_refusals() -> None:
    document = _remote_document()
    foreign = {
        "id": f"{REMOTE}#key-2",
        "type": "Multikey",
        "controller": "did:web:victim.example",  # claims a key for someone else
        "publicKeyMultibase": _issuer(3).did.removeprefix("did:key:"),
    }
    document["verificationMethod"].append(foreign)
    document["assertionMethod"].append(foreign["id"])
    resolver = _resolver(FakeFetch({REMOTE_URL: _body(document)}), FixedClock(NOW))
    for url in (REMOTE, f"{REMOTE}#key-9", f"{REMOTE}#key-2"):
        with pytest.raises(InvalidVerificationMethodError):
            resolver.verification_method(url)
    with pytest.raises(InvalidDidError):
        resolver.verification_method(42)  # type: ignore[arg-type]


# -- this service's own domain ------------------------------------------------------------


def test_own_domain_is_answered_locally_never_fetched() -> None:
    domain = "id.example%3A8443"
    did = agency_web_did(domain, "psb")
    hosted = {did: agency_web_document(did, _issuer())}
    fetch = FakeFetch()
    resolver = _resolver(fetch, FixedClock(NOW), local=hosted.get, domain=domain)
    assert resolver.resolve(did).did_document == hosted[did]
    assert resolver.verification_method(f"{did}#key-1").controller == did
    for not_hosted in (
        agency_web_did(domain, "nobody"),
        "did:web:id.example%3A8443",
        "did:web:ID.EXAMPLE%3a8443:agencies:psb",  # same host, other spelling: still ours
    ):
        with pytest.raises(NotFoundError):
            resolver.resolve(not_hosted)
    assert fetch.calls == []
    # another port is another origin: fetched
    with pytest.raises(NotFoundError):
        resolver.resolve("did:web:id.example:agencies:psb")
    assert fetch.calls == ["https://id.example/agencies/psb/did.json"]


def test_own_domain_with_a_path_prefix() -> None:
    domain = domain_of("https://gov.example/identity")
    did = agency_web_did(domain, "psb")
    assert did == "did:web:gov.example:identity:agencies:psb"
    assert did_web_url(did) == "https://gov.example/identity/agencies/psb/did.json"
    fetch = FakeFetch()
    resolver = _resolver(fetch, FixedClock(NOW), local=lambda d: None, domain=domain)
    with pytest.raises(NotFoundError):
        resolver.resolve(did)
    assert fetch.calls == []
    with pytest.raises(NotFoundError):
        resolver.resolve("did:web:gov.example:other:psb")  # outside the prefix: remote
    assert len(fetch.calls) == 1

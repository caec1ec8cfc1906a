"""The IETF reference implementation of SD-JWT (PyPI ``sd-jwt``), driven by
tests/interop/test_sdjwt_interop.py. Runs in its own venv (``.venv/sdjwt-ref``, made by
scripts/ensure-sdjwt-peers): one JSON request on stdin, one JSON answer on stdout."""

import json
import sys

import sd_jwt.holder
from jwcrypto.jwk import JWK
from sd_jwt.common import SDObj
from sd_jwt.holder import SDJWTHolder
from sd_jwt.issuer import SDJWTIssuer
from sd_jwt.verifier import SDJWTVerifier


def main() -> dict:
    request = json.load(sys.stdin)
    # The KB-JWT's iat comes from the test's clock (the library calls time()).
    sd_jwt.holder.time = lambda: request["iat"]
    if request["op"] == "verify":
        issuer_key = JWK.from_json(json.dumps(request["issuerJwk"]))
        holder = SDJWTHolder(request["issued"])
        holder_key = JWK.from_json(json.dumps(request["holderJwk"]))
        holder.create_presentation(
            {name: True for name in request["disclose"]},
            request["nonce"],
            request["aud"],
            holder_key,
            "ES256",
        )
        out = {"ownPresentation": holder.sd_jwt_presentation}
        for name in ("presentation", "ownPresentation"):
            token = request.get(name) or out["ownPresentation"]
            verifier = SDJWTVerifier(
                token,
                lambda iss, header: issuer_key,
                request["aud"],
                request["nonce"],
            )
            out[name + "Payload"] = verifier.get_verified_payload()
        return out
    if request["op"] == "issue":
        claims = {
            (SDObj(k) if k in request["disclosable"] else k): v
            for k, v in request["payload"].items()
        }
        issuer = SDJWTIssuer(
            claims,
            JWK.from_json(json.dumps(request["issuerJwk"])),
            JWK.from_json(json.dumps(request["holderPublicJwk"])),
            sign_alg="EdDSA",
            add_decoy_claims=True,
            extra_header_parameters={"typ": "dc+sd-jwt", "kid": request["kid"]},
        )
        holder = SDJWTHolder(issuer.sd_jwt_issuance)
        holder.create_presentation(
            {name: True for name in request["disclose"]},
            request["nonce"],
            request["aud"],
            JWK.from_json(json.dumps(request["holderJwk"])),
            "ES256",
        )
        return {"issued": issuer.sd_jwt_issuance, "presentation": holder.sd_jwt_presentation}
    raise ValueError(f"unknown op {request['op']}")


if __name__ == "__main__":
    try:
        result = main()
    except Exception as exc:  # reported to the test, which fails with it
        result = {"error": f"{type(exc).__name__}: {exc}"}
    json.dump(result, sys.stdout)

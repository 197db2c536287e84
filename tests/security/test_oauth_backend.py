"""SMART Backend Services over HTTP: client_credentials with a private_key_jwt assertion signed by
real RSA (RS384) and EC (ES384) keys, checked against the client's registered JWKS."""

from __future__ import annotations

import time
import uuid

import jwt
import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from sqlalchemy import select

from benhan.security import oauth_clients
from benhan.security.client_auth import ASSERTION_TYPE
from benhan.security.tables import audit_log

from .conftest import patient, put

TOKEN_URL = "http://testserver/oauth/token"


def new_key(alg: str):  # type: ignore[no-untyped-def]
    if alg == "RS384":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP384R1())


def jwks_for(key, kid: str, alg: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    tool = RSAAlgorithm if alg == "RS384" else ECAlgorithm
    jwk = orjson.loads(tool.to_jwk(key.public_key()))
    jwk.update({"kid": kid, "alg": alg, "use": "sig"})
    return {"keys": [jwk]}


def assertion(key, client_id: str, alg: str, kid: str, *, aud: str = TOKEN_URL, exp_in: int = 240,  # type: ignore[no-untyped-def]
              jti: str | None = None, iss: str | None = None) -> str:
    now = int(time.time())
    claims = {"iss": iss or client_id, "sub": client_id, "aud": aud, "exp": now + exp_in, "iat": now,
              "jti": jti or str(uuid.uuid4())}
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


def register(secure, client_id: str, *, kind: str = "backend", scope: str = "system/*.rs", jwks=None,  # type: ignore[no-untyped-def]
             redirect_uris=()):  # type: ignore[no-untyped-def]
    with secure.tx() as conn:
        oauth_clients.add_client(conn, client_id=client_id, name=client_id, kind=kind, scopes=scope, jwks=jwks,
                                 redirect_uris=list(redirect_uris))


def backend_form(signed: str, scope: str = "system/Patient.rs") -> dict[str, str]:
    return {"grant_type": "client_credentials", "scope": scope, "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": signed}


@pytest.fixture
def hospital(secure):  # type: ignore[no-untyped-def]
    """A registered backend client (another hospital) with an RSA and an EC key."""
    rsa_key, ec_key = new_key("RS384"), new_key("ES384")
    jwks = {"keys": jwks_for(rsa_key, "rsa-1", "RS384")["keys"] + jwks_for(ec_key, "ec-1", "ES384")["keys"]}
    register(secure, "bv-cho-ray", scope="system/Patient.rs system/Observation.rs", jwks=jwks)
    put(secure.admin, patient("p1"))
    return {"RS384": (rsa_key, "rsa-1"), "ES384": (ec_key, "ec-1")}


@pytest.mark.parametrize("alg", ["RS384", "ES384"])
def test_backend_services_happy_path(secure, hospital, alg):
    key, kid = hospital[alg]
    resp = secure.http.post("/oauth/token", data=backend_form(assertion(key, "bv-cho-ray", alg, kid),
                                                              "system/Patient.rs system/Observation.cruds"))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["token_type"] == "Bearer" and 0 < body["expires_in"] <= 300
    assert body["scope"] == "system/Patient.rs system/Observation.rs"  # narrowed to the registration
    assert "refresh_token" not in body and resp.headers["cache-control"] == "no-store"
    api = secure.client_for(body["access_token"])
    assert api.get("Patient/p1").status_code == 200
    assert api.post("Patient", patient("p2")).status_code == 403  # read-only scopes
    with secure.engine.connect() as conn:
        row = conn.execute(select(audit_log).where(audit_log.c.action == "token-issue")).mappings().one()
    assert row["client_id"] == "bv-cho-ray" and "client_credentials" in row["detail"]
    assert body["access_token"] not in str(dict(row))


def _refused(secure, form) -> dict:  # type: ignore[no-untyped-def,type-arg]
    resp = secure.http.post("/oauth/token", data=form)
    assert resp.status_code in (400, 401), resp.text
    return resp.json()


def test_wrong_key_is_refused(secure, hospital):
    intruder = new_key("RS384")
    body = _refused(secure, backend_form(assertion(intruder, "bv-cho-ray", "RS384", "rsa-1")))
    assert body["error"] == "invalid_client"


def test_expired_or_too_long_assertion_is_refused(secure, hospital):
    key, kid = hospital["ES384"]
    assert _refused(secure, backend_form(assertion(key, "bv-cho-ray", "ES384", kid, exp_in=-120)))["error"] == \
        "invalid_client"
    assert "five minutes" in _refused(secure, backend_form(
        assertion(key, "bv-cho-ray", "ES384", kid, exp_in=3600)))["error_description"]


def test_replayed_jti_is_refused(secure, hospital):
    key, kid = hospital["RS384"]
    signed = assertion(key, "bv-cho-ray", "RS384", kid, jti="once-only")
    assert secure.http.post("/oauth/token", data=backend_form(signed)).status_code == 200
    body = _refused(secure, backend_form(signed))
    assert body["error"] == "invalid_client" and "already used" in body["error_description"]
    again = assertion(key, "bv-cho-ray", "RS384", kid, jti="once-only")  # new signature, same jti
    assert _refused(secure, backend_form(again))["error"] == "invalid_client"


def test_wrong_audience_issuer_or_algorithm_is_refused(secure, hospital):
    key, kid = hospital["RS384"]
    wrong_aud = assertion(key, "bv-cho-ray", "RS384", kid, aud="http://testserver/fhir")
    assert "aud" in _refused(secure, backend_form(wrong_aud))["error_description"]
    wrong_iss = assertion(key, "bv-cho-ray", "RS384", kid, iss="someone-else")
    assert _refused(secure, backend_form(wrong_iss))["error"] == "invalid_client"
    rs256 = assertion(key, "bv-cho-ray", "RS256", kid)
    assert _refused(secure, backend_form(rs256))["error"] == "invalid_client"
    no_type = backend_form(assertion(key, "bv-cho-ray", "RS384", kid))
    no_type["client_assertion_type"] = "urn:other"
    assert _refused(secure, no_type)["error"] == "invalid_client"


def test_scope_outside_registration_and_disabled_client(secure, hospital):
    key, kid = hospital["ES384"]
    body = _refused(secure, backend_form(assertion(key, "bv-cho-ray", "ES384", kid), "system/Encounter.rs"))
    assert body["error"] == "invalid_scope"
    # a wildcard gets the registered types it covers, never more (the intersection, type by type)
    wide = secure.http.post("/oauth/token", data=backend_form(assertion(key, "bv-cho-ray", "ES384", kid),
                                                              "system/*.cruds"))
    assert wide.status_code == 200 and set(wide.json()["scope"].split()) == {"system/Patient.rs",
                                                                             "system/Observation.rs"}
    with secure.tx() as conn:
        oauth_clients.set_client_disabled(conn, "bv-cho-ray")
    assert _refused(secure, backend_form(assertion(key, "bv-cho-ray", "ES384", kid)))["error"] == "invalid_client"


def test_unknown_grant_type(secure):
    resp = secure.http.post("/oauth/token", data={"grant_type": "password", "username": "a", "password": "b"})
    assert resp.status_code == 400 and resp.json()["error"] == "unsupported_grant_type"

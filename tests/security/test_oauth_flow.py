"""SMART App Launch v2 over HTTP: authorization code + PKCE through the real login and consent
pages, token exchange, a FHIR call with the token, refresh rotation, reuse detection, revocation,
scope narrowing and patient context."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from html import unescape
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from benhan.security import accounts
from benhan.security.tables import audit_log

from .conftest import STRONG, encounter, observation, patient, put
from .test_oauth_backend import ASSERTION_TYPE, assertion, jwks_for, new_key, register

REDIRECT = "https://app.example/callback"
AUD = "http://testserver/fhir"
APP_SCOPES = "patient/*.rs user/*.rs launch/patient openid fhirUser offline_access"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _hidden(html: str) -> dict[str, str]:
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html)
    return {name: unescape(value) for name, value in fields}


class App:
    """A SMART app driving a browser through our pages."""

    def __init__(self, secure, client_id: str = "so-suc-khoe") -> None:  # type: ignore[no-untyped-def]
        self.secure = secure
        self.client_id = client_id
        self.browser = TestClient(secure.app, follow_redirects=False)
        self.verifier, self.challenge = pkce()

    def params(self, scope: str, **extra: str) -> dict[str, str]:
        return {"response_type": "code", "client_id": self.client_id, "redirect_uri": REDIRECT, "scope": scope,
                "state": "st-123", "aud": AUD, "code_challenge": self.challenge, "code_challenge_method": "S256",
                **extra}

    def sign_in(self, username: str, password: str = STRONG) -> None:
        page = self.browser.get("/auth/login")
        resp = self.browser.post("/auth/login", data={"csrf_token": _csrf(page.text), "username": username,
                                                      "password": password, "next": "/auth/account"})
        assert resp.status_code == 303, resp.text

    def consent_page(self, scope: str, **extra: str):  # type: ignore[no-untyped-def]
        return self.browser.get("/oauth/authorize?" + urlencode(self.params(scope, **extra)))

    def authorize(self, scope: str, decision: str = "allow", **extra: str) -> dict[str, list[str]]:
        """Consent and return the query the app receives on its redirect URI."""
        page = self.consent_page(scope, **extra)
        assert page.status_code == 200, page.headers.get("location", page.text)
        resp = self.browser.post("/oauth/authorize", data={**_hidden(page.text), "decision": decision})
        return self.redirected(resp)

    @staticmethod
    def redirected(resp) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
        assert resp.status_code == 303, resp.text
        location = resp.headers["location"]
        assert location.startswith(REDIRECT + "?"), location
        return parse_qs(urlsplit(location).query)

    def exchange(self, code: str, **overrides: str):  # type: ignore[no-untyped-def]
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                "code_verifier": self.verifier, "client_id": self.client_id, **overrides}
        return self.secure.http.post("/oauth/token", data=form)

    def refresh(self, token: str, **extra: str):  # type: ignore[no-untyped-def]
        return self.secure.http.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": token,
                                                           "client_id": self.client_id, **extra})


@pytest.fixture
def world(secure):  # type: ignore[no-untyped-def]
    """Two patients with observations, a patient-portal user (p1), a doctor of khoa-noi (p1's
    encounter is there), a receptionist, and a public SMART app."""
    for pid in ("p1", "p2"):
        put(secure.admin, patient(pid))
        put(secure.admin, observation(f"o-{pid}", pid))
    put(secure.admin, {"resourceType": "Organization", "id": "khoa-noi", "name": "Khoa Nội"})
    put(secure.admin, encounter("e1", "p1", "khoa-noi"))
    secure.user("nb.lan", ["patient"], patient="p1")
    secure.user("bs.an", ["doctor"], departments=["khoa-noi"], practitioner="pr-an")
    secure.user("tt.hoa", ["reception"])
    register(secure, "so-suc-khoe", kind="public", scope=APP_SCOPES, redirect_uris=[REDIRECT])
    return secure


def _audit(secure) -> list[dict]:  # type: ignore[type-arg]
    with secure.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(audit_log).order_by(audit_log.c.seq)).mappings()]


def test_full_code_flow_with_pkce_then_fhir_calls(world):
    app = App(world)
    start = app.consent_page("launch/patient patient/*.rs openid fhirUser offline_access")
    assert start.status_code == 303 and start.headers["location"].startswith("/auth/login?next=")
    login = app.browser.get(start.headers["location"])
    resp = app.browser.post("/auth/login", data={**_hidden(login.text), "username": "nb.lan", "password": STRONG})
    assert resp.status_code == 303 and resp.headers["location"].startswith("/oauth/authorize?")
    consent = app.browser.get(resp.headers["location"])
    assert consent.status_code == 200
    assert "so-suc-khoe" in consent.text and "Người bệnh: p1" in consent.text and "đọc, tìm kiếm" in consent.text
    assert "form-action 'self' https://app.example;" in consent.headers["content-security-policy"]
    english = app.browser.get(resp.headers["location"] + "&lang=en")
    assert "read, search" in english.text and "Allow" in english.text
    got = app.redirected(app.browser.post("/oauth/authorize", data={**_hidden(consent.text), "decision": "allow"}))
    assert got["state"] == ["st-123"] and len(got["code"][0]) >= 40

    resp = app.exchange(got["code"][0])
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == world.settings.access_token_ttl
    assert body["patient"] == "p1" and body["refresh_token"]
    assert set(body["scope"].split()) == {"patient/*.rs", "launch/patient", "openid", "fhirUser", "offline_access"}
    id_token = jwt.decode(body["id_token"], options={"verify_signature": False})
    assert id_token["fhirUser"] == "http://testserver/fhir/Patient/p1" and id_token["aud"] == "so-suc-khoe"
    keys = world.http.get("/.well-known/jwks.json").json()["keys"]
    jwt.decode(body["id_token"], jwt.PyJWK(keys[0]).key, algorithms=["ES256"], audience="so-suc-khoe")

    api = world.client_for(body["access_token"])
    found = api.get("Observation").json()
    assert [e["resource"]["id"] for e in found.get("entry", [])] == ["o-p1"]  # limited to its patient
    assert api.get("Observation/o-p2").status_code == 403
    assert api.get("Patient/p2").status_code == 403
    assert api.post("Observation", observation("o-new", "p1")).status_code == 403  # read-only scope

    actions = [(r["action"], r["outcome"]) for r in _audit(world) if r["action"] in
               ("login", "oauth-authorize", "token-issue")]
    assert actions == [("login", 200), ("oauth-authorize", 200), ("token-issue", 200)]
    issue = next(r for r in _audit(world) if r["action"] == "token-issue")
    assert issue["username"] == "nb.lan" and issue["client_id"] == "so-suc-khoe" and issue["patients"] == ",p1,"
    text = str(_audit(world))
    assert body["access_token"] not in text and body["refresh_token"] not in text and got["code"][0] not in text


def test_pkce_mismatch_and_missing_s256_are_rejected(world):
    app = App(world)
    app.sign_in("nb.lan")
    code = app.authorize("patient/*.rs launch/patient")["code"][0]
    bad = app.exchange(code, code_verifier=pkce()[0])
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"
    assert app.exchange(code).status_code == 200  # a wrong verifier does not burn the code for its owner
    plain = app.consent_page("patient/*.rs", code_challenge_method="plain")
    assert app.redirected(plain)["error"] == ["invalid_request"]


def test_redirect_uri_mismatch_is_rejected(world):
    app = App(world)
    app.sign_in("nb.lan")
    page = app.browser.get("/oauth/authorize?" + urlencode({**app.params("patient/*.rs"),
                                                            "redirect_uri": "https://evil.example/cb"}))
    assert page.status_code == 400 and "evil.example" not in page.headers.get("location", "")
    code = app.authorize("patient/*.rs launch/patient")["code"][0]
    resp = app.exchange(code, redirect_uri=REDIRECT + "/other")
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_grant"


def test_wrong_audience_or_unknown_client(world):
    app = App(world)
    app.sign_in("nb.lan")
    got = app.redirected(app.consent_page("patient/*.rs", aud="https://other.example/fhir"))
    assert got["error"] == ["invalid_request"] and got["state"] == ["st-123"]
    unknown = app.browser.get("/oauth/authorize?" + urlencode({**app.params("patient/*.rs"), "client_id": "nobody"}))
    assert unknown.status_code == 400


def test_reused_code_revokes_the_tokens_it_produced(world):
    app = App(world)
    app.sign_in("nb.lan")
    code = app.authorize("patient/*.rs launch/patient offline_access")["code"][0]
    body = app.exchange(code).json()
    api = world.client_for(body["access_token"])
    assert api.get("Patient/p1").status_code == 200
    again = app.exchange(code)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert api.get("Patient/p1").status_code == 401
    assert app.refresh(body["refresh_token"]).json()["error"] == "invalid_grant"
    assert ("code-reuse", 400) in [(r["action"], r["outcome"]) for r in _audit(world)]


def test_refresh_rotation_and_reuse_detection(world):
    app = App(world)
    app.sign_in("nb.lan")
    first = app.exchange(app.authorize("patient/*.rs launch/patient offline_access")["code"][0]).json()
    second = app.refresh(first["refresh_token"])
    assert second.status_code == 200, second.text
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"] and second["patient"] == "p1"
    third = app.refresh(second["refresh_token"]).json()
    assert world.client_for(third["access_token"]).get("Patient/p1").status_code == 200
    # the first (rotated) refresh token shows up again: the whole family is revoked
    stolen = app.refresh(first["refresh_token"])
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    assert app.refresh(third["refresh_token"]).json()["error"] == "invalid_grant"
    for token in (first["access_token"], second["access_token"], third["access_token"]):
        assert world.client_for(token).get("Patient/p1").status_code == 401
    actions = [r["action"] for r in _audit(world)]
    assert actions.count("token-refresh") == 2 and "refresh-reuse" in actions


def test_refresh_may_narrow_but_not_widen(world):
    app = App(world)
    app.sign_in("bs.an")
    first = app.exchange(app.authorize("user/Observation.rs user/Patient.rs offline_access")["code"][0]).json()
    narrowed = app.refresh(first["refresh_token"], scope="user/Patient.r user/Encounter.rs").json()
    assert narrowed["scope"] == "user/Patient.r"


def test_revocation_of_access_and_refresh_tokens(world):
    app = App(world)
    app.sign_in("nb.lan")
    body = app.exchange(app.authorize("patient/*.rs launch/patient offline_access")["code"][0]).json()
    api = world.client_for(body["access_token"])
    resp = world.http.post("/oauth/revoke", data={"token": body["access_token"], "client_id": "so-suc-khoe",
                                                  "token_type_hint": "access_token"})
    assert resp.status_code == 200
    assert api.get("Patient/p1").status_code == 401
    assert world.http.post("/oauth/revoke", data={"token": "unknown", "client_id": "so-suc-khoe"}).status_code == 200
    refreshed = app.refresh(body["refresh_token"]).json()
    assert world.http.post("/oauth/revoke", data={"token": refreshed["refresh_token"],
                                                  "client_id": "so-suc-khoe"}).status_code == 200
    assert app.refresh(refreshed["refresh_token"]).json()["error"] == "invalid_grant"
    assert world.client_for(refreshed["access_token"]).get("Patient/p1").status_code == 401  # the grant went too
    assert [r["action"] for r in _audit(world)].count("token-revoke") == 2


def test_scope_narrowing(world):
    app = App(world)
    app.sign_in("tt.hoa")  # reception: administrative data, no clinical types
    got = app.authorize("user/Patient.cruds user/Observation.rs system/*.rs openid")
    body = app.exchange(got["code"][0]).json()
    assert body["scope"] == "user/Patient.rs openid"  # client allows .rs only; role has no Observation
    api = world.client_for(body["access_token"])
    assert api.get("Patient/p2").status_code == 200
    assert api.get("Observation/o-p2").status_code == 403
    assert "fhirUser" not in jwt.decode(body["id_token"], options={"verify_signature": False})
    refused = app.redirected(app.consent_page("system/*.rs"))
    assert refused["error"] == ["invalid_scope"]


def test_clinician_patient_context_comes_from_the_picker(world):
    app = App(world)
    app.sign_in("bs.an")
    outside = app.redirected(app.consent_page("launch/patient patient/*.rs", picked_patient="p2"))
    assert outside["error"] == ["invalid_scope"]
    # a bare patient id is not a launch value (EHR launch values are made by the web app: test_ehr_launch.py)
    bare = app.redirected(app.consent_page("launch launch/patient patient/*.rs", launch="p1"))
    assert bare["error"] == ["invalid_scope"]  # this app is not registered for the 'launch' scope
    got = app.authorize("launch/patient patient/*.rs openid fhirUser", picked_patient="p1", nonce="n-42")
    body = app.exchange(got["code"][0]).json()
    assert body["patient"] == "p1"
    claims = jwt.decode(body["id_token"], options={"verify_signature": False})
    assert claims["fhirUser"] == "http://testserver/fhir/Practitioner/pr-an" and claims["nonce"] == "n-42"
    api = world.client_for(body["access_token"])
    assert [e["resource"]["id"] for e in api.get("Observation").json().get("entry", [])] == ["o-p1"]


def test_denied_consent_and_missing_csrf(world):
    app = App(world)
    app.sign_in("nb.lan")
    assert app.authorize("patient/*.rs launch/patient", decision="deny")["error"] == ["access_denied"]
    page = app.consent_page("patient/*.rs launch/patient")
    form = {k: v for k, v in _hidden(page.text).items() if k != "csrf_token"}
    assert app.browser.post("/oauth/authorize", data={**form, "decision": "allow"}).status_code == 403


def test_forced_password_change_comes_before_consent(world):
    with world.tx() as conn:
        one_time = accounts.reset_password(conn, "nb.lan")
    app = App(world)
    app.sign_in("nb.lan", one_time)
    resp = app.consent_page("patient/*.rs launch/patient")
    assert resp.status_code == 303 and resp.headers["location"].startswith("/auth/password?next=%2Foauth%2Fauthorize")


def test_confidential_client_must_sign_its_token_request(world):
    key = new_key("ES384")
    register(world, "bv-app", kind="confidential", scope=APP_SCOPES, redirect_uris=[REDIRECT],
             jwks=jwks_for(key, "k1", "ES384"))
    app = App(world, "bv-app")
    app.sign_in("nb.lan")
    code = app.authorize("patient/*.rs launch/patient")["code"][0]
    unsigned = app.exchange(code)
    assert unsigned.status_code == 401 and unsigned.json()["error"] == "invalid_client"
    signed = app.exchange(code, client_assertion_type=ASSERTION_TYPE,
                          client_assertion=assertion(key, "bv-app", "ES384", "k1"))
    assert signed.status_code == 200 and signed.json()["patient"] == "p1"


def test_smart_configuration_advertises_working_endpoints(world):
    conf = world.http.get("/.well-known/smart-configuration").json()
    assert conf["code_challenge_methods_supported"] == ["S256"]
    for name in ("authorization_endpoint", "token_endpoint", "revocation_endpoint"):
        path = urlsplit(conf[name]).path
        assert world.http.post(path, data={}).status_code != 404


def test_authorize_sign_in_does_not_confirm_a_password_without_the_code(world):
    """An app's sign-in page gives the same answer to a wrong password and to the right one without the code."""
    import pyotp

    user = world.user("bs.tam", ["doctor"], departments=["khoa-noi"], totp=True)
    app = App(world)
    start = app.consent_page("launch/patient patient/*.rs", picked_patient="p1")
    assert start.status_code == 303 and start.headers["location"].startswith("/auth/login?next=%2Foauth%2Fauthorize")

    def attempt(password: str, code: str = ""):  # type: ignore[no-untyped-def]
        page = app.browser.get(start.headers["location"])
        return app.browser.post("/auth/login", data={**_hidden(page.text), "username": "bs.tam", "password": password,
                                                     "totp": code})

    wrong, right = attempt("Sai-Mat-Khau-2026!"), attempt(STRONG)
    assert wrong.status_code == right.status_code == 401
    strip = re.compile(r'value="[^"]{20,}"')
    assert strip.sub("", wrong.text) == strip.sub("", right.text)
    done = attempt(STRONG, pyotp.TOTP(user.totp_secret).now())
    assert done.status_code == 303 and done.headers["location"].startswith("/oauth/authorize?")


def test_standalone_launch_patient_picker(world):
    """Staff without a launch parameter choose the patient in a picker that shows only patients they may see."""
    put(world.admin, {**patient("p3"), "name": [{"family": "Trần", "given": ["Thị", "Bích"]}],
                      "identifier": [{"system": "urn:test:ma-bn", "value": "BN-0003"}]})
    put(world.admin, encounter("e3", "p3", "khoa-noi"))
    app = App(world)
    app.sign_in("bs.an")
    scope = "launch/patient patient/*.rs openid fhirUser"
    page = app.consent_page(scope)
    assert page.status_code == 200 and "Chọn người bệnh" in page.text
    listed = set(re.findall(r'name="picked_patient" value="([^"]+)"', page.text))
    assert listed == {"p1", "p3"}  # khoa-noi's patients; p2 has no encounter there
    by_name = app.consent_page(scope, q="tran bich")  # diacritics and case ignored
    assert set(re.findall(r'name="picked_patient" value="([^"]+)"', by_name.text)) == {"p3"}
    assert "BN-0003" in by_name.text and 'hx-get="/oauth/authorize"' in by_name.text
    by_code = app.consent_page(scope, q="BN-0003")
    assert set(re.findall(r'name="picked_patient" value="([^"]+)"', by_code.text)) == {"p3"}
    assert "p2" not in re.findall(r'name="picked_patient" value="([^"]+)"', app.consent_page(scope, q="p2").text)
    searches = [r for r in _audit(world) if r["action"] == "search" and r["username"] == "bs.an"]
    assert searches and searches[-1]["client_id"] == "so-suc-khoe"  # what the picker showed is audited
    assert any(r["patients"] == ",p3," for r in searches)
    # choosing leads to the consent page with the patient, then a token with that patient context
    consent = app.consent_page(scope, picked_patient="p3")
    assert consent.status_code == 200 and "Người bệnh: p3" in consent.text
    got = app.redirected(app.browser.post("/oauth/authorize", data={**_hidden(consent.text), "decision": "allow"}))
    body = app.exchange(got["code"][0]).json()
    assert body["patient"] == "p3"
    api = world.client_for(body["access_token"])
    assert api.get("Patient/p3").status_code == 200 and api.get("Patient/p1").status_code == 403
    # a patient the user may not see cannot be picked by hand-editing the form
    refused = app.redirected(app.consent_page(scope, picked_patient="p2"))
    assert refused["error"] == ["invalid_scope"]
    assert "Choose a patient" in app.consent_page(scope, lang="en").text
    # a role that sees no patients gets no picker
    auditor = App(world)
    world.user("kt.binh", ["auditor"])
    auditor.sign_in("kt.binh")
    assert auditor.redirected(auditor.consent_page("launch/patient user/*.rs"))["error"] == ["invalid_scope"]


def test_launch_encounter_picks_an_encounter_of_the_patient(world):
    """``launch/encounter``: after the patient, the user picks one of that patient's encounters they may see;
    the token response carries it as ``encounter``."""
    register(world, "lich-kham", kind="public", scope=APP_SCOPES + " launch/encounter", redirect_uris=[REDIRECT])
    hidden = {**encounter("e1-psy", "p1", "khoa-noi"),  # p1's too, but sensitive: care team only
              "meta": {"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "PSY"}]}}
    put(world.admin, hidden)
    app = App(world, "lich-kham")
    app.sign_in("bs.an")
    scope = "launch/patient launch/encounter patient/*.rs"
    page = app.consent_page(scope, picked_patient="p1")
    assert page.status_code == 200 and "Chọn lượt khám" in page.text
    assert re.findall(r'name="picked_encounter" value="([^"]+)"', page.text) == ["e1"]  # not e1-psy
    assert any(r["action"] == "search" and r["entity"].startswith("Encounter?patient=")
               for r in _audit(world) if r["username"] == "bs.an")
    for other in ("e1-psy", "e-nope"):  # one the doctor may not see, or none: refused
        assert app.redirected(app.consent_page(scope, picked_patient="p1", picked_encounter=other))["error"] == [
            "invalid_scope"]
    put(world.admin, encounter("e2-noi", "p2", "khoa-noi"))  # visible, but p2's: not for p1's context
    assert app.redirected(app.consent_page(scope, picked_patient="p1", picked_encounter="e2-noi"))["error"] == [
        "invalid_scope"]
    consent = app.consent_page(scope, picked_patient="p1", picked_encounter="e1")
    assert consent.status_code == 200 and "Lượt khám: e1" in consent.text
    got = app.redirected(app.browser.post("/oauth/authorize", data={**_hidden(consent.text), "decision": "allow"}))
    body = app.exchange(got["code"][0]).json()
    assert (body["patient"], body["encounter"]) == ("p1", "e1")
    assert "launch/encounter" in body["scope"].split()
    # a patient user picks among their own encounters, without a patient picker
    portal = App(world, "lich-kham")
    portal.sign_in("nb.lan")
    own = portal.consent_page(scope)
    assert sorted(re.findall(r'name="picked_encounter" value="([^"]+)"', own.text)) == ["e1", "e1-psy"]
    conf = world.http.get("/.well-known/smart-configuration").json()
    assert "context-standalone-encounter" in conf["capabilities"]

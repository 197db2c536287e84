"""The operators' commands, under their stable names: ``benhan user add/list/disable/reset-password/roles``,
``benhan client add``, ``benhan token issue``, ``benhan break-glass list``; each change is audited."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from benhan.cli import main
from benhan.security import accounts
from benhan.security.tables import audit_log

from .conftest import STRONG, patient, put


@pytest.fixture
def cli(secure, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BENHAN_DATABASE_URL", secure.settings.database_url)
    return secure


def _run(capsys, *argv: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    code = main(list(argv))
    return code, capsys.readouterr().out


def _audit(secure) -> list[tuple[str, str | None, str | None]]:  # type: ignore[no-untyped-def]
    with secure.engine.connect() as conn:
        return [(r.action, r.entity, r.detail) for r in conn.execute(select(audit_log).order_by(audit_log.c.seq))]


def _user(secure, username: str) -> accounts.User:  # type: ignore[no-untyped-def]
    with secure.engine.connect() as conn:
        user = accounts.get_user(conn, username)
    assert user is not None
    return user


def test_user_commands(cli, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(STRONG + "\n"))
    assert main(["user", "add", "bs.an", "--name", "Nguyễn Văn An", "--role", "bac-si", "--department", "khoa-noi",
                 "--practitioner", "pr-an", "--password-stdin"]) == 0
    user = _user(cli, "bs.an")
    assert (user.roles, user.departments, user.practitioner_id) == (("doctor",), ("khoa-noi",), "pr-an")
    assert not user.must_change_password
    code, out = _run(capsys, "user", "add", "td.lan", "--role", "tiep-don")  # no password given: a one-time one
    assert code == 0 and "one-time password:" in out and _user(cli, "td.lan").must_change_password
    monkeypatch.setattr("sys.stdin", io.StringIO("123456\n"))
    assert main(["user", "add", "weak", "--role", "doctor", "--password-stdin"]) == 2  # password policy
    assert main(["user", "add", "x", "--role", "no-such-role"]) == 2
    code, out = _run(capsys, "user", "list")
    assert "bs.an\tNguyễn Văn An\tdoctor\tkhoa-noi" in out and "td.lan" in out and "weak" not in out
    assert _run(capsys, "user", "roles", "bs.an", "--add", "truong-khoa", "--department", "khoa-noi",
                "--department", "khoa-ngoai")[0] == 0
    user = _user(cli, "bs.an")
    assert set(user.roles) == {"doctor", "head-of-department"} and set(user.departments) == {"khoa-noi", "khoa-ngoai"}
    assert _run(capsys, "user", "disable", "bs.an")[0] == 0 and _user(cli, "bs.an").disabled
    assert _run(capsys, "user", "disable", "bs.an", "--enable")[0] == 0 and not _user(cli, "bs.an").disabled
    code, out = _run(capsys, "user", "reset-password", "bs.an")
    assert code == 0 and "one-time password:" in out and _user(cli, "bs.an").must_change_password
    assert _run(capsys, "user", "reset-password", "nobody")[0] == 2
    actions = [(a, e) for a, e, _ in _audit(cli)]
    for expected in (("user-add", "user/bs.an"), ("user-add", "user/td.lan"), ("permission-change", "user/bs.an"),
                     ("user-disable", "user/bs.an"), ("user-enable", "user/bs.an"), ("password-reset", "user/bs.an")):
        assert expected in actions
    change = next(d for a, _, d in _audit(cli) if a == "permission-change")
    assert change == "roles doctor -> doctor,head-of-department; departments=khoa-noi,khoa-ngoai"
    assert not any(STRONG in (d or "") for _, _, d in _audit(cli))  # never a password


def test_token_issue_for_a_user_and_a_backend_client(cli, capsys):
    from .test_oauth_backend import jwks_for, new_key, register

    put(cli.admin, patient("p1"))
    cli.user("kt.an", ["technician"])
    code, token = _run(capsys, "token", "issue", "--user", "kt.an", "--scope", "user/Patient.rs", "--ttl", "120")
    assert code == 0
    api = cli.client_for(token.strip())
    assert api.get("Patient/p1").status_code == 200 and api.get("Observation").status_code == 403  # the scope
    register(cli, "so-y-te", scope="system/Patient.rs", jwks=jwks_for(new_key("ES384"), "k1", "ES384"))
    code, token = _run(capsys, "token", "issue", "--client", "so-y-te", "--scope", "system/*.rs")
    assert code == 0
    system = cli.client_for(token.strip())
    assert system.get("Patient/p1").status_code == 200 and system.get("Observation").status_code == 403
    assert _run(capsys, "token", "issue", "--client", "nobody", "--scope", "system/*.rs")[0] == 2
    assert _run(capsys, "token", "issue", "--user", "kt.an", "--scope", "openid")[0] == 2  # no resource scope
    issued = [d for a, _, d in _audit(cli) if a == "token-issue"]
    assert len(issued) == 2 and issued[0].startswith("scope=user/Patient.rs by cli:")


def test_break_glass_list(cli, capsys):
    from benhan.security.breakglass import open_grant

    user = cli.user("bs.em", ["doctor"], departments=["khoa-cap-cuu"])
    with cli.tx() as conn:
        open_grant(conn, user_id=user.id, username="bs.em", departments=user.departments, patient_id="p9",
                   reason="Cấp cứu: bệnh nhân bất tỉnh", minutes=60)
    code, out = _run(capsys, "break-glass", "list", "--department", "khoa-cap-cuu")
    assert code == 0 and "bs.em\tPatient/p9\tkhoa-cap-cuu\tCấp cứu: bệnh nhân bất tỉnh" in out
    assert _run(capsys, "break-glass", "list", "--department", "khoa-khac")[1] == ""

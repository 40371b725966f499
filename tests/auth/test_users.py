"""The local accounts file and its command line."""

import io
import json
import os
import re
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from argon2 import PasswordHasher

import auth.users
from auth.roles import Viewer
from auth.users import UserStore, is_valid_name, user_fingerprint, users_file_path, validate_name

REPO = Path(__file__).resolve().parents[2]
CODES = ("E06000010", "E06000011", "E06000012", "E06000013")
PASSWORD = "correct horse battery"
# Cheap argon2id parameters keep the tests fast; production uses PasswordHasher().
FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
def store(tmp_path):
    return UserStore(tmp_path / "users.json", known_lad_codes=CODES, hasher=FAST)


def test_add_then_verify(store):
    store.add("alice", role="analyst", password=PASSWORD)
    store.add("hull.vpo@example.org", role="csp:E06000010", password=PASSWORD + "!")
    assert store.verify("alice", PASSWORD) == Viewer(name="alice", role="analyst")
    assert store.verify("hull.vpo@example.org", PASSWORD + "!") == Viewer(
        name="hull.vpo@example.org", role="csp", lad_code="E06000010")
    assert store.verify("alice", PASSWORD + "!") is None
    assert store.verify("alice", "") is None
    assert store.verify("nobody", PASSWORD) is None
    assert store.verify("not a valid name", PASSWORD) is None
    assert store.verify("", PASSWORD) is None


def test_names_are_case_insensitive_and_unique(store):
    store.add("Alice", role="partner", password=PASSWORD)
    assert store.verify("alice", PASSWORD) == Viewer(name="Alice", role="partner")
    with pytest.raises(ValueError, match="already exists"):
        store.add("ALICE", role="admin", password=PASSWORD)


def test_duplicate_add_is_refused_and_leaves_the_user_unchanged(store):
    store.add("alice", role="analyst", password=PASSWORD)
    with pytest.raises(ValueError, match="User 'alice' already exists"):
        store.add("alice", role="admin", password="another password")
    assert store.list() == [("alice", "analyst")]
    assert store.verify("alice", PASSWORD) is not None


def test_file_is_0600_json_and_never_holds_the_password(store):
    store.add("alice", role="analyst", password=PASSWORD)
    store.add("bob", role="public", password="bob's long password")
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    text = store.path.read_text()
    assert PASSWORD not in text and "bob's long password" not in text
    users = json.loads(text)["users"]
    assert users["alice"]["role"] == "analyst"
    assert users["alice"]["hash"].startswith("$argon2id$")
    assert [p.name for p in store.path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_remove_and_list(store):
    assert store.list() == []
    store.add("carol", role="public", password=PASSWORD)
    store.add("alice", role="csp:E06000013", password=PASSWORD)
    store.add("bob", role="admin", password=PASSWORD)
    assert store.list() == [("alice", "csp:E06000013"), ("bob", "admin"), ("carol", "public")]
    store.remove("bob")
    assert store.list() == [("alice", "csp:E06000013"), ("carol", "public")]
    assert store.verify("bob", PASSWORD) is None
    with pytest.raises(ValueError, match="No user 'bob'"):
        store.remove("bob")


def test_role_of_needs_no_password(store):
    store.add("Pat@Example.org", role="partner", password=PASSWORD)
    assert store.role_of("pat@example.org") == Viewer(name="Pat@Example.org", role="partner")
    assert store.role_of("someone@example.org") is None
    assert store.role_of("") is None


@pytest.mark.parametrize("name, match", [("", "user name must be 1-64"),
                                         ("a" * 65, "user name must be 1-64"),
                                         ("al ice", "user name must be 1-64"),
                                         ("alice/..", "user name must be 1-64")])
def test_invalid_names_are_refused(store, name, match):
    with pytest.raises(ValueError, match=match):
        store.add(name, role="analyst", password=PASSWORD)


def test_invalid_roles_and_passwords_are_refused(store):
    with pytest.raises(ValueError, match="Unknown role 'root'. Valid roles: analyst"):
        store.add("alice", role="root", password=PASSWORD)
    with pytest.raises(ValueError, match="Unknown LAD code 'E09000001'"):
        store.add("alice", role="csp:E09000001", password=PASSWORD)
    with pytest.raises(ValueError, match="password is empty"):
        store.add("alice", role="analyst", password="")
    with pytest.raises(ValueError, match="at least 10 characters. Got 9"):
        store.add("alice", role="analyst", password="123456789")
    assert not store.path.exists()


def test_outdated_hash_is_rehashed_on_login(tmp_path):
    path = tmp_path / "users.json"
    UserStore(path, known_lad_codes=CODES, hasher=FAST).add("alice", role="admin",
                                                            password=PASSWORD)
    old = json.loads(path.read_text())["users"]["alice"]["hash"]
    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    assert UserStore(path, known_lad_codes=CODES, hasher=stronger).verify("alice", PASSWORD)
    new = json.loads(path.read_text())["users"]["alice"]["hash"]
    assert new != old and "t=2" in new
    assert UserStore(path, known_lad_codes=CODES, hasher=FAST).verify("alice", PASSWORD)


def test_a_role_no_longer_configured_is_refused_with_a_warning(tmp_path):
    path = tmp_path / "users.json"
    UserStore(path, known_lad_codes=CODES, hasher=FAST).add("vpo", role="csp:E06000013",
                                                            password=PASSWORD)
    fewer = UserStore(path, known_lad_codes=CODES[:2], hasher=FAST)
    with pytest.warns(UserWarning, match="User 'vpo'.*refused.*Unknown LAD code"):
        assert fewer.verify("vpo", PASSWORD) is None


def test_a_malformed_file_is_reported(tmp_path):
    path = tmp_path / "users.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        UserStore(path, known_lad_codes=CODES).list()


def test_users_file_path(monkeypatch, tmp_path):
    monkeypatch.delenv("HUMBER_USERS_FILE", raising=False)
    assert users_file_path() is None  # the shipped setting is ""
    monkeypatch.setenv("HUMBER_USERS_FILE", str(tmp_path / "u.json"))
    assert users_file_path() == tmp_path / "u.json"
    monkeypatch.setenv("HUMBER_USERS_FILE", "secrets/users.json")
    assert users_file_path() == REPO / "secrets" / "users.json"


# -- command line -----------------------------------------------------------------------------

def run_cli(*arguments, stdin=""):
    environment = {k: v for k, v in os.environ.items() if k != "HUMBER_USERS_FILE"}
    return subprocess.run([sys.executable, "-m", "auth.users", *arguments], input=stdin,
                          capture_output=True, text=True, cwd=REPO, env=environment, timeout=60)


def test_cli_add_list_remove(tmp_path):
    path = str(tmp_path / "users.json")
    added = run_cli("add", "alice", "--role", "analyst", "--file", path, stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    assert PASSWORD not in added.stdout + added.stderr
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert UserStore(path).verify("alice", PASSWORD) == Viewer(name="alice", role="analyst")

    listed = run_cli("list", "--file", path)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == ["alice\tanalyst"]
    assert "argon2" not in listed.stdout

    removed = run_cli("remove", "alice", "--file", path)
    assert removed.returncode == 0, removed.stderr
    assert UserStore(path).list() == []


@pytest.mark.parametrize("arguments, stdin, message", [
    (["add", "bob", "--role", "superuser"], PASSWORD, "Unknown role 'superuser'"),
    (["add", "bob", "--role", "csp:E06000099"], PASSWORD, "Unknown LAD code 'E06000099'"),
    (["add", "bob", "--role", "analyst"], "short\n", "at least 10 characters"),
    (["add", "bob", "--role", "analyst"], "", "password is empty"),
    (["add", "bad name", "--role", "analyst"], PASSWORD, "user name must be 1-64"),
    (["add", "alice", "--role", "admin"], PASSWORD, "User 'alice' already exists"),
    (["remove", "nobody"], "", "No user 'nobody'"),
    (["add", "bob"], PASSWORD, "--role"),
])
def test_cli_errors_exit_2_with_a_message(tmp_path, arguments, stdin, message):
    path = tmp_path / "users.json"
    UserStore(path, hasher=FAST).add("alice", role="analyst", password=PASSWORD)
    before = path.read_bytes()
    result = run_cli(*arguments, "--file", str(path), stdin=stdin)
    assert result.returncode == 2
    assert message in result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    assert path.read_bytes() == before


def test_cli_without_a_file_says_how_to_configure_one():
    result = run_cli("list")
    assert result.returncode == 2
    assert "HUMBER_USERS_FILE" in result.stderr and "--file" in result.stderr


# -- changing passwords and roles, fingerprints, name checks ----------------------------------

def test_set_password_replaces_the_hash(store):
    store.add("Alice", role="analyst", password=PASSWORD)
    store.add("bob", role="public", password=PASSWORD)
    store.set_password("alice", "a brand new password")  # case-insensitive
    assert store.verify("alice", PASSWORD) is None
    assert store.verify("alice", "a brand new password") == Viewer(name="Alice", role="analyst")
    assert store.verify("bob", PASSWORD) is not None  # others untouched
    assert store.list() == [("Alice", "analyst"), ("bob", "public")]
    assert "a brand new password" not in store.path.read_text()
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600


def test_set_role_changes_only_the_role(store):
    store.add("vpo", role="analyst", password=PASSWORD)
    store.set_role("VPO", " CSP:e06000011 ")
    assert store.list() == [("vpo", "csp:E06000011")]
    assert store.verify("vpo", PASSWORD) == Viewer(name="vpo", role="csp", lad_code="E06000011")
    store.set_role("vpo", "partner")
    assert store.role_of("vpo") == Viewer(name="vpo", role="partner")


@pytest.mark.parametrize("call, error, match", [
    (lambda s: s.set_password("nobody", PASSWORD), ValueError, "No user 'nobody'.*Users: alice"),
    (lambda s: s.set_password("alice", "short"), ValueError, "at least 10 characters. Got 5"),
    (lambda s: s.set_password("alice", ""), ValueError, "password is empty"),
    (lambda s: s.set_password("al ice", PASSWORD), ValueError, "user name must be 1-64"),
    (lambda s: s.set_password("alice", None), TypeError, "password must be a str. Got NoneType"),
    (lambda s: s.set_role("nobody", "admin"), ValueError, "No user 'nobody'"),
    (lambda s: s.set_role("alice", "root"), ValueError, "Unknown role 'root'. Valid roles"),
    (lambda s: s.set_role("alice", "csp:E09000001"), ValueError, "Unknown LAD code 'E09000001'"),
    (lambda s: s.set_role("alice\n", "admin"), ValueError, "user name must be 1-64"),
    (lambda s: s.set_role(7, "admin"), TypeError, "user name must be a str. Got int"),
])
def test_invalid_changes_are_refused_and_change_nothing(store, call, error, match):
    store.add("alice", role="analyst", password=PASSWORD)
    before = store.path.read_bytes()
    with pytest.raises(error, match=match):
        call(store)
    assert store.path.read_bytes() == before


def test_changes_are_atomic_under_concurrency(store):
    store.add("alice", role="analyst", password=PASSWORD)
    errors = []

    def run(step):
        try:
            step()
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    steps = [lambda n=n: store.add(f"user{n}", role="public", password=PASSWORD) for n in range(8)]
    steps += [lambda: store.set_role("alice", "admin"),
              lambda: store.set_password("alice", "a brand new password")]
    threads = [threading.Thread(target=run, args=(step,)) for step in steps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(store.list()) == 9  # no change lost another's
    assert store.verify("alice", "a brand new password") == Viewer(name="alice", role="admin")


def test_the_fingerprint_changes_with_the_password_or_role(store):
    store.add("alice", role="analyst", password=PASSWORD)
    first = store.fingerprint("alice")
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    assert store.fingerprint("ALICE") == first
    record = json.loads(store.path.read_text())["users"]["alice"]
    assert user_fingerprint(record) == first
    assert PASSWORD not in first and record["hash"] not in first

    store.set_password("alice", PASSWORD)  # even the same password: a new salt
    second = store.fingerprint("alice")
    assert second != first
    store.set_role("alice", "admin")
    third = store.fingerprint("alice")
    assert third not in (first, second)
    store.set_role("alice", "admin")  # no change, same fingerprint
    assert store.fingerprint("alice") == third

    store.remove("alice")
    assert store.fingerprint("alice") is None
    store.add("alice", role="admin", password=PASSWORD)  # same name, role and password
    assert store.fingerprint("alice") not in (None, first, second, third)


def test_the_fingerprint_ignores_changes_to_other_users(store):
    store.add("alice", role="analyst", password=PASSWORD)
    before = store.fingerprint("alice")
    store.add("bob", role="public", password=PASSWORD)
    store.set_password("bob", "another long password")
    store.set_role("bob", "partner")
    store.remove("bob")
    assert store.verify("alice", PASSWORD) is not None
    assert store.fingerprint("alice") == before


def test_the_fingerprint_of_unknown_or_invalid_names_is_none(store):
    assert store.fingerprint("alice") is None  # no file yet
    store.add("alice", role="analyst", password=PASSWORD)
    for name in ["bob", "", "al ice", "alice\n", "a" * 65, None, 5]:
        assert store.fingerprint(name) is None


def test_user_fingerprint_depends_on_both_fields_and_checks_its_input():
    record = {"role": "analyst", "hash": "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA"}
    assert user_fingerprint(dict(record)) == user_fingerprint(record)
    assert user_fingerprint({**record, "role": "admin"}) != user_fingerprint(record)
    assert user_fingerprint({**record, "hash": record["hash"] + "x"}) != user_fingerprint(record)
    # The fields cannot run into each other.
    assert user_fingerprint({"role": "ab", "hash": "c"}) != user_fingerprint({"role": "a",
                                                                              "hash": "bc"})
    with pytest.raises(TypeError, match="must be a dict with 'role' and 'hash'. Got list"):
        user_fingerprint([record])
    with pytest.raises(ValueError, match="must have a str 'hash'. Got None"):
        user_fingerprint({"role": "admin"})
    with pytest.raises(ValueError, match="must have a str 'role'. Got 3"):
        user_fingerprint({"role": 3, "hash": "x"})


@pytest.mark.parametrize("text, valid", [
    ("alice", True), ("hull.vpo@example.org", True), ("A-b_c.d", True), ("a" * 64, True),
    ("", False), ("a" * 65, False), ("al ice", False), ("alice\n", False), ("ålice", False),
    ("alice/..", False), (None, False), (5, False), (b"alice", False), (["alice"], False),
])
def test_is_valid_name_never_raises(text, valid):
    assert is_valid_name(text) is valid
    if isinstance(text, str) and not valid:
        with pytest.raises(ValueError, match="user name must be 1-64"):
            validate_name(text)


# -- command line, in process -----------------------------------------------------------------

class TerminalInput(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def cli(tmp_path, monkeypatch):
    """Run main() on a users file holding alice (analyst), with cheap argon2 parameters."""
    monkeypatch.setattr(auth.users, "PasswordHasher", lambda: FAST)
    path = tmp_path / "users.json"
    UserStore(path, hasher=FAST).add("alice", role="analyst", password=PASSWORD)

    def run(*arguments, stdin=""):
        return auth.users.main([*arguments, "--file", str(path)],
                               stdin=stdin if isinstance(stdin, io.StringIO)
                               else io.StringIO(stdin))

    run.path = path
    return run


def test_cli_passwd_reads_one_line_from_a_pipe(cli, capsys):
    before = UserStore(cli.path).fingerprint("alice")
    assert cli("passwd", "ALICE", stdin="a brand new password\nignored\n") == 0
    out, err = capsys.readouterr()
    assert out == f"Changed the password of alice in {cli.path}.\n" and err == ""
    store = UserStore(cli.path, hasher=FAST)
    assert store.verify("alice", "a brand new password") == Viewer(name="alice", role="analyst")
    assert store.verify("alice", PASSWORD) is None
    assert store.fingerprint("alice") != before


def test_cli_passwd_asks_twice_on_a_terminal(cli, capsys, monkeypatch):
    answers = iter(["a terminal password", "a terminal password"])
    prompts = []
    monkeypatch.setattr(auth.users.getpass, "getpass",
                        lambda prompt: prompts.append(prompt) or next(answers))
    assert cli("passwd", "alice", stdin=TerminalInput("not read\n")) == 0
    assert prompts == ["Password: ", "Repeat the password: "]
    assert UserStore(cli.path, hasher=FAST).verify("alice", "a terminal password") is not None
    assert "a terminal password" not in capsys.readouterr().out

    answers = iter(["one long password", "another password"])
    before = cli.path.read_bytes()
    assert cli("passwd", "alice", stdin=TerminalInput()) == 2
    assert "error: The two passwords differ." in capsys.readouterr().err
    assert cli.path.read_bytes() == before


def test_cli_role(cli, capsys):
    before = UserStore(cli.path).fingerprint("alice")
    assert cli("role", "Alice", "--role", "csp:e06000012") == 0
    out, err = capsys.readouterr()
    assert out == f"Changed the role of alice to csp:E06000012 in {cli.path}.\n" and err == ""
    assert UserStore(cli.path).list() == [("alice", "csp:E06000012")]
    assert UserStore(cli.path).fingerprint("alice") != before
    assert UserStore(cli.path, hasher=FAST).verify("alice", PASSWORD) is not None


@pytest.mark.parametrize("arguments, stdin, message", [
    (["passwd", "nobody"], PASSWORD + "\n", "No user 'nobody'"),
    (["passwd", "alice"], "short\n", "at least 10 characters"),
    (["passwd", "alice"], "", "password is empty"),
    (["passwd", "bad name"], PASSWORD + "\n", "user name must be 1-64"),
    (["role", "nobody", "--role", "admin"], "", "No user 'nobody'"),
    (["role", "alice", "--role", "root"], "", "Unknown role 'root'"),
    (["role", "alice", "--role", "csp:E06000099"], "", "Unknown LAD code 'E06000099'"),
    (["role", "alice"], "", "--role"),
    (["add", "ALICE", "--role", "admin"], PASSWORD, "change its password with 'passwd'"),
])
def test_cli_change_errors_exit_2_with_a_message(cli, capsys, arguments, stdin, message):
    before = cli.path.read_bytes()
    try:
        status = cli(*arguments, stdin=stdin)
    except SystemExit as exit:  # argparse's errors exit by themselves
        status = exit.code
    assert status == 2
    out, err = capsys.readouterr()
    assert message in err
    assert PASSWORD not in out + err
    assert cli.path.read_bytes() == before


def test_cli_passwd_for_an_unknown_user_does_not_read_a_password(cli, capsys):
    stdin = io.StringIO(PASSWORD + "\n")
    assert cli("passwd", "nobody", stdin=stdin) == 2
    assert stdin.tell() == 0


def test_cli_help_lists_the_new_commands(capsys):
    with pytest.raises(SystemExit):
        auth.users.main(["--help"])
    out = capsys.readouterr().out
    assert "passwd" in out and "role" in out
    assert "passwd NAME" in auth.users.__doc__ and "role NAME --role ROLE" in auth.users.__doc__


def test_account_changes_on_the_command_line_are_audited(tmp_path, monkeypatch):
    import io

    from auth.audit import AuditLog, default_audit_path
    from auth.users import main

    monkeypatch.setenv("HUMBER_DATA_DIR", str(tmp_path / "store"))
    path = str(tmp_path / "users.json")
    assert main(["add", "zoe", "--role", "partner", "--file", path],
                stdin=io.StringIO("a long password\n")) == 0
    assert main(["passwd", "zoe", "--file", path], stdin=io.StringIO("another password\n")) == 0
    assert main(["role", "zoe", "--role", "analyst", "--file", path]) == 0
    assert main(["remove", "zoe", "--file", path]) == 0
    records = AuditLog(default_audit_path()).read()
    assert [r["event"] for r in records] == ["account_changed", "password_changed",
                                             "account_changed", "account_changed"]
    assert all("account zoe" in r["what"] and "(command line)" in r["user"] for r in records)
    assert not any("password" in r["what"] and "long" in r["what"] for r in records)
    assert AuditLog(default_audit_path()).verify().ok

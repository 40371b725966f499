"""The local accounts file and its command line."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from auth.roles import Viewer
from auth.users import UserStore, users_file_path

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

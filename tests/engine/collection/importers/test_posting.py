"""Converting a Posting directory into a collection: same folders, env files carried over,
secrets out of the YAML, and what has no equivalent named."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from engine.collection.importers.posting import import_posting
from engine.collection.loader import load_collection
from engine.errors import CollectionError
from engine.plan.build import build_plan
from tests.servers.shop import BASIC, SID, TOKEN

POSTING = Path(__file__).parent / "data" / "posting"


def test_posting_directory_converts_into_an_editable_collection(tmp_path: Path) -> None:
    result = import_posting(POSTING, tmp_path / "out")
    root = tmp_path / "out"
    c = load_collection(root)
    assert not c.read_only
    assert sorted(r.relpath.as_posix() for r in c.requests) == [
        "admin/home.yaml",
        "auth/login.yaml",
        "auth/me.yaml",
        "cart/add.yaml",
        "cart/remove.yaml",
        "items/get_one.yaml",
        "items/list.yaml",
        "orders/create.yaml",
        "reports.yaml",
    ]
    by_name = {r.name: r for r in c.requests}
    assert by_name["list items"].headers == {"Cookie": "sid={{SID}}"}
    assert by_name["admin home"].headers == {"Authorization": "Basic {{basic_auth}}"}
    env = (root / ".env").read_text().splitlines()
    assert "API={{BASE_URL}}/api" in env  # posting.env's ${BASE_URL}, in this file's syntax
    assert f"basic_auth={BASIC}" in env and f"TOKEN={TOKEN}" in env
    assert stat.S_IMODE((root / ".env").stat().st_mode) == 0o600
    yaml_text = "".join(p.read_text() for p in root.rglob("*.yaml"))
    for secret in (TOKEN, SID, "hunter2!", "s3same"):
        assert secret not in yaml_text
    assert result.warnings == [
        "auth/login.posting.yaml: on_response script scripts/save_token.py not carried over",
        "reports.posting.yaml: proxy http://proxy.internal:3128 not carried over",
    ]
    assert result.notes == ["env files not carried over: dev.env (name them with --env)"]
    sent = {r.name: r for r in build_plan(c, environ={}).requests}
    assert sent["who am i"].url == "http://127.0.0.1:8089/api/me"
    assert dict(sent["admin home"].headers)["Authorization"] == f"Basic {BASIC}"


def test_named_env_files_are_merged_later_ones_winning(tmp_path: Path) -> None:
    result = import_posting(
        POSTING, tmp_path / "out", env=[POSTING / "posting.env", POSTING / "dev.env"]
    )
    sent = {r.name: r for r in build_plan(result.collection, environ={}).requests}
    assert sent["who am i"].url == "https://dev.shop.example.com/api/me"
    assert result.notes == []


def test_basic_auth_the_env_files_cannot_fill_is_left_to_fill_in(tmp_path: Path) -> None:
    source = shutil.copytree(POSTING, tmp_path / "posting")
    (source / "posting.env").write_text("API=http://127.0.0.1:9\n")
    result = import_posting(source, tmp_path / "out")
    assert "basic_auth" in result.to_fill
    assert (
        "admin/home.posting.yaml: basic auth uses ADMIN_PASS, ADMIN_USER, which the env files"
        " do not define; fill in basic_auth in the env file"
    ) in result.warnings


def test_bad_posting_sources_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CollectionError, match="not a directory"):
        import_posting(POSTING / "posting.env", tmp_path / "a")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CollectionError, match=r"no \*\.posting\.yaml files here"):
        import_posting(tmp_path / "empty", tmp_path / "b")
    import_posting(POSTING, tmp_path / "c")
    with pytest.raises(CollectionError, match="already exists"):
        import_posting(POSTING, tmp_path / "c")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()

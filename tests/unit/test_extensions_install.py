"""Installing an extension from a git URL (a local repository: no network here) or a folder, the refusals,
and its git facts as GET /sdapi/v1/extensions reports them."""

from __future__ import annotations

from pathlib import Path

import pytest

from modules.app import build_app
from modules.extensions.git_info import read_git_info
from modules.extensions.install import InstallError, default_name, install_extension, is_git_url
from modules.messages import msg
from modules.settings import Settings
from tests.extension_kit import git, git_repository, write_extension

CODE = "def register(ext):\n    ext.registry.upscalers.register('Installed upscaler', 1)\n"


def settings(tmp_path: Path, **flags: object) -> Settings:
    return Settings(data_dir=tmp_path / "data", device="cpu", demo_checkpoint=None, **flags)


def leftovers(s: Settings) -> list[str]:
    return sorted(p.name for p in s.extensions_path.iterdir()) if s.extensions_path.exists() else []


def test_install_from_a_git_url_clones_it_and_it_loads_at_the_next_start(tmp_path: Path) -> None:
    commit = git_repository(tmp_path / "repo", CODE)
    s = settings(tmp_path)
    path = install_extension(s, (tmp_path / "repo").as_uri())
    assert path == s.extensions_path / "repo" and (path / "extension.py").read_text() == CODE
    facts = read_git_info(path)
    assert facts.commit_hash == commit and facts.version == commit[:8] and facts.branch == "main"
    assert facts.remote == (tmp_path / "repo").as_uri() and isinstance(facts.commit_date, int)
    app = build_app(s)
    assert app.extensions.get("repo").status == "loaded" and "Installed upscaler" in app.registry.upscalers


def test_install_from_a_git_url_with_a_branch_and_a_folder_name(tmp_path: Path) -> None:
    git_repository(tmp_path / "repo", CODE)
    git(tmp_path / "repo", "checkout", "-q", "-b", "dev")
    (tmp_path / "repo" / "extension.py").write_text(CODE + "# dev\n")
    git(tmp_path / "repo", "commit", "-q", "-am", "dev")
    path = install_extension(settings(tmp_path), (tmp_path / "repo").as_uri() + "/", name="my-ext", branch="dev")
    assert path.name == "my-ext" and (path / "extension.py").read_text().endswith("# dev\n")
    assert read_git_info(path).branch == "dev"


def test_install_from_a_folder_copies_it(tmp_path: Path) -> None:
    source = write_extension(tmp_path / "src", "local-ext", CODE, {"helper.py": "X = 1\n"})
    s = settings(tmp_path)
    path = install_extension(s, str(source))
    assert path == s.extensions_path / "local-ext" and (path / "helper.py").read_text() == "X = 1\n"
    assert (source / "extension.py").exists()  # copied, not moved
    assert read_git_info(path).commit_hash == "" and read_git_info(path).remote is None


def test_install_is_refused_when_shared_with_listen(tmp_path: Path) -> None:
    source = write_extension(tmp_path / "src", "local-ext", CODE)
    locked = settings(tmp_path, listen=True)
    with pytest.raises(InstallError) as refused:
        install_extension(locked, str(source))
    assert str(refused.value) == msg("extensions_locked")
    assert leftovers(locked) == []
    allowed = settings(tmp_path, listen=True, enable_insecure_extension_access=True)
    assert install_extension(allowed, str(source)).is_dir()


def test_install_failures_say_why_and_leave_nothing_behind(tmp_path: Path) -> None:
    s = settings(tmp_path)
    source = write_extension(tmp_path / "src", "local-ext", CODE)
    install_extension(s, str(source))
    with pytest.raises(InstallError, match="already exists"):
        install_extension(s, str(source))
    (tmp_path / "not-ext").mkdir()
    (tmp_path / "not-ext" / "readme.txt").write_text("hello")
    with pytest.raises(InstallError) as no_entry:
        install_extension(s, str(tmp_path / "not-ext"))
    assert str(no_entry.value) == msg("extension_not_extension", source=str(tmp_path / "not-ext"))
    with pytest.raises(InstallError) as bad_source:
        install_extension(s, "no such folder or url")
    assert str(bad_source.value) == msg("extension_bad_source", source="no such folder or url")
    with pytest.raises(InstallError, match="git clone of file:///nowhere/at/all.git failed: .*Check the URL"):
        install_extension(s, "file:///nowhere/at/all.git")
    with pytest.raises(InstallError, match="cannot be an extension folder name"):
        install_extension(s, str(source), name="../escape")
    with pytest.raises(InstallError, match="neither a folder"):
        install_extension(s, "   ")
    assert leftovers(s) == ["local-ext"]  # no half-made folder (the .installing-… ones are gone)


def test_git_urls_and_names() -> None:
    assert is_git_url("https://github.com/user/repo.git") and is_git_url("git@github.com:user/repo.git")
    assert is_git_url("file:///tmp/repo") and not is_git_url("/tmp/repo") and not is_git_url("ext::sh -c touch")
    assert default_name("https://github.com/user/sd-webui-thing.git/") == "sd-webui-thing"
    assert default_name("git@github.com:user/repo.git") == "repo"

"""Reading input files without leaving the repository, even when a symlink is swapped in after
the path was checked."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from reconciler import manifest, repofiles
from reconciler.errors import ProviderRejected
from reconciler.providers.base import Media


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "repo/pins").mkdir(parents=True)
    (tmp_path / "repo/pins/a.yaml").write_text("id: a\n")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside/a.yaml").write_text("secret\n")
    return tmp_path / "repo"


def test_a_link_inside_the_repository_is_followed(root: Path) -> None:
    (root / "alias").symlink_to("pins")
    real = repofiles.confine(root, root / "alias/a.yaml")
    assert real == (root / "pins/a.yaml").resolve()
    assert repofiles.read_bounded(root, real, 100) == b"id: a\n"


def test_a_link_out_is_refused_before_anything_is_opened(root: Path) -> None:
    (root / "pins/out.yaml").symlink_to(root.parent / "outside/a.yaml")
    with pytest.raises(repofiles.OutsideRepository) as refused:
        repofiles.confine(root, root / "pins/out.yaml")
    assert refused.value.real == (root.parent / "outside/a.yaml").resolve()


@pytest.mark.parametrize("swapped", ["pins", "pins/a.yaml"])
def test_a_link_swapped_in_after_the_check_is_not_followed(root: Path, swapped: str) -> None:
    real = repofiles.confine(root, root / "pins/a.yaml")
    # The check passed; now a folder or the file itself becomes a link out of the repository.
    outside = root.parent / "outside"
    (root / swapped).rename(root.parent / "moved")
    (root / swapped).symlink_to(outside / "a.yaml" if swapped == "pins/a.yaml" else outside)
    with pytest.raises(repofiles.Unreadable, match="cannot read it"):
        repofiles.read_bounded(root, real, 100)


def test_a_runs_reader_confines_as_each_file_alone_is_confined(root: Path) -> None:
    """The run's Resolver finds each folder's real path once: a link inside is followed, a link
    out refused, and a folder that becomes a link out after it was found is not followed."""
    (root / "alias").symlink_to("pins")
    (root / "pins/b.yaml").write_text("id: b\n")
    (root / "pins/linked.yaml").symlink_to("b.yaml")
    (root / "pins/out.yaml").symlink_to(root.parent / "outside/a.yaml")
    reader = repofiles.Resolver(root)
    assert reader.read(root / "alias/a.yaml", 100) == b"id: a\n"
    assert reader.read(root / "pins/linked.yaml", 100) == b"id: b\n"
    with pytest.raises(repofiles.OutsideRepository):
        reader.read(root / "pins/out.yaml", 100)
    (root / "pins").rename(root.parent / "moved")
    (root / "pins").symlink_to(root.parent / "outside")
    with pytest.raises(repofiles.Unreadable, match="cannot read it"):
        reader.read(root / "pins/a.yaml", 100)


def test_manifests_are_the_visible_yaml_files_with_links_to_files_but_not_folders(
    root: Path,
) -> None:
    pins = root / "pins"
    (pins / "nested/deeper").mkdir(parents=True)
    (pins / "nested/deeper/b.yml").write_text("id: b\n")
    (pins / ".hidden").mkdir()
    (pins / ".hidden/c.yaml").write_text("id: c\n")
    (pins / ".d.yaml").write_text("id: d\n")
    (pins / "notes.txt").write_text("not a manifest\n")
    (pins / "folder.yaml").mkdir()
    (pins / "linked").symlink_to(root.parent / "outside")  # a folder: not entered
    (pins / "alias.yaml").symlink_to("a.yaml")  # a file: listed (and confined when read)
    (pins / "dangling.yaml").symlink_to("nowhere.yaml")
    os.mkfifo(pins / "pipe.yaml")
    assert manifest.discover(pins) == [
        pins / "a.yaml",
        pins / "alias.yaml",
        pins / "nested/deeper/b.yml",
    ]


def test_the_size_is_refused_before_the_file_is_read(root: Path) -> None:
    with (root / "pins/big.yaml").open("wb") as out:
        out.truncate(1 << 33)  # sparse: 8 GiB by its size, nothing on disk
    real = repofiles.confine(root, root / "pins/big.yaml")
    with pytest.raises(repofiles.Unreadable, match="the file is 8,589,934,592 bytes"):
        repofiles.read_bounded(root, real, 8 * 1024 * 1024)


def test_a_fifo_is_refused_without_waiting(root: Path) -> None:
    os.mkfifo(root / "pins/pipe.yaml")
    real = repofiles.confine(root, root / "pins/pipe.yaml")
    with pytest.raises(repofiles.Unreadable, match="not a regular file"):
        repofiles.read_bounded(root, real, 100)


@pytest.mark.parametrize("swapped", ["pins", "pins/a.yaml"])
def test_an_upload_refuses_a_link_swapped_in_after_the_plan(root: Path, swapped: str) -> None:
    real = repofiles.confine(root, root / "pins/a.yaml")
    digest = hashlib.sha256(b"id: a\n").hexdigest()
    media = Media(kind="image", path=real, content_type="image/jpeg", sha256=digest, root=root)
    assert media.read() == b"id: a\n"
    outside = root.parent / "outside"
    (root / swapped).rename(root.parent / "moved")
    (root / swapped).symlink_to(outside / "a.yaml" if swapped == "pins/a.yaml" else outside)
    with pytest.raises(ProviderRejected, match=r"a\.yaml: cannot read it"):
        media.read()
    with pytest.raises(ProviderRejected, match=r"a\.yaml: cannot read it"):
        media.open()


def test_an_upload_refuses_a_file_changed_after_the_plan(root: Path) -> None:
    real = repofiles.confine(root, root / "pins/a.yaml")
    digest = hashlib.sha256(b"id: a\n").hexdigest()
    media = Media(kind="image", path=real, content_type="image/jpeg", sha256=digest, root=root)
    real.write_text("id: b\n")
    with pytest.raises(ProviderRejected, match=r"a\.yaml changed after the plan was made"):
        media.read()

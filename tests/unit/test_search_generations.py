"""The generations of an index folder and the pointer files that switch them."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.base import SearchError
from search.generations import Generations


def test_the_first_use_creates_the_first_generation_and_points_at_it(tmp_path: Path) -> None:
    generations = Generations(tmp_path / "index", marker="meta.json")
    assert generations.live() == "gen-0"
    assert (tmp_path / "index" / "gen-0").is_dir()
    assert (tmp_path / "index" / "CURRENT").read_text() == "gen-0\n"
    assert generations.building() is None


def test_a_folder_holding_an_index_of_its_own_is_the_live_one_until_replaced(tmp_path: Path) -> None:
    (tmp_path / "meta.json").write_text("{}")
    generations = Generations(tmp_path, marker="meta.json")
    assert generations.live() == ""
    name = generations.begin()
    generations.publish(name)
    assert generations.live() == name
    assert not (tmp_path / "meta.json").exists()


def test_publishing_is_seen_by_every_handle_and_removes_the_old_generation(tmp_path: Path) -> None:
    one, two = Generations(tmp_path, marker="meta.json"), Generations(tmp_path, marker="meta.json")
    assert one.live() == two.live() == "gen-0"
    name = one.begin()
    assert two.building() == name
    one.publish(name)
    assert two.live() == name and two.building() is None
    assert not (tmp_path / "gen-0").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["CURRENT", name]


def test_a_new_build_drops_an_unfinished_one_which_can_then_not_be_published(tmp_path: Path) -> None:
    generations = Generations(tmp_path, marker="meta.json")
    first = generations.begin()
    second = generations.begin()
    assert not (tmp_path / first).exists()
    with pytest.raises(SearchError):
        generations.publish(first)
    assert generations.live() == "gen-0"
    generations.publish(second)
    assert generations.live() == second


def test_dropping_a_build_leaves_the_live_generation(tmp_path: Path) -> None:
    generations = Generations(tmp_path, marker="meta.json")
    name = generations.begin()
    generations.drop(name)
    assert generations.live() == "gen-0" and generations.building() is None
    assert not (tmp_path / name).exists()

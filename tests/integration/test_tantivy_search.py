"""What only the Tantivy backend has: its folder of generations and the pointer that switches them."""

from __future__ import annotations

import multiprocessing
from dataclasses import replace
from datetime import date
from pathlib import Path

import tantivy

from search.base import IndexedDocument, SearchQuery, Visibility
from search.tantivy_index import TantivyIndex, build_schema, to_tantivy

EVERYONE = Visibility(departments=None, classifications=frozenset({"内部"}))


def document(document_id: int, text: str) -> IndexedDocument:
    return IndexedDocument(document_id=document_id, title=f"文件{document_id}", text=text, department="营销部",
                           classification="内部", document_date=date(2024, 3, 1))


def found(index: TantivyIndex, text: str) -> list[int]:
    return sorted(hit.document_id for hit in index.search(SearchQuery(text=text), EVERYONE).hits)


def test_the_index_folder_and_its_first_generation_are_created_on_first_use(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b"
    assert TantivyIndex(path).search(SearchQuery(), EVERYONE).total == 0
    assert (path / "CURRENT").read_text().strip() == "gen-0"
    assert (path / "gen-0" / "meta.json").is_file()


def test_publishing_switches_the_pointer_and_removes_the_old_generation(tmp_path: Path) -> None:
    index = TantivyIndex(tmp_path / "index")
    index.index([document(1, "旧的合同")])
    build = index.begin_rebuild()
    assert (tmp_path / "index" / "BUILDING").read_text().strip() == build.name
    build.add([document(2, "新的合同")])
    build.publish()
    assert (tmp_path / "index" / "CURRENT").read_text().strip() == build.name
    assert not (tmp_path / "index" / "BUILDING").exists()
    assert sorted(p.name for p in (tmp_path / "index").iterdir() if p.is_dir()) == [build.name]
    assert found(index, "合同") == [2]


def test_a_searcher_opened_before_the_swap_reopens_on_its_next_search(tmp_path: Path) -> None:
    reader, writer = TantivyIndex(tmp_path / "index"), TantivyIndex(tmp_path / "index")
    writer.index([document(1, "旧的合同")])
    assert found(reader, "合同") == [1]  # the reader now holds the first generation open
    build = writer.begin_rebuild()
    build.add([document(2, "新的合同")])
    build.publish()  # removes the folder the reader had open
    assert found(reader, "合同") == [2]


def test_an_index_from_before_generations_serves_until_the_first_rebuild(tmp_path: Path) -> None:
    folder = tmp_path / "index"
    folder.mkdir()
    legacy = tantivy.Index(build_schema(), path=str(folder))  # the old layout: files at the top
    writer = legacy.writer()
    writer.add_document(to_tantivy([document(1, "旧版的合同")])[0])
    writer.commit()
    writer.wait_merging_threads()
    index = TantivyIndex(folder)
    assert found(index, "合同") == [1]
    build = index.begin_rebuild()
    build.add([document(2, "新的合同")])
    build.publish()
    assert found(index, "合同") == [2]
    assert not (folder / "meta.json").exists()
    assert [p.name for p in folder.iterdir() if p.is_file()] == ["CURRENT"]


def test_an_index_from_before_the_later_fields_filters_by_department_and_classification(tmp_path: Path) -> None:
    folder = tmp_path / "index" / "gen-0"
    folder.mkdir(parents=True)
    (tmp_path / "index" / "CURRENT").write_text("gen-0\n")
    older = tantivy.Index(build_schema(optional=()), path=str(folder))  # no lent_to, no access field
    writer = older.writer()
    for doc in (document(1, "合同甲"), replace(document(2, "合同乙"), department="运检部"),
                replace(document(3, "合同丙"), classification="机密")):
        writer.add_document(to_tantivy([doc], optional=())[0])
    writer.commit()
    writer.wait_merging_threads()
    index = TantivyIndex(tmp_path / "index")
    staff = Visibility(departments=frozenset({"营销部"}), classifications=frozenset({"内部"}))
    assert sorted(hit.document_id for hit in index.search(SearchQuery(text="合同"), staff).hits) == [1]
    lent = Visibility(staff.departments, staff.classifications, frozenset({2}), lent_to=9)
    assert sorted(hit.document_id for hit in index.search(SearchQuery(text="合同"), lent).hits) == [1, 2]
    index.index([replace(document(4, "合同丁"), lent_to=(9,))])  # written without the fields it lacks
    assert sorted(hit.document_id for hit in index.search(SearchQuery(text="合同"), staff).hits) == [1, 4]


def test_a_document_without_a_department_is_not_visible_by_an_empty_department_name(tmp_path: Path) -> None:
    index = TantivyIndex(tmp_path / "index")
    index.index([document(1, "合同甲"), replace(document(2, "合同乙"), department="")])
    odd = Visibility(departments=frozenset({"", "营销部"}), classifications=frozenset({"内部", ""}))
    assert sorted(hit.document_id for hit in index.search(SearchQuery(text="合同"), odd).hits) == [1]


def _search_in_child(path: Path, totals: multiprocessing.Queue) -> None:
    result = TantivyIndex(path).search(SearchQuery(text="合同"), EVERYONE)
    totals.put((result.total, result.facets["department"]))


def test_a_process_forked_after_a_search_runs_its_own_second_pass(tmp_path: Path) -> None:
    # A search's facets run on a thread pool; a forked child inherits the pool but not its threads.
    index = TantivyIndex(tmp_path / "index")
    index.index([document(1, "供用电合同"), document(2, "合同续签")])
    assert index.search(SearchQuery(text="合同"), EVERYONE).total == 2
    fork = multiprocessing.get_context("fork")
    totals = fork.Queue()
    child = fork.Process(target=_search_in_child, args=(tmp_path / "index", totals))
    child.start()
    child.join(timeout=30)
    if child.is_alive():
        child.kill()
    assert child.exitcode == 0
    assert totals.get(timeout=5) == (2, {"营销部": 2})

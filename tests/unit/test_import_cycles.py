"""No module of ours imports itself back, however long the way round (the import graph is a DAG),
and no package of the model server imports a sibling that imports it back.

The second is not implied by the first: ``tools.archive`` imported ``training.cards`` while
``training.face_type`` imported ``tools.dlib_weights``, no module cycle, but ``tools`` and
``training`` each needed the other. import-linter's contracts (``make lint``: the model server's
layers, ``acyclic_siblings``) say the same; this keeps it in the test suite.
"""

from __future__ import annotations

import grimp

PACKAGES = ("core", "gateway", "db", "model_server")
ACYCLIC_PACKAGES = ("core", "db", "model_server")  # not yet the gateway's: deps <-> domains


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The graph's strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = [stack.pop()]
            while component[-1] != module:
                component.append(stack.pop())
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def sibling_cycles(graph: grimp.ImportGraph, package: str) -> list[list[str]]:
    """Cycles among the children of ``package`` and of every package below it, each child
    standing for everything in it (an import from any of its modules counts as the child's)."""
    children = sorted(graph.find_children(package))
    siblings = grimp.ImportGraph()
    for child in children:
        siblings.add_module(child)
        for other in children:
            if other != child and graph.direct_import_exists(
                importer=child, imported=other, as_packages=True
            ):
                siblings.add_import(importer=child, imported=other)
    found = cycles(siblings)
    for child in children:
        found += sibling_cycles(graph, child)
    return found


def test_no_module_imports_itself_back() -> None:
    graph = grimp.build_graph(*PACKAGES, include_external_packages=False)
    assert len(graph.modules) > 50
    assert cycles(graph) == []


def test_no_package_imports_a_sibling_back() -> None:
    graph = grimp.build_graph(*ACYCLIC_PACKAGES, include_external_packages=False)
    assert {"model_server.cards", "model_server.tools"} <= graph.find_children("model_server")
    assert [c for package in ACYCLIC_PACKAGES for c in sibling_cycles(graph, package)] == []


def test_a_package_cycle_without_a_module_cycle_would_be_found() -> None:
    """The layout before the cards left training: no module imports itself back, yet the two
    packages need each other."""
    graph = grimp.ImportGraph()
    for module in ("ms", "ms.tools", "ms.training", "ms.training.cards"):
        graph.add_module(module)
    for importer, imported in (
        ("ms.tools.archive", "ms.training.cards.detector_card"),
        ("ms.training.face_type", "ms.tools.dlib_weights"),
    ):
        graph.add_import(importer=importer, imported=imported)
    assert cycles(graph) == []
    assert sibling_cycles(graph, "ms") == [["ms.tools", "ms.training"]]


def test_a_cycle_would_be_found() -> None:
    graph = grimp.ImportGraph()
    for importer, imported in (("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")):
        graph.add_import(importer=importer, imported=imported)
    assert cycles(graph) == [["a", "b", "c"]]

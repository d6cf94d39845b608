"""A unit of work and its repositories are freed by reference counting when a batch drops them."""

from __future__ import annotations

import gc
import weakref

from servicekit.db.uow import UnitOfWork, backref


class Repository:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = backref(uow)
        self.staged: list[object] = []

    def stage(self, row: object) -> None:
        self.staged.append(row)
        self._uow.on_flush(self.flush)

    async def flush(self, conn: object) -> None:
        self.staged.clear()


class WithRepository(UnitOfWork):
    def __init__(self) -> None:
        super().__init__(pool=None)  # type: ignore[arg-type]
        self.rows = Repository(self)


def test_a_unit_of_work_holding_its_repositories_is_freed_without_the_cyclic_collector():
    gc.disable()
    try:
        uow = WithRepository()
        uow.rows.stage(object())  # the unit of work now holds the repository's bound method too
        gone = weakref.ref(uow)
        del uow
        assert gone() is None
    finally:
        gc.enable()


def test_a_repository_reaches_its_unit_of_work_through_the_link():
    uow = WithRepository()
    uow.rows.stage("row")
    assert uow.rows._uow.outbox is uow.outbox

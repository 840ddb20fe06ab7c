"""Settings' source cards: steady fields around a test result, and env: names a shell can use."""

from __future__ import annotations

from typing import Any

import pytest

from ui.widgets.secret_field import ENV, KEYRING
from ui.widgets.source_form import SourceForm

pytestmark = pytest.mark.gui


@pytest.fixture
def form(qtbot: Any) -> SourceForm:
    card = SourceForm(keychain_available=True, kind="redis")
    qtbot.add_widget(card)
    card.resize(700, 600)
    card.show()
    qtbot.waitExposed(card)
    return card


def test_fields_stay_put_when_a_test_result_appears_and_clears(qtbot: Any,
                                                               form: SourceForm) -> None:
    def name_y() -> int:
        return form.name_edit.mapTo(form, form.name_edit.rect().topLeft()).y()

    before = name_y()
    form.result.set_result("unreachable", "Unreachable", "nothing answers at this address")
    qtbot.waitUntil(form.result.isVisible)
    assert name_y() == before
    form.result.reset()
    qtbot.waitUntil(lambda: not form.result.isVisible())
    assert name_y() == before


def test_an_env_secret_suggests_a_name_a_shell_can_export(form: SourceForm) -> None:
    form.set_secret_prefix("main-street-bistro")
    form.name_edit.setText("cache")
    form.name_edit.textEdited.emit("cache")
    field = form.password
    field.set_mode(KEYRING)
    assert field.name_edit.text() == "main-street-bistro/cache"
    field.set_mode(ENV)
    assert field.name_edit.text() == "MAIN_STREET_BISTRO_CACHE"
    assert field.reference_text() == "env:MAIN_STREET_BISTRO_CACHE"
    assert field.local_problem() == ""
    field.name_edit.setText("backroom/shop")
    field.name_edit.textEdited.emit("backroom/shop")
    assert field.local_problem().startswith("an environment variable name has only letters")

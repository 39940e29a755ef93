"""Domain errors carry a code and params; the web layer translates them and answers JSON in one shape."""

from __future__ import annotations

from flask import Flask

from archive.errors import ArchiveError, DocumentShreddedError, ValidationError
from web.errors import error_response, translated


def test_a_validation_error_keeps_its_code_params_and_field() -> None:
    error = ValidationError("bad", code="unknown_filter", params={"value": "x"}, field="type")
    assert (error.code, error.params, error.field, str(error)) == ("unknown_filter", {"value": "x"}, "type", "bad")
    assert ArchiveError("plain").code == "archive_error" and ValidationError("plain").code == "invalid"


def test_a_coded_error_is_translated_with_its_params_and_an_unknown_code_falls_back_to_english(app: Flask) -> None:
    shredded = DocumentShreddedError(7, "Z001-HT")
    with app.test_request_context("/?lang=zh", headers={"Accept-Language": "zh-CN"}):
        message = translated(shredded)
        assert "Z001-HT" in message and message != str(shredded)
        assert translated(ValidationError("only English", code="no_such_code")) == "only English"


def test_a_json_error_has_the_code_message_and_field(app: Flask) -> None:
    with app.test_request_context("/api/v1/x", headers={"Accept": "application/json"}):
        response, status = error_response(400, "t", "the message", code="unknown_filter", field="type")
        assert status == 400
        assert response.get_json() == {"error": {"code": "unknown_filter", "message": "the message", "field": "type"}}


def test_an_unknown_sort_order_is_a_400_that_names_the_value(client, login_as) -> None:
    login_as(client, "staff")
    response = client.get("/api/v1/search?q=x&sort=sideways")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "unknown_sort" and error["field"] == "sort" and "sideways" in error["message"]

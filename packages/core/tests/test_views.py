"""``headrace_core.views``: component views extend one base page; data is always escaped."""

from __future__ import annotations

import subprocess
import sys

import pytest

from headrace_core.views import render_view

pytest.importorskip("jinja2")


def test_a_package_template_extends_the_base_page() -> None:
    page = render_view("hrcore_views", "rows.html", title="Rows <1>", names=["a&b", "<c>"])
    assert page.startswith("<!DOCTYPE html>\n")
    assert "<title>Rows &lt;1&gt;</title>" in page and "<h1>Rows &lt;1&gt;</h1>" in page
    assert "td.name { font-weight: 600; }" in page  # the package's style block
    assert "th, td {" in page  # the base page's
    assert '<td class="name">a&amp;b</td>' in page and "&lt;c&gt;" in page
    assert "<script" not in page and "http" not in page


def test_a_missing_variable_is_an_error_not_an_empty_cell() -> None:
    import jinja2

    with pytest.raises(jinja2.UndefinedError):
        render_view("hrcore_views", "rows.html", names=[])


def test_importing_the_core_does_not_import_jinja2() -> None:
    code = "import sys, headrace_core, headrace_core.views; print('jinja2' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

"""headrace ui over a MySQL/MariaDB store (the production-metadata tests' server,
``HEADRACE_TEST_MYSQL``; skipped without one, a failure in CI)."""

from __future__ import annotations

import re

from ui_runs import run_pipeline


def test_pages_over_a_mariadb_store(mysql_url, tmp_path):
    from starlette.testclient import TestClient

    from headrace_ui import create_app

    root = tmp_path / "root"
    assert run_pipeline(root, HEADRACE_METADATA=mysql_url)
    assert run_pipeline(root, HEADRACE_METADATA=mysql_url, HRUI_SEED="1")
    with TestClient(create_app(mysql_url)) as client:
        runs = client.get("/runs", params={"pipeline": "uitest"}).text
        a, b = sorted(set(re.findall(r"run=([\w-]+)\"", runs)))
        for path, params in [
            ("/", {}),
            ("/run", {"pipeline": "uitest", "run": b}),
            ("/node", {"pipeline": "uitest", "run": b, "node": "Train"}),
            ("/models", {"pipeline": "uitest"}),
        ]:
            assert client.get(path, params=params).status_code == 200, path
        compare = client.get("/compare", params={"pipeline": "uitest", "a": a, "b": b}).text
        assert re.search(r'<tr class="reran" data-node="Train">.*?seed', compare, re.S)
        assert "127.0.0.1" in client.get("/").text  # the store shown, its password never

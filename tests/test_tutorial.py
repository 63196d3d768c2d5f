"""The tutorial (docs/tutorial.py) runs as it is, and its page renders every cell."""

import runpy
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "docs" / "tutorial.py"


def test_the_tutorial_runs_and_leaves_its_picture_and_generator(tmp_path, monkeypatch):
    monkeypatch.setenv("EVOGAN_TUTORIAL_OUT", str(tmp_path))
    namespace = runpy.run_path(str(TUTORIAL), run_name="__main__")
    assert namespace["ga"].generations == 40 and namespace["es"].generations == 40
    assert Image.open(tmp_path / "ga.png").size[0] > 64
    assert (tmp_path / "ga-generator").is_dir()
    for report in namespace["reports"].values():
        assert report.fid > 0 and 0 <= report.recall <= 1


def test_the_tutorial_page_has_every_markdown_cell_as_text_and_every_code_cell_as_code():
    import importlib.util

    spec = importlib.util.spec_from_file_location("tutorial_hook", ROOT / "docs/hooks/tutorial.py")
    assert spec is not None and spec.loader is not None
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    source = TUTORIAL.read_text()
    page = hook.on_page_markdown(hook.MARKER)
    kinds = [kind for kind, _ in hook.cells(source)]
    assert page.count("```python") == kinds.count("code")
    assert "# Tutorial: evolve digits" in page and "# %%" not in page
    assert 'evogan.evolve(trainer="ga", **small)' in page

"""A project folder for starting the real launch.py in a test: launch.py and the requirements files
copied, webui.py linked, and a .venv that is this interpreter's environment with a stamp saying its
requirements are installed, so launch.py starts at once and never runs pip.

    root = make_launch_root(tmp_path)
    subprocess.Popen([sys.executable, str(root / "launch.py"), "txt2img", ...])
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make_launch_root(tmp_path: Path) -> Path:
    import launch

    root = tmp_path / "project"
    root.mkdir()
    for name in ("launch.py", "requirements.txt", "requirements-test.txt"):
        shutil.copy(ROOT / name, root / name)
    (root / "webui.py").symlink_to(ROOT / "webui.py")  # Python resolves the link: modules/ is found beside it
    venv = root / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)
    prefix = Path(sys.prefix)
    if (prefix / "pyvenv.cfg").is_file():  # the tests run in a venv: the copy uses its packages
        shutil.copy(prefix / "pyvenv.cfg", venv / "pyvenv.cfg")
        (venv / "lib").symlink_to(prefix / "lib")
    ui = [root / "requirements.txt"]
    stamp = [launch.requirements_digest(ui), launch.requirements_digest([*ui, root / "requirements-test.txt"])]
    (venv / ".requirements-sha256").write_text("\n".join(stamp) + "\n")
    return root

"""Rewrites the seed's test suite (asyncio-cancel-token 0.2.0, tests/*.py) for Python 3.10+ and
current pytest-asyncio, changing only what those removed. Usage: seed_tests_adapt.py SRC DST.

1. ``asyncio.Task.all_tasks()`` / ``asyncio.Task.current_task()`` (gone in 3.9) become
   ``asyncio.all_tasks()`` / ``asyncio.current_task()``. ``all_tasks()`` lists unfinished tasks
   only, so the check "every task but the current one is done" reads the same.
2. ``asyncio.wait([coroutine], ...)`` (coroutines refused since 3.11) wraps each element in
   ``asyncio.ensure_future``, which keeps the coroutine as the task's ``_coro``.
3. The ``event_loop`` fixture (gone in pytest-asyncio 1.0) becomes
   ``event_loop = asyncio.get_running_loop()`` at the top of the test.

It fails (exit status 2) if a rewrite finds nothing to rewrite, so a different seed file is not
silently run unadapted.
"""

import pathlib
import re
import sys


def adapt(text):
    rewrites = [
        (r"asyncio\.Task\.all_tasks\(\)", "asyncio.all_tasks()"),
        (r"asyncio\.Task\.current_task\(\)", "asyncio.current_task()"),
        (r"asyncio\.wait\(\[([^\]]+)\]", lambda m: "asyncio.wait([" + ", ".join(
            f"asyncio.ensure_future({e.strip()})" for e in m.group(1).split(",")) + "]"),
        (r"(async def test_\w+)\(event_loop\):\n",
         r"\1():\n    event_loop = asyncio.get_running_loop()\n"),
    ]
    for pattern, replacement in rewrites:
        text, count = re.subn(pattern, replacement, text)
        if count == 0:
            sys.exit(f"seed_tests_adapt.py: nothing matched {pattern!r}: not the seed's 0.2.0 tests?")
    return text


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: seed_tests_adapt.py SEED_TESTS_DIR OUT_DIR")
    src, dst = map(pathlib.Path, sys.argv[1:])
    dst.mkdir(parents=True, exist_ok=True)
    suite = src / "test_cancel_token.py"
    if not suite.is_file():
        print(f"seed_tests_adapt.py: {suite} is missing", file=sys.stderr)
        sys.exit(2)
    (dst / "test_cancel_token.py").write_text(adapt(suite.read_text()))
    for other in src.glob("test_*.py"):
        if other.name != suite.name:
            (dst / other.name).write_text(other.read_text())


if __name__ == "__main__":
    main()

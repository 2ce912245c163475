"""Times `cancel_token` on the benchmark's rows and prints them as JSON (nanoseconds per
operation, the best of several rounds), or, with `--against PYTHON`, runs itself under that
interpreter too (a venv with the seed, asyncio-cancel-token 0.2.0) and prints both side by side.

    python bench/bench.py [--against SEED_VENV/bin/python]
"""

import argparse
import asyncio
import json
import subprocess
import sys
import time
import timeit

ROUNDS = 7


def per_op(stmt, number):
    """Best of ROUNDS rounds of `number` calls, in ns per call."""
    timer = timeit.Timer(stmt)
    return min(timer.repeat(repeat=ROUNDS, number=number)) / number * 1e9


def chain_of(CancelToken, depth):
    token = CancelToken("t0")
    for i in range(depth):
        token = token.chain(CancelToken(f"t{i + 1}"))
    return token


def fan_out(CancelToken, waiters):
    """ns from trigger() until all `waiters` tasks awaiting the token have finished."""

    async def once():
        token = CancelToken("fan-out")
        tasks = [asyncio.ensure_future(token.wait()) for _ in range(waiters)]
        await asyncio.sleep(0)
        start = time.perf_counter()
        token.trigger()
        await asyncio.gather(*tasks)
        return time.perf_counter() - start

    return min(asyncio.run(once()) for _ in range(ROUNDS)) * 1e9


def measure():
    import cancel_token
    from cancel_token import CancelToken

    seed = not hasattr(cancel_token, "_native")
    if seed:
        import seed_shim

        seed_shim.install()
    live = CancelToken("live")
    depth10 = chain_of(CancelToken, 10)
    return {
        "implementation": "asyncio-cancel-token 0.2.0 (seed)" if seed else "cancel-token-rs",
        "rows": {
            "triggered, chain depth 1": per_op(lambda: live.triggered, 1_000_000),
            "triggered, chain depth 10": per_op(lambda: depth10.triggered, 100_000),
            "raise_if_triggered (live)": per_op(live.raise_if_triggered, 1_000_000),
            "create + chain": per_op(lambda: CancelToken("a").chain(CancelToken("b")), 100_000),
            "trigger fan-out to 10,000 waiting tasks": fan_out(CancelToken, 10_000),
        },
    }


def show(ns):
    return f"{ns / 1e6:.2f} ms" if ns >= 1e6 else f"{ns / 1e3:.2f} µs" if ns >= 1e4 else f"{ns:.1f} ns"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--against", help="a Python with asyncio-cancel-token 0.2.0 installed")
    parser.add_argument("--json", action="store_true", help="print this interpreter's figures as JSON")
    args = parser.parse_args()
    ours = measure()
    if args.json or not args.against:
        print(json.dumps(ours))
        return
    out = subprocess.run([args.against, __file__, "--json"], check=True, capture_output=True, text=True)
    seed = json.loads(out.stdout)
    print(f"| operation | {seed['implementation']} | {ours['implementation']} | speed-up |")
    print("| --- | ---: | ---: | ---: |")
    for row, ns in ours["rows"].items():
        theirs = seed["rows"][row]
        print(f"| {row} | {show(theirs)} | {show(ns)} | {theirs / ns:.1f}x |")


if __name__ == "__main__":
    sys.path.insert(0, __import__("os").path.dirname(__file__))
    main()

import asyncio


async def assert_no_task_left():
    """Every task but the running test's is finished (the seed's idea, without its sleep: our
    cleanup is awaited before the call returns, so one pass of the loop is enough)."""
    await asyncio.sleep(0)
    others = asyncio.all_tasks() - {asyncio.current_task()}
    assert not others, f"tasks left behind: {others}"

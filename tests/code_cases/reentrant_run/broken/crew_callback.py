"""Python twins: a team callback and a crew step callback that start the same run."""
from crewai import Crew


@team.on_message
async def follow_up(msg):
    if msg.type == "tool_call":
        await team.run(task="Continue")  # expect: code.reentrant_run


def on_step(step):
    if step.needs_more:
        crew.kickoff(inputs={"topic": step.topic})  # expect: code.reentrant_run


crew = Crew(agents=[], tasks=[], step_callback=on_step)

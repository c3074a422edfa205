"""The agent loops, as async generators of ``engine.events``; ``engine.modes`` says which
agent class plays which mode."""

from engine.agents.codeact import CodeActAgent
from engine.agents.common import Agent
from engine.agents.parts import StepGate
from engine.agents.tool_calling import ToolCallingAgent

__all__ = ["Agent", "CodeActAgent", "StepGate", "ToolCallingAgent"]

"""The two agent loops, as async generators of ``engine.events``."""

from engine.agents.codeact import CodeActAgent
from engine.agents.common import Agent
from engine.agents.parts import StepGate
from engine.agents.tool_calling import ToolCallingAgent

AGENTS = {"tool_calling": ToolCallingAgent, "codeact": CodeActAgent}

__all__ = ["AGENTS", "Agent", "CodeActAgent", "StepGate", "ToolCallingAgent"]

"""livekit-agents with its OpenAI plugin: each scenario starts an `AgentSession` whose LLM is
the plugin's `RealtimeModel`, with an `Agent` (instructions, tools), as a LiveKit worker does,
minus the room: the session runs without audio I/O, which is all the configuring needs."""

from __future__ import annotations

import os
from typing import Any

from tests.frameworks.fake_realtime import FakeRealtime
from tests.frameworks.scenario import Captured, Scenario

PACKAGES = ("livekit-agents", "livekit-plugins-openai", "openai", "aiohttp", "pydantic")
API_KEY = "sk-capture-not-a-key"
INSTRUCTIONS = "You are a helpful voice assistant for a bicycle shop. Keep answers short."


def _agent(*, tools: bool) -> Any:
    from livekit.agents import Agent, function_tool

    @function_tool
    async def check_order_status(order_id: str) -> str:
        """Look up the status of a customer's order.

        Args:
            order_id: The order number printed on the receipt.
        """
        return f"Order {order_id} ships tomorrow."

    return Agent(instructions=INSTRUCTIONS, tools=[check_order_status] if tools else [])


async def _run(fake: FakeRealtime, options: dict[str, Any], *, tools: bool = False) -> None:
    """Start an agent session on the realtime model, let it configure itself, and close."""
    from livekit.agents import AgentSession
    from livekit.plugins import openai

    for name in ("OPENAI_API_VERSION", "AZURE_OPENAI_ENDPOINT", "OPENAI_BASE_URL"):
        os.environ.pop(name, None)
    options = dict(options)
    if options.pop("azure", False):
        os.environ["AZURE_OPENAI_ENDPOINT"] = fake.azure_endpoint
        options.setdefault("azure_deployment", "my-realtime-deployment")
    else:
        options["base_url"] = fake.http_url
    model = openai.realtime.RealtimeModel(api_key=API_KEY, **options)
    session: Any = AgentSession(llm=model)
    try:
        await session.start(_agent(tools=tools), record=False)
        await fake.settle(updates=3)  # options, instructions, tools
    finally:
        await session.aclose()
        await model.aclose()


def _scenario(name: str, configures: str, build: Any = None, **flags: Any) -> Scenario:
    async def drive(fake: FakeRealtime) -> list[Captured]:
        await _run(fake, build() if build else {}, **flags)
        return []

    return Scenario(name, configures, drive)


def _transcription() -> dict[str, Any]:
    from openai.types import realtime

    return {
        "input_audio_transcription": realtime.AudioTranscription(
            model="gpt-4o-transcribe", language="en", prompt="Bicycle parts: derailleur, cassette."
        )
    }


def _server_vad() -> dict[str, Any]:
    from openai.types import realtime

    return {
        "turn_detection": realtime.realtime_audio_input_turn_detection.ServerVad(
            type="server_vad",
            threshold=0.6,
            prefix_padding_ms=300,
            silence_duration_ms=600,
            create_response=True,
            interrupt_response=True,
        )
    }


def _semantic_vad() -> dict[str, Any]:
    from openai.types import realtime

    return {
        "turn_detection": realtime.realtime_audio_input_turn_detection.SemanticVad(
            type="semantic_vad", eagerness="auto", create_response=True, interrupt_response=True
        )
    }


def _noise_strength() -> dict[str, Any]:
    from openai.types.realtime.realtime_audio_config_input import NoiseReduction

    return {"input_audio_noise_reduction": NoiseReduction(type="near_field", strength=0.5)}


def _reasoning() -> dict[str, Any]:
    from openai.types.realtime import RealtimeReasoning

    return {"model": "gpt-realtime-2", "reasoning": RealtimeReasoning(effort="low")}


def _tracing_truncation() -> dict[str, Any]:
    from openai.types.realtime.realtime_tracing_config import TracingConfiguration
    from openai.types.realtime.realtime_truncation_retention_ratio import (
        RealtimeTruncationRetentionRatio,
    )

    return {
        "tracing": TracingConfiguration(workflow_name="bike-shop", group_id="store-12"),
        "truncation": RealtimeTruncationRetentionRatio(type="retention_ratio", retention_ratio=0.8),
    }


SCENARIOS = (
    _scenario("defaults", "RealtimeModel() and an agent with instructions"),
    _scenario("text-only", "modalities ['text']", lambda: {"modalities": ["text"]}),
    _scenario("tools", "an agent with a function tool", tools=True),
    _scenario("transcription", "gpt-4o-transcribe with language and prompt", _transcription),
    _scenario(
        "transcription-off",
        "input_audio_transcription None",
        lambda: {"input_audio_transcription": None},
    ),
    _scenario("server-vad", "server_vad with every knob", _server_vad),
    _scenario("semantic-vad", "semantic_vad, eagerness auto", _semantic_vad),
    _scenario("turn-detection-off", "turn_detection None", lambda: {"turn_detection": None}),
    _scenario(
        "noise-reduction",
        "near_field, given as the plugin's shorthand",
        lambda: {"input_audio_noise_reduction": "near_field"},
    ),
    _scenario("noise-reduction-strength", "near_field with strength 0.5", _noise_strength),
    _scenario(
        "voice-speed",
        "voice cedar, speed 1.15, tool_choice required",
        lambda: {"voice": "cedar", "speed": 1.15, "tool_choice": "required"},
    ),
    _scenario(
        "tracing-truncation",
        "a tracing configuration and retention_ratio truncation",
        _tracing_truncation,
    ),
    _scenario("reasoning-model", "gpt-realtime-2 with reasoning effort low", _reasoning),
    _scenario(
        "azure",
        "Azure OpenAI's v1 API (azure_deployment, api-key header): the GA shape",
        lambda: {"azure": True},
        tools=True,
    ),
    _scenario(
        "azure-legacy",
        "Azure OpenAI with a dated api_version: the beta shape",
        lambda: {"azure": True, "api_version": "2024-10-01-preview"},
        tools=True,
    ),
)

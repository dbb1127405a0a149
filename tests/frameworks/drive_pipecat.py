"""pipecat: each scenario runs `OpenAIRealtimeLLMService` (or the Azure one) in a pipeline
with a conversation context, as pipecat's realtime examples do. The service configures the
session when the API says `session.created`, and again, with the context's instructions and
tools, when it sets up the conversation."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from tests.frameworks.fake_realtime import FakeRealtime
from tests.frameworks.scenario import Captured, Scenario

PACKAGES = ("pipecat-ai", "websockets", "pydantic")
API_KEY = "sk-capture-not-a-key"
INSTRUCTIONS = "You are a helpful voice assistant for a bicycle shop. Keep answers short."


def _tools() -> Any:
    from pipecat.adapters.llm.schemas.function_schema import FunctionSchema
    from pipecat.adapters.llm.schemas.tools_schema import ToolsSchema

    return ToolsSchema(
        standard_tools=[
            FunctionSchema(
                name="check_order_status",
                description="Look up the status of a customer's order.",
                properties={
                    "order_id": {
                        "type": "string",
                        "description": "The order number printed on the receipt.",
                    }
                },
                required=["order_id"],
            )
        ]
    )


async def _run(
    fake: FakeRealtime,
    properties: dict[str, Any] | None = None,
    *,
    tools: bool = False,
    azure: bool = False,
    model: str | None = None,
    then: dict[str, Any] | None = None,
) -> None:
    """Run the service in a pipeline until it has configured the session, then cancel."""
    from loguru import logger

    logger.remove()  # pipecat logs every frame at DEBUG; keep its warnings
    logger.add(sys.stderr, level="WARNING")
    from pipecat.frames.frames import LLMContextFrame
    from pipecat.pipeline.pipeline import Pipeline
    from pipecat.pipeline.worker import PipelineWorker
    from pipecat.processors.aggregators.llm_context import LLMContext
    from pipecat.services.openai.realtime import events
    from pipecat.services.openai.realtime.llm import OpenAIRealtimeLLMService
    from pipecat.workers.runner import WorkerRunner

    settings: Any
    if azure:
        from pipecat.services.azure.realtime.llm import AzureRealtimeLLMService

        settings = AzureRealtimeLLMService.Settings(
            model=model or "my-realtime-deployment",
            system_instruction=INSTRUCTIONS,
            session_properties=events.SessionProperties(**(properties or {})),
        )
        service: Any = AzureRealtimeLLMService(
            api_key=API_KEY,
            base_url=f"{fake.azure_endpoint}/openai/v1/realtime".replace("http", "ws", 1),
            settings=settings,
        )
    else:
        settings = OpenAIRealtimeLLMService.Settings(
            system_instruction=INSTRUCTIONS,
            session_properties=events.SessionProperties(**(properties or {})),
        )
        if model is not None:
            settings.model = model
        service = OpenAIRealtimeLLMService(api_key=API_KEY, base_url=fake.ws_url, settings=settings)

    context = LLMContext(
        [{"role": "user", "content": "Say hello."}], **({"tools": _tools()} if tools else {})
    )
    worker = PipelineWorker(Pipeline([service]), enable_rtvi=False)
    await worker.queue_frames([LLMContextFrame(context)])
    runner = WorkerRunner(handle_sigint=False, handle_sigterm=False)
    await runner.add_workers(worker)
    running = asyncio.create_task(runner.run())
    try:
        await fake.settle(updates=2)
        if then is not None:  # a settings delta mid-session, as an application pushes it
            from pipecat.frames.frames import LLMUpdateSettingsFrame

            delta = OpenAIRealtimeLLMService.Settings(**then)
            await worker.queue_frames([LLMUpdateSettingsFrame(delta=delta)])
            await fake.settle(updates=3)
    finally:
        await worker.cancel()
        await running


def _scenario(
    name: str, configures: str, properties: dict[str, Any] | None = None, **options: Any
) -> Scenario:
    async def drive(fake: FakeRealtime) -> list[Captured]:
        await _run(fake, _build(properties), **options)
        return []

    return Scenario(name, configures, drive)


def _build(properties: dict[str, Any] | None) -> dict[str, Any] | None:
    """Turn the plain description of session properties into pipecat's event models."""
    if properties is None:
        return None
    from pipecat.services.openai.realtime import events

    built = dict(properties)
    audio = built.pop("audio", None)
    if audio is not None:
        inp = audio.get("input")
        out = audio.get("output")
        built["audio"] = events.AudioConfiguration(
            input=events.AudioInput(**_input(inp)) if inp is not None else None,
            output=events.AudioOutput(**_output(out)) if out is not None else None,
        )
    if "reasoning" in built:
        built["reasoning"] = events.Reasoning(**built["reasoning"])
    return built


def _format(kind: str) -> Any:
    from pipecat.services.openai.realtime import events

    return {
        "pcm": events.PCMAudioFormat,
        "pcmu": events.PCMUAudioFormat,
        "pcma": events.PCMAAudioFormat,
    }[kind]()


def _input(spec: dict[str, Any]) -> dict[str, Any]:
    from pipecat.services.openai.realtime import events

    built = dict(spec)
    if "format" in built:
        built["format"] = _format(built["format"])
    if "transcription" in built:
        built["transcription"] = events.InputAudioTranscription(**built["transcription"])
    if "noise_reduction" in built:
        built["noise_reduction"] = events.InputAudioNoiseReduction(**built["noise_reduction"])
    detection = built.get("turn_detection")
    if isinstance(detection, dict):
        kind = {"server_vad": events.TurnDetection, "semantic_vad": events.SemanticTurnDetection}
        built["turn_detection"] = kind[detection["type"]](**detection)
    return built


def _output(spec: dict[str, Any]) -> dict[str, Any]:
    built = dict(spec)
    if "format" in built:
        built["format"] = _format(built["format"])
    return built


SCENARIOS = (
    _scenario("defaults", "instructions only, every session property left at its default"),
    _scenario("text-only", "output_modalities ['text']", {"output_modalities": ["text"]}),
    _scenario(
        "tools",
        "a function tool in the context, tool_choice auto",
        {"tool_choice": "auto"},
        tools=True,
    ),
    _scenario(
        "transcription-default",
        "transcription on with pipecat's default model (gpt-realtime-whisper)",
        {"audio": {"input": {"transcription": {}}}},
    ),
    _scenario(
        "transcription",
        "gpt-4o-transcribe with language and prompt",
        {
            "audio": {
                "input": {
                    "transcription": {
                        "model": "gpt-4o-transcribe",
                        "language": "en",
                        "prompt": "Bicycle parts: derailleur, cassette, bottom bracket.",
                    }
                }
            }
        },
    ),
    _scenario(
        "server-vad",
        "server_vad with pipecat's defaults spelled out",
        {"audio": {"input": {"turn_detection": {"type": "server_vad"}}}},
    ),
    _scenario(
        "semantic-vad",
        "semantic_vad, eagerness low, create and interrupt response",
        {
            "audio": {
                "input": {
                    "turn_detection": {
                        "type": "semantic_vad",
                        "eagerness": "low",
                        "create_response": True,
                        "interrupt_response": True,
                    }
                }
            }
        },
    ),
    _scenario(
        "turn-detection-off",
        "turn_detection False (sent as null), for locally driven turns",
        {"audio": {"input": {"turn_detection": False}}},
    ),
    _scenario(
        "noise-reduction",
        "far_field noise reduction, voice marin, speed 1.2",
        {
            "audio": {
                "input": {"noise_reduction": {"type": "far_field"}},
                "output": {"voice": "marin", "speed": 1.2},
            }
        },
    ),
    _scenario(
        "telephony-g711",
        "audio/pcmu in and out",
        {"audio": {"input": {"format": "pcmu"}, "output": {"format": "pcmu"}}},
    ),
    _scenario(
        "full",
        "formats, transcription, server_vad, noise reduction, voice, max_output_tokens, "
        "tracing, include",
        {
            "audio": {
                "input": {
                    "format": "pcm",
                    "transcription": {"model": "gpt-4o-mini-transcribe", "language": "fr"},
                    "noise_reduction": {"type": "near_field"},
                    "turn_detection": {"type": "server_vad", "threshold": 0.7},
                },
                "output": {"format": "pcm", "voice": "cedar"},
            },
            "max_output_tokens": 1024,
            "tracing": "auto",
            "include": ["item.input_audio_transcription.logprobs"],
        },
    ),
    _scenario(
        "reasoning-model",
        "gpt-realtime-2 with reasoning effort low",
        {"reasoning": {"effort": "low"}},
        model="gpt-realtime-2",
    ),
    _scenario(
        "reasoning-stripped",
        "reasoning on gpt-realtime, which pipecat strips before sending",
        {"reasoning": {"effort": "low"}},
        model="gpt-realtime",
    ),
    _scenario(
        "settings-update",
        "a mid-session LLMUpdateSettingsFrame that changes the instructions",
        then={"system_instruction": "Now answer in French."},
    ),
    _scenario(
        "azure",
        "AzureRealtimeLLMService on Azure's v1 API (a deployment as the model, api-key header)",
        {"audio": {"output": {"voice": "alloy"}}},
        azure=True,
    ),
)

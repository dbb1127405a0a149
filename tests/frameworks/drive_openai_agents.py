"""openai-agents (the OpenAI Agents SDK): each scenario runs a `RealtimeAgent` through
`RealtimeRunner`, as an application does, with the model's socket pointed at the fake."""

from __future__ import annotations

import json
import os
from typing import Any

from tests.frameworks.fake_realtime import FakeRealtime, serve_http
from tests.frameworks.scenario import Captured, Scenario

PACKAGES = ("openai-agents", "openai", "websockets", "pydantic")
API_KEY = "sk-capture-not-a-key"
INSTRUCTIONS = "You are a helpful voice assistant for a bicycle shop. Keep answers short."


def _agents(*, tools: bool = False) -> Any:
    """The shop's front-desk agent; with ``tools``, a function tool and a handoff to billing."""
    from agents import function_tool
    from agents.realtime import RealtimeAgent

    if not tools:
        return RealtimeAgent(name="Assistant", instructions=INSTRUCTIONS)

    @function_tool
    def check_order_status(order_id: str) -> str:
        """Look up the status of a customer's order.

        Args:
            order_id: The order number printed on the receipt.
        """
        return f"Order {order_id} ships tomorrow."

    billing = RealtimeAgent(
        name="Billing",
        instructions="You handle refunds and invoices.",
        handoff_description="Refunds, invoices and payment questions.",
    )
    return RealtimeAgent(
        name="Assistant", instructions=INSTRUCTIONS, tools=[check_order_status], handoffs=[billing]
    )


async def _run(
    fake: FakeRealtime,
    agent: Any,
    settings: dict[str, Any] | None = None,
    *,
    model: Any = None,
    model_config: dict[str, Any] | None = None,
    then: Any = None,
) -> None:
    """Open a realtime session as an application does, let it configure itself, and close."""
    os.environ["OPENAI_AGENTS_DISABLE_TRACING"] = "1"  # the SDK's own trace export: no egress
    from agents.realtime import RealtimeRunner

    config: Any = {"model_settings": settings} if settings is not None else None
    runner = RealtimeRunner(agent, config=config, **({"model": model} if model else {}))
    options: Any = {"url": f"{fake.ws_url}?model=gpt-realtime", "api_key": API_KEY}
    options.update(model_config or {})
    async with await runner.run(model_config=options) as session:
        await fake.settle(updates=2)  # the session's settings, then its tracing setting
        if then is not None:
            await then(session)
            await fake.settle(updates=3)


async def defaults(fake: FakeRealtime) -> list[Captured]:
    await _run(fake, _agents())
    return []


async def text_only(fake: FakeRealtime) -> list[Captured]:
    await _run(fake, _agents(), {"output_modalities": ["text"]})
    return []


async def tools_and_handoff(fake: FakeRealtime) -> list[Captured]:
    agent = _agents(tools=True)

    async def hand_off(session: Any) -> None:
        await session.update_agent(agent.handoffs[0])

    await _run(fake, agent, {"tool_choice": "auto"}, then=hand_off)
    return []


async def transcription(fake: FakeRealtime) -> list[Captured]:
    settings = {
        "input_audio_transcription": {
            "model": "gpt-4o-transcribe",
            "language": "en",
            "prompt": "Bicycle parts: derailleur, cassette, bottom bracket.",
        }
    }
    await _run(fake, _agents(), settings)
    return []


async def server_vad(fake: FakeRealtime) -> list[Captured]:
    settings = {
        "turn_detection": {
            "type": "server_vad",
            "threshold": 0.6,
            "prefix_padding_ms": 200,
            "silence_duration_ms": 700,
            "idle_timeout_ms": 8000,
            "create_response": True,
            "interrupt_response": False,
        }
    }
    await _run(fake, _agents(), settings)
    return []


async def semantic_vad_eager(fake: FakeRealtime) -> list[Captured]:
    settings = {"turn_detection": {"type": "semantic_vad", "eagerness": "high"}}
    await _run(fake, _agents(), settings)
    return []


async def turn_detection_off(fake: FakeRealtime) -> list[Captured]:
    await _run(fake, _agents(), {"turn_detection": None})
    return []


async def noise_reduction(fake: FakeRealtime) -> list[Captured]:
    settings = {"input_audio_noise_reduction": {"type": "near_field"}, "voice": "marin"}
    await _run(fake, _agents(), settings)
    return []


async def ga_audio_config(fake: FakeRealtime) -> list[Captured]:
    """The nested GA `audio` settings, with the newest field, `noise_reduction.strength`."""
    settings = {
        "audio": {
            "input": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "noise_reduction": {"type": "far_field", "strength": 0.6},
                "transcription": {"model": "gpt-4o-mini-transcribe", "language": "de"},
                "turn_detection": {"type": "semantic_vad", "eagerness": "low"},
            },
            "output": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "voice": "cedar",
                "speed": 1.1,
            },
        }
    }
    await _run(fake, _agents(), settings)
    return []


async def telephony_g711(fake: FakeRealtime) -> list[Captured]:
    settings = {"input_audio_format": "g711_ulaw", "output_audio_format": "g711_ulaw"}
    await _run(fake, _agents(), settings)
    return []


async def reasoning_model(fake: FakeRealtime) -> list[Captured]:
    settings = {
        "model_name": "gpt-realtime-2",
        "reasoning": {"effort": "low"},
        "parallel_tool_calls": False,
        "max_output_tokens": 2048,
    }
    await _run(fake, _agents(tools=True), settings)
    return []


async def stored_prompt_and_tracing(fake: FakeRealtime) -> list[Captured]:
    settings = {
        "prompt": {"id": "pmpt_fake", "version": "3", "variables": {"shop": "Spoke & Chain"}},
        "tracing": {"workflow_name": "bike-shop", "group_id": "store-12", "metadata": {"a": "1"}},
        "speed": 0.9,
        "voice": "verse",
    }
    await _run(fake, _agents(), settings)
    return []


async def azure(fake: FakeRealtime) -> list[Captured]:
    """Azure OpenAI's v1 API, reached the way the SDK allows: a URL and an `api-key` header
    instead of the bearer token, the deployment as the model."""
    url = f"{fake.azure_endpoint}/openai/v1/realtime?model=my-realtime-deployment"
    await _run(
        fake,
        _agents(),
        {"model_name": "my-realtime-deployment"},
        model_config={"url": url.replace("http", "ws", 1), "headers": {"api-key": API_KEY}},
    )
    return []


async def sip_call(fake: FakeRealtime) -> list[Captured]:
    """A SIP call: the accept body the SDK builds (`build_initial_session_payload`), posted by
    the `openai` client's `realtime.calls.accept`, then the session the SIP model attaches."""
    from agents.realtime import OpenAIRealtimeSIPModel
    from openai import AsyncOpenAI

    agent = _agents(tools=True)
    settings: Any = {"turn_detection": {"type": "semantic_vad", "interrupt_response": True}}
    payload = await OpenAIRealtimeSIPModel.build_initial_session_payload(
        agent, model_config={"initial_model_settings": settings}
    )
    with serve_http() as (base_url, posts):
        async with AsyncOpenAI(api_key=API_KEY, base_url=base_url, max_retries=0) as client:
            await client.realtime.calls.accept("rtc_fake", **payload.model_dump(exclude_unset=True))
    assert [post.path for post in posts] == ["/v1/realtime/calls/rtc_fake/accept"], posts
    await _run(
        fake,
        agent,
        model=OpenAIRealtimeSIPModel(),
        model_config={
            "url": f"{fake.ws_url}?call_id=rtc_fake",
            "call_id": "rtc_fake",
            "initial_model_settings": settings,
        },
    )
    names = ", ".join(n for n in posts[0].header_names if n in {"authorization", "api-key"})
    return [Captured("calls.accept", json.loads(posts[0].body), f"POST {posts[0].path} ({names})")]


SCENARIOS = (
    Scenario("defaults", "an agent with instructions and nothing else", defaults),
    Scenario("text-only", "output_modalities ['text']", text_only),
    Scenario(
        "tools-and-handoff",
        "a function tool, a handoff, tool_choice auto; then the handoff's update",
        tools_and_handoff,
    ),
    Scenario("transcription", "gpt-4o-transcribe with language and prompt", transcription),
    Scenario("server-vad", "server_vad with every knob", server_vad),
    Scenario("semantic-vad-eager", "semantic_vad, eagerness high", semantic_vad_eager),
    Scenario("turn-detection-off", "turn_detection None (sent as null)", turn_detection_off),
    Scenario("noise-reduction", "near_field noise reduction, voice marin", noise_reduction),
    Scenario(
        "ga-audio-config",
        "the nested GA audio settings, noise_reduction.strength included",
        ga_audio_config,
    ),
    Scenario("telephony-g711", "g711_ulaw in and out", telephony_g711),
    Scenario(
        "reasoning-model",
        "gpt-realtime-2 with reasoning, parallel_tool_calls, max_output_tokens, tools",
        reasoning_model,
    ),
    Scenario(
        "stored-prompt-and-tracing",
        "a stored prompt with variables, a tracing configuration, voice and speed",
        stored_prompt_and_tracing,
    ),
    Scenario("azure", "Azure OpenAI's v1 API: api-key header, a deployment as model", azure),
    Scenario("sip-call", "a SIP call: the calls.accept body, then the attached socket", sip_call),
)

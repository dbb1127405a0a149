"""Azure OpenAI as a provider: the v1 API of a resource, against the loopback fake.

The fake serves as an Azure resource: paths below /openai/v1, the key accepted only in an
``api-key`` header with no ``Authorization`` beside it, or a Microsoft Entra token as the
bearer. The key and the token never appear in any output, error or log.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from realtime_config import (
    APIStatusError,
    ClientConfigError,
    MissingAPIKeyError,
    RealtimeClient,
    compile_preset,
    load_preset,
)
from tests.conftest import PROJECT, exception_texts, run_cli, write
from tests.fake_api import AD_TOKEN, CANARY_KEY, SECRET, FakeAPI, serve

AZURE_ENVIRONMENT = (
    "AZURE_OPENAI_ENDPOINT",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_AD_TOKEN",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
)
ASSISTANT = PROJECT / "presets" / "assistant.toml"


@pytest.fixture
def azure_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No Azure or OpenAI setting of the developer's own reaches a test."""
    for name in AZURE_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def azure_api() -> Iterator[FakeAPI]:
    with serve(azure=True) as fake:
        yield fake


def test_submit_posts_to_the_resource_with_an_api_key_header_and_no_bearer(
    azure_api: FakeAPI, azure_env: pytest.MonkeyPatch
) -> None:
    azure_env.setenv("AZURE_OPENAI_ENDPOINT", azure_api.endpoint)
    azure_env.setenv("AZURE_OPENAI_API_KEY", CANARY_KEY)
    code, out, err = run_cli("submit", str(ASSISTANT), "--provider", "azure")
    assert (code, err) == (0, "")
    assert json.loads(out)["client_secret"]["value"] == SECRET
    (request,) = azure_api.requests
    assert request.path == "/openai/v1/realtime/client_secrets"
    assert request.headers["api-key"] == CANARY_KEY
    assert "authorization" not in request.headers
    assert request.json() == compile_preset(load_preset(ASSISTANT))
    assert CANARY_KEY not in out


def test_the_provider_is_azure_when_its_endpoint_is_set_and_no_openai_base_url_is(
    azure_api: FakeAPI, azure_env: pytest.MonkeyPatch
) -> None:
    azure_env.setenv("AZURE_OPENAI_ENDPOINT", azure_api.endpoint + "/")
    azure_env.setenv("AZURE_OPENAI_API_KEY", CANARY_KEY)
    with RealtimeClient(max_retries=0) as client:
        assert (client.provider, client.base_url) == ("azure", azure_api.base_url)
        created = client.create_secret(load_preset(ASSISTANT))
    assert created.client_secret.value == SECRET
    # An OpenAI base URL, in the environment or given, means OpenAI.
    azure_env.setenv("OPENAI_BASE_URL", "https://proxy.example/v1")
    assert RealtimeClient().provider == "openai"
    azure_env.delenv("OPENAI_BASE_URL")
    assert RealtimeClient(base_url="https://proxy.example/v1").provider == "openai"


def test_an_entra_token_is_sent_as_the_bearer(
    azure_api: FakeAPI, azure_env: pytest.MonkeyPatch
) -> None:
    azure_env.setenv("AZURE_OPENAI_ENDPOINT", azure_api.endpoint)
    azure_env.setenv("AZURE_OPENAI_AD_TOKEN", AD_TOKEN)
    # As the official SDK does: with no credential given, the token wins over a key.
    azure_env.setenv("AZURE_OPENAI_API_KEY", "not-this-one")
    code, out, err = run_cli("submit", str(ASSISTANT))
    assert (code, err) == (0, "")
    (request,) = azure_api.requests
    assert request.path == "/openai/v1/realtime/client_secrets"
    assert request.headers["authorization"] == f"Bearer {AD_TOKEN}"
    assert "api-key" not in request.headers
    assert AD_TOKEN not in out


def test_a_translation_preset_is_minted_on_azure_too(
    azure_api: FakeAPI, azure_env: pytest.MonkeyPatch
) -> None:
    with RealtimeClient(
        provider="azure", base_url=azure_api.base_url, api_key=CANARY_KEY, max_retries=0
    ) as client:
        created = client.create_secret(load_preset(PROJECT / "presets" / "interpreter.toml"))
    assert created.target == "translations.client_secrets"
    assert [r.path for r in azure_api.requests] == [
        "/openai/v1/realtime/translations/client_secrets"
    ]


def test_dry_run_shows_the_azure_request_with_the_key_redacted(
    azure_env: pytest.MonkeyPatch,
) -> None:
    azure_env.setenv("AZURE_OPENAI_ENDPOINT", "https://acme.openai.azure.com")
    azure_env.setenv("AZURE_OPENAI_API_KEY", CANARY_KEY)
    code, out, err = run_cli("submit", str(ASSISTANT), "--dry-run")
    assert (code, err) == (0, "")
    assert (
        out.splitlines()[0]
        == "POST https://acme.openai.azure.com/openai/v1/realtime/client_secrets"
    )
    assert "api-key: [redacted]" in out.splitlines()
    assert "Authorization" not in out
    assert CANARY_KEY not in out


def test_a_rejected_key_never_shows_in_the_error(
    azure_api: FakeAPI, azure_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "azure-key-that-is-wrong-1234567890"
    caplog.set_level(logging.DEBUG, logger="realtime_config")
    with (
        RealtimeClient(
            provider="azure", base_url=azure_api.base_url, api_key=wrong, max_retries=0
        ) as client,
        pytest.raises(APIStatusError) as caught,
    ):
        client.create_secret(load_preset(ASSISTANT))
    assert caught.value.status_code == 401
    assert all(wrong not in text for text in exception_texts(caught.value))
    assert wrong not in caplog.text
    assert wrong not in repr(client)


def test_azure_settings_that_cannot_work_are_one_line_errors(
    azure_env: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ClientConfigError) as caught:
        RealtimeClient(provider="azure")
    assert str(caught.value) == (
        "provider azure needs the resource's endpoint: set AZURE_OPENAI_ENDPOINT "
        "(https://RESOURCE.openai.azure.com) or pass a base URL"
    )
    with pytest.raises(ClientConfigError, match="not both"):
        RealtimeClient(
            provider="azure",
            base_url="https://a.example/openai/v1",
            api_key="k",
            azure_ad_token="t",
        )
    with pytest.raises(ClientConfigError, match="unknown provider 'aws'"):
        RealtimeClient(provider="aws")
    with pytest.raises(ClientConfigError) as token:
        RealtimeClient(provider="openai", azure_ad_token="t")
    assert str(token.value) == "an Azure AD token is for provider azure, not openai"
    azure_env.setenv("AZURE_OPENAI_ENDPOINT", "https://acme.openai.azure.com")
    client = RealtimeClient()
    with pytest.raises(MissingAPIKeyError) as missing:
        client.create_session({"session": {"type": "realtime"}}, target="client_secrets")
    assert str(missing.value) == (
        "no API key: set the AZURE_OPENAI_API_KEY or AZURE_OPENAI_AD_TOKEN environment "
        "variable (nothing was sent)"
    )
    code, _, err = run_cli("submit", str(ASSISTANT), "--provider", "azure")
    assert code == 1
    assert "AZURE_OPENAI_API_KEY" in err and "Traceback" not in err


def test_on_azure_an_unknown_model_names_a_deployment_and_is_no_warning(
    azure_api: FakeAPI, azure_env: pytest.MonkeyPatch, project: Path
) -> None:
    write(
        project / "presets" / "d.toml",
        'type = "realtime"\nmodel = "acme-voice-prod"\n'
        'audio.input.transcription = { model = "acme-transcribe" }\n'
        'audio.output.voice = "marine"\n',
    )
    code, out, _ = run_cli("validate", "presets/d.toml")
    assert code == 0
    assert out.count(": warning: ") == 3  # validate knows no provider
    azure_env.setenv("AZURE_OPENAI_ENDPOINT", azure_api.endpoint)
    azure_env.setenv("AZURE_OPENAI_API_KEY", CANARY_KEY)
    code, _, err = run_cli("submit", "presets/d.toml")
    assert code == 0
    # The voice is still checked: only the model fields name deployments.
    assert err == (
        "presets/d.toml:4:22: warning: audio.output.voice `marine` is not a known voice; "
        "did you mean `marin`?\n"
    )
    azure_env.delenv("AZURE_OPENAI_ENDPOINT")
    azure_env.setenv("OPENAI_API_KEY", CANARY_KEY)
    code, _, err = run_cli("submit", "presets/d.toml", "--dry-run")
    assert err.count(": warning: ") == 3


def test_serve_mints_through_azure(
    azure_api: FakeAPI, azure_env: pytest.MonkeyPatch, project: Path
) -> None:
    import httpx

    from realtime_config import create_app
    from tests.serving import serving

    write(project / "presets" / "voice.toml", 'type = "realtime"\nmodel = "my-deployment"\n')
    azure_env.setenv("AZURE_OPENAI_ENDPOINT", azure_api.endpoint)
    azure_env.setenv("AZURE_OPENAI_API_KEY", CANARY_KEY)
    app = create_app(root=project)
    assert app.state.warnings == ()
    with serving(app) as (host, port):
        answer = httpx.post(f"http://{host}:{port}/sessions/voice", timeout=10)
    assert answer.status_code == 200
    assert answer.json()["value"] == SECRET
    (request,) = azure_api.requests
    assert (request.path, request.headers["api-key"]) == (
        "/openai/v1/realtime/client_secrets",
        CANARY_KEY,
    )
    assert CANARY_KEY not in answer.text

"""realtime-config: TOML presets of OpenAI Realtime sessions, compiled into exact request bodies.

>>> import realtime_config
>>> preset = realtime_config.load_preset("presets/support.toml")
>>> body = realtime_config.compile_preset(preset)
>>> realtime_config.dumps_payload(body, compact=True)
"""

from realtime_config._checks import check_files, check_preset
from realtime_config._compile import TARGETS, compile_preset, dumps_payload
from realtime_config._diagnostics import Diagnostic
from realtime_config._errors import PresetError, RealtimeConfigError
from realtime_config._loader import Preset, load_preset
from realtime_config._schema import load_schema, schema_path
from realtime_config._version import __version__

__all__ = [
    "TARGETS",
    "Diagnostic",
    "Preset",
    "PresetError",
    "RealtimeConfigError",
    "__version__",
    "check_files",
    "check_preset",
    "compile_preset",
    "dumps_payload",
    "load_preset",
    "load_schema",
    "schema_path",
]

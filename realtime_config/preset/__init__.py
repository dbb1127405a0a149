"""The preset stage: read and parse a preset file, resolve ``extends`` and
``instructions_file`` within the project root, into a ``Preset``."""

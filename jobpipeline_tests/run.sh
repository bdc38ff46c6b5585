#!/usr/bin/env bash
# The test command (README, and .ci/run): sets everything up on a fresh clone, then runs every tier.
#
#   bash jobpipeline_tests/run.sh            # all tiers
#   TIERS="core" bash jobpipeline_tests/run.sh   # only the fast tier
#
# Tiers: core (no extra services), vllm (real vLLM on the CPU with SmolLM2), postgres (a local
# PostgreSQL server), ops (the deployment as local processes, three unattended days through faults;
# reuses the vllm and postgres set-ups), ui (dagster dev + headless Chromium). Each tier's set-up
# script is idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
TIERS="${TIERS:-core vllm postgres ops ui}"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
export JOBPIPELINE_TEST_ARTIFACTS="${JOBPIPELINE_TEST_ARTIFACTS:-$PWD/.test-artifacts}"
mkdir -p "$JOBPIPELINE_TEST_ARTIFACTS"

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet -e '.[dev,postgres,ui]'
PY=.venv/bin/python
# Debian's docker-compose (v1) lets the docker/ tests check the stack with `docker-compose config`
# (no Docker engine runs here; without it those checks skip).
if ! command -v docker-compose >/dev/null && [ "$(id -u)" = 0 ]; then
  { apt-get install -y -qq docker-compose || { apt-get update -qq && apt-get install -y -qq docker-compose; }; } >/dev/null 2>&1 || true
fi
status=0
run_tier() {  # run_tier NAME PYTEST-ARGS...: pytest exit 5 (nothing collected) is a failure here too
  local name=$1; shift
  echo "=== tier: $name"
  "$PY" -m pytest "$@" || status=1
}

for tier in $TIERS; do
  case "$tier" in
    core)
      run_tier core -m "not vllm and not postgres and not ui and not ops" ;;
    vllm)
      bash jobpipeline_tests/install_cpu_vllm.sh
      run_tier vllm -m vllm ;;
    postgres)
      JOBPIPELINE_TEST_PG_URL="$(bash jobpipeline_tests/ops/setup_postgres.sh)"
      export JOBPIPELINE_TEST_PG_URL
      run_tier postgres -m postgres ;;
    ops)
      bash jobpipeline_tests/install_cpu_vllm.sh
      JOBPIPELINE_TEST_PG_URL="$(bash jobpipeline_tests/ops/setup_postgres.sh)"
      export JOBPIPELINE_TEST_PG_URL
      run_tier ops -m ops ;;
    ui)
      bash jobpipeline_tests/ops/setup_chromium.sh
      run_tier ui -m ui ;;
    *) echo "unknown tier $tier" >&2; exit 2 ;;
  esac
done
exit $status

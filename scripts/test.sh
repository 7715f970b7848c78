#!/usr/bin/env bash
# Sets up what is missing (npm packages, a Docker engine, PostgreSQL, Chromium, the
# workstation image) and runs the whole test suite: typecheck, lint and tests.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup_core
ensure_postgres
ensure_test_tools
ensure_image
say "running typecheck, lint and tests"
npm run --silent check

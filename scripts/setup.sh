#!/usr/bin/env bash
# Sets up what Nexora needs to run (npm packages, the build, a Docker engine, the
# workstation image) without running anything else.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup_core
ensure_image
say "ready: run ./bin/nexora.js --help"

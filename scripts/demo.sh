#!/usr/bin/env bash
# Sets up what is missing (npm packages, a Docker engine, the workstation image) and runs
# `nexora demo`.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup_core
ensure_image
exec node bin/nexora.js demo "$@"

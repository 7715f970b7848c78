#!/usr/bin/env bash
# Sets up what is missing (npm packages, a Docker engine, the workstation image) and runs
# `nexora demo`.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_platform
ensure_node_modules
ensure_build
ensure_docker
ensure_image_tools
ensure_image
exec node bin/nexora.js demo "$@"

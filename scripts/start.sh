#!/usr/bin/env bash
# `npm start`: set up what is missing (fast when everything is in place), then
# become the server. The server replaces this shell (exec), so the signal a
# supervisor sends to `npm start` (npm forwards SIGTERM/SIGINT to its child)
# reaches the server itself, which closes its mediasoup workers and exits.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Setup runs as a child: a signal meanwhile stops it and this script.
bash scripts/setup.sh &
setup=$!
trap 'kill -TERM "$setup" 2>/dev/null; wait "$setup" 2>/dev/null; exit 143' TERM
trap 'kill -INT "$setup" 2>/dev/null; wait "$setup" 2>/dev/null; exit 130' INT
wait "$setup"
trap - TERM INT

# Demo mode (dev tokens, loopback only) only for a bare `npm start`: an
# operator who configured keys gets what they configured, never dev tokens
# they did not ask for. DEMO set by the operator, to anything, is kept.
if [ -z "${DEMO+x}" ] && [ -z "${JWT_SECRET:-}" ] && [ -z "${JWT_PUBLIC_KEY:-}" ] && [ -z "${JWT_PUBLIC_KEY_FILE:-}" ] && [ -z "${CONFIG_FILE:-}" ]; then
	export DEMO=1
fi

exec node dist/server/main.js

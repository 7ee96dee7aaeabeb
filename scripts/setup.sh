#!/usr/bin/env bash
# Sets up everything the server and the tests need, on a fresh machine or an
# old one: Debian packages, node_modules, the mediasoup worker, the TypeScript
# build. Idempotent: installs only what is missing, rebuilds only what is stale.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { echo "[setup] $*" >&2; }

# --- Node ---------------------------------------------------------------------
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
node_minor=$(node -p 'process.versions.node.split(".")[1]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ] || { [ "$node_major" -eq 20 ] && [ "$node_minor" -lt 19 ]; }; then
	log "Node >= 20.19 is required (found $(node --version 2>/dev/null || echo none))"
	exit 1
fi

# --- Debian packages the server and tests run (build deps: build-worker.sh) ---
RUNTIME_PACKAGES=(ffmpeg chromium redis-server prometheus fonts-dejavu-core)
# Only the tests need an RTSP server (a stand-in IP camera for pull ingest), and
# network namespaces with firewall rules and a TURN server (test/network).
TEST_PACKAGES=(rtsp-server-perl iproute2 nftables coturn)
if [ "${1:-}" = "--test" ]; then RUNTIME_PACKAGES+=("${TEST_PACKAGES[@]}"); fi
missing=()
for pkg in "${RUNTIME_PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		log "missing Debian packages: ${missing[*]}"
		log "install them with: sudo apt-get install -y --no-install-recommends ${missing[*]}"
		exit 1
	fi
	log "installing Debian packages: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/telehealth-apt.log 2>&1; then
		apt-get update >>/tmp/telehealth-apt.log 2>&1
		apt-get install -y --no-install-recommends "${missing[@]}" >>/tmp/telehealth-apt.log 2>&1 \
			|| { log "apt-get install failed; see /tmp/telehealth-apt.log"; tail -20 /tmp/telehealth-apt.log >&2; exit 1; }
	fi
	# Packages that ship a service must not leave it running: tests start what they need.
	for service in redis-server prometheus rtsp-server-perl coturn; do
		command -v systemctl >/dev/null 2>&1 && systemctl disable --now "$service" >/dev/null 2>&1 || true
	done
fi

# --- node_modules, reinstalled only when the lock file or Node changed -------
stamp_file=node_modules/.telehealth-setup-stamp
want_stamp="$(sha256sum package-lock.json | cut -d' ' -f1) $(node --version)"
if [ ! -f "$stamp_file" ] || [ "$(cat "$stamp_file")" != "$want_stamp" ]; then
	log "installing npm dependencies (npm ci)"
	npm ci --no-audit --no-fund --loglevel=error >&2
	echo "$want_stamp" >"$stamp_file"
fi

# --- mediasoup worker, built from source against Debian's libraries (cached) -
bash worker-config/build-worker.sh >&2

# --- TypeScript build (incremental) and the SDK bundles (skipped when fresh) -
node_modules/.bin/tsc -p tsconfig.build.json >&2
node client-sdk/build.mjs >&2
log "ready"

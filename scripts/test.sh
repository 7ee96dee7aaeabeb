#!/usr/bin/env bash
# Runs every suite (type check, lint, mediasoup's C++ suite against our worker
# build, the mocha suites, among them the layering check in test/architecture)
# and ends with one line: "N passed, M failed[, K skipped]".
# Expects scripts/setup.sh to have run (npm test does both).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

out=.test-output
mkdir -p "$out"
rm -f "$out/mocha.json"
passed=0 failed=0 skipped=0

echo "== type check (server, tests, SDK)"
if node_modules/.bin/tsc --noEmit -p tsconfig.json && node_modules/.bin/tsc --noEmit -p client-sdk/tsconfig.json; then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
fi

echo "== lint (ESLint with typescript-eslint's type-aware rules)"
if node_modules/.bin/eslint --max-warnings 0 .; then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
fi

echo "== mediasoup C++ suite (our worker build)"
cxx_line=$(bash worker-config/run-worker-tests.sh | tee /dev/stderr | tail -1)
if [[ "$cxx_line" =~ ^cxx:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
	passed=$((passed + BASH_REMATCH[1]))
	failed=$((failed + BASH_REMATCH[2]))
else
	echo "C++ suite did not report its counts" >&2
	failed=$((failed + 1))
fi

echo "== mocha suites"
if [ $# -eq 0 ]; then set -- "test/**/*.test.ts"; fi
MOCHA_STATS_FILE="$out/mocha.json" node_modules/.bin/mocha "$@"
mocha_status=$?
if [ -f "$out/mocha.json" ]; then
	read -r m_passed m_failed m_skipped < <(node -e 'const s=require(process.argv[1]);console.log(s.passed,s.failed,s.skipped)' "$PWD/$out/mocha.json")
	passed=$((passed + m_passed))
	failed=$((failed + m_failed))
	skipped=$((skipped + m_skipped))
	if [ "$mocha_status" -ne 0 ] && [ "$m_failed" -eq 0 ]; then failed=$((failed + 1)); fi
else
	echo "mocha did not finish (exit $mocha_status)" >&2
	failed=$((failed + 1))
fi

# A worker whose owner died is re-parented to init: any such orphan means a
# test (or the server) leaked one. (The kernel truncates names to 15 chars.)
leftover=$(pgrep -x -P 1 mediasoup-worke | wc -l)
if [ "$leftover" -gt 0 ]; then
	echo "orphaned mediasoup-worker processes after the suites: $leftover" >&2
	failed=$((failed + 1))
fi

summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ]

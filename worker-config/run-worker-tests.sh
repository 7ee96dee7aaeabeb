#!/usr/bin/env bash
# Run mediasoup's own C++ test suite (Catch2, mediasoup-worker-test) against
# the worker built by worker-config/build-worker.sh.
#
# Prints a short summary; the LAST line is always exactly
#   cxx: N passed, M failed
# (N/M = Catch2 test *cases*). Exit status 0 iff M == 0.
#
# Extra arguments are passed to the Catch2 binary (e.g. a test spec or "[rtcp]").
set -euo pipefail

SCRIPT_PATH="$(readlink -f "${BASH_SOURCE[0]}")"
CONFIG_DIR="$(dirname "$SCRIPT_PATH")"
REPO_ROOT="$(dirname "$CONFIG_DIR")"
MS_WORKER_SRC="$REPO_ROOT/node_modules/mediasoup/worker"
TIMEOUT="${MEDIASOUP_WORKER_TEST_TIMEOUT:-900}"

# Test cases whose fixture files (worker/test/data/...) are not shipped in the
# mediasoup npm package; they fail only with "cannot open file".
FIXTURE_CASES=(
  "Scenario: parse RTP packets"
  "Scenario: parse RTP packets with H264 SVC"
)

say() { printf '[worker-tests] %s\n' "$*"; }
finish() { # $1 passed, $2 failed
  printf 'cxx: %d passed, %d failed\n' "$1" "$2"
  [[ "$2" == 0 ]] && exit 0
  exit 1
}

TEST_BIN="${MEDIASOUP_WORKER_TEST_BIN:-}"
if [[ -z "$TEST_BIN" && -f "$CONFIG_DIR/.worker-test-bin" ]]; then
  TEST_BIN=$(head -n1 "$CONFIG_DIR/.worker-test-bin")
fi
if [[ -z "$TEST_BIN" || ! -x "$TEST_BIN" ]]; then
  say "no cached mediasoup-worker-test; running build-worker.sh first"
  if ! bash "$CONFIG_DIR/build-worker.sh"; then
    say "build-worker.sh failed"
    finish 0 1
  fi
  TEST_BIN=$(head -n1 "$CONFIG_DIR/.worker-test-bin")
  [[ -x "$TEST_BIN" ]] || { say "build-worker.sh did not produce $TEST_BIN"; finish 0 1; }
fi

# Logs go next to the cache entries: <cache root>/logs (override with
# MEDIASOUP_WORKER_TEST_LOG_DIR).
LOG_DIR="${MEDIASOUP_WORKER_TEST_LOG_DIR:-$(dirname "$(dirname "$TEST_BIN")")/logs}"
mkdir -p "$LOG_DIR"
STAMP="$(date +%Y%m%dT%H%M%S)-$$"
XML="$LOG_DIR/worker-tests-$STAMP.xml"
LOG="$LOG_DIR/worker-tests-$STAMP.log"
# Keep the 10 newest result pairs.
ls -1t "$LOG_DIR"/worker-tests-*.xml 2>/dev/null | tail -n +11 | while IFS= read -r old; do
  rm -f -- "$old" "${old%.xml}.log"
done || true

# The tests open fixtures as "test/data/..." relative to the worker source
# root (meson runs them with workdir = project root), so run from there.
if [[ -d "$MS_WORKER_SRC/test" ]]; then
  WORKDIR="$MS_WORKER_SRC"
else
  WORKDIR="$(dirname "$TEST_BIN")"
fi

SPEC=()
if [[ $# -gt 0 ]]; then
  SPEC=("$@")
elif [[ ! -d "$WORKDIR/test/data" ]]; then
  # One spec argument: space-separated terms are ANDed ("not A and not B").
  s=""
  for c in "${FIXTURE_CASES[@]}"; do s+="~\"$c\" "; done
  SPEC=("${s% }")
  for c in "${FIXTURE_CASES[@]}"; do say "excluded (fixture files not in the npm package): $c"; done
fi

say "running $TEST_BIN (cwd $WORKDIR)"
T0=$(date +%s.%N)
set +e
{ (cd "$WORKDIR" && exec timeout "$TIMEOUT" "$TEST_BIN" -r xml -o "$XML" -d yes "${SPEC[@]}") >"$LOG" 2>&1; } 2>>"$LOG"
RC=$?
set -e
SECS=$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
printf '\n[worker-tests] exit status %d after %ss; XML report: %s\n' "$RC" "$SECS" "$XML" >>"$LOG"

# Parse the Catch2 XML report: one <TestCase> per case, each with
# <OverallResult success="true|false"/>. A truncated report (crash, timeout)
# is parsed leniently and counted as one extra failed case.
SUMMARY=$(python3 - "$XML" "$RC" <<'PY'
import re, sys
path, rc = sys.argv[1], int(sys.argv[2])
try:
    text = open(path, encoding="utf-8", errors="replace").read()
except OSError:
    text = ""
passed, failed, failed_names, notes = 0, 0, [], []
complete = False
try:
    import xml.etree.ElementTree as ET
    root = ET.fromstring(text)
    cases = root.iter("TestCase")
    for tc in cases:
        res = tc.find("OverallResult")
        ok = res is not None and res.get("success") == "true"
        if ok:
            passed += 1
        else:
            failed += 1
            detail = ""
            for el in tc.iter():
                if el.tag == "Expression" and el.get("success") == "false":
                    orig = (el.findtext("Original") or "").strip()
                    exp = (el.findtext("Expanded") or "").strip()
                    detail = "%s (%s)" % (orig, exp)
                elif el.tag in ("Failure", "Exception", "FatalErrorCondition"):
                    detail = "%s: %s" % (el.tag, (el.text or "").strip())
                else:
                    continue
                detail = "%s:%s: %s" % (el.get("filename", "?").split("/")[-1], el.get("line", "?"), detail)
                break
            failed_names.append(tc.get("name", "?") + ("  -- " + detail[:200] if detail else ""))
    complete = True
    totals = root.find("OverallResults")
    cases_tot = root.find("OverallResultsCases")
    if totals is not None:
        notes.append("assertions: %s passed, %s failed" % (totals.get("successes"), totals.get("failures")))
    if cases_tot is not None:
        cp, cf = int(cases_tot.get("successes", -1)), int(cases_tot.get("failures", -1))
        if (cp, cf) != (passed, failed):
            notes.append("note: Catch2 totals say %d/%d cases passed/failed" % (cp, cf))
except Exception as e:  # truncated or missing report
    for m in re.finditer(r'<TestCase name="([^"]*)".*?<OverallResult success="(true|false)"', text, re.S):
        if m.group(2) == "true":
            passed += 1
        else:
            failed += 1
            failed_names.append(m.group(1))
    notes.append("report incomplete (%s)" % type(e).__name__)
if not complete or (rc != 0 and failed == 0):
    failed += 1
    failed_names.append("<test run aborted: exit status %d>" % rc)
if passed + failed == 0:
    failed = 1
    failed_names.append("<no test cases ran>")
for n in notes:
    print("#", n)
for n in failed_names:
    print("! " + n)
print("= %d %d" % (passed, failed))
PY
) || SUMMARY="! <could not parse $XML>
= 0 1"

while IFS= read -r line; do
  case "$line" in
    "# "*) say "${line#\# }" ;;
    "! "*) say "FAILED: ${line#! }" ;;
  esac
done <<<"$SUMMARY"
read -r _ PASSED FAILED < <(grep '^= ' <<<"$SUMMARY" | tail -n1)
say "took ${SECS}s; Catch2 report: $XML (stdout/stderr: $LOG)"
finish "${PASSED:-0}" "${FAILED:-1}"

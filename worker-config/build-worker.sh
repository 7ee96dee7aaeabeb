#!/usr/bin/env bash
# Build mediasoup's C++ worker (and its Catch2 test binary) offline, against
# Debian 12 libraries, and cache the result outside node_modules.
#
#   bash worker-config/build-worker.sh        (npm run build:worker)
#
# See worker-config/README.md for the cache key, environment variables and
# timings, and /work/shared/notes/mediasoup-worker-offline.md for why.
set -euo pipefail
set -o errtrace

# ---------------------------------------------------------------------------
# Paths and settings
# ---------------------------------------------------------------------------
SCRIPT_PATH="$(readlink -f "${BASH_SOURCE[0]}")"
CONFIG_DIR="$(dirname "$SCRIPT_PATH")"
REPO_ROOT="$(dirname "$CONFIG_DIR")"
WORKER_BUILD_DIR="$CONFIG_DIR/worker-build"
SHIMS_DIR="$WORKER_BUILD_DIR/shims"
MS_DIR="$REPO_ROOT/node_modules/mediasoup"
MS_WORKER_SRC="$MS_DIR/worker"

CACHE_ROOT="${MEDIASOUP_WORKER_CACHE:-${HOME:?HOME is not set: set MEDIASOUP_WORKER_CACHE}/.cache/telehealth-sfu/mediasoup-worker}"
JOBS="${MEDIASOUP_WORKER_JOBS:-2}"
KEEP="${MEDIASOUP_WORKER_CACHE_KEEP:-2}"
FORCE="${MEDIASOUP_WORKER_FORCE:-0}"
VERBOSE="${MEDIASOUP_WORKER_VERBOSE:-0}"
KEEP_BUILD="${MEDIASOUP_WORKER_KEEP_BUILD:-0}"

# Debian packages the build needs (libsrtp is built from Debian's *source*
# package with OpenSSL crypto, so libsrtp2-dev is not needed).
REQUIRED_PKGS=(meson ninja-build pkg-config g++ python3
  libuv1-dev libusrsctp-dev libabsl-dev libssl-dev nlohmann-json3-dev catch2)
# Packages whose installed version goes into the cache key.
KEY_PKGS=(libuv1-dev libusrsctp-dev libabsl-dev libssl-dev nlohmann-json3-dev
  catch2 meson ninja-build g++ pkg-config)

START_TS=$(date +%s)
LOG=""            # current log file (set before long steps)
CLEANUP_PATHS=()  # removed on exit

# Prefixed so the messages are easy to pick out of `npm run` output.
say() { printf '[build-worker] %s\n' "$*"; }
err() { printf '[build-worker] ERROR: %s\n' "$*" >&2; }
die() {
  err "$*"
  if [[ -n "$LOG" && -s "$LOG" ]]; then
    printf '[build-worker] ---- last 40 lines of %s ----\n' "$LOG" >&2
    tail -n 40 "$LOG" >&2 || true
    printf '[build-worker] ---- full log: %s ----\n' "$LOG" >&2
  fi
  exit 1
}
on_err() {
  local rc=$? line=$1
  trap - ERR
  die "unexpected failure (exit $rc) at build-worker.sh line $line: $BASH_COMMAND"
}
trap 'on_err $LINENO' ERR
cleanup() {
  local p
  for p in "${CLEANUP_PATHS[@]}"; do rm -rf -- "$p"; done
}
trap cleanup EXIT
trap 'trap - ERR; err "interrupted; nothing was published to the cache"; exit 130' INT TERM

# Run a command with its output appended to $LOG (also shown if VERBOSE=1).
run_logged() {
  printf '\n$ %s\n' "$*" >>"$LOG"
  if [[ "$VERBOSE" == 1 ]]; then
    "$@" 2>&1 | tee -a "$LOG"
  else
    "$@" >>"$LOG" 2>&1
  fi
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
# Value of `key = value` in a meson .wrap file.
wrap_get() { sed -n "s/^$2[[:space:]]*=[[:space:]]*//p" "$1" | head -n1 | tr -d '\r'; }
pkg_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true; }
elapsed() { local s=$(($(date +%s) - $1)); printf '%dm%02ds' $((s / 60)) $((s % 60)); }

# ---------------------------------------------------------------------------
# 1. Debian packages
# ---------------------------------------------------------------------------
ensure_packages() {
  local p missing=()
  for p in "${REQUIRED_PKGS[@]}"; do
    if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]]; then
      missing+=("$p")
    fi
  done
  ((${#missing[@]} == 0)) && return 0

  if [[ "$(id -u)" != 0 ]]; then
    err "missing Debian packages: ${missing[*]}"
    err "install them with:"
    printf '  sudo apt-get update && sudo apt-get install -y --no-install-recommends %s\n' "${missing[*]}" >&2
    exit 1
  fi

  say "installing missing Debian packages: ${missing[*]}"
  local apt_log="$CACHE_ROOT/logs/apt-install.log"
  mkdir -p "$CACHE_ROOT/logs"
  LOG="$apt_log"
  : >"$LOG"
  local updated=0
  # Refresh the package lists first only if there are none at all.
  if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
    run_logged apt-get update || die "apt-get update failed"
    updated=1
  fi
  if ! DEBIAN_FRONTEND=noninteractive run_logged apt-get install -y --no-install-recommends "${missing[@]}"; then
    ((updated)) && die "apt-get install ${missing[*]} failed"
    # Stale lists: update once and retry.
    run_logged apt-get update || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive run_logged apt-get install -y --no-install-recommends "${missing[@]}" ||
      die "apt-get install ${missing[*]} failed"
  fi
  LOG=""
}

# ---------------------------------------------------------------------------
# 2a. libsrtp2 source tarball (Debian source package; cached)
# ---------------------------------------------------------------------------
# Writes deb-src entries mirroring the machine's Debian `deb` entries into $1.
write_deb_src_sources() {
  local out_dir=$1 f n=0
  if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    # deb822: turn every stanza whose Types include "deb" into a deb-src one.
    awk '
      BEGIN { RS = ""; ORS = "\n\n" }
      {
        if ($0 !~ /(^|\n)Types:[^\n]*(^|[ \t])deb([ \t]|\n|$)/) next
        out = ""
        n = split($0, lines, "\n")
        for (i = 1; i <= n; i++) {
          if (lines[i] ~ /^Types:/) lines[i] = "Types: deb-src"
          out = out lines[i] "\n"
        }
        printf "%s\n", out
      }' /etc/apt/sources.list.d/debian.sources >"$out_dir/debian-src.sources"
    [[ -s "$out_dir/debian-src.sources" ]] && n=1
  fi
  if ((n == 0)); then
    # One-line format fallback (/etc/apt/sources.list, *.list).
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [[ -f "$f" ]] || continue
      sed -n 's/^[[:space:]]*deb[[:space:]]\+/deb-src /p' "$f"
    done | grep -i debian >"$out_dir/debian-src.list" || true
    [[ -s "$out_dir/debian-src.list" ]] && n=1
  fi
  ((n == 1)) || die "found no Debian 'deb' entry in /etc/apt to mirror as deb-src"
}

# Sets SRTP_TARBALL and SRTP_SRC_VERSION.
ensure_libsrtp_source() {
  local wrap="$MS_WORKER_SRC/subprojects/libsrtp2.wrap"
  [[ -f "$wrap" ]] || die "missing $wrap"
  SRTP_FILENAME=$(wrap_get "$wrap" source_filename)
  SRTP_HASH=$(wrap_get "$wrap" source_hash)
  local wrap_dir upstream
  wrap_dir=$(wrap_get "$wrap" directory)   # e.g. libsrtp-2.5.0
  upstream=${wrap_dir##*-}                 # e.g. 2.5.0
  [[ -n "$SRTP_FILENAME" && -n "$SRTP_HASH" && -n "$upstream" ]] || die "cannot parse $wrap"

  local src_dir="$CACHE_ROOT/sources/libsrtp2"
  SRTP_TARBALL="$src_dir/$SRTP_FILENAME"
  if [[ -f "$SRTP_TARBALL" && -s "$src_dir/version" ]] &&
    [[ "$(sha256_of "$SRTP_TARBALL")" == "$SRTP_HASH" ]]; then
    SRTP_SRC_VERSION=$(<"$src_dir/version")
    return 0
  fi

  mkdir -p "$src_dir" "$CACHE_ROOT/logs"
  LOG="$CACHE_ROOT/logs/libsrtp2-source.log"
  : >"$LOG"
  local dl
  dl=$(mktemp -d "$CACHE_ROOT/.srtp-dl.XXXXXX")
  CLEANUP_PATHS+=("$dl")

  local orig version
  if [[ -n "${LIBSRTP_ORIG_TARBALL:-}" ]]; then
    say "using libsrtp source tarball from LIBSRTP_ORIG_TARBALL=$LIBSRTP_ORIG_TARBALL"
    cp -- "$LIBSRTP_ORIG_TARBALL" "$dl/orig.tar.gz"
    orig="$dl/orig.tar.gz"
    version="local-$upstream"
  else
    say "fetching Debian source package libsrtp2 (once; cached in $src_dir)"
    # Private apt configuration: the system's sources/lists/caches are untouched.
    local apt_dir="$CACHE_ROOT/apt"
    rm -rf "$apt_dir"
    mkdir -p "$apt_dir/sources.list.d" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
    write_deb_src_sources "$apt_dir/sources.list.d"
    local apt_opts=(
      -o "Dir::Etc::SourceList=/dev/null"
      -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
      -o "Dir::State::Lists=$apt_dir/lists"
      -o "Dir::Cache=$apt_dir/cache"
      -o "Dir::Cache::pkgcache="
      -o "Dir::Cache::srcpkgcache="
      -o "Acquire::Languages=none"
      -o "APT::Sandbox::User=$(id -un)"
    )
    run_logged apt-get "${apt_opts[@]}" update ||
      die "apt-get update with a private deb-src list failed (is the Debian mirror reachable?)"
    # Prefer the source version whose upstream part matches mediasoup's wrap.
    local cand="" v
    while read -r v; do
      [[ "${v%-*}" == "$upstream" || "${v%-*}" == *":$upstream" ]] && { cand=$v; break; }
    done < <(apt-cache "${apt_opts[@]}" showsrc libsrtp2 2>>"$LOG" | sed -n 's/^Version: //p')
    [[ -n "$cand" ]] || die "Debian has no libsrtp2 source for upstream $upstream (mediasoup's wrap wants $wrap_dir)"
    (cd "$dl" && run_logged apt-get "${apt_opts[@]}" source --download-only "libsrtp2=$cand") ||
      die "apt-get source --download-only libsrtp2=$cand failed"
    orig=$(compgen -G "$dl/libsrtp2_${upstream}.orig.tar.*" | head -n1 || true)
    [[ -n "$orig" ]] || die "no libsrtp2 orig tarball in the downloaded source package"
    version=$cand
    rm -rf "$apt_dir"
  fi

  local got
  got=$(sha256_of "$orig")
  [[ "$got" == "$SRTP_HASH" ]] ||
    die "libsrtp tarball sha256 $got != $SRTP_HASH expected by $wrap"
  cp -- "$orig" "$SRTP_TARBALL.tmp.$$"
  mv -f -- "$SRTP_TARBALL.tmp.$$" "$SRTP_TARBALL"
  printf '%s\n' "$version" >"$src_dir/version.tmp.$$"
  mv -f -- "$src_dir/version.tmp.$$" "$src_dir/version"
  SRTP_SRC_VERSION=$version
  say "libsrtp2 source $version verified (sha256 ${SRTP_HASH:0:12}...)"
  LOG=""
}

# ---------------------------------------------------------------------------
# 2b. Cache key
# ---------------------------------------------------------------------------
key_material() {
  local p
  printf 'mediasoup=%s\n' "$MS_VERSION"
  printf 'arch=%s\n' "$(dpkg --print-architecture)"
  for p in "${KEY_PKGS[@]}"; do printf 'deb:%s=%s\n' "$p" "$(pkg_version "$p")"; done
  printf 'g++=%s\n' "$(g++ -dumpfullversion 2>/dev/null || g++ -dumpversion)"
  printf 'libsrtp2-source=%s\n' "$SRTP_SRC_VERSION"
  printf 'libsrtp2-orig-sha256=%s\n' "$SRTP_HASH"
  printf 'build-worker.sh=%s\n' "$(sha256_of "$SCRIPT_PATH")"
  (cd "$CONFIG_DIR" && find worker-build -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}

# ---------------------------------------------------------------------------
# 3. Build
# ---------------------------------------------------------------------------
build_worker() {
  local build_root="$CACHE_ROOT/build/$KEY"
  local src="$build_root/worker" bld="$build_root/build"
  mkdir -p "$CACHE_ROOT/logs"
  LOG="$CACHE_ROOT/logs/build-$KEY.log"
  : >"$LOG"
  say "cache miss: building mediasoup-worker $MS_VERSION (-j$JOBS); log: $LOG"

  rm -rf "$build_root"
  mkdir -p "$build_root"
  # Copy the sources out of node_modules (never build inside it).
  cp -a "$MS_WORKER_SRC" "$src"
  rm -rf "$src/out" "$src/subprojects/packagecache"
  find "$src/subprojects" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
  mkdir -p "$src/subprojects/packagecache"

  # Shim subprojects wrapping the Debian libraries (meson uses an existing
  # subprojects/<directory> as-is and never downloads it).
  local wrap name dir
  for wrap in "$src"/subprojects/*.wrap; do
    name=$(basename "$wrap" .wrap)
    case "$name" in
      libsrtp2)
        # Real libsrtp, built by meson from Debian's orig tarball (OpenSSL crypto).
        cp -- "$SRTP_TARBALL" "$src/subprojects/packagecache/$SRTP_FILENAME"
        ;;
      wingetopt) ;; # Windows only.
      *)
        [[ -d "$SHIMS_DIR/$name" ]] || die "no Debian shim for mediasoup wrap '$name' (add worker-config/worker-build/shims/$name)"
        dir=$(wrap_get "$wrap" directory)
        [[ -n "$dir" ]] || die "cannot parse 'directory' from $wrap"
        cp -a "$SHIMS_DIR/$name" "$src/subprojects/$dir"
        ;;
    esac
  done

  # Debian 12 ships meson 1.0.1; mediasoup 3.12.16 asks for >= 1.1.0 but builds
  # fine with 1.0.x. Relax the requirement to the installed version if needed.
  local need have
  need=$(sed -n "s/^[[:space:]]*meson_version[[:space:]]*:[[:space:]]*'>=[[:space:]]*\([0-9.]*\)'.*/\1/p" "$src/meson.build" | head -n1)
  have=$(meson --version)
  [[ -n "$need" ]] || die "cannot find meson_version in mediasoup's meson.build"
  if dpkg --compare-versions "$have" lt "$need"; then
    printf 'relaxing meson_version >= %s to >= %s\n' "$need" "$have" >>"$LOG"
    sed -i "s/\(meson_version[[:space:]]*:[[:space:]]*'>=[[:space:]]*\)$need'/\1$have'/" "$src/meson.build"
    grep -q "'>= $have'" "$src/meson.build" || die "failed to patch meson_version in meson.build"
  fi

  export PYTHONDONTWRITEBYTECODE=1
  unset NINJA MESON_ARGS || true
  local t
  t=$(date +%s)
  # Same options as mediasoup's worker/Makefile (MEDIASOUP_BUILDTYPE=Release),
  # plus --wrap-mode=nodownload so a missing shim fails instead of downloading.
  run_logged meson setup \
    --prefix "$build_root/install" \
    --buildtype release \
    -Db_ndebug=true \
    -Db_pie=true \
    -Db_staticpic=true \
    --wrap-mode=nodownload \
    "$bld" "$src" || die "meson setup failed"

  say "compiling mediasoup-worker ..."
  run_logged ninja -C "$bld" -j "$JOBS" mediasoup-worker || die "ninja mediasoup-worker failed"
  WORKER_TIME=$(elapsed "$t")
  say "mediasoup-worker built in $WORKER_TIME"

  local t2
  t2=$(date +%s)
  say "compiling mediasoup-worker-test ..."
  run_logged ninja -C "$bld" -j "$JOBS" mediasoup-worker-test || die "ninja mediasoup-worker-test failed"
  TEST_TIME=$(elapsed "$t2")
  say "mediasoup-worker-test built in $TEST_TIME"

  # Sanity: every shared library resolves, and libsrtp is the statically
  # linked OpenSSL build (not Debian's NSS-based libsrtp2.so).
  local b
  for b in mediasoup-worker mediasoup-worker-test; do
    [[ -x "$bld/$b" ]] || die "$bld/$b was not produced"
    ldd "$bld/$b" >>"$LOG" 2>&1 || true
    if ldd "$bld/$b" | grep -q 'not found'; then die "$b has unresolved shared libraries (see ldd in log)"; fi
    if ldd "$bld/$b" | grep -q 'libsrtp2'; then die "$b links Debian's libsrtp2.so instead of the OpenSSL build"; fi
  done

  # Publish atomically: stage everything, then rename the directory.
  local stage="$CACHE_ROOT/.stage-$KEY-$$"
  CLEANUP_PATHS+=("$stage")
  rm -rf "$stage"
  mkdir -p "$stage"
  cp -- "$bld/mediasoup-worker" "$bld/mediasoup-worker-test" "$stage/"
  printf '%s\n' "$KEY_MATERIAL" >"$stage/key.txt"
  {
    printf 'built_at=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    printf 'host=%s\n' "$(uname -n)"
    printf 'jobs=%s\nworker_time=%s\ntest_time=%s\ntotal_time=%s\n' "$JOBS" "$WORKER_TIME" "$TEST_TIME" "$(elapsed "$t")"
  } >"$stage/build-info.txt"
  cp -- "$LOG" "$stage/build.log"
  sync -f "$stage/mediasoup-worker" 2>/dev/null || true
  rm -rf "$KEY_DIR"
  mv -T -- "$stage" "$KEY_DIR"
  say "build finished in $(elapsed "$t") (worker $WORKER_TIME + test binary $TEST_TIME)"

  if [[ "$KEEP_BUILD" == 1 ]]; then
    say "kept build tree: $build_root"
  else
    rm -rf "$build_root"
    rmdir "$CACHE_ROOT/build" 2>/dev/null || true
  fi
  LOG=""
}

# ---------------------------------------------------------------------------
# 4. Point every entry point at the cached binary
# ---------------------------------------------------------------------------
atomic_write() { printf '%s\n' "$2" >"$1.tmp.$$" && mv -f -- "$1.tmp.$$" "$1"; }

link_binary() {
  local out_dir="$MS_WORKER_SRC/out/Release" link tmp
  link="$out_dir/mediasoup-worker"
  mkdir -p "$out_dir"
  if [[ -e "$link" && ! -L "$link" ]]; then
    say "replacing existing non-symlink $link"
  fi
  tmp="$out_dir/.mediasoup-worker.tmp.$$"
  ln -sfn -- "$KEY_DIR/mediasoup-worker" "$tmp"
  mv -Tf -- "$tmp" "$link"
  atomic_write "$CONFIG_DIR/.worker-bin" "$KEY_DIR/mediasoup-worker"
  atomic_write "$CONFIG_DIR/.worker-test-bin" "$KEY_DIR/mediasoup-worker-test"
}

# ---------------------------------------------------------------------------
# 6. Prune old keys (keep the newest $KEEP; 0 = never prune)
# ---------------------------------------------------------------------------
prune_cache() {
  # Leftover build trees of other keys (failed or interrupted builds).
  if [[ "$KEEP_BUILD" != 1 && -d "$CACHE_ROOT/build" ]]; then
    find "$CACHE_ROOT/build" -mindepth 1 -maxdepth 1 -type d ! -name "$KEY" -exec rm -rf {} +
    rmdir "$CACHE_ROOT/build" 2>/dev/null || true
  fi
  # Logs of failed builds of other keys.
  local f k
  for f in "$CACHE_ROOT"/logs/build-*.log; do
    [[ -f "$f" ]] || continue
    k=${f##*/build-}
    k=${k%.log}
    [[ "$k" == "$KEY" || -d "$CACHE_ROOT/$k" ]] || rm -f -- "$f"
  done
  [[ "$KEEP" =~ ^[0-9]+$ ]] || return 0
  ((KEEP > 0)) || return 0
  touch "$KEY_DIR"
  local d i=0
  while IFS= read -r d; do
    i=$((i + 1))
    ((i > KEEP)) || continue
    say "pruning old cache entry $(basename "$d")"
    rm -rf -- "$d" "$CACHE_ROOT/logs/build-$(basename "$d").log" "$CACHE_ROOT/build/$(basename "$d")"
  done < <(find "$CACHE_ROOT" -mindepth 1 -maxdepth 1 -type d -regextype posix-extended \
    -regex '.*/[0-9a-f]{64}' -printf '%T@ %p\n' | sort -rn | cut -d' ' -f2-)
}

# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------
[[ -f "$MS_DIR/package.json" ]] || die "node_modules/mediasoup not found in $REPO_ROOT: run 'npm install' first"
[[ -d "$MS_WORKER_SRC/subprojects" ]] || die "$MS_WORKER_SRC has no worker sources"
[[ -d "$SHIMS_DIR" ]] || die "missing $SHIMS_DIR"
MS_VERSION=$(node -p "require(process.argv[1]).version" "$MS_DIR/package.json" 2>/dev/null ||
  sed -n 's/^[[:space:]]*"version"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$MS_DIR/package.json" | head -n1)
[[ -n "$MS_VERSION" ]] || die "cannot read mediasoup version"

mkdir -p "$CACHE_ROOT" || die "cannot create cache root $CACHE_ROOT"
CACHE_ROOT=$(readlink -f "$CACHE_ROOT")

# One build at a time per cache root.
exec 9>"$CACHE_ROOT/.lock"
if ! flock -n 9; then
  say "another build-worker.sh holds $CACHE_ROOT/.lock; waiting ..."
  flock 9
fi

# Leftovers of runs that were killed (we hold the lock, so nobody uses them).
rm -rf "$CACHE_ROOT"/.stage-* "$CACHE_ROOT"/.srtp-dl.* "$CACHE_ROOT"/apt

ensure_packages
ensure_libsrtp_source

KEY_MATERIAL=$(key_material)
KEY=$(printf '%s\n' "$KEY_MATERIAL" | sha256sum | cut -d' ' -f1)
KEY_DIR="$CACHE_ROOT/$KEY"
say "mediasoup $MS_VERSION, cache key $KEY"

if [[ "$FORCE" != 1 && -x "$KEY_DIR/mediasoup-worker" && -x "$KEY_DIR/mediasoup-worker-test" ]]; then
  say "cache hit: $KEY_DIR"
else
  build_worker
fi

link_binary
prune_cache
say "mediasoup-worker: $KEY_DIR/mediasoup-worker"
say "linked from node_modules/mediasoup/worker/out/Release/mediasoup-worker; done in $(elapsed "$START_TS")"

# Steps the local benchmarks share (takeout.sh, takeout_parser.sh, apple_health.sh; lib.sh
# for the server ones). Sourced after `set -euo pipefail`.

# need_tools CMD=PACKAGE ...: installs the Debian package of each command that is missing.
need_tools() {
    local missing=() need
    for need in "$@"; do
        command -v "${need%%=*}" >/dev/null || missing+=("${need#*=}")
    done
    if ((${#missing[@]})); then
        local sudo_cmd=""
        [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
        $sudo_cmd apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

# work_dir BENCH_DIR NEED_KB PREFIX: stops unless BENCH_DIR has NEED_KB free (FORCE=1 tries
# anyway), then makes WORK (BENCH_DIR/PREFIX.XXXXXX) and OUT=$WORK/out, removed on exit
# unless KEEP=1.
work_dir() {
    mkdir -p "$1"
    local have_kb
    have_kb=$(df -Pk "$1" | awk 'NR == 2 { print $4 }')
    if [ "$have_kb" -lt "$2" ] && [ "${FORCE:-0}" != 1 ]; then
        echo "not enough space in $1: need ~$(($2 / 1048576)) GiB, have $((have_kb / 1048576)) GiB (FORCE=1 to try anyway)" >&2
        exit 1
    fi
    WORK=$(mktemp -d "$1/$3.XXXXXX")
    OUT=$WORK/out
    mkdir -p "$OUT"
    trap 'if [ "${KEEP:-0}" = 1 ]; then echo "== kept $WORK"; else rm -rf "$WORK"; fi' EXIT
}

# timed LABEL LOG CMD...: runs CMD after a sync under /usr/bin/time, its output in LOG and
# LOG.err; stops the script with their last lines if it fails; sets SECS and RSS (KiB).
timed() {
    local label=$1 log=$2
    shift 2
    sync
    echo "-- $label: $*"
    if ! /usr/bin/time -o "$log.time" -f '%e %M' "$@" >"$log" 2>"$log.err"; then
        echo "FAILED ($label): $*" >&2
        tail -n 20 "$log" "$log.err" >&2
        exit 1
    fi
    read -r SECS RSS < <(tail -n 1 "$log.time")
}

# takeout_tools: builds ferry and the Takeout generator (unless SKIP_BUILD=1) and sets FERRY
# and GEN (either may be given instead); needs REPO and TARGET.
takeout_tools() {
    if [ "${SKIP_BUILD:-0}" != 1 ]; then
        # two builds: the example's dev-dependencies would change the binary's features
        echo "== cargo build --release -p ferry-cli; cargo build --release -p ferry-cli --example gen_archive"
        (cd "$REPO" && cargo build --release -q -p ferry-cli && cargo build --release -q -p ferry-cli --example gen_archive)
    fi
    FERRY=${FERRY:-$TARGET/release/ferry}
    GEN=${GEN:-$TARGET/release/examples/gen_archive}
    local b
    for b in "$FERRY" "$GEN"; do [ -x "$b" ] || { echo "not found: $b" >&2; exit 1; }; done
}

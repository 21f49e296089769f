#!/usr/bin/env bash
# Startup benchmark, side by side with its peer: time from exec to the first frame on screen, and the
# resident memory of the idle window, for the release binary of ANYON and for a bare eframe window with the
# same eframe features and window size (tests/benches/bare_window.rs), alternating runs in one session. Runs
# under Xvfb when no display is set.
#
#   tests/benches/startup.sh [RUNS]
#
# With CLAUDE_CONFIG_DIR set (for example to the tree `cargo bench --bench history_index -- 16615 2800
# --keep FOLDER` leaves in FOLDER/claude), ANYON starts on those transcripts with an index made beforehand
# by `anyon usage daily`, and the idle memory is read after IDLE_SECONDS (default 5; give the window time
# to finish its start-up scan on a large history).
#
# Needs: xvfb, libgl1-mesa-dri, libegl1 (Debian names); exits 1 when a peer cannot be built or run.
# Prints one summary line per figure and program.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-10}"
anyon="target/release/anyon"
[ -x "$anyon" ] || cargo build --release --locked
# BARE_WINDOW names an already built bare window (skips the build).
bare="${BARE_WINDOW:-$(cargo bench --locked --bench bare_window --no-run 2>&1 | sed -n 's/.*Executable .*(\(.*bare_window-[0-9a-f]*\)).*/\1/p' | tail -1)}"
if [ -z "$bare" ] || [ ! -x "$bare" ]; then
    echo "the bare eframe window (tests/benches/bare_window.rs) could not be built; nothing measured" >&2
    exit 1
fi
command -v Xvfb >/dev/null || [ -n "${DISPLAY:-}" ] || { echo "Xvfb is not installed (apt-get install xvfb); nothing measured" >&2; exit 1; }
home="$(mktemp -d)"
cleanup() {
    [ -n "${xvfb_pid:-}" ] && kill "$xvfb_pid" 2>/dev/null || true
    rm -rf "$home"
}
trap cleanup EXIT
if [ -z "${DISPLAY:-}" ]; then
    display=":$((90 + RANDOM % 9))"
    Xvfb "$display" -screen 0 1280x800x24 >/dev/null 2>&1 &
    xvfb_pid=$!
    export DISPLAY="$display"
    sleep 1
fi
export ANYON_HOME="$home" ANYON_LOG=warn
idle_seconds="${IDLE_SECONDS:-5}"
if [ -n "${CLAUDE_CONFIG_DIR:-}" ]; then
    echo "transcripts: $CLAUDE_CONFIG_DIR/projects ($(du -sh "$CLAUDE_CONFIG_DIR/projects" | cut -f1)); indexing them first"
    "$anyon" usage daily --json >/dev/null
fi

# One exec-to-first-frame time in microseconds, or exit 1 when the program printed none.
first_frame_us() {
    local start line
    start=$(date +%s%N)
    line=$(ANYON_BENCH_FIRST_FRAME=1 "$1" 2>/dev/null | grep ANYON_FIRST_FRAME_UNIX_NS=) || {
        echo "$1 showed no first frame" >&2
        exit 1
    }
    echo $(( (${line#ANYON_FIRST_FRAME_UNIX_NS=} - start) / 1000 ))
}

summary() {
    local name=$1
    shift
    local sorted
    sorted=($(printf '%s\n' "$@" | sort -n))
    local median=${sorted[$(( ${#sorted[@]} / 2 ))]}
    printf '%s: first frame after exec: median %d.%03d ms, min %d.%03d ms, max %d.%03d ms over %d runs\n' "$name" \
        $((median / 1000)) $((median % 1000)) \
        $((sorted[0] / 1000)) $((sorted[0] % 1000)) \
        $((sorted[-1] / 1000)) $((sorted[-1] % 1000)) "${#sorted[@]}"
}

idle_rss() {
    local name=$1 pid rss_kb hwm_kb
    "$2" >/dev/null 2>&1 &
    pid=$!
    sleep "$idle_seconds"
    rss_kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
    hwm_kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
    kill -TERM "$pid"
    wait "$pid" || true
    printf "%s: idle window after %s s: RSS %d.%d MB (peak %d.%d MB)\n" "$name" "$idle_seconds" \
        $((rss_kb / 1024)) $((rss_kb % 1024 * 10 / 1024)) $((hwm_kb / 1024)) $((hwm_kb % 1024 * 10 / 1024))
}

# Warm-up: the first run creates the database and fills the page cache.
ANYON_BENCH_FIRST_FRAME=1 "$anyon" >/dev/null 2>&1 || true
ANYON_BENCH_FIRST_FRAME=1 "$bare" >/dev/null 2>&1 || true
anyon_times=()
bare_times=()
for _ in $(seq "$runs"); do
    anyon_times+=("$(first_frame_us "$anyon")")
    bare_times+=("$(first_frame_us "$bare")")
done
summary "ANYON" "${anyon_times[@]}"
summary "bare eframe window" "${bare_times[@]}"
idle_rss "ANYON" "$anyon"
idle_rss "bare eframe window" "$bare"

#!/usr/bin/env bash
# Startup benchmark for the release binary: time from exec to the first frame on screen, and the
# resident memory of the idle window. Runs under Xvfb when no display is set.
#
#   tests/benches/startup.sh [RUNS]
#
# Needs: xvfb, libgl1-mesa-dri, libegl1 (Debian names). Prints one summary line per figure.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-10}"
bin="target/release/anyon"
[ -x "$bin" ] || cargo build --release --locked
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
# Warm-up: the first run creates the database and fills the page cache.
ANYON_BENCH_FIRST_FRAME=1 "$bin" >/dev/null 2>&1 || true
times=()
for _ in $(seq "$runs"); do
    start=$(date +%s%N)
    line=$(ANYON_BENCH_FIRST_FRAME=1 "$bin" 2>/dev/null | grep ANYON_FIRST_FRAME_UNIX_NS=)
    frame=${line#ANYON_FIRST_FRAME_UNIX_NS=}
    times+=($(( (frame - start) / 1000 )))
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
median_us=${sorted[$(( ${#sorted[@]} / 2 ))]}
printf 'first frame after exec: median %d.%03d ms, min %d.%03d ms, max %d.%03d ms over %d runs\n' \
    $((median_us / 1000)) $((median_us % 1000)) \
    $((sorted[0] / 1000)) $((sorted[0] % 1000)) \
    $((sorted[-1] / 1000)) $((sorted[-1] % 1000)) "$runs"

"$bin" >/dev/null 2>&1 &
pid=$!
sleep 5
rss_kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
hwm_kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
kill -TERM "$pid"
wait "$pid" || true
printf 'idle window after 5 s: RSS %d.%d MB (peak %d.%d MB)\n' \
    $((rss_kb / 1024)) $((rss_kb % 1024 * 10 / 1024)) $((hwm_kb / 1024)) $((hwm_kb % 1024 * 10 / 1024))

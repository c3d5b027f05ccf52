#!/usr/bin/env bash
# Run every fuzz target for FUZZ_SECONDS each (default 600), keep going after a finding,
# record each failure with its input, and print a summary. Called by `make fuzz`.
#
#   FUZZ_SECONDS=300 scripts/fuzz.sh                 # all six targets
#   FUZZ_SECONDS=60 FUZZ_TARGETS="open jls" scripts/fuzz.sh
#
# Targets: open (fuzz/fuzz_open.py under atheris: dicomframes.open + decode, Python layer)
# and the libFuzzer C targets deflate, jpeg, jpeg8, jpeg_any, jls (ASan + UBSan, clang).
# The C targets run in libFuzzer's fork mode with -ignore_crashes/-ignore_timeouts/
# -ignore_ooms, so a finding does not end the run; atheris has no such mode for Python,
# so fuzz_open.py is restarted in a loop until its time is spent.
#
# Everything goes under FUZZ_OUT (default build/fuzz-run): work corpora (seeds copied in,
# new inputs added there, the git-tracked seed folders are left alone), logs, and
# findings/<target>/ with each reproducer (crash-*, timeout-*, oom-*, leak-*).
# Exit status: 0 when no target found anything, 1 otherwise.
#   scripts/fuzz.sh --summary                # print the last run's summary again
#   FUZZ_BIN=/tmp/bin scripts/fuzz.sh --build jpeg jls      # only build C targets
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
SECONDS_EACH=${FUZZ_SECONDS:-600}
OUT=${FUZZ_OUT:-build/fuzz-run}
TARGETS=${FUZZ_TARGETS:-"open deflate jpeg jpeg8 jpeg_any jls"}
PY=${PY:-.venv/bin/python}
CC=${FUZZ_CC:-clang}
BIN=${FUZZ_BIN:-build/fuzz}
CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Icsrc"
COMMON="-timeout=10 -rss_limit_mb=2048 -print_final_stats=1"
mkdir -p "$OUT" "$BIN"

log() { printf '[fuzz %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# ---- set-up -----------------------------------------------------------------------------
build_c() {  # name, extra sources/libs...
    local name=$1; shift
    log "building $BIN/fuzz_$name"
    # shellcheck disable=SC2086
    $CC $CFLAGS "$@" -o "$BIN/fuzz_$name"
}

setup_target() {
    case $1 in
    open)
        if ! "$PY" -c 'import dicomframes' 2>/dev/null; then
            log "dicomframes not importable from $PY: running make build"; make build || return 1
        fi
        if ! "$PY" -c 'import atheris' 2>/dev/null; then
            log "installing atheris into $PY"; "$PY" -m pip install -q atheris || return 1
        fi ;;
    deflate) build_c deflate fuzz/fuzz_deflate.c csrc/dcf_deflate.c csrc/dcf_native.c \
                 csrc/dcf_status.c -lz ;;
    jpeg) build_c jpeg fuzz/fuzz_jpeg.c csrc/dcf_jpeg.c csrc/dcf_jpeg_markers.c \
              csrc/dcf_jpeg_huffman.c csrc/dcf_jpeg_lossless.c csrc/dcf_jpeg_dct12.c \
              csrc/dcf_codec.c csrc/dcf_status.c ;;
    jpeg8) build_c jpeg8 fuzz/fuzz_jpeg8.c csrc/dcf_jpeg8.c csrc/dcf_codec.c \
               csrc/dcf_status.c -ljpeg ;;
    jpeg_any) build_c jpeg_any fuzz/fuzz_jpeg_any.c csrc/dcf_jpeg_any.c csrc/dcf_jpeg.c \
                  csrc/dcf_jpeg_markers.c csrc/dcf_jpeg_huffman.c csrc/dcf_jpeg_lossless.c \
                  csrc/dcf_jpeg_dct12.c csrc/dcf_jpeg8.c csrc/dcf_codec.c csrc/dcf_status.c \
                  -ljpeg ;;
    jls) build_c jls fuzz/fuzz_jls.c csrc/dcf_jls*.c csrc/dcf_status.c csrc/dcf_codec.c ;;
    *) log "unknown target $1"; return 1 ;;
    esac
}

# Seed folders per target (the first existing ones are copied into the work corpus).
seeds_for() {
    case $1 in
    open) echo fuzz/corpus ;;
    deflate) echo fuzz/corpus_deflate ;;
    jpeg) echo fuzz/corpus_jpeg ;;
    jpeg_any) echo fuzz/corpus_jpeg ;;
    jls) echo fuzz/corpus_jls ;;
    jpeg8)
        # git-ignored; written from ../shared/corpus + Pillow/imagecodecs when possible.
        if [ ! -d fuzz/corpus_jpeg8 ] || [ -z "$(ls -A fuzz/corpus_jpeg8 2>/dev/null)" ]; then
            "$PY" fuzz/make_jpeg8_seeds.py fuzz/corpus_jpeg8 >/dev/null 2>&1 \
                || log "fuzz/make_jpeg8_seeds.py failed: jpeg8 starts from corpus_jpeg"
        fi
        if [ -n "$(ls -A fuzz/corpus_jpeg8 2>/dev/null)" ]; then echo fuzz/corpus_jpeg8
        else echo fuzz/corpus_jpeg; fi ;;
    esac
}

extra_flags() {
    case $1 in
    jls) echo "-dict=fuzz/jls.dict -max_len=16384" ;;
    jpeg|jpeg_any) echo "-max_len=16384" ;;
    open) echo "-max_len=65536" ;;
    *) echo "" ;;
    esac
}

# ---- running ----------------------------------------------------------------------------
# Executions from a libFuzzer log: the final stats line, else the last "#N" status line.
executions() {
    local n
    n=$(grep -ho 'stat::number_of_executed_units: *[0-9]*' "$@" 2>/dev/null | awk '{s += $2} END {print s + 0}')
    if [ "${n:-0}" -eq 0 ]; then
        n=$(grep -ho '^#[0-9]*' "$@" 2>/dev/null | tail -1 | tr -d '#')
    fi
    echo "${n:-0}"
}

run_c() {  # fork mode: one job at a time, findings recorded, the run goes on
    local t=$1 work=$2 find=$3 logf=$4
    # shellcheck disable=SC2046
    "$BIN/fuzz_$t" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
        -max_total_time="$SECONDS_EACH" -artifact_prefix="$find/" $COMMON \
        $(extra_flags "$t") "$work" >"$logf" 2>&1
    # Fork mode's status lines are "#<total executions>: cov: ... oom/timeout/crash: a/b/c".
    grep -o '^#[0-9]*:' "$logf" | tail -1 | tr -d '#:' >"$logf.execs"
}

run_open() {  # atheris stops at the first finding: restart it until the time is spent
    local work=$1 find=$2 logf=$3 start now left i=0 total=0
    start=$(date +%s); : >"$logf"
    while :; do
        now=$(date +%s); left=$((SECONDS_EACH - (now - start)))
        [ "$left" -ge 5 ] || break
        i=$((i + 1))
        # shellcheck disable=SC2046
        "$PY" fuzz/fuzz_open.py "$work" -max_total_time="$left" -artifact_prefix="$find/" \
            $COMMON $(extra_flags open) >"$logf.$i" 2>&1
        cat "$logf.$i" >>"$logf"
        total=$((total + $(executions "$logf.$i")))
    done
    echo "$total" >"$logf.execs"
}

# A short description of each distinct failure in a log, with its count: the Python exception
# and its innermost frame (atheris), UBSan's "file:line: runtime error: ...", the kind of an
# ASan report, leak, timeout, out-of-memory. (In fork mode libFuzzer echoes only the first
# lines of each report; the reproducer replays the whole of it.)
signatures() {
    awk '
        /=== Uncaught Python exception: ===/ { py = 1; exc = ""; frame = ""; next }
        py && exc == "" && NF { exc = $0; next }
        py && /^  File "/ { frame = $0; next }
        py && /ERROR: libFuzzer/ { print exc " @" frame; py = 0; next }
        /runtime error:/ { print; next }
        /ERROR: AddressSanitizer: / {
            sub(/.*ERROR: AddressSanitizer: /, "AddressSanitizer: "); sub(/ on (unknown )?address.*/, "")
            print; next }
        /ERROR: LeakSanitizer/ { print "LeakSanitizer: leak"; next }
        /ERROR: libFuzzer: timeout/ { print "libFuzzer: timeout"; next }
        /ERROR: libFuzzer: out-of-memory/ { print "libFuzzer: out-of-memory"; next }
        /ERROR: libFuzzer: deadly signal/ { print "libFuzzer: deadly signal"; next }
    ' "$1" | sed 's/^ *//' | sort | uniq -c | sort -rn
}

# ---- the summary, from what a run left under OUT (so it can be printed again) -----------
executions_of() {  # target -> executions, from its .execs file or else its log
    local t=$1 logf="$OUT/$1.log"
    if [ -s "$logf.execs" ]; then cat "$logf.execs"
    elif [ "$t" = open ]; then executions "$logf"
    else grep -o '^#[0-9]*:' "$logf" 2>/dev/null | tail -1 | tr -d '#:'; fi
}

inputs_of() {
    find "$OUT/findings/$1" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'timeout-*' \
        -o -name 'oom-*' -o -name 'leak-*' \) 2>/dev/null | wc -l
}

summary() {  # exit status 1 when any target found something or could not be set up
    local t n d status=0
    echo
    echo "fuzz summary ($(date -u +%Y-%m-%d), ${SECONDS_EACH}s per target, under $OUT)"
    printf '%-10s %14s %8s %9s  %s\n' target executions inputs distinct "inputs saved in"
    for t in $TARGETS; do
        if [ ! -f "$OUT/$t.log" ]; then
            printf '%-10s %14s\n' "$t" "not run"; status=1; continue
        fi
        n=$(inputs_of "$t"); d=$(signatures "$OUT/$t.log" | wc -l)
        printf '%-10s %14s %8s %9s  %s\n' "$t" "$(executions_of "$t")" "$n" "$d" \
            "$OUT/findings/$t/"
        [ "$n" -eq 0 ] && [ "$d" -eq 0 ] || status=1
    done
    for t in $TARGETS; do
        [ -f "$OUT/$t.log" ] || continue
        [ "$(inputs_of "$t")" -gt 0 ] || [ "$(signatures "$OUT/$t.log" | wc -l)" -gt 0 ] || continue
        echo; echo "$t: distinct failures (count, signature):"
        signatures "$OUT/$t.log" | head -20
        echo "  e.g. $(find "$OUT/findings/$t" -maxdepth 1 -type f | head -1)"
    done
    return $status
}

main() {
    case ${1:-} in
    --build)  # only build those C targets (into FUZZ_BIN), e.g. to replay fuzz/regressions/
        shift
        for t in "$@"; do setup_target "$t" >&2 || return 1; done
        return 0 ;;
    --summary)  # print the summary of the last run under FUZZ_OUT again
        summary; return ;;
    esac
    local t work find logf
    for t in $TARGETS; do
        work="$OUT/work/$t"; find="$OUT/findings/$t"; logf="$OUT/$t.log"
        mkdir -p "$work" "$find"
        if ! setup_target "$t"; then
            log "$t: set-up failed"; continue
        fi
        for s in $(seeds_for "$t"); do [ -d "$s" ] && cp -n "$s"/* "$work"/ 2>/dev/null; done
        log "$t: fuzzing for ${SECONDS_EACH}s (work corpus $work, findings $find, log $logf)"
        if [ "$t" = open ]; then run_open "$work" "$find" "$logf"
        else run_c "$t" "$work" "$find" "$logf"; fi
        log "$t: $(executions_of "$t") executions, $(inputs_of "$t") input(s) saved"
    done
    summary
}

# The whole script is parsed before anything runs (bash reads a script as it goes: an edit
# during a long run would otherwise change what the rest of the run executes).
main "$@"
exit $?

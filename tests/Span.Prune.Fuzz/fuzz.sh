#!/usr/bin/env bash
# Coverage-guided fuzzing of one target for N minutes with afl++ and SharpFuzz:
#   tests/Span.Prune.Fuzz/fuzz.sh TARGET MINUTES        TARGET: safetensors | cli | idx | index
# Publishes the harness (Span.Prune.Fuzz), instruments the assemblies under test with SharpFuzz's `sharpfuzz` tool,
# starts afl-fuzz from the committed corpus (corpus/TARGET) plus the generated seeds (`Span.Prune.Fuzz --seeds`), and
# at the end prints the executions, the distinct paths (afl's corpus count) and the crashes and hangs from afl's
# fuzzer_stats; the exit status is 0 only when there was neither. Findings stay in $FUZZ_WORK (default
# ~/.cache/span-prune-fuzz/work/TARGET; afl-cmin refuses /tmp). Replay a crash with
#   dotnet $FUZZ_WORK/bin/Span.Prune.Fuzz.dll TARGET --replay $FUZZ_WORK/out/default/crashes/id*
# and keep it as a regression case in corpus/TARGET once fixed (FuzzCorpusReplayTests replays that folder).
#   tests/Span.Prune.Fuzz/fuzz.sh TARGET cmin
# minimises the last run's queue with afl-cmin into corpus/TARGET (what is committed); FUZZ_CMIN=1 does it after a run.
# Needs afl++ (Debian package `afl++`, installed here when missing and running as root) and the .NET tool
# SharpFuzz.CommandLine 2.3.0 (installed into ~/.cache/span-prune-fuzz/tools when missing).
set -euo pipefail

if [ $# -ne 2 ] || ! [[ "$2" =~ ^([0-9]+|cmin)$ ]]; then
  echo "usage: $0 TARGET MINUTES|cmin   (TARGET: safetensors | cli | idx | index)" >&2
  exit 2
fi
target=$1
case "$target" in
  safetensors) instrument=(Span.Prune.dll) ;;
  idx) instrument=(Span.Prune.Lab.dll) ;;
  cli | index) instrument=(Span.Prune.dll sprune.dll) ;;
  *) echo "$0: unknown target '$target' (safetensors | cli | idx | index)" >&2; exit 2 ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/span-prune-fuzz
work=${FUZZ_WORK:-$cache/work/$target}
tools=$cache/tools
dotnet=$(command -v dotnet)  # afl-cmin wants the binary as a path
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# SharpFuzz's binary is `dotnet`, not an afl-instrumented executable; the machine's CPU governor and core binding are
# not ours to change; .NET needs more than afl's default memory limit; a loaded machine needs the long timeouts.
export AFL_SKIP_BIN_CHECK=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export AFL_FORKSRV_INIT_TMOUT=120000 AFL_MAP_SIZE=65536

minimise() {
  rm -rf "$work/cmin"
  afl-cmin -i "$work/out/default/queue" -o "$work/cmin" -t 10000 -m none -- "$dotnet" "$work/bin/Span.Prune.Fuzz.dll" "$target" \
    >"$work/cmin.log" 2>&1 || { tail -20 "$work/cmin.log"; exit 1; }
  rm -rf "$here/corpus/$target"
  mkdir -p "$here/corpus/$target"
  local i=0 f
  for f in "$work/cmin"/*; do cp "$f" "$here/corpus/$target/$(printf '%04d' $i)-$(sha1sum "$f" | cut -c1-12).bin"; i=$((i + 1)); done
  echo "corpus/$target: $i files, $(du -sb "$here/corpus/$target" | cut -f1) bytes"
}

if [ "$2" = cmin ]; then
  [ -d "$work/out/default/queue" ] || { echo "$0: no queue in $work; fuzz $target first" >&2; exit 2; }
  minimise
  exit 0
fi
minutes=$2

if ! command -v afl-fuzz >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then echo "$0: afl-fuzz not found; install the Debian package afl++" >&2; exit 2; fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends afl++ >/dev/null
fi
if [ ! -x "$tools/sharpfuzz" ]; then
  dotnet tool install --tool-path "$tools" SharpFuzz.CommandLine --version 2.3.0 >/dev/null
fi

rm -rf "$work"
mkdir -p "$work/in"
dotnet publish "$here" -c Release -o "$work/bin" >"$work/publish.log" 2>&1 || { tail -20 "$work/publish.log"; exit 1; }
for dll in "${instrument[@]}"; do
  "$tools/sharpfuzz" "$work/bin/$dll" >/dev/null
done
dotnet "$work/bin/Span.Prune.Fuzz.dll" --seeds "$repo" "$work/seeds"
cp "$work/seeds/$target"/* "$work/in/"
if [ -d "$here/corpus/$target" ]; then cp "$here/corpus/$target"/* "$work/in/" 2>/dev/null || true; fi

afl-fuzz -V $((minutes * 60)) -i "$work/in" -o "$work/out" -t 10000 -m none -- "$dotnet" "$work/bin/Span.Prune.Fuzz.dll" "$target" \
  >"$work/afl.log" 2>&1 || { tail -30 "$work/afl.log"; exit 1; }

stats="$work/out/default/fuzzer_stats"
stat() { sed -n "s/^$1 *: *//p" "$stats"; }
echo "target $target, $minutes min: executions $(stat execs_done), paths $(stat corpus_count), crashes $(stat saved_crashes), hangs $(stat saved_hangs), execs/s $(stat execs_per_sec)"
[ "${FUZZ_CMIN:-0}" = 1 ] && minimise
[ "$(stat saved_crashes)" = 0 ] && [ "$(stat saved_hangs)" = 0 ]

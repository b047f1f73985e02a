#!/usr/bin/env bash
# Streamed global prune: sharded (4 shards) vs the same tensors in one file, RUNS runs each (default 3), interleaved; medians and ratio.
# Usage: perf/shards/run.sh [WORKDIR] [SPRUNE] [RUNS, default 3] [CRITERION, default magnitude; lamp also ranks globally]
#   (default SPRUNE: the JIT build of dotnet build src/Span.Prune.Cli -c Release)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
sprune=${2:-"$root/src/Span.Prune.Cli/bin/Release/net10.0/sprune"}
w=${1:-$(mktemp -d)}
[ -f "$w/model.safetensors" ] || "$sprune" generate "$w/model.safetensors" --tensors 25 --rows 2048 --cols 2048 --dtype bf16
[ -d "$w/sharded" ] || python3 "$root/perf/shards/split.py" "$w/model.safetensors" "$w/sharded" 4
one=(); many=()
t() { local s e; s=$(date +%s.%N); "$@" 2>/dev/null; e=$(date +%s.%N); echo "$e - $s" | bc; }
runs=${3:-3}
crit=${4:-magnitude}
for ((i = 0; i < runs; i++)); do
  rm -f "$w/out.safetensors"; one+=("$(t "$sprune" prune "$w/model.safetensors" -o "$w/out.safetensors" --scope global --criterion "$crit" --sparsity 0.5)")
  rm -rf "$w/out-sharded"; many+=("$(t "$sprune" prune "$w/sharded" -o "$w/out-sharded" --scope global --criterion "$crit" --sparsity 0.5)")
done
med() { printf '%s\n' "$@" | sort -g | sed -n "$(( ($# + 1) / 2 ))p"; }
m1=$(med "${one[@]}"); m2=$(med "${many[@]}")
echo "single file: ${one[*]} s (median $m1)"
echo "4 shards:    ${many[*]} s (median $m2)"
echo "ratio sharded/single: $(echo "scale=3; $m2 / $m1" | bc)"

#!/usr/bin/env bash
# Coverage-guided fuzzing with AFL++ and SharpFuzz: builds tests/EdgeLam.Fuzz.Afl, instruments the decoder assemblies,
# seeds each target's corpus from tests/golden, runs afl-fuzz for SECONDS per target and prints execs, paths and crashes.
# Exit 1 when a target crashed or hung (inputs under artifacts/afl-findings/TARGET/default/{crashes,hangs}).
#   tests/EdgeLam.Fuzz/afl.sh TARGET SECONDS        TARGET: frame | bundle | message | mqtt | all   (./edgelam afl ...)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if (($# != 2)) || ! [[ "$2" =~ ^[1-9][0-9]*$ ]]; then
  sed -n '2,5p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
case "$1" in
  all) TARGETS=(frame bundle message mqtt) ;;
  frame | bundle | message | mqtt) TARGETS=("$1") ;;
  *) echo "afl.sh: unknown target '$1' (frame, bundle, message, mqtt, all)" >&2; exit 2 ;;
esac
SECONDS_PER_TARGET="$2"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if ! command -v afl-fuzz >/dev/null; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "afl.sh: installing the Debian package afl++" >&2
    apt-get update -qq >/dev/null || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq afl++ >/dev/null
  else
    echo "afl.sh: afl-fuzz is missing; install it with: sudo apt-get install -y afl++" >&2
    exit 2
  fi
fi

cd "$ROOT"
dotnet tool restore >/dev/null # sharpfuzz, pinned in .config/dotnet-tools.json
BIN="$ROOT/artifacts/afl"
rm -rf "$BIN" # sharpfuzz refuses an assembly it already instrumented: start from a fresh build
dotnet build tests/EdgeLam.Fuzz.Afl/EdgeLam.Fuzz.Afl.csproj -c Release -o "$BIN" -v quiet -nologo -clp:"ErrorsOnly;NoSummary" >&2
# Only the code under test carries coverage: the harness and the libraries stay uninstrumented.
for assembly in EdgeLam.Contracts EdgeLam.Firmware; do
  dotnet sharpfuzz "$BIN/$assembly.dll"
done

# AFL++ runs next to other builds on a shared machine: no CPU pinning, no core_pattern or governor demands.
export AFL_SKIP_BIN_CHECK=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1
JSON_DICTIONARY=/usr/share/doc/afl++-doc/afl/dictionaries/json.dict
failed=0
for target in "${TARGETS[@]}"; do
  corpus="$ROOT/artifacts/afl-corpus/$target"
  findings="$ROOT/artifacts/afl-findings/$target"
  rm -rf "$corpus" "$findings"
  dotnet "$BIN/edgelam-afl.dll" seeds "$target" "$corpus" >&2
  dictionary=()
  [[ "$target" == message && -f "$JSON_DICTIONARY" ]] && dictionary=(-x "$JSON_DICTIONARY")
  log="$ROOT/artifacts/afl-findings/$target.log"
  mkdir -p "$(dirname "$log")"
  # -V: stop after SECONDS of fuzzing; -t: a .NET child that needs 5 s for one input is a hang.
  if ! afl-fuzz -V "$SECONDS_PER_TARGET" -t 5000 -m none "${dictionary[@]}" -i "$corpus" -o "$findings" \
    -- dotnet "$BIN/edgelam-afl.dll" run "$target" >"$log" 2>&1; then
    echo "afl.sh: afl-fuzz failed on $target; its output: $log" >&2
    tail -20 "$log" >&2
    failed=1
    continue
  fi
  stats="$findings/default/fuzzer_stats"
  stat() { sed -n "s/^$1 *: //p" "$stats"; }
  printf '%-8s %6s s  execs %9s (%s/s)  paths %5s (%s new)  edges %5s  crashes %s  hangs %s\n' "$target" \
    "$(stat run_time)" "$(stat execs_done)" "$(stat execs_per_sec)" "$(stat corpus_count)" "$(stat corpus_found)" \
    "$(stat edges_found)" "$(stat saved_crashes)" "$(stat saved_hangs)"
  for input in "$findings"/default/crashes/id:* "$findings"/default/hangs/id:*; do
    [[ -e "$input" ]] || continue
    failed=1
    # Outside afl-fuzz the harness runs stdin once: the exception it throws names the defect.
    replay=$(timeout 10 dotnet "$BIN/edgelam-afl.dll" run "$target" <"$input" 2>&1 || true)
    reason=$(grep -m1 -E 'Exception|rror' <<<"$replay" || echo "(no exception within 10 s: a hang)")
    echo "  $input: $reason"
  done
done
exit "$failed"

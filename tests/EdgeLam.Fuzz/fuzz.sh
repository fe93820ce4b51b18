#!/usr/bin/env bash
# Mutation-fuzzes one decoder for a time budget, seeded from tests/golden, and prints inputs executed,
# executions per second and findings. Exit 1 when an input revealed a defect (saved under fuzz-findings/).
#   tests/EdgeLam.Fuzz/fuzz.sh TARGET SECONDS [--json] [--seed N] [--findings DIR] [--time-limit-ms N]
#   TARGET: frame | bundle | message | mqtt | all        (also: ./edgelam fuzz TARGET SECONDS)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if (($# < 2)); then
  sed -n '2,5p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
OUT="$ROOT/artifacts/fuzz"
dotnet build "$ROOT/tests/EdgeLam.Fuzz/EdgeLam.Fuzz.csproj" -c Release -o "$OUT" -v quiet -nologo -clp:"ErrorsOnly;NoSummary" >&2
cd "$ROOT"
exec dotnet "$OUT/edgelam-fuzz.dll" "$@"

#!/usr/bin/env bash
# Adds every public symbol the build reports as undeclared (RS0016) to its project's
# PublicAPI.Unshipped.txt, and drops declared symbols that no longer exist (RS0017).
# Review the diff of PublicAPI.*.txt afterwards: it is the API change.
set -euo pipefail
cd "$(dirname "$0")/.."
for round in 1 2 3; do
  log=$(dotnet build Pipeline.sln --no-incremental -p:TreatWarningsAsErrors=false 2>&1 || true)
  added=$(printf '%s\n' "$log" | grep -E "(error|warning) RS001[67]" | sort -u || true)
  [ -z "$added" ] && break
  printf '%s\n' "$added" | while IFS= read -r line; do
    proj=$(printf '%s' "$line" | sed -E 's/.*\[(.*\.csproj)\]$/\1/')
    file="$(dirname "$proj")/PublicAPI.Unshipped.txt"
    sym=$(printf '%s' "$line" | sed -E "s/.*Symbol '(.*)' is (not part of|part of).*/\1/")
    if printf '%s' "$line" | grep -q RS0016; then
      grep -qxF -- "$sym" "$file" || printf '%s\n' "$sym" >> "$file"
    else
      grep -vxF -- "$sym" "$file" > "$file.tmp" || true; mv "$file.tmp" "$file"
    fi
  done
done
for f in src/*/PublicAPI.Unshipped.txt; do
  { head -n1 "$f"; tail -n +2 "$f" | sort -u; } > "$f.tmp" && mv "$f.tmp" "$f"
done

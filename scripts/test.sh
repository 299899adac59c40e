#!/usr/bin/env bash
# Runs every test of the solution: installs what the tests need from apt, then dotnet test in Release.
# Extra arguments go to dotnet test, e.g. ./scripts/test.sh --filter "FullyQualifiedName~Sampler".
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

# The Fashion-MNIST files for the agent's workloads; Chromium for the Playwright end-to-end tests; python3 for the command tests.
ensure_apt_packages dataset-fashion-mnist chromium python3
ensure_node

rm -f tests/*/TestResults/results.trx
status=0
dotnet build HyperTune.sln -c Release
# One test project at a time (-m:1): real training, Chromium and timing-sensitive tests share two cores.
# A hung test fails the run after 15 minutes instead of eating the whole CI budget.
dotnet test HyperTune.sln -c Release --no-build -m:1 \
    --logger "console;verbosity=normal" \
    --logger "trx;LogFileName=results.trx" \
    --blame-hang-timeout 15m --blame-hang-dump-type none \
    "$@" || status=$?

# One closing line over all test projects, counted from their TRX reports.
declare -A count=([total]=0 [passed]=0 [failed]=0)
for report in tests/*/TestResults/results.trx; do
    [[ -f $report ]] || continue
    counters=$(grep -o '<Counters [^>]*>' "$report" || true)
    for key in "${!count[@]}"; do
        value=$(sed -nE "s/.* $key=\"([0-9]+)\".*/\1/p" <<<"$counters")
        count[$key]=$((count[$key] + ${value:-0}))
    done
done
# The failed tests by name with the start of their message, last, where a CI log's tail shows them.
python3 - tests/*/TestResults/results.trx <<'PY'
import sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
for path in sys.argv[1:]:
    for result in ET.parse(path).getroot().iterfind(".//t:UnitTestResult[@outcome='Failed']", ns):
        message = result.findtext(".//t:Message", "", ns).strip().splitlines()
        print(f"Failed: {result.get('testName')}")
        for line in message[:4]:
            print(f"    {line}")
PY
echo "Tests: ${count[passed]} passed, ${count[failed]} failed, $((count[total] - count[passed] - count[failed])) skipped"
exit "$status"

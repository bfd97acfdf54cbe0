#!/usr/bin/env bash
# One measuring sitting, as docs/performance.md reports it: the machine
# (lscpu), the FMA peak, this project's harness and PyTorch on the same
# workloads, interleaved round by round at 1 and 2 threads, then the peak
# again. Every JSON line goes to $OUT; the last step prints the medians per
# implementation, workload and thread count, with the percentage of the
# peak measured in the sitting.
#
#   bash benches/sitting.sh                       # 3 rounds, every workload
#   ROUNDS=5 WORKLOADS=W3,W4 bash benches/sitting.sh
#   PYTHON=/path/to/venv/bin/python bash benches/sitting.sh
#
# Needs Python with torch and numpy for the PyTorch side
# (benches/pytorch/README.md); without it (PYTHON=none) only this project's
# harness runs. Run it with the machine otherwise idle.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
WORKLOADS=${WORKLOADS:-W1,W2,W3,W4,W5,W6,W3f64}
TORCH_WORKLOADS=${TORCH_WORKLOADS:-$WORKLOADS}
PYTHON=${PYTHON:-python3}
OUT=${OUT:-target/sitting-$(date -u +%Y%m%dT%H%M)}
mkdir -p "$OUT"

binary() {
    cargo bench --bench "$1" --no-run 2>&1 | grep -o "target/[a-z/]*release/deps/$1-[0-9a-f]*" | tail -1
}
PEAK=$(binary peak)
HARNESS=$(binary workloads)

lscpu > "$OUT/lscpu.txt"
date -u +%FT%TZ > "$OUT/started.txt"
"$PEAK" > "$OUT/peak-before.txt" 2>&1
for round in $(seq "$ROUNDS"); do
    for threads in 1 2; do
        echo "round $round, $threads thread(s)" >&2
        "$HARNESS" --threads "$threads" --workloads "$WORKLOADS" >> "$OUT/macrograd.jsonl" 2>> "$OUT/macrograd.log"
        if [ "$PYTHON" != none ]; then
            "$PYTHON" benches/pytorch/workloads.py --threads "$threads" --workloads "$TORCH_WORKLOADS" \
                >> "$OUT/pytorch.jsonl" 2>> "$OUT/pytorch.log"
        fi
    done
done
"$PEAK" > "$OUT/peak-after.txt" 2>&1
date -u +%FT%TZ > "$OUT/finished.txt"

SUMMARY_PYTHON=$PYTHON
[ "$SUMMARY_PYTHON" = none ] && SUMMARY_PYTHON=python3
"$SUMMARY_PYTHON" - "$OUT" <<'EOF'
import json, pathlib, statistics, sys

out = pathlib.Path(sys.argv[1])
# FLOP per sample (docs/workloads.md); W1 is reported in steps/s.
flop = {"W2": 27520, "W3": 1007104, "W4": 10547200, "W5": 22938112, "W6": 2006784,
        "W3f64": 1007104}

def peak(path):
    """(precision, width, threads) -> median GFLOP/s, from the peak's table."""
    rows = {}
    for line in path.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and cells[0] in ("f32", "f64") and cells[2] in ("1", "2"):
            try:
                rows[(cells[0], cells[1], int(cells[2]))] = float(cells[3])
            except ValueError:
                pass
    return rows

before, after = peak(out / "peak-before.txt"), peak(out / "peak-after.txt")
print("FMA peak (GFLOP/s), before / after:")
for key in sorted(before):
    print(f"  {key[0]} {key[1]}, {key[2]} thread(s): {before[key]} / {after.get(key)}")

def widest_peak(threads, precision):
    """The peak of the widest vectors this machine has: the higher of the
    two measurements of the sitting."""
    keys = [k for k in before if k[0] == precision and k[2] == threads]
    keys.sort(key=lambda k: "512" in k[1])
    if not keys:
        return None
    return max(before[keys[-1]], after.get(keys[-1], 0.0))

rates = {}
for name in ("macrograd.jsonl", "pytorch.jsonl"):
    path = out / name
    if not path.exists():
        continue
    for line in path.read_text().splitlines():
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        rates.setdefault((r["workload"], r["threads"], r["impl"]), []).append(r["rate"])

print("\n| workload | threads | implementation | median rate | runs | % of peak |")
print("| --- | --- | --- | --- | --- | --- |")
for (w, t, impl), v in sorted(rates.items()):
    med = statistics.median(v)
    p = widest_peak(t, "f64" if w.endswith("f64") else "f32")
    pct = f"{100 * med * flop[w] / 1e9 / p:.1f} %" if w in flop and p else "-"
    print(f"| {w} | {t} | {impl} | {med:.0f} | {', '.join(f'{x:.0f}' for x in v)} | {pct} |")
EOF
echo "files: $OUT" >&2

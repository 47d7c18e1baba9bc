#!/usr/bin/env bash
# Instructions per stored message: a measure of the server's work that does not move with other guests on the
# machine (throughput here varied from 60k to 120k msg/s for one binary while the hypervisor took 0-25 % of a core).
#
# Runs the persistence scenario against SERVER under valgrind's callgrind with instrumentation off, turns it on for
# WINDOW seconds in the middle of the flood, and divides the instructions counted by the messages stored meanwhile
# (max(id) in the server's database before and after). Callgrind slows the server ~50x, so commits group more
# messages than at full speed; use it to compare builds, not as an absolute.
#
#   bench/profiles/instructions.sh target/release/parlor-server [WINDOW] [OUT]
# Needs valgrind and python3; writes the callgrind profile to OUT (default /tmp/parlor-callgrind.out).
set -euo pipefail
server=$(realpath "$1")
window=${2:-20}
out=${3:-/tmp/parlor-callgrind.out}
bench=$(dirname "$server")/parlor-bench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/server" <<WRAP
#!/usr/bin/env bash
exec valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=$work/callgrind.%p "$server" "\$@"
WRAP
chmod +x "$work/server"
"$bench" run --scenario persistence --targets parlor --warmup 20 --window $((window + 25)) --server "$work/server" \
    > /dev/null 2> "$work/bench.log" &
sleep 25
pid=$(pgrep -f "valgrind.*callgrind.*$server" | head -1)
data=$(tr '\0' '\n' < "/proc/$pid/cmdline" | grep -A1 -- --data-dir | tail -1)
stored() {
    python3 -c "import sqlite3; c = sqlite3.connect('file:$data/parlor.sqlite3?mode=ro', uri=True); \
print(c.execute('SELECT max(id) FROM messages').fetchone()[0])"
}
before=$(stored)
callgrind_control -i on "$pid" > /dev/null
sleep "$window"
callgrind_control -i off "$pid" > /dev/null
after=$(stored)
callgrind_control -d "$pid" > /dev/null
sleep 2
cp "$work/callgrind.$pid.1" "$out"
instructions=$(callgrind_annotate "$out" | awk '/PROGRAM TOTALS/ && !done { gsub(",", "", $1); print $1; done = 1 }')
echo "messages stored: $((after - before)); instructions: $instructions; per message: $((instructions / (after - before)))"
echo "profile: $out (callgrind_annotate --inclusive=yes $out)"
wait

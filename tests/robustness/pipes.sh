#!/bin/bash
# SPDX-License-Identifier: MIT
# pipes.sh NESTVMM CASE: standard output is a pipe that goes wrong.
#   closed      the reader is gone (as with | head): EPIPE is an output error
#               (exit 3, named on stderr), not SIGPIPE; --output files are written
#   blocked-INT / blocked-TERM / blocked-HUP
#               the pipe is full and nobody reads: the --output files are already
#               in place, and the signal ends nestvmm at once with 128+signo
. "$(dirname "$0")/lib.sh"
# json_ok passes an empty file (jq -e on no input exits 0): require content too.
json_whole() { [ -s "$1" ] && json_ok "$1"; }
nestvmm=$1 case=$2

case $case in
closed)
	# The reader exits at once; nestvmm writes half a second later.
	{ sleep 0.5; "$nestvmm" --kvm-device /nonexistent --output "json:$TMP/v.json" \
		--output "text:$TMP/v.txt"; echo $? > "$TMP/rc"; } 2> "$TMP/err" | true
	RC=$(cat "$TMP/rc")
	echo "exit $RC: $(cat "$TMP/err")"
	check "exit 3, not killed by SIGPIPE (141) (got $RC)" [ "$RC" = 3 ]
	check "stderr names standard output and EPIPE" \
		grep -q '^nestvmm: standard output: .*Broken pipe$' "$TMP/err"
	check "the JSON file is written" json_whole "$TMP/v.json"
	check "its exit_code is the process's (3)" [ "$(jget "$TMP/v.json" .exit_code)" = 3 ]
	check "the text file is written" grep -q '^result: SKIP' "$TMP/v.txt"
	check "no temporary file left" [ "$(ls "$TMP" | grep -c 'v\..*\.')" = 0 ]
	;;
blocked-*)
	sig=${case#blocked-}
	signo=$(kill -l "$sig")
	# A full pipe with one page read back: the verdict (JSON, then text through
	# /dev/fd/1, over 4 KiB with a long device name in every reason) starts to
	# go out, then blocks for good.
	dev=/nonexistent/$(printf 'k%.0s' $(seq 250))
	python3 - "$nestvmm" "$sig" "$TMP" "$dev" <<'EOF' > "$TMP/report" 2>&1
import fcntl, os, signal, subprocess, sys, time
nestvmm, sig, tmp, dev = sys.argv[1:5]
r, w = os.pipe()
os.set_blocking(w, False)
try:
    while True:
        os.write(w, b"x" * 4096)
except BlockingIOError:
    pass
os.set_blocking(w, True)
os.read(r, 4096)
p = subprocess.Popen([nestvmm, "--kvm-device", dev, "--format", "json",
                      "--output", f"json:{tmp}/v.json", "--output", "text:/dev/fd/1"], stdout=w,
                     stderr=open(f"{tmp}/err", "w"))
os.close(w)
# Wait until it sleeps in a write or poll on the full pipe (at most 10 s).
blocked = False
for _ in range(200):
    try:
        with open(f"/proc/{p.pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        with open(f"/proc/{p.pid}/syscall") as f:
            nr = f.read().split()[0]
    except (FileNotFoundError, ProcessLookupError):
        break
    if state == "S" and nr in ("1", "7", "271"):   # write, poll, ppoll
        blocked = True
        break
    time.sleep(0.05)
files_before = os.path.exists(f"{tmp}/v.json")
t0 = time.monotonic()
p.send_signal(getattr(signal, "SIG" + sig))
try:
    rc = p.wait(timeout=10)
except subprocess.TimeoutExpired:
    p.kill()
    rc = "hung"
print(f"blocked={blocked} files_before_signal={files_before} rc={rc} "
      f"seconds={time.monotonic() - t0:.3f}")
EOF
	cat "$TMP/report" "$TMP/err"
	read -r blocked files rc secs < <(sed -E 's/[a-z_]+=//g' "$TMP/report" | tail -n 1)
	check "nestvmm blocked writing to the full pipe" [ "$blocked" = True ]
	check "the --output file was in place before the signal" [ "$files" = True ]
	check "SIG$sig ends it: exit $((128 + signo)) (got $rc)" [ "$rc" = $((128 + signo)) ]
	check "within 2 s of the signal (${secs}s)" less_than "${secs:-99}" 2
	check "stderr names the blocked output and SIG$sig" grep -qE "(standard output|/dev/fd/1): .*SIG$sig" "$TMP/err"
	check "the --output file is valid JSON" json_whole "$TMP/v.json"
	check "its exit_code is the process's ($((128 + signo)))" \
		[ "$(jget "$TMP/v.json" .exit_code)" = $((128 + signo)) ]
	check "no temporary file left" [ "$(ls "$TMP" | grep -c 'v\.json\.')" = 0 ]
	;;
*) echo "unknown case $case"; exit 2 ;;
esac
finish

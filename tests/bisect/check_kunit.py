#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Parse v.ktap with the kernel's own KTAP parser (tools/testing/kunit) and
fail on any parse problem or any difference from the verdict's JSON.

   check_kunit.py KUNIT_DIR DIR

Two ways in, both must be clean: `kunit.py parse v.ktap` as a user runs it
(exit status, no [ERROR] or CRASHED in its report), and kunit_parser's tree
(error count, names, statuses, the reason of a failed stage in its log);
then the indentation ktap.rst asks for, which kunit_parser does not check."""
import io
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import expect  # noqa: E402

# kunit.py changes into the kernel tree: hand it absolute paths.
kunit_dir, dir = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
ktap = os.path.join(dir, 'v.ktap')
v, levels = expect.load(dir)
c = expect.Checker('kunit.py parse')

# 1. The command line tool.
cli = subprocess.run([sys.executable, os.path.join(kunit_dir, 'kunit.py'), 'parse', ktap],
                     capture_output=True, text=True, errors='backslashreplace')
report = re.sub(r'\x1b\[[0-9;]*m', '', cli.stdout + cli.stderr)
print(report)
any_fail = any(l['status'] == 'fail' for l in levels)
any_pass = any(s['status'] == 'pass' for l in levels for s in l['stages'])
# kunit.py parse exits 0 only when something passed and nothing failed.
c.eq(cli.returncode, 0 if any_pass and not any_fail else 1, 'kunit.py parse exit status')
for bad in ('[ERROR]', 'CRASHED', 'could not find any KTAP output', 'missing', 'Traceback'):
    c.true(bad not in report, f'kunit.py parse reported "{bad}"')

# 2. The parser's tree.
sys.path.insert(0, kunit_dir)
import kunit_parser  # noqa: E402
S = kunit_parser.TestStatus
want_status = {'pass': S.SUCCESS, 'skip': S.SKIPPED, 'fail': S.FAILURE, 'pending': S.FAILURE}

with open(ktap, encoding='utf-8', errors='backslashreplace') as f:
    lines = f.read().splitlines()
# Its printer holds the sys.stdout of import time: swap the stream itself.
kunit_parser.stdout._output = io.StringIO()
main = kunit_parser.parse_run_tests(lines)
c.eq(main.counts.errors, 0, 'parse errors')
c.eq(main.counts.crashed, 0, 'crashed tests')
c.eq(main.expected_count, len(levels), 'top-level plan')
c.eq([t.name for t in main.subtests], [l['name'] for l in levels], 'levels')
for t, l in zip(main.subtests, levels):
    c.eq(t.status, want_status[l['status']], f'status of level {l["name"]}')
    c.eq(t.expected_count, len(l['stages']), f'plan of level {l["name"]}')
    c.eq([s.name for s in t.subtests], [s['name'] for s in l['stages']], f'stages of {l["name"]}')
    for ts, s in zip(t.subtests, l['stages']):
        c.eq(ts.status, want_status[s['status']], f'status of {s["name"]}')
        c.eq(ts.subtests, [], f'{s["name"]} has no subtests')
        if s['status'] == 'fail':
            head = f'# {s["name"]}: '
            c.true(any(x.strip().startswith(head) for x in ts.log),
                   f'{s["name"]} failed but its log has no "{head}..." line: {ts.log}')
# 3. What kunit_parser lets pass but ktap.rst asks for: the version line
# first, and every line of a subtest indented by two spaces, from its
# version line up to (not including) the parent's result line.
c.eq(lines[:1], ['KTAP version 1'], 'first line')
depth = 0
for n, line in enumerate(lines, 1):
    indent = len(line) - len(line.lstrip(' '))
    body = line.lstrip(' ')
    if depth == 0 and body == 'KTAP version 1' and indent == 2:
        depth = 1
    elif depth == 1 and indent == 0 and (re.match(r'(not )?ok [0-9]+ ', body) or body.startswith('#')):
        depth = 0   # the parent's result, or diagnostics for it (ktap.rst's "# example failed")
    c.eq(indent, 2 * depth, f'indentation of line {n} {line!r}')

c.eq(main.status, S.FAILURE if any_fail else S.SUCCESS if any_pass else S.SKIPPED, 'overall status')
c.done()

# SPDX-License-Identifier: MIT
"""What a verdict's JSON says, shared by the format checkers: levels in
order, each with its stages (name, status), and the level's own result by
the KTAP rules (fail if a stage failed, skip if all were skipped)."""
import json
import os


def load(dir):
    with open(os.path.join(dir, 'v.json'), encoding='utf-8') as f:
        v = json.load(f)
    levels = []
    for s in v['stages']:
        if not levels or levels[-1]['name'] != s['level']:
            levels.append({'name': s['level'], 'stages': []})
        levels[-1]['stages'].append(s)
    for l in levels:
        st = [s['status'] for s in l['stages']]
        if any(x not in ('pass', 'skip') for x in st):
            l['status'] = 'fail'
        elif all(x == 'skip' for x in st):
            l['status'] = 'skip'
        else:
            l['status'] = 'pass'
    return v, levels


class Checker:
    """Collects every mismatch instead of stopping at the first one."""

    def __init__(self, what):
        self.what = what
        self.problems = []

    def eq(self, got, want, where):
        if got != want:
            self.problems.append(f'{where}: got {got!r}, want {want!r}')

    def true(self, cond, where):
        if not cond:
            self.problems.append(where)

    def done(self):
        for p in self.problems:
            print(f'{self.what}: FAIL: {p}')
        if self.problems:
            raise SystemExit(1)
        print(f'{self.what}: ok')

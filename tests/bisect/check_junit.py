#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Validate v.xml with xmllint against junit.xsd, then read it back and
compare it with the verdict's JSON: one testsuite per level, one testcase
per stage, skipped/failure/error as the status says, counts that add up.

   check_junit.py XSD DIR"""
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import expect  # noqa: E402

xsd, dir = sys.argv[1], sys.argv[2]
xml = os.path.join(dir, 'v.xml')
v, levels = expect.load(dir)
c = expect.Checker('junit')

lint = subprocess.run(['xmllint', '--noout', '--schema', xsd, xml], capture_output=True, text=True)
print(lint.stderr.strip())
c.eq(lint.returncode, 0, 'xmllint --schema exit status')

root = ET.parse(xml).getroot()   # a second, independent well-formedness check


def printable(s):
    return all(' ' <= ch < '\x7f' for ch in s)


def count(stages, *st):
    return sum(s['status'] in st for s in stages)


every = [s for l in levels for s in l['stages']]
c.eq(root.tag, 'testsuites', 'root element')
for attr, want in (('tests', len(every)), ('failures', count(every, 'fail')),
                   ('errors', count(every, 'pending')), ('skipped', count(every, 'skip'))):
    c.eq(root.get(attr), str(want), f'testsuites {attr}')
suites = root.findall('testsuite')
c.eq([s.get('name') for s in suites], [l['name'] for l in levels], 'testsuites')
for suite, l in zip(suites, levels):
    st = l['stages']
    for attr, want in (('tests', len(st)), ('failures', count(st, 'fail')),
                       ('errors', count(st, 'pending')), ('skipped', count(st, 'skip'))):
        c.eq(suite.get(attr), str(want), f'testsuite {l["name"]} {attr}')
    props = {p.get('name'): p.get('value') for p in suite.iter('property')}
    c.eq(props.get('exit_code'), str(v['exit_code']), f'{l["name"]} exit_code property')
    c.eq(props.get('arch'), v['arch'], f'{l["name"]} arch property')
    cases = suite.findall('testcase')
    c.eq([t.get('name') for t in cases], [s['name'] for s in st], f'testcases of {l["name"]}')
    for t, s in zip(cases, st):
        where = s['name']
        c.eq(t.get('classname'), 'nestvmm.' + l['name'], f'{where} classname')
        kinds = [e.tag for e in t if e.tag in ('skipped', 'failure', 'error')]
        c.eq(kinds, {'pass': [], 'skip': ['skipped'], 'fail': ['failure'],
                     'pending': ['error']}[s['status']], f'{where} result elements')
        out = t.find('system-out')
        if s['reason'] or s['details']:
            c.true(out is not None, f'{where}: no system-out')
        if printable(s['reason']):
            if kinds and kinds[0] != 'error':
                c.eq(t.find(kinds[0]).get('message'), s['reason'], f'{where} message')
            if out is not None:
                c.eq(out.text.split('\n')[0], s['reason'], f'{where} system-out first line')
c.done()

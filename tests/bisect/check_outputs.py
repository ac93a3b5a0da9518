#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""One run, four outputs (text on stdout; json, ktap, junit through
--output FORMAT:FILE): every file is there, complete, and all four name the
same result and exit code.

   check_outputs.py DIR"""
import json
import os
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import expect  # noqa: E402

dir = sys.argv[1]
c = expect.Checker('outputs')
for name in ('v.txt', 'v.json', 'v.ktap', 'v.xml'):
    path = os.path.join(dir, name)
    c.true(os.path.isfile(path) and os.path.getsize(path) > 0, f'{name} missing or empty')
# output.c writes FILE.XXXXXX, then renames it: nothing else may remain.
c.eq(sorted(set(os.listdir(dir)) - {'rc'}), ['v.json', 'v.ktap', 'v.txt', 'v.xml'], 'files')
if c.problems:
    c.done()

v = json.load(open(os.path.join(dir, 'v.json')))
text = open(os.path.join(dir, 'v.txt'), errors='replace').read()
ktap = open(os.path.join(dir, 'v.ktap'), errors='replace').read()
junit = ET.parse(os.path.join(dir, 'v.xml')).getroot()
code, result = v['exit_code'], v['result']

c.true(f'result: {result.upper()}' in text, f'text does not end in "result: {result.upper()}"')
c.true(f'# result: {result} (exit code {code})' in ktap, 'ktap result line disagrees')
props = {p.get('name'): p.get('value') for p in junit.iter('property')}
c.eq(props.get('exit_code'), str(code), 'junit exit_code property')
c.true(ktap.endswith('\n') and junit.tag == 'testsuites' and text.endswith('\n'), 'a file is cut short')
if os.path.exists(os.path.join(dir, 'rc')):
    rc = int(open(os.path.join(dir, 'rc')).read())
    c.eq(rc, code, 'nestvmm exit status vs JSON exit_code')
c.done()

# SPDX-License-Identifier: GPL-2.0-only
"""The runner's selftests (tests/traces/selftest/): the double-put trigger broken in one
way each; CMakeLists.txt checks that the runner fails with the matching message."""

import json


def selftests(trigger_text):
    """name -> file text, derived from double-put.trigger.jsonl's text."""
    files = {}
    src = trigger_text.split("\n")
    body = [l for l in src if not l.startswith("# expect")]
    hi = next(i for i, l in enumerate(body) if l.startswith('{"type":"header"'))
    body = body[hi:]

    def put_line(pre):
        n = 0
        for i, l in enumerate(body):
            if l.startswith("{"):
                o = json.loads(l)
                if o.get("fn") == "drm_gpuvm_bo_put" and o["phase"] == "entry":
                    n += 1
                    if n == 2:
                        return pre + i + 1

    def first_create():
        return next(i for i, l in enumerate(body) if '"fn":"drm_gpuvm_bo_create"' in l)

    def w(name, pre, mutate=None):
        b = list(body)
        if mutate:
            b = mutate(b)
        files[name] = "\n".join(pre + b).rstrip("\n") + "\n"

    def broken(b):
        b[first_create()] = '{"type":"event","ts":12,'
        return b

    def typo(b):
        i = first_create()
        b[i] = b[i].replace("drm_gpuvm_bo_create", "drm_gpuvm_bo_craete")
        return b

    P = put_line
    w('wrong-line.jsonl', ['# selftest: the double put is one line later than expected: must fail (MISSING + UNEXPECTED)',
      '# expect: violation double-put error @%d' % (P(2)-1)])
    w('unexpected-finding.jsonl', ['# selftest: a double put expected to be clean: must fail (UNEXPECTED)', '# expect: none'])
    w('missing-finding.jsonl', ['# selftest: an expected finding that is not there: must fail (MISSING)',
      '# expect: violation double-put error @%d' % P(3), '# expect: violation evict-unlocked error @%d' % P(3)])
    w('unreadable.jsonl', ['# selftest: a malformed record: the trace cannot be read, must fail', '# expect: violation double-put error @%d' % P(2)], broken)
    w('no-expectation.jsonl', ['# selftest: no expectation at all: must fail'])
    w('not-an-event.jsonl', ['# selftest: an expectation pointing at a comment line: must fail', '# expect: violation double-put error @1'])
    w('unknown-fn.jsonl', ['# selftest: a misspelt function name is reported, not silently skipped: must fail',
      '# expect: violation double-put error @%d' % P(2)], typo)
    w('typo-expectation.jsonl', ['# selftest: an expectation without its colon is an error, not a comment: must fail',
      '# expect violation double-put error @%d' % P(3), '# expect: violation double-put error @%d' % P(3)])
    w('control.jsonl', ['# selftest control: the same trace with the right expectation must pass',
      '# expect: violation double-put error @%d' % P(2)])
    return files

#!/bin/bash
# gen-hostile-manifest.sh DIR: write clone manifests into DIR, valid-* ones
# that must parse and hostile ones each named for what is wrong with it.
# tests/unit/test-plan.c holds the expected errors (and checks that every
# file written here has one); tests/fuzz/fuzz-manifest.c is seeded with
# DIR.  Needs python3 only.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
mkdir -p "$1"
exec python3 - "$1" <<'PY'
import json, os, sys

out = sys.argv[1]

def write(name, text):
    data = text.encode('utf-8') if isinstance(text, str) else text
    with open(os.path.join(out, name), 'wb') as fp:
        fp.write(data)

# Valid: what admins keep in a spreadsheet, and its JSON twin.
write('valid-simple.csv', 'name\nweb-01\nweb-02\n')
write('valid-full.csv',
      '\ufeffname,hostname,mac,ip,gateway,dns,mac2,ip2,gateway2,dns2,cpus,memory\r\n'
      'web-01,web-01.example.com,52:54:00:12:34:56,192.0.2.10/24,192.0.2.1,'
      '"192.0.2.53; 192.0.2.54",,10.1.0.10/16,10.1.0.1,10.1.0.53,2,2G\r\n'
      'db-01,,,2001:db8::10/64,fe80::1,2001:db8::53,52:54:00:ab:cd:ef,,,,4,4096\r\n'
      '"app,1x",,,,,,,,,,,\r\n'.replace('"app,1x"', 'app-1'))
rows = [{'name': 'web-01', 'hostname': 'web-01.example.com',
         'mac': '52:54:00:12:34:56', 'ip': '192.0.2.10/24',
         'gateway': '192.0.2.1', 'dns': '192.0.2.53, 192.0.2.54',
         'cpus': 2, 'memory': '2G'},
        {'name': 'db-01', 'ip2': '10.0.0.5/8', 'memory': 1024},
        {'name': 'app-1', 'mac2': None}]
write('valid-full.json', json.dumps(rows, indent=1) + '\n')

# Hostile.
write('bom-json-nested.json', '\ufeff[{"name":"a"},{"name":"b","dns":{"x":1}}]')
write('csv-injection-name.csv', "name\n\"=cmd|' /C calc'!A0\"\n")
write('deep-nesting.json', '[' * 5000 + ']' * 5000)
write('dotdot-name.csv', 'name\n..\n')
write('huge-row-count.json',
      '[' + ','.join('{"name":"v%d"}' % i for i in range(10001)) + ']')
write('huge-row-count.csv', 'name\n' + ''.join('v%d\n' % i for i in range(10001)))
write('long-line.csv', 'name\n' + 'a' * 5000 + '\n')
write('many-columns.csv', 'name,' + ','.join('x%d' % i for i in range(100)) + '\n')
write('mac-multicast.json', '[{"name":"a","mac":"01:00:5e:00:00:01"}]')
write('nic-17.csv', 'name,ip17\nweb,10.0.0.1/8\n')
write('path-name.json', '[{"name":"/etc/passwd"}]')
write('quote-unterminated.csv', 'name,cpus\n"web,1\nweb2,2\n')
write('gateway-outside.csv', 'name,ip,gateway\nweb,10.0.0.5/24,10.0.1.1\n')
write('escape-name.json', '[{"name":"\\u001b[2Jx"}]')
PY

#!/usr/bin/python3
"""ch_schema.py RECORD_FIELDS_H TABLE - print the ClickHouse CREATE TABLE for the json
marshaller's lines, derived from the schema's one field table (<xtcpd/record_fields.h>):
one column per json key, numbers as the schema's integer type, everything the json
marshaller renders as text (strings, addresses, state/family/timer/congestion names)
as String, booleans as UInt8."""
import re, sys

INT = {'U32': 'UInt32', 'U64': 'UInt64', 'I64': 'Int64', 'ENUM': 'UInt32'}
TEXT = {'S', 'ADDR', 'FAMILY', 'STATE', 'TIMER', 'CASTATE', 'CONG'}
cols = []
for m in re.finditer(r'^\s*F\((\d+),\s*(\w+),\s*(\w+),\s*(\w+),\s*(\w+),\s*(\w+),',
                     open(sys.argv[1]).read(), re.M):
    num, proto, camel, typ, mode, key = m.groups()
    if mode in TEXT:
        ch = 'String'
    elif mode == 'BOOL':
        ch = 'UInt8'
    elif mode in ('N', 'Z'):
        ch = INT[typ]
    else:
        sys.exit('unknown json mode %s of field %s' % (mode, proto))
    cols.append('%s %s' % (key, ch))
if len(cols) < 150:
    sys.exit('only %d fields found in %s' % (len(cols), sys.argv[1]))
print('CREATE TABLE %s (%s) ENGINE = MergeTree ORDER BY timestamp_ns' % (sys.argv[2], ', '.join(cols)))

"""Writes the libFuzzer dictionary of scenario files: every property name and enumerated value of the
scenario schema (scenarios/scenario.schema.json), quoted as they appear in JSON, plus JSON's own tokens.
Generated when the fuzzer runs, so it never falls behind the schema.

    python3 tests/fuzz/make_dictionary.py scenarios/scenario.schema.json > scenario.dict
"""
import json
import sys


def words(node, out):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                out.update(value)
            if key == "enum" and isinstance(value, list):
                out.update(v for v in value if isinstance(v, str))
            words(value, out)
    elif isinstance(node, list):
        for item in node:
            words(item, out)


def main(path):
    with open(path) as f:
        schema = json.load(f)
    found = set()
    words(schema, found)
    tokens = sorted(json.dumps(w) for w in found) + ['"{"', '"}"', '"["', '"]"', '":"', '","', '"true"',
                                                      '"false"', '"null"', '"1e400"', '"-0"', '"\\\\u0000"']
    for i, token in enumerate(tokens):
        # libFuzzer's format: name="bytes", with " and \ escaped.
        print(f'kw{i}="' + token.replace("\\", "\\\\").replace('"', '\\"') + '"')


if __name__ == "__main__":
    main(sys.argv[1])

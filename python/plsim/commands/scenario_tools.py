"""Commands about scenarios and run directories: plsim validate, schema, params, init (a scenario from
a table of schools), list (the shipped scenarios) and report (report.html of a run, comparison or
ensemble directory)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from ..district import SchoolTableError, from_schools
from ..parameters import parameter_reference, parameters
from ..report import write_report
from ..scenarios import check_scenario, scenario_schema, shipped_scenarios
from .args import positive


def cmd_report(args) -> int:
    print(f"  wrote       {write_report(args.run_dir)}")
    return 0


def cmd_validate(args) -> int:
    # The command runs no Python policies, so a scenario that needs one is not valid for it.
    errors = check_scenario(args.scenario, policies=())
    if errors:
        for e in errors:
            print(e, file=sys.stderr)
        print(f"{args.scenario}: {len(errors)} error{'s' if len(errors) != 1 else ''}", file=sys.stderr)
        return 1
    print(f"{args.scenario}: valid")
    return 0


def cmd_schema(args) -> int:
    text = json.dumps(scenario_schema(), indent=2) + "\n"
    if args.out:
        Path(args.out).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def cmd_params(args) -> int:
    if args.markdown:
        sys.stdout.write(parameter_reference())
        return 0
    table = parameters()
    if args.match:
        table = table[table["path"].str.contains(args.match, regex=False)]
        if table.empty:
            print(f"params: no parameter path contains {args.match!r}", file=sys.stderr)
            return 1

    def bounds(row) -> str:
        lo, hi = row["min"], row["max"]
        if pd.isna(lo):
            return "any"
        if pd.isna(hi):
            return f"{'>' if row['exclusive_min'] else '>='} {lo:g}"
        return f"{lo:g} to {hi:g}"

    def shown(value) -> str:
        text = json.dumps(value)
        return text if len(text) <= 14 else text[:11] + "..."

    width = max(len(p) for p in table["path"])
    print(f"{'path':<{width}}  {'default':<14}  {'range':<13}  {'unit':<22}  doc")
    for _, row in table.iterrows():
        print(f"{row['path']:<{width}}  {shown(row['default']):<14}  {bounds(row):<13}  {row['unit']:<22}  {row['doc']}")
    print(f"{len(table)} parameters; `plsim params --markdown` adds their sources (docs/parameters.md)")
    return 0


def cmd_init(args) -> int:
    try:
        scenario = from_schools(args.schools, name=args.name, years=args.years)
    except SchoolTableError as error:
        for line in error.errors:
            print(line, file=sys.stderr)
        return 2
    text = json.dumps(scenario.document, indent=2) + "\n"
    if args.out:
        out = Path(args.out)
        if out.exists() and not args.force:
            print(f"init: --out {out} exists; pass --force to overwrite it", file=sys.stderr)
            return 2
        out.write_text(text)
        print(f"wrote {out}: {len(scenario.document['districts'][0]['schools'])} schools; edit it, then "
              f"plsim validate {out} and plsim run {out}")
    else:
        sys.stdout.write(text)
    return 0


def cmd_list(args) -> int:
    for name, path in shipped_scenarios().items():
        print(f"{name:32s} {path}")
    return 0

def add_parsers(sub) -> None:
    """plsim report, validate, schema, params, init and list."""
    report = sub.add_parser("report", help="write DIR/report.html, one self-contained page, from the --out directory "
                                           "of plsim run, plsim compare or plsim ensemble")
    report.add_argument("run_dir", metavar="DIR")
    report.set_defaults(func=cmd_report)

    validate = sub.add_parser("validate", help="check a scenario file and list every error")
    validate.add_argument("scenario")
    validate.set_defaults(func=cmd_validate)

    schema = sub.add_parser("schema", help="print the JSON Schema of scenario files")
    schema.add_argument("--out", help="write to this file instead of standard output")
    schema.set_defaults(func=cmd_schema)

    params = sub.add_parser("params", help="print every model parameter: path, default, range, unit, doc")
    params.add_argument("match", nargs="?", help="only the parameters whose path contains this text")
    params.add_argument("--markdown", action="store_true", help="print docs/parameters.md (with sources)")
    params.set_defaults(func=cmd_params)

    init = sub.add_parser("init", help="write a scenario from a table of a district's schools")
    init.add_argument("--schools", required=True, help="CSV file, one row per school (see plsim.from_schools)")
    init.add_argument("--out", help="scenario file to write (default: standard output)")
    init.add_argument("--name", default="district", help="scenario name (default district)")
    init.add_argument("--years", type=positive, default=5, help="school years to simulate (default 5)")
    init.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    init.set_defaults(func=cmd_init)

    listing = sub.add_parser("list", help="list the shipped scenarios")
    listing.set_defaults(func=cmd_list)
